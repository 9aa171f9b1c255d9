import { describe, expect, it } from 'vitest';
import { deleteByIds, listingBudget } from '../../src/cleanup.js';
import { DlqClient } from '../../src/qstash/client.js';
import { RateLimiter } from '../../src/qstash/rate-limit.js';
import type { Exchange, ExchangeResult } from '../../src/qstash/transport.js';
import { FakeClock, ok, ScriptedTransport } from '../helpers/fakes.ts';

function setup(script: (exchange: Exchange, attempt: number) => ExchangeResult) {
  const clock = new FakeClock();
  const transport = new ScriptedTransport(script);
  const client = new DlqClient(transport, new RateLimiter(clock), clock, {
    dlq: 'workflow',
    maxRetries: 1,
    random: () => 0,
  });
  return { client, transport };
}

const byId =
  (answers: Record<string, number>) =>
  (exchange: Exchange): ExchangeResult =>
    ok(answers[decodeURIComponent(exchange.path.split('/').pop()!)] ?? 404);

describe('deleteByIds', () => {
  it('puts every id in exactly one list, in input order, whatever order they finish in', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `id-${i}`);
    const answers = Object.fromEntries(ids.map((id, i) => [id, [200, 404, 400, 503][i % 4]!]));
    const { client } = setup(byId(answers));
    const outcomes = await deleteByIds(ids, client, { dryRun: false, concurrency: 7, strategy: 'per-id' });
    expect(outcomes.removed).toEqual(ids.filter((_, i) => i % 4 === 0));
    expect(outcomes.notFound).toEqual(ids.filter((_, i) => i % 4 === 1));
    expect(outcomes.failed.map((f) => f.id)).toEqual(ids.filter((_, i) => i % 4 >= 2));
    expect(outcomes.wouldRemove).toEqual([]);
    // 400 once, 503 twice (one retry): 13 + 13 + 12 + 12 * 2
    expect(outcomes.requests).toBe(13 + 13 + 12 + 24);
  });

  it('dry run probes with GET and fills would-remove instead of removed', async () => {
    const { client, transport } = setup(byId({ a: 200 }));
    const outcomes = await deleteByIds(['a', 'b'], client, { dryRun: true, concurrency: 2, strategy: 'per-id' });
    expect(outcomes).toMatchObject({ dryRun: true, removed: [], wouldRemove: ['a'], notFound: ['b'] });
    expect(transport.sent.every((e) => e.method === 'GET')).toBe(true);
  });

  it('stops sending when the token is refused; unsettled ids fail as not attempted', async () => {
    const { client, transport } = setup(() => ok(401));
    const ids = Array.from({ length: 20 }, (_, i) => `id-${i}`);
    const outcomes = await deleteByIds(ids, client, { dryRun: false, concurrency: 1, strategy: 'per-id' });
    expect(transport.sent).toHaveLength(1);
    expect(outcomes.tokenRefused).toMatch(/HTTP 401/);
    expect(outcomes.failed.map((f) => f.id)).toEqual(ids);
    expect(outcomes.failed[1]!.reason).toBe('not attempted: the token was refused');
  });

  it('on cancellation starts no new request and reports the rest as failed', async () => {
    const cancel = new AbortController();
    let calls = 0;
    const { client } = setup(() => {
      calls += 1;
      if (calls === 3) cancel.abort(new Error('received SIGTERM'));
      return ok(200);
    });
    const ids = Array.from({ length: 10 }, (_, i) => `id-${i}`);
    const outcomes = await deleteByIds(ids, client, {
      dryRun: false,
      concurrency: 1,
      signal: cancel.signal,
      strategy: 'per-id',
    });
    expect(outcomes.removed).toEqual(['id-0', 'id-1', 'id-2']);
    expect(outcomes.failed.map((f) => f.id)).toEqual(ids.slice(3));
    expect(outcomes.failed[0]!.reason).toBe('not attempted: received SIGTERM');
    expect(outcomes.cancelled).toBeDefined();
  });

  it('never runs more than `concurrency` requests at once', async () => {
    let inFlight = 0;
    let most = 0;
    const clock = new FakeClock();
    const client = new DlqClient(
      {
        async send() {
          inFlight += 1;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 1));
          inFlight -= 1;
          return ok(200);
        },
        async close() {},
      },
      new RateLimiter(clock),
      clock,
      { dlq: 'workflow', maxRetries: 0 },
    );
    await deleteByIds(
      Array.from({ length: 40 }, (_, i) => `id-${i}`),
      client,
      { dryRun: false, concurrency: 5, strategy: 'per-id' },
    );
    expect(most).toBe(5);
  });
});

describe('listingBudget', () => {
  it('lists only when half the per-id round trips would cover the listing', () => {
    expect(listingBudget(15, 8)).toBe(0);
    expect(listingBudget(16, 8)).toBe(1);
    expect(listingBudget(1000, 8)).toBe(62);
    expect(listingBudget(1000, 100)).toBe(5);
    expect(listingBudget(10, 1)).toBe(5);
  });
});

describe('deleteByIds with strategy auto', () => {
  const listing =
    (ids: string[], pageSize = 2) =>
    (exchange: Exchange): ExchangeResult => {
      const url = new URL(exchange.path, 'http://x');
      if (exchange.method === 'GET' && url.pathname === '/v2/workflows/dlq') {
        const start = Number(url.searchParams.get('cursor') ?? 0);
        const page = ids.slice(start, start + pageSize).map((dlqId) => ({ dlqId }));
        const next = start + pageSize < ids.length ? { cursor: String(start + pageSize) } : {};
        return ok(200, {}, JSON.stringify({ messages: page, ...next }));
      }
      if (exchange.method === 'DELETE' && url.searchParams.has('dlqIds')) {
        return ok(200, {}, JSON.stringify({ deleted: url.searchParams.getAll('dlqIds').length }));
      }
      return ok(404);
    };

  it('settles ids from one complete listing and bulk deletes, never per id', async () => {
    const { client, transport } = setup(listing(['a', 'b', 'c']));
    const outcomes = await deleteByIds(['x', 'a', 'c', 'y'], client, {
      dryRun: false,
      concurrency: 1,
      strategy: 'auto',
    });
    expect(outcomes.removed).toEqual(['a', 'c']);
    expect(outcomes.notFound).toEqual(['x', 'y']);
    expect(transport.sent.map((e) => `${e.method} ${e.path}`)).toEqual([
      'GET /v2/workflows/dlq?count=100',
      'GET /v2/workflows/dlq?count=100&cursor=2',
      'DELETE /v2/workflows/dlq?dlqIds=a&dlqIds=c',
    ]);
  });

  it('falls back to per-id when the listing needs more pages than the budget', async () => {
    const { client, transport } = setup(listing(['a', 'b', 'c', 'd', 'e', 'f'], 1));
    // 4 ids at concurrency 1: a budget of 2 pages; the DLQ needs 6.
    const outcomes = await deleteByIds(['a', 'b', 'c', 'd'], client, {
      dryRun: true,
      concurrency: 1,
      strategy: 'auto',
    });
    expect(transport.sent.filter((e) => e.path.startsWith('/v2/workflows/dlq?'))).toHaveLength(2);
    expect(transport.sent.filter((e) => /dlq\/[a-d]$/.test(e.path))).toHaveLength(4);
    expect(outcomes.notFound).toEqual(['a', 'b', 'c', 'd']); // the scripted server answers per-id requests with 404
  });
});
