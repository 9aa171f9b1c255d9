/**
 * Conformance: the official clients, pointed at the emulator, list, bulk-delete and delete successfully and parse
 * what it returns. If the emulator answered in shapes Upstash does not, these clients (written against the real
 * service) would fail here, and our end-to-end tests would prove less than they seem to.
 *
 * Differences between the public API reference and the clients, as found here (the emulator follows the reference):
 * - @upstash/workflow 1.3 lists the Workflow DLQ with GET /v2/dlq?source=workflow; the reference documents
 *   GET /v2/workflows/dlq, which the action uses. The emulator serves both (the former only for this check).
 * - @upstash/workflow's dlq.delete("id") uses the bulk endpoint (DELETE /v2/workflows/dlq?dlqIds=id) and cannot
 *   see a 404 (the reason the action uses the per-id endpoint or a listing); @upstash/qstash's dlq.delete("id")
 *   uses DELETE /v2/dlq/{id} and throws on a 404.
 * - @upstash/qstash's listMessages({ dlqIds }) sends dlqIds to the list endpoint, which the reference documents only
 *   for bulk deletes; the emulator (like the reference) ignores it there, so the action never relies on it.
 *
 * Redrive (restart / resume / failure callback / message retry):
 * - @upstash/workflow's dlq.restart / dlq.resume, even for one id, use the bulk endpoints
 *   (POST /v2/workflows/dlq/restart?dlqIds=…), never the documented per-id ones, and @upstash/qstash's dlq.retry("id")
 *   uses POST /v2/dlq/retry?dlqIds=…, never POST /v2/dlq/retry/{dlqId}. Only retryFailureFunction is per id
 *   (POST /v2/workflows/dlq/callback/{dlqId}).
 * - The Workflow document caps bulk restart at 50 runs per request, with a cursor to continue, also for dlqIds; the
 *   client's types allow no cursor with dlqIds (and its filter / `all` forms default to count=100). With more than 50
 *   ids, `restart(ids)` therefore re-runs 50 and returns a cursor the typed API cannot send back (the runtime does
 *   pass one through).
 * - The client types `workflowCreatedAt` as a string; the document says an integer (Unix ms), which the emulator
 *   sends. The client passes it through unparsed, so callers get a number.
 * - The client sends only Upstash-Retries and Upstash-Flow-Control-Key/-Value; the document lists more overrides.
 */
import { Client as QStashClient } from '@upstash/qstash';
import { Client as WorkflowClient } from '@upstash/workflow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DlqEmulator, messageEntries, workflowEntries } from '../../emulator/server.ts';

let emulator: DlqEmulator;
beforeEach(async () => {
  emulator = await DlqEmulator.start();
});
afterEach(async () => {
  await emulator.close();
});

describe('@upstash/workflow against the emulator', () => {
  const client = (): WorkflowClient => new WorkflowClient({ token: emulator.token, baseUrl: emulator.url });

  it('lists every page with the cursor and parses the entries', async () => {
    const ids = emulator.seed('workflow', workflowEntries(250, { workflowUrl: 'https://a.example/wf' }));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await client().dlq.list({ count: 100, ...(cursor && { cursor }) });
      for (const message of page.messages) {
        expect(message.workflowUrl).toBe('https://a.example/wf');
        expect(typeof message.workflowRunId).toBe('string');
        seen.push(message.dlqId);
      }
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(ids);
  });

  it('filters the listing as the client sends filters', async () => {
    const wanted = emulator.seed('workflow', workflowEntries(3, { workflowUrl: 'https://a.example/wf' }, 1e12));
    emulator.seed('workflow', workflowEntries(3, { workflowUrl: 'https://b.example/wf' }, 2e12));
    const page = await client().dlq.list({ filter: { workflowUrl: 'https://a.example/wf' } });
    expect(page.messages.map((m) => m.dlqId)).toEqual(wanted);
  });

  it('bulk-deletes by ids and reads the count', async () => {
    const ids = emulator.seed('workflow', workflowEntries(5));
    expect(await client().dlq.delete([ids[0]!, ids[1]!, 'not-there'])).toMatchObject({ deleted: 2 });
    expect(await client().dlq.delete(ids[2]!)).toMatchObject({ deleted: 1 });
    expect(emulator.ids('workflow')).toEqual(ids.slice(3));
    expect(emulator.requests.every((r) => r.path.startsWith('/v2/workflows/dlq?') && r.path.includes('dlqIds'))).toBe(
      true,
    );
  });

  it('restarts and resumes by id through the bulk endpoints, with override headers', async () => {
    const ids = emulator.seed('workflow', workflowEntries(3));
    const restarted = await client().dlq.restart(ids[0]!, { retries: 2 });
    expect(restarted.workflowRuns).toEqual([
      { workflowRunId: emulator.reruns[0]!.newId, workflowCreatedAt: expect.any(Number) },
    ]);
    expect(restarted.cursor).toBeUndefined();
    const resumed = await client().dlq.resume([ids[1]!, ids[2]!], {
      flowControl: { key: 'tenant-1', parallelism: 2, ratePerSecond: 5 },
    });
    expect(resumed.workflowRuns).toHaveLength(2);
    expect(emulator.reruns.map((r) => [r.operation, r.dlqId])).toEqual([
      ['restart', ids[0]],
      ['resume', ids[1]],
      ['resume', ids[2]],
    ]);
    expect(emulator.reruns[0]!.headers).toEqual({ 'upstash-retries': '2' });
    expect(emulator.reruns[1]!.headers).toEqual({
      'upstash-flow-control-key': 'tenant-1',
      'upstash-flow-control-value': 'parallelism=2, rate=5',
    });
    expect(emulator.requests.map((r) => r.path.split('?')[0])).toEqual([
      '/v2/workflows/dlq/restart',
      '/v2/workflows/dlq/resume',
    ]);
    // The deprecated single-id form returns the run itself.
    const legacy = await client().dlq.restart({ dlqId: ids[0]! });
    expect(legacy.workflowRunId).toMatch(/^wfr_rerun_/);
  });

  it('pages a restart of everything 50 runs at a time until no cursor is left', async () => {
    const ids = emulator.seed('workflow', workflowEntries(120));
    let cursor: string | undefined;
    let calls = 0;
    do {
      const result = await client().dlq.restart({ all: true, count: 100, ...(cursor && { cursor }) });
      expect(result.workflowRuns.length).toBeLessThanOrEqual(50);
      cursor = result.cursor;
      calls += 1;
    } while (cursor);
    expect(calls).toBe(3);
    expect(emulator.reruns.map((r) => r.dlqId)).toEqual(ids);
  });

  it('more than 50 ids: 50 re-run and a cursor, which only an untyped call can send back', async () => {
    const ids = emulator.seed('workflow', workflowEntries(60));
    const first = await client().dlq.resume(ids);
    expect(first.workflowRuns).toHaveLength(50);
    expect(first.cursor).toBeTruthy();
    const rest = await client().dlq.resume({ dlqIds: ids, cursor: first.cursor } as never);
    expect(rest.workflowRuns).toHaveLength(10);
    expect(emulator.reruns.map((r) => r.dlqId)).toEqual(ids);
  });

  it('resumes by filter; an entry that cannot be resumed or is missing is an error', async () => {
    const wanted = emulator.seed('workflow', workflowEntries(2, { label: 'nightly' }, 1e12));
    const [stuck] = emulator.seed('workflow', workflowEntries(1, { resumable: false }, 2e12));
    const result = await client().dlq.resume({ filter: { label: 'nightly' } });
    expect(result.workflowRuns).toHaveLength(2);
    expect(emulator.reruns.map((r) => r.dlqId)).toEqual(wanted);
    await expect(client().dlq.resume(stuck!)).rejects.toThrow();
    await expect(client().dlq.restart('not-there')).rejects.toThrow();
    expect(emulator.reruns).toHaveLength(2);
  });

  it('retries a failed failure callback by id; a second retry (now in progress) is an error', async () => {
    const [id] = emulator.seed('workflow', workflowEntries(1, { workflowRunId: 'wfr_original' }));
    const result = await client().dlq.retryFailureFunction({ dlqId: id! });
    expect(result).toMatchObject({ workflowRunId: 'wfr_original', workflowCreatedAt: expect.any(Number) });
    expect(emulator.requestsTo(`/v2/workflows/dlq/callback/${id}`, 'POST')).toHaveLength(1);
    await expect(client().dlq.retryFailureFunction({ dlqId: id! })).rejects.toThrow();
    await expect(client().dlq.retryFailureFunction({ dlqId: 'not-there' })).rejects.toThrow();
    expect(emulator.reruns).toHaveLength(1);
  });

  it('is refused with a bad token', async () => {
    emulator.seed('workflow', workflowEntries(1));
    const bad = new WorkflowClient({ token: 'wrong', baseUrl: emulator.url });
    await expect(bad.dlq.list()).rejects.toThrow();
  });
});

describe('@upstash/qstash against the emulator', () => {
  const client = (): QStashClient => new QStashClient({ token: emulator.token, baseUrl: emulator.url });

  it('lists messages with filters, mapping topicName to urlGroup', async () => {
    const wanted = emulator.seed('qstash', messageEntries(2, { topicName: 'billing' }, 1e12));
    emulator.seed('qstash', messageEntries(2, { topicName: 'search' }, 2e12));
    const page = await client().dlq.listMessages({ filter: { urlGroup: 'billing' } });
    expect(page.messages.map((m) => m.dlqId)).toEqual(wanted);
    expect(page.messages.every((m) => m.urlGroup === 'billing' && typeof m.messageId === 'string')).toBe(true);
    expect(page.cursor).toBeFalsy();
  });

  it('deletes one message by id with the per-id endpoint, and a missing one is an error', async () => {
    const ids = emulator.seed('qstash', messageEntries(2));
    expect(await client().dlq.delete(ids[0]!)).toEqual({ deleted: 1 });
    expect(emulator.requestsTo(`/v2/dlq/${ids[0]}`, 'DELETE')).toHaveLength(1);
    await expect(client().dlq.delete('not-there')).rejects.toThrow();
    expect(emulator.ids('qstash')).toEqual([ids[1]]);
  });

  it('retries one message (through the bulk endpoint) and the original leaves the DLQ', async () => {
    const ids = emulator.seed('qstash', messageEntries(2));
    const result = await client().dlq.retry(ids[0]!);
    expect(result).toEqual({ responses: [{ messageId: emulator.reruns[0]!.newId }], cursor: undefined });
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /v2/dlq/retry?dlqIds=${encodeURIComponent(ids[0]!)}`,
    ]);
    expect(emulator.ids('qstash')).toEqual([ids[1]]);
    await expect(client().dlq.retry(ids[0]!)).rejects.toThrow();
  });

  it('retries by filter and everything, paging with the cursor', async () => {
    const billing = emulator.seed('qstash', messageEntries(3, { topicName: 'billing' }, 1e12));
    const rest = emulator.seed('qstash', messageEntries(150, { topicName: 'search' }, 2e12));
    const filtered = await client().dlq.retry({ filter: { urlGroup: 'billing' } });
    expect(filtered.responses).toHaveLength(3);
    expect(emulator.reruns.map((r) => r.dlqId)).toEqual(billing);
    let cursor: string | undefined;
    do {
      const result = await client().dlq.retry({ all: true, count: 100, ...(cursor && { cursor }) });
      cursor = result.cursor;
    } while (cursor);
    expect(emulator.reruns.map((r) => r.dlqId)).toEqual([...billing, ...rest]);
    expect(emulator.ids('qstash')).toEqual([]);
  });

  it('bulk-deletes by ids and reads the count', async () => {
    const ids = emulator.seed('qstash', messageEntries(4));
    expect(await client().dlq.delete({ dlqIds: [ids[1]!, ids[3]!] })).toMatchObject({ deleted: 2 });
    expect(emulator.ids('qstash')).toEqual([ids[0], ids[2]]);
  });
});
