import { describe, expect, it } from 'vitest';
import { deleteByIds } from '../../src/cleanup.js';
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
    const outcomes = await deleteByIds(ids, client, { dryRun: false, concurrency: 7 });
    expect(outcomes.removed).toEqual(ids.filter((_, i) => i % 4 === 0));
    expect(outcomes.notFound).toEqual(ids.filter((_, i) => i % 4 === 1));
    expect(outcomes.failed.map((f) => f.id)).toEqual(ids.filter((_, i) => i % 4 >= 2));
    expect(outcomes.wouldRemove).toEqual([]);
    // 400 once, 503 twice (one retry): 13 + 13 + 12 + 12 * 2
    expect(outcomes.requests).toBe(13 + 13 + 12 + 24);
  });

  it('dry run probes with GET and fills would-remove instead of removed', async () => {
    const { client, transport } = setup(byId({ a: 200 }));
    const outcomes = await deleteByIds(['a', 'b'], client, { dryRun: true, concurrency: 2 });
    expect(outcomes).toMatchObject({ dryRun: true, removed: [], wouldRemove: ['a'], notFound: ['b'] });
    expect(transport.sent.every((e) => e.method === 'GET')).toBe(true);
  });

  it('stops sending when the token is refused; unsettled ids fail as not attempted', async () => {
    const { client, transport } = setup(() => ok(401));
    const ids = Array.from({ length: 20 }, (_, i) => `id-${i}`);
    const outcomes = await deleteByIds(ids, client, { dryRun: false, concurrency: 1 });
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
    const outcomes = await deleteByIds(ids, client, { dryRun: false, concurrency: 1, signal: cancel.signal });
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
      { dryRun: false, concurrency: 5 },
    );
    expect(most).toBe(5);
  });
});
