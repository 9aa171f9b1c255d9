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

  it('bulk-deletes by ids and reads the count', async () => {
    const ids = emulator.seed('qstash', messageEntries(4));
    expect(await client().dlq.delete({ dlqIds: [ids[1]!, ids[3]!] })).toMatchObject({ deleted: 2 });
    expect(emulator.ids('qstash')).toEqual([ids[0], ids[2]]);
  });
});
