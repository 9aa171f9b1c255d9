/**
 * The filter plan's steps that come before any change: keep-newest, the export, the threshold gate. Each is checked
 * against the one thing users rely on: nothing is changed before them, and a stop changes nothing at all.
 */
import { describe, expect, it } from 'vitest';
import { execute, type EngineOptions, type RecordSink, type Target } from '../../src/engine/index.js';
import { operationFor, probeFor, reportFor } from '../../src/operations.js';
import type { Exchange, ExchangeResult } from '../../src/qstash/transport.js';
import { json, scriptedClient } from '../helpers/fakes.ts';

const del = operationFor('delete', 'workflow');

interface Row {
  dlqId: string;
  createdAt?: number;
  workflowUrl?: string;
}

/** A Workflow DLQ listing of these rows, 100 a page, and bulk deletes by id; every request is recorded in order. */
function dlq(rows: Row[]) {
  const held = new Map(rows.map((row) => [row.dlqId, row]));
  const log: string[] = [];
  const script = (exchange: Exchange): ExchangeResult => {
    const url = new URL(exchange.path, 'http://x');
    log.push(exchange.method);
    if (exchange.method === 'GET') {
      const all = [...held.values()];
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const page = all.slice(start, start + 100);
      return json(200, { messages: page, ...(start + 100 < all.length && { cursor: String(start + 100) }) });
    }
    const ids = url.searchParams.getAll('dlqIds');
    let deleted = 0;
    for (const id of ids) if (held.delete(id)) deleted += 1;
    return json(200, { deleted });
  };
  return { held, log, script };
}

const all = (extra: Partial<Extract<Target, { kind: 'query' }>> = {}): Target => ({
  kind: 'query',
  query: [],
  filters: [],
  cap: 0,
  capInput: 'max-entries',
  allInput: 'select-all',
  ...extra,
});
const options = (extra: Partial<EngineOptions> = {}): EngineOptions => ({ concurrency: 2, strategy: 'auto', ...extra });

const rows = (n: number, url = 'https://a.example/wf'): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    dlqId: `1700000000${String(i).padStart(3, '0')}-0`,
    createdAt: 1000 + i,
    workflowUrl: url,
  }));

/** A sink that records what it was given, and how many requests had been sent when it was. */
function recordingSink(log: readonly string[], fail = false) {
  const written: string[] = [];
  const sentBefore: number[] = [];
  const dropped: string[] = [];
  const sink: RecordSink = {
    write: async (record) => {
      if (fail) throw new Error('disk full');
      written.push(String(record.dlqId));
      sentBefore.push(log.filter((method) => method === 'DELETE').length);
    },
    drop: async (ids) => {
      dropped.push(...ids);
    },
  };
  return { sink, written, sentBefore, dropped };
}

describe('keep-newest in a filter run', () => {
  it('acts on all but the N newest, and the cap counts only what is acted on', async () => {
    const fake = dlq(rows(250));
    const { client } = scriptedClient(fake.script);
    const outcomes = await execute(all({ keep: { newest: 60 }, cap: 200 }), del, client, options());
    expect(outcomes.done).toHaveLength(190);
    expect(outcomes.selection?.kept?.size).toBe(60);
    // The 60 newest (createdAt 1190..1249) are still there, and nothing else is.
    expect([...fake.held.values()].map((row) => row.createdAt).sort()).toEqual(
      Array.from({ length: 60 }, (_, i) => 1190 + i),
    );
  });

  it('keeps the newest of each group and every entry without createdAt', async () => {
    const undated = { dlqId: 'undated-1', workflowUrl: 'https://a.example/wf' };
    const fake = dlq([
      ...rows(30, 'https://a.example/wf'),
      ...rows(30, 'https://b.example/wf').map((r) => ({ ...r, dlqId: `b${r.dlqId}` })),
      undated,
    ]);
    const { client } = scriptedClient(fake.script);
    const outcomes = await execute(all({ keep: { newest: 5, per: 'workflow-url' } }), del, client, options());
    expect(outcomes.selection?.kept?.size).toBe(11);
    expect(outcomes.done).toHaveLength(50);
    expect(fake.held.has('undated-1')).toBe(true);
  });
});

describe('the threshold gate', () => {
  it('a gate that says stop changes nothing: no delete is sent', async () => {
    const fake = dlq(rows(150));
    const { client } = scriptedClient(fake.script);
    const seen: number[] = [];
    const gate = (selected: readonly unknown[]): string | undefined => {
      seen.push(selected.length);
      return selected.length > 100 ? '150 entries are selected, more than 100' : undefined;
    };
    const outcomes = await execute(all(), del, client, options({ gate }));
    expect(seen).toEqual([150]);
    expect(fake.log.filter((m) => m === 'DELETE')).toEqual([]);
    expect(fake.held.size).toBe(150);
    expect(outcomes.stopped?.kind).toBe('threshold-exceeded');
    expect(outcomes.done).toEqual([]);
  });

  it('the gate sees the entries after keep-newest, and the whole listing even with a cap', async () => {
    const fake = dlq(rows(300));
    const { client } = scriptedClient(fake.script);
    const seen: number[] = [];
    await execute(
      all({ keep: { newest: 100 }, cap: 50 }),
      probeFor(del),
      client,
      options({ gate: (s) => (seen.push(s.length), undefined) }),
    );
    expect(seen).toEqual([200]);
  });

  it('a report or a dry run stopped by the gate still shows what was selected', async () => {
    const fake = dlq(rows(20));
    const { client } = scriptedClient(fake.script);
    const outcomes = await execute(all(), reportFor('workflow'), client, options({ gate: () => 'too many' }));
    expect(outcomes.done).toHaveLength(20);
    expect(outcomes.stopped?.kind).toBe('threshold-exceeded');
  });
});

describe('the export in a filter run', () => {
  it('is written whole before the first change, without the entries keep-newest kept', async () => {
    const fake = dlq(rows(250));
    const { client } = scriptedClient(fake.script);
    const recorder = recordingSink(fake.log);
    const outcomes = await execute(all({ keep: { newest: 10 } }), del, client, options({ sink: recorder.sink }));
    expect(recorder.written).toHaveLength(250);
    expect(new Set(recorder.written).size).toBe(250);
    expect(recorder.sentBefore.every((n) => n === 0)).toBe(true);
    expect(recorder.dropped.sort()).toEqual([...outcomes.selection!.kept!].sort());
    expect(outcomes.done).toHaveLength(240);
  });

  it('an export that cannot be written stops the run before any change', async () => {
    const fake = dlq(rows(120));
    const { client } = scriptedClient(fake.script);
    const outcomes = await execute(all(), del, client, options({ sink: recordingSink(fake.log, true).sink }));
    expect(outcomes.stopped).toMatchObject({ kind: 'export-failed', reason: 'disk full' });
    expect(fake.log.filter((m) => m === 'DELETE')).toEqual([]);
    expect(fake.held.size).toBe(120);
  });

  it('a listing that fails half-way changes nothing and leaves what it listed in the export', async () => {
    const fake = dlq(rows(250));
    let pages = 0;
    const { client } = scriptedClient((exchange) => {
      if (exchange.method === 'GET' && ++pages === 2) return json(400, { error: 'no' });
      return fake.script(exchange);
    });
    const recorder = recordingSink(fake.log);
    const outcomes = await execute(all(), del, client, options({ sink: recorder.sink }));
    expect(outcomes.stopped?.kind).toBe('listing-failed');
    expect(outcomes.selection?.incomplete).toBe(true);
    expect(recorder.written).toHaveLength(100);
    expect(fake.held.size).toBe(250);
  });
});
