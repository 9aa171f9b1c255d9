/**
 * Read before change (the export's by-id runs), through a real client against the emulator: each entry is read and
 * handed over before its change is sent; an id whose entry is gone is not found and is not sent; an id whose entry
 * cannot be read, or cannot be handed over, fails `unread` and is not changed; a stop in between sends nothing. A
 * dry run or a report hands over its own GET answer, one request per id.
 */
import { describe, expect, it } from 'vitest';
import { DlqEmulator, detailedWorkflowEntries, messageEntries, workflowEntries } from '../../emulator/server.ts';
import { execute, type EngineOptions } from '../../src/engine/index.js';
import { operationFor, probeFor, reportFor, type Operation } from '../../src/operations.js';
import { DlqClient } from '../../src/qstash/client.js';
import { systemClock } from '../../src/qstash/clock.js';
import { RateLimiter } from '../../src/qstash/rate-limit.js';
import { afterThisTest, loopbackTransport } from '../helpers/loopback.ts';

async function emulatorWith(seed: (em: DlqEmulator) => void): Promise<DlqEmulator> {
  // The loopback transport sends the token 'tok'.
  const em = await DlqEmulator.start({ token: 'tok' });
  afterThisTest(() => em.close());
  seed(em);
  return em;
}

function clientFor(em: DlqEmulator): DlqClient {
  return new DlqClient(
    loopbackTransport(em.url, { connectMs: 2_000, requestMs: 5_000 }),
    new RateLimiter(systemClock),
    systemClock,
    { maxRetries: 1, backoff: { baseMs: 1, maxMs: 2 } },
  );
}

/** Runs `operation` on `ids` with a readFirst that records what it was given (and may throw or act for an id). */
async function run(
  em: DlqEmulator,
  operation: Operation,
  ids: readonly string[],
  options: Partial<EngineOptions> & { onRead?: (id: string) => void } = {},
) {
  const read: { id: string; record: Record<string, unknown> }[] = [];
  const outcomes = await execute({ kind: 'ids', ids }, operation, clientFor(em), {
    concurrency: 2,
    strategy: 'auto',
    ...options,
    readFirst: async (id, record) => {
      options.onRead?.(id);
      read.push({ id, record });
    },
  });
  return { outcomes, read };
}

/** The methods sent for one id's entry (GET, DELETE, POST ...), in order. */
function methodsFor(em: DlqEmulator, id: string): string[] {
  return em.requests.filter((r) => decodeURIComponent(r.path.split('?')[0]!).endsWith(`/${id}`)).map((r) => r.method);
}

const del = operationFor('delete', 'workflow');

describe('read before change', () => {
  it('reads each entry (GET) before deleting it, and hands over the entry the server holds', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', detailedWorkflowEntries(5))));
    const stored = ids.map((id) => JSON.parse(JSON.stringify(em.get('workflow', id))) as Record<string, unknown>);
    const { outcomes, read } = await run(em, del, ids);
    expect(outcomes.done).toEqual(ids);
    for (const id of ids) expect(methodsFor(em, id)).toEqual(['GET', 'DELETE']);
    expect(new Map(read.map((r) => [r.id, r.record]))).toEqual(new Map(ids.map((id, i) => [id, stored[i]])));
    expect(em.ids('workflow')).toEqual([]);
  });

  it('hands an entry over only before its own change, never after', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', workflowEntries(4))));
    const presentWhenRead: boolean[] = [];
    await run(em, del, ids, { onRead: (id) => presentWhenRead.push(em.has('workflow', id)) });
    expect(presentWhenRead).toEqual([true, true, true, true]);
  });

  it('an entry that is gone (404) is not found, and no DELETE is sent for it', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', workflowEntries(2))));
    const { outcomes, read } = await run(em, del, [...ids, 'gone-1']);
    expect(outcomes.notFound).toEqual(['gone-1']);
    expect(methodsFor(em, 'gone-1')).toEqual(['GET']);
    expect(read.map((r) => r.id)).not.toContain('gone-1');
  });

  it('an entry whose GET keeps failing (500, then given up) fails unread, unchanged: no DELETE', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', workflowEntries(3))));
    const broken = ids[1]!;
    em.faults.push({ method: 'GET', id: broken, status: 500 });
    const { outcomes } = await run(em, del, ids);
    expect(outcomes.done).toEqual([ids[0], ids[2]]);
    expect(outcomes.failed).toEqual([
      { id: broken, cause: 'unread', reason: expect.stringMatching(/nothing was changed/u), mayHaveActed: false },
    ]);
    expect(methodsFor(em, broken)).toEqual(['GET', 'GET']);
    expect(em.has('workflow', broken)).toBe(true);
  });

  it.each([
    ['not JSON', '<html>gateway</html>'],
    ['not an object', '[1,2]'],
    ['another entry', '{"dlqId":"someone-else"}'],
  ])('an entry whose GET answers %s fails unread, unchanged', async (_what, body) => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', workflowEntries(1))));
    em.faults.push({ method: 'GET', id: ids[0]!, status: 200, body });
    const { outcomes, read } = await run(em, del, ids);
    expect(outcomes.failed).toMatchObject([{ id: ids[0], cause: 'unread', mayHaveActed: false }]);
    expect(methodsFor(em, ids[0]!)).toEqual(['GET']);
    expect(read).toEqual([]);
    expect(em.has('workflow', ids[0]!)).toBe(true);
  });

  it('when handing the entry over throws (the export cannot be written), the id fails unread: no DELETE', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', workflowEntries(3))));
    const outcomes = await execute({ kind: 'ids', ids }, del, clientFor(em), {
      concurrency: 1,
      strategy: 'per-id',
      readFirst: async (id) => {
        if (id === ids[1]) throw new Error('ENOSPC: no space left on device');
      },
    });
    expect(outcomes.done).toEqual([ids[0], ids[2]]);
    expect(outcomes.failed).toMatchObject([
      { id: ids[1], cause: 'unread', reason: expect.stringMatching(/ENOSPC.*nothing was changed/u) },
    ]);
    expect(methodsFor(em, ids[1]!)).toEqual(['GET']);
    expect(em.has('workflow', ids[1]!)).toBe(true);
  });

  it('a run cancelled while an entry is handed over sends no change for it, nor for any id after', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', workflowEntries(3))));
    const cancel = new AbortController();
    const { outcomes } = await run(em, del, ids, {
      concurrency: 1,
      signal: cancel.signal,
      onRead: (id) => {
        if (id === ids[0]) cancel.abort(new Error('received SIGTERM'));
      },
    });
    expect(outcomes.done).toEqual([]);
    expect(outcomes.failed.map((f) => [f.id, f.cause])).toEqual(ids.map((id) => [id, 'cancelled']));
    expect(em.countRequests('DELETE', '/v2/workflows/dlq')).toBe(0);
    expect(em.ids('workflow')).toEqual(ids);
  });

  it('re-runs (restart) are read first too; an unreadable one is never re-run', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', workflowEntries(3))));
    em.faults.push({ method: 'GET', id: ids[2]!, status: 500 });
    const { outcomes } = await run(em, operationFor('restart', 'workflow'), ids);
    expect(outcomes.done).toEqual([ids[0], ids[1]]);
    expect(outcomes.failed).toMatchObject([{ id: ids[2], cause: 'unread', mayHaveActed: false }]);
    expect(methodsFor(em, ids[0]!)).toEqual(['GET', 'POST']);
    expect(methodsFor(em, ids[1]!)).toEqual(['GET', 'POST']);
    expect(em.rerunsOf('workflow', ids[2]!)).toEqual([]);
  });

  it('message DLQ retries are read first too', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('qstash', messageEntries(2))));
    const { outcomes, read } = await run(em, operationFor('retry', 'qstash'), ids);
    expect(outcomes.done).toEqual(ids);
    for (const id of ids) expect(methodsFor(em, id)).toEqual(['GET', 'POST']);
    expect(read.map((r) => r.record.dlqId).sort()).toEqual([...ids].sort());
  });

  it('goes per id even where auto would list: no listing, no bulk call (a bulk call reads nothing first)', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', workflowEntries(60))));
    const { outcomes } = await run(em, del, ids, { listFromIds: 10 });
    expect(outcomes.done).toHaveLength(60);
    expect(em.requestsTo('/v2/workflows/dlq')).toEqual([]);
    expect(em.countRequests('GET', '/v2/workflows/dlq/')).toBe(60);
    expect(em.countRequests('DELETE', '/v2/workflows/dlq/')).toBe(60);
  });
});

describe('reading operations hand over their own answer', () => {
  it.each([
    ['a dry run', probeFor(del)],
    ['a report', reportFor('workflow')],
  ])('%s: one GET per id, the entry handed over, nothing changed', async (_name, operation) => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', detailedWorkflowEntries(3))));
    const { outcomes, read } = await run(em, operation, [...ids, 'gone-1']);
    expect(outcomes.done).toEqual(ids);
    expect(outcomes.notFound).toEqual(['gone-1']);
    expect(em.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET', 'GET']);
    expect(read.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(read.find((r) => r.id === ids[0])!.record).toEqual(JSON.parse(JSON.stringify(em.get('workflow', ids[0]!))));
    expect(em.ids('workflow')).toEqual(ids);
  });

  it('a report whose answer is not an entry does not claim it was found', async () => {
    let ids: string[] = [];
    const em = await emulatorWith((e) => (ids = e.seed('workflow', workflowEntries(1))));
    em.faults.push({ method: 'GET', id: ids[0]!, status: 200, body: 'not json' });
    const { outcomes } = await run(em, reportFor('workflow'), ids);
    expect(outcomes.done).toEqual([]);
    expect(outcomes.failed).toMatchObject([{ id: ids[0], cause: 'unread' }]);
  });
});
