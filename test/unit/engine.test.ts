import { describe, expect, it } from 'vitest';
import { execute, listingAlone, listsFor, pagesPay, type EngineOptions, type Target } from '../../src/engine/index.js';
import { operationFor, probeFor, type Operation } from '../../src/operations.js';
import { DlqClient } from '../../src/qstash/client.js';
import { UnsafeIdError } from '../../src/qstash/paths.js';
import { RateLimiter } from '../../src/qstash/rate-limit.js';
import type { Exchange, ExchangeResult } from '../../src/qstash/transport.js';
import { outputsFor } from '../../src/report.js';
import { FakeClock, fakeWorkflowDlq, json, lastSegment, net, ok, scriptedClient, truncated } from '../helpers/fakes.ts';

const del = operationFor('delete', 'workflow');
const dryDel = probeFor(del);
const restart = operationFor('restart', 'workflow');

const ids = (...list: string[]): Target => ({ kind: 'ids', ids: list });
const selectAll = (cap = 0): Target => ({
  kind: 'query',
  query: [],
  filters: [],
  cap,
  capInput: 'max-entries',
  allInput: 'select-all',
});
const perId = (concurrency = 1, extra: Partial<EngineOptions> = {}): EngineOptions => ({
  concurrency,
  strategy: 'per-id',
  ...extra,
});
/** Lists for any number of ids, so that small examples take the listing path (the default needs 20 per slot). */
const auto = (concurrency = 1, extra: Partial<EngineOptions> = {}): EngineOptions => ({
  concurrency,
  strategy: 'auto',
  listFromIds: 1,
  ...extra,
});

const byId =
  (answers: Record<string, number>) =>
  (exchange: Exchange): ExchangeResult =>
    ok(answers[lastSegment(exchange)] ?? 404);

const range = (n: number, prefix = 'id-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('execute: one id at a time', () => {
  it('puts every id in exactly one list, in input order, whatever order they finish in', async () => {
    const list = range(50);
    const answers = Object.fromEntries(list.map((id, i) => [id, [200, 404, 400, 503][i % 4]!]));
    const { client, transport } = scriptedClient(byId(answers));
    const outcomes = await execute(ids(...list), del, client, perId(7));
    expect(outcomes.ids).toEqual(list);
    expect(outcomes.done).toEqual(list.filter((_, i) => i % 4 === 0));
    expect(outcomes.notFound).toEqual(list.filter((_, i) => i % 4 === 1));
    expect(outcomes.failed.map((f) => f.id)).toEqual(list.filter((_, i) => i % 4 >= 2));
    expect(outcomes.failed.map((f) => f.cause)).toEqual(
      list.filter((_, i) => i % 4 >= 2).map((_, i) => (i % 2 === 0 ? 'rejected' : 'retries-exhausted')),
    );
    expect(outcomes.inferred).toEqual([]);
    // 400 once, 503 twice (one retry): 13 + 13 + 12 + 12 * 2
    expect(outcomes.requests).toBe(13 + 13 + 12 + 24);
    expect(transport.sent).toHaveLength(outcomes.requests);
    expect(transport.sent.every((e) => e.method === 'DELETE')).toBe(true);
  });

  it('counts only the requests of its own run', async () => {
    const { client } = scriptedClient(() => ok(200));
    await execute(ids('a', 'b'), del, client, perId());
    const second = await execute(ids('c'), del, client, perId());
    expect(second.requests).toBe(1);
    expect(client.requestsSent).toBe(3);
  });

  it('dry run probes with GET and fills would-remove instead of removed', async () => {
    const { client, transport } = scriptedClient(byId({ a: 200 }));
    const outcomes = await execute(ids('a', 'b'), dryDel, client, perId(2));
    expect(outcomes).toMatchObject({ done: ['a'], notFound: ['b'], failed: [] });
    const outputs = outputsFor(outcomes, dryDel);
    expect(outputs).toMatchObject({ removed: '[]', 'would-remove': '["a"]', 'not-found': '["b"]' });
    expect(transport.sent.every((e) => e.method === 'GET')).toBe(true);
  });

  it('stops sending when the token is refused; unsettled ids fail as not attempted', async () => {
    const { client, transport } = scriptedClient(() => ok(401));
    const list = range(20);
    const outcomes = await execute(ids(...list), del, client, perId(1));
    expect(transport.sent).toHaveLength(1);
    expect(outcomes.stopped).toEqual({ kind: 'token-refused', reason: expect.stringMatching(/HTTP 401/) });
    expect(outcomes.failed.map((f) => f.id)).toEqual(list);
    expect(outcomes.failed.every((f) => f.cause === 'token-refused')).toBe(true);
    expect(outcomes.failed[1]!.reason).toBe('not attempted: the token was refused');
  });

  it('on cancellation starts no new request and reports the rest as failed', async () => {
    const cancel = new AbortController();
    let calls = 0;
    const { client } = scriptedClient(() => {
      calls += 1;
      if (calls === 3) cancel.abort(new Error('received SIGTERM'));
      return ok(200);
    });
    const list = range(10);
    const outcomes = await execute(ids(...list), del, client, perId(1, { signal: cancel.signal }));
    expect(calls).toBe(3);
    expect(outcomes.done).toEqual(['id-0', 'id-1', 'id-2']);
    expect(outcomes.failed.map((f) => f.id)).toEqual(list.slice(3));
    expect(outcomes.failed[0]).toMatchObject({ cause: 'cancelled', reason: 'not attempted: received SIGTERM' });
    expect(outcomes.stopped).toMatchObject({ kind: 'cancelled' });
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
      { maxRetries: 0 },
    );
    const outcomes = await execute(ids(...range(40)), del, client, perId(5));
    expect(outcomes.done).toHaveLength(40);
    expect(most).toBe(5);
  });

  // Deliberate change: a 5xx or 408 may come from a gateway after the server acted, so a later 404 is ours.
  it.each<[string, ExchangeResult]>([
    ['HTTP 500', ok(500)],
    ['HTTP 408', ok(408)],
    ['a dropped connection', net('UND_ERR_SOCKET', true)],
  ])('a delete answered 404 after %s counts as done, inferred', async (_name, first) => {
    const { client, transport } = scriptedClient((_e, attempt) => (attempt === 1 ? first : ok(404)));
    const outcomes = await execute(ids('x'), del, client, perId());
    expect(outcomes).toMatchObject({ done: ['x'], inferred: ['x'], notFound: [], failed: [] });
    expect(transport.sent).toHaveLength(2);
  });

  it('a 404 after a refused connection (never reached the server) is not found', async () => {
    const { client } = scriptedClient((_e, attempt) => (attempt === 1 ? net('ECONNREFUSED', false) : ok(404)));
    const outcomes = await execute(ids('x'), del, client, perId());
    expect(outcomes).toMatchObject({ done: [], inferred: [], notFound: ['x'] });
  });

  it('a probe (dry run) answered 404 after a lost GET is still not found', async () => {
    const { client, transport } = scriptedClient((_e, attempt) =>
      attempt === 1 ? net('UND_ERR_SOCKET', true) : ok(404),
    );
    const outcomes = await execute(ids('x'), dryDel, client, perId());
    expect(outcomes).toMatchObject({ done: [], inferred: [], notFound: ['x'] });
    expect(transport.sent.map((e) => e.method)).toEqual(['GET', 'GET']);
  });

  it('refuses an id that cannot be sent safely, as failed and never sent', async () => {
    const { client, transport } = scriptedClient(() => ok(200));
    const outcomes = await execute(ids('good', 'a?b', 'c/..', 'x y'), del, client, perId(2));
    expect(outcomes.done).toEqual(['good']);
    expect(outcomes.failed.map((f) => [f.id, f.cause])).toEqual([
      ['a?b', 'invalid-id'],
      ['c/..', 'invalid-id'],
      ['x y', 'invalid-id'],
    ]);
    expect(transport.lines).toEqual(['DELETE /v2/workflows/dlq/good']);
  });
});

describe('execute: the failure boundary', () => {
  it('an operation that throws for one id fails that id only; every other id settles and execute resolves', async () => {
    const throwing: Operation = {
      ...del,
      request: (id) => {
        if (id === 'boom') throw new Error('kaput');
        if (id === 'unsafe') throw new UnsafeIdError('refusing this one');
        return del.request(id);
      },
    };
    const { client, transport } = scriptedClient(() => ok(200));
    const list = ['a', 'boom', 'b', 'unsafe', 'c'];
    const outcomes = await execute(ids(...list), throwing, client, perId(2));
    expect(outcomes.done).toEqual(['a', 'b', 'c']);
    expect(outcomes.failed).toEqual([
      { id: 'boom', cause: 'internal', reason: 'internal error: kaput', mayHaveActed: true },
      { id: 'unsafe', cause: 'invalid-id', reason: 'not sent: refusing this one', mayHaveActed: false },
    ]);
    expect(outcomes.stopped).toBeUndefined();
    expect(transport.sent).toHaveLength(3);
  });

  it('a transport that throws for one request fails that id as internal; the others settle', async () => {
    const { client } = scriptedClient((exchange) => {
      if (lastSegment(exchange) === 'crash') throw new Error('socket exploded');
      return ok(200);
    });
    const outcomes = await execute(ids('a', 'crash', 'b'), del, client, perId(1));
    expect(outcomes.done).toEqual(['a', 'b']);
    expect(outcomes.failed).toEqual([
      expect.objectContaining({ id: 'crash', cause: 'internal', reason: expect.stringMatching(/socket exploded/) }),
    ]);
  });

  it('a listing that throws stops the run as internal; execute still resolves', async () => {
    const { client } = scriptedClient(() => {
      throw new Error('listing exploded');
    });
    const outcomes = await execute(selectAll(), del, client, perId());
    expect(outcomes.stopped).toEqual({ kind: 'internal', reason: 'internal error: listing exploded' });
    expect(outcomes.done).toEqual([]);
  });
});

describe('execute: re-runs (restart)', () => {
  /**
   * A Workflow DLQ where re-runs answer from `posts`. A re-run the server acted on takes the entry out of the DLQ,
   * unless `stay` is true (entries stay) or lists the id.
   */
  function redriveServer(
    present: string[],
    posts: Record<string, ExchangeResult | ((attempt: number) => ExchangeResult)>,
    stay: boolean | readonly string[] = false,
  ) {
    const entries = new Set(present);
    return (exchange: Exchange, attempt: number): ExchangeResult => {
      const id = lastSegment(exchange);
      if (exchange.method === 'POST') {
        expect(exchange.path).toBe(`/v2/workflows/dlq/restart/${id}`);
        const answer = posts[id] ?? ok(404);
        const result = typeof answer === 'function' ? answer(attempt) : answer;
        // The server acted unless it refused (4xx) or the connection was refused.
        const acted =
          (result.kind === 'response' && (result.status < 400 || result.status >= 500 || result.status === 408)) ||
          (result.kind === 'network' && result.sent);
        const stays = stay === true || (Array.isArray(stay) && stay.includes(id));
        if (acted && !stays) entries.delete(id);
        return result;
      }
      if (exchange.method === 'GET') return entries.has(id) ? json(200, { dlqId: id }) : ok(404);
      throw new Error(`unexpected ${exchange.method} ${exchange.path}`);
    };
  }

  it('maps each answer to an outcome: new run, not found, rejected', async () => {
    const { client, transport } = scriptedClient(
      redriveServer(['r1', 'bad'], {
        r1: json(200, { workflowRunId: 'wfr_new' }),
        bad: json(400, { error: 'cannot restart' }),
      }),
    );
    const outcomes = await execute(ids('r1', 'gone', 'bad'), restart, client, perId(3));
    expect(outcomes.done).toEqual(['r1']);
    expect(outcomes.newRuns).toEqual(new Map([['r1', 'wfr_new']]));
    expect(outcomes.notFound).toEqual(['gone']);
    expect(outcomes.failed).toEqual([
      { id: 'bad', cause: 'rejected', reason: 'HTTP 400: cannot restart', mayHaveActed: false },
    ]);
    expect(outputsFor(outcomes, restart)).toMatchObject({ redriven: '["r1"]', 'new-runs': '{"r1":"wfr_new"}' });
    expect(transport.sent.every((e) => e.method === 'POST')).toBe(true);
  });

  it('retries a re-run whose connection was refused or rate limited: nothing can have run', async () => {
    const { client, transport } = scriptedClient(
      redriveServer(['a', 'b'], {
        a: (attempt) => (attempt === 1 ? net('ECONNREFUSED', false) : json(200, { workflowRunId: 'wfr_a' })),
        b: (attempt) => (attempt === 1 ? ok(429, { 'retry-after': '1' }) : json(200, { workflowRunId: 'wfr_b' })),
      }),
    );
    const outcomes = await execute(ids('a', 'b'), restart, client, perId(1));
    expect(outcomes.done).toEqual(['a', 'b']);
    expect(outcomes.inferred).toEqual([]);
    expect(transport.count('POST', '/v2/workflows/dlq/restart/a')).toBe(2);
    expect(transport.count('POST', '/v2/workflows/dlq/restart/b')).toBe(2);
  });

  const lostAnswers: [string, ExchangeResult][] = [
    ['HTTP 503', ok(503)],
    ['HTTP 408', ok(408)],
    ['a reset connection', net('ECONNRESET', true)],
    ['a timeout', net('TIMEOUT', true)],
  ];

  it.each(lostAnswers)(
    'a re-run lost to %s is never resent and fails as answer-lost, though its entry left the DLQ: absence proves nothing',
    async (_name, lost) => {
      const { client, transport } = scriptedClient(
        redriveServer(['r1', 'lost', 'bad'], {
          r1: json(200, { workflowRunId: 'wfr_new' }),
          lost,
          bad: ok(400),
        }),
      );
      const outcomes = await execute(ids('lost', 'r1', 'gone', 'bad'), restart, client, perId(2));
      expect(outcomes.done).toEqual(['r1']);
      expect(outcomes.inferred).toEqual([]);
      expect(outcomes.newRuns).toEqual(new Map([['r1', 'wfr_new']]));
      expect(outcomes.notFound).toEqual(['gone']);
      expect(outcomes.failed).toEqual([
        { id: 'lost', cause: 'answer-lost', reason: expect.stringMatching(/may have started/), mayHaveActed: true },
        { id: 'bad', cause: 'rejected', reason: expect.any(String), mayHaveActed: false },
      ]);
      for (const id of ['lost', 'r1', 'gone', 'bad']) {
        expect(transport.count('POST', `/v2/workflows/dlq/restart/${id}`)).toBe(1);
      }
      // Nothing is looked up to infer a re-run.
      expect(transport.sent.every((e) => e.method === 'POST')).toBe(true);
      expect(outcomes.requests).toBe(transport.sent.length);
    },
  );

  it.each([
    ['entries stay in the DLQ after a re-run', true],
    ['entries leave the DLQ, the lost one stayed', ['lost']],
    ['entries leave the DLQ, the lost one left', false],
  ] as const)('%s: a lost answer fails the same way, answer-lost, may have acted', async (_name, stay) => {
    const { client, transport } = scriptedClient(
      redriveServer(['r1', 'lost'], { r1: json(200, { workflowRunId: 'wfr_new' }), lost: ok(502) }, stay),
    );
    const outcomes = await execute(ids('r1', 'lost'), restart, client, perId(1));
    expect(outcomes.done).toEqual(['r1']);
    expect(outcomes.failed).toEqual([
      {
        id: 'lost',
        cause: 'answer-lost',
        reason: expect.stringMatching(/^HTTP 502.*The restart may have started: never restart it again blindly/),
        mayHaveActed: true,
      },
    ]);
    expect(transport.lines).toEqual(['POST /v2/workflows/dlq/restart/r1', 'POST /v2/workflows/dlq/restart/lost']);
  });

  it('a lost answer alone in the step fails as answer-lost, with no look-up', async () => {
    const { client, transport } = scriptedClient(redriveServer(['lost'], { lost: ok(504) }));
    const outcomes = await execute(ids('lost'), restart, client, perId());
    expect(outcomes.failed).toEqual([
      { id: 'lost', cause: 'answer-lost', reason: expect.stringMatching(/may have started/), mayHaveActed: true },
    ]);
    expect(transport.lines).toEqual(['POST /v2/workflows/dlq/restart/lost']);
  });
});

describe('when auto lists, and when its listing stops', () => {
  it('lists only from 20 ids per concurrency slot', () => {
    expect(listsFor(159, 8)).toBe(false);
    expect(listsFor(160, 8)).toBe(true);
    expect(listsFor(19, 1)).toBe(false);
    expect(listsFor(20, 1)).toBe(true);
    expect(listsFor(4, 1, 1)).toBe(true);
  });

  it('pages pay while they show at least 2 unclaimed ids a page on average, and not 3 in a row show none', () => {
    expect(pagesPay([0])).toBe(true);
    expect(pagesPay([0, 0])).toBe(true);
    expect(pagesPay([5, 0, 0])).toBe(false);
    expect(pagesPay([6, 0, 0])).toBe(true);
    expect(pagesPay([100, 100, 0, 0])).toBe(true);
    expect(pagesPay([100, 100, 0, 0, 0])).toBe(false);
    expect(pagesPay([1, 1, 1])).toBe(false);
  });

  it('the listing runs alone while a page brings at least half a page of ids and more than per-id would settle', () => {
    expect(listingAlone(100, 100, 8)).toBe(true);
    expect(listingAlone(50, 100, 8)).toBe(true);
    expect(listingAlone(49, 100, 8)).toBe(false);
    expect(listingAlone(10, 100, 8)).toBe(false);
    expect(listingAlone(5, 10, 8)).toBe(false);
    expect(listingAlone(1, 2, 1)).toBe(true);
  });
});

/** Which ids each request carried: per-id requests by their last segment, bulk calls by their dlqIds. */
function idsSent(sent: readonly Exchange[]): { perId: string[]; bulk: string[]; listings: number } {
  const perIdIds: string[] = [];
  const bulkIds: string[] = [];
  let listings = 0;
  for (const exchange of sent) {
    const url = new URL(exchange.path, 'http://x');
    if (url.pathname !== '/v2/workflows/dlq') perIdIds.push(lastSegment(exchange));
    else if (exchange.method === 'GET') listings += 1;
    else bulkIds.push(...url.searchParams.getAll('dlqIds'));
  }
  return { perId: perIdIds, bulk: bulkIds, listings };
}

describe('strategy auto: the race between per-id requests and one listing', () => {
  it('does not list under 20 ids per slot: plain per-id', async () => {
    const list = range(159);
    const dlq = fakeWorkflowDlq(list);
    const { client, transport } = scriptedClient(dlq.script);
    const outcomes = await execute(ids(...list), del, client, { concurrency: 8, strategy: 'auto' });
    expect(outcomes.done).toEqual(list);
    const sent = idsSent(transport.sent);
    expect(sent).toMatchObject({ bulk: [], listings: 0 });
    expect(sent.perId.sort()).toEqual([...list].sort());
  });

  it('lists from 20 ids per slot, and stops once every id was claimed', async () => {
    // 1,000 entries; the 150 wanted are the first ones listed.
    const entries = range(1000);
    const wanted = entries.slice(0, 150);
    const dlq = fakeWorkflowDlq(entries);
    const { client, transport } = scriptedClient(dlq.script);
    const outcomes = await execute(ids(...wanted), del, client, { concurrency: 1, strategy: 'auto' });
    expect(outcomes).toMatchObject({ done: wanted, notFound: [], failed: [], notes: [] });
    // Two pages showed every id: no third page, no per-id request; the listing ran alone while at least half of
    // each page was ids of the list.
    expect(transport.lines).toEqual([
      'GET /v2/workflows/dlq?count=100',
      'GET /v2/workflows/dlq?count=100&cursor=100',
      `DELETE /v2/workflows/dlq?${wanted
        .slice(0, 100)
        .map((id) => `dlqIds=${id}`)
        .join('&')}`,
      `DELETE /v2/workflows/dlq?${wanted
        .slice(100)
        .map((id) => `dlqIds=${id}`)
        .join('&')}`,
    ]);
    expect(dlq.entries.size).toBe(850);
  });

  it('stops listing when pages stop showing wanted ids; per-id, taking from the end, finishes the rest', async () => {
    const entries = range(2000);
    const missing = range(195, 'missing-');
    const input = [...entries.slice(0, 5), ...missing];
    const dlq = fakeWorkflowDlq(entries);
    const { client, transport } = scriptedClient(dlq.script);
    const outcomes = await execute(ids(...input), del, client, { concurrency: 8, strategy: 'auto' });
    expect(outcomes).toMatchObject({ done: entries.slice(0, 5), notFound: missing, failed: [] });
    // Page 1 showed 5 (fewer than the 8 per-id would settle in that time: per-id joined); pages 2 and 3 showed
    // none: 5 in 3 pages is under 2 a page.
    const sent = idsSent(transport.sent);
    expect(sent.listings).toBe(3);
    expect(sent.bulk).toEqual(entries.slice(0, 5));
    expect([...sent.perId].sort()).toEqual([...missing].sort());
    // Per-id started from the end of the list, away from where the listing finds ids.
    expect(sent.perId[0]).toBe('missing-194');
    expect(outcomes.notes).toEqual([
      'The listing stopped after 3 pages that showed 5 of the 200 ids; the rest were sent one by one.',
    ]);
  });

  it.each([
    ['delete', del],
    ['dry run', dryDel],
  ])(
    '%s: every id in exactly one outcome, sent once: in one per-id request or in one bulk call',
    async (_name, operation) => {
      // Wanted ids every 20th entry (5 a page: per-id races the listing the whole way), plus ids not in the DLQ.
      const entries = range(4000);
      const present = entries.filter((_, i) => i % 20 === 7);
      const missing = range(100, 'missing-');
      const input = [...present, ...missing];
      const dlq = fakeWorkflowDlq(entries);
      const { client, transport } = scriptedClient(dlq.script);
      const outcomes = await execute(ids(...input), operation, client, { concurrency: 8, strategy: 'auto' });
      expect(outcomes).toMatchObject({ done: present, notFound: missing, failed: [], inferred: [] });
      expect(outcomes.done.length + outcomes.notFound.length).toBe(input.length);
      const sent = idsSent(transport.sent);
      const all = [...sent.perId, ...sent.bulk];
      expect(new Set(all).size).toBe(all.length);
      if (operation === del) expect([...all].sort()).toEqual([...input].sort());
      // Both paths took part.
      expect(sent.listings).toBeGreaterThan(1);
      expect(sent.perId.length).toBeGreaterThan(0);
      if (operation === del) expect(sent.bulk.length).toBeGreaterThan(0);
      expect(dlq.entries.size).toBe(operation === del ? entries.length - present.length : entries.length);
    },
  );
});

describe('execute with strategy auto', () => {
  it('settles ids from one complete listing and bulk calls, never per id', async () => {
    const dlq = fakeWorkflowDlq(['a', 'b', 'c'], { pageSize: 2 });
    const { client, transport } = scriptedClient(dlq.script);
    const outcomes = await execute(ids('x', 'a', 'c', 'y'), del, client, auto(1));
    expect(outcomes.done).toEqual(['a', 'c']);
    expect(outcomes.notFound).toEqual(['x', 'y']);
    // New: the ids the listing did not show are confirmed by a bulk call of their own ({"deleted":0}: none there).
    expect(transport.lines).toEqual([
      'GET /v2/workflows/dlq?count=100',
      'GET /v2/workflows/dlq?count=100&cursor=2',
      'DELETE /v2/workflows/dlq?dlqIds=a&dlqIds=c',
      'DELETE /v2/workflows/dlq?dlqIds=x&dlqIds=y',
    ]);
    expect(outcomes.requests).toBe(4);
    expect(dlq.entries).toEqual(new Set(['b']));
  });

  it('an id the listing skipped is still deleted by the confirming bulk call', async () => {
    const dlq = fakeWorkflowDlq(['a', 'skipped'], { hidden: ['skipped'] });
    const { client } = scriptedClient(dlq.script);
    const outcomes = await execute(ids('a', 'skipped'), del, client, auto(1));
    expect(outcomes.done).toEqual(['a', 'skipped']);
    expect(dlq.entries.size).toBe(0);
  });

  it('a count neither 0 nor the batch is reconciled with GET: more absent than counted is unattributed', async () => {
    const dlq = fakeWorkflowDlq(['a', 'b', 'hidden'], { hidden: ['hidden'] });
    const { client, transport } = scriptedClient(dlq.script);
    const outcomes = await execute(ids('a', 'hidden', 'x'), del, client, auto(1));
    expect(outcomes.done).toEqual(['a']);
    // 'hidden' and 'x' are both absent after a call that deleted 1: which one it was cannot be told.
    expect(outcomes.notFound).toEqual(['hidden', 'x']);
    expect(outcomes.unattributed).toBe(1);
    expect(transport.lines).toEqual([
      'GET /v2/workflows/dlq?count=100',
      'DELETE /v2/workflows/dlq?dlqIds=a',
      'DELETE /v2/workflows/dlq?dlqIds=hidden&dlqIds=x',
      'GET /v2/workflows/dlq/hidden',
      'GET /v2/workflows/dlq/x',
    ]);
  });

  it('a short count: ids still present are sent alone, absent ones within the count are done', async () => {
    // The server deletes only the first existing id of each bulk call.
    const dlq = fakeWorkflowDlq(['a', 'b', 'c'], { bulkDeletes: (existing) => existing.slice(0, 1) });
    const { client, transport } = scriptedClient(dlq.script);
    const outcomes = await execute(ids('a', 'b'), del, client, auto(1));
    expect(outcomes).toMatchObject({ done: ['a', 'b'], notFound: [], failed: [], unattributed: 0 });
    expect(transport.lines).toEqual([
      'GET /v2/workflows/dlq?count=100',
      'DELETE /v2/workflows/dlq?dlqIds=a&dlqIds=b',
      'GET /v2/workflows/dlq/a',
      'GET /v2/workflows/dlq/b',
      'DELETE /v2/workflows/dlq/b',
    ]);
  });

  it('a bulk call whose first answer was lost counts the ids it finds gone as done, inferred', async () => {
    const dlq = fakeWorkflowDlq(['a', 'b']);
    let bulkCalls = 0;
    const { client } = scriptedClient((exchange) => {
      if (exchange.method === 'DELETE' && exchange.path.includes('dlqIds=')) {
        bulkCalls += 1;
        const answer = dlq.script(exchange); // the server acts either way
        return bulkCalls === 1 ? ok(503) : answer;
      }
      return dlq.script(exchange);
    });
    const outcomes = await execute(ids('a', 'b'), del, client, auto(1));
    expect(bulkCalls).toBe(2);
    expect(outcomes).toMatchObject({ done: ['a', 'b'], inferred: ['a', 'b'], failed: [] });
  });

  it('dry run: listed ids are done without a request of their own, the others are probed with GET', async () => {
    const dlq = fakeWorkflowDlq(['a', 'b', 'c'], { hidden: ['c'] });
    const { client, transport } = scriptedClient(dlq.script);
    const outcomes = await execute(ids('x', 'a', 'c', 'y'), dryDel, client, auto(1));
    expect(outcomes).toMatchObject({ done: ['a', 'c'], notFound: ['x', 'y'], failed: [] });
    expect(transport.lines).toEqual([
      'GET /v2/workflows/dlq?count=100',
      'GET /v2/workflows/dlq/x',
      'GET /v2/workflows/dlq/c',
      'GET /v2/workflows/dlq/y',
    ]);
    expect(dlq.entries.size).toBe(3);
  });

  it('a listing answer without a messages array is a failed listing, never an empty DLQ: ids go one by one', async () => {
    const dlq = fakeWorkflowDlq(['a', 'b']);
    const { client, transport } = scriptedClient((exchange) =>
      exchange.method === 'GET' && exchange.path.startsWith('/v2/workflows/dlq?')
        ? json(200, { cursor: '' })
        : dlq.script(exchange),
    );
    const outcomes = await execute(ids('a', 'b', 'c', 'd'), del, client, auto(1));
    expect(outcomes).toMatchObject({ done: ['a', 'b'], notFound: ['c', 'd'], failed: [] });
    expect(transport.lines.slice(1)).toEqual([
      'DELETE /v2/workflows/dlq/a',
      'DELETE /v2/workflows/dlq/b',
      'DELETE /v2/workflows/dlq/c',
      'DELETE /v2/workflows/dlq/d',
    ]);
    expect(outcomes.notes).toEqual([
      expect.stringMatching(/The listing failed \(the DLQ listing had no messages array\)/),
    ]);
  });

  it('re-runs never use the listing: one POST per id', async () => {
    const { client, transport } = scriptedClient(() => json(200, { workflowRunId: 'w' }));
    await execute(ids(...range(40)), restart, client, auto(1));
    expect(transport.sent.every((e) => e.method === 'POST')).toBe(true);
    expect(transport.sent).toHaveLength(40);
  });
});

describe('execute with a listing query (filters, select-all)', () => {
  it('deletes every listed entry in bulk calls of at most 100, in listing order', async () => {
    const all = range(250, 'e');
    const dlq = fakeWorkflowDlq(all);
    const { client, transport } = scriptedClient(dlq.script);
    const outcomes = await execute(selectAll(), del, client, perId(4));
    expect(outcomes.done).toEqual(all);
    expect(outcomes.selection).toMatchObject({ matched: 250, filters: [], capInput: 'max-entries' });
    expect(transport.sent.filter((e) => e.method === 'DELETE')).toHaveLength(3);
    expect(dlq.entries.size).toBe(0);
  });

  it('more matches than the cap: nothing is changed; a dry run still shows what matched', async () => {
    const dlq = fakeWorkflowDlq(range(5));
    const { client, transport } = scriptedClient(dlq.script);
    const real = await execute(selectAll(3), del, client, perId());
    expect(real.stopped).toMatchObject({ kind: 'cap-exceeded' });
    expect(real.selection).toMatchObject({ matched: 5, cap: 3 });
    expect(real.done).toEqual([]);
    expect(transport.sent.every((e) => e.method === 'GET')).toBe(true);
    const dry = await execute(selectAll(3), dryDel, client, perId());
    expect(dry.done).toEqual(range(5));
  });

  it('a listed id that cannot be sent safely fails as invalid-id and is never sent', async () => {
    const listed = ['ok', 'a/b', 'sp ace', 'pct%2F', '\uD800'];
    const { client, transport } = scriptedClient((exchange) =>
      exchange.method === 'GET'
        ? json(200, { messages: listed.map((dlqId) => ({ dlqId })) })
        : json(200, { deleted: 1 }),
    );
    const outcomes = await execute(selectAll(), del, client, perId());
    expect(outcomes.done).toEqual(['ok']);
    expect(outcomes.failed.map((f) => [f.id, f.cause])).toEqual(listed.slice(1).map((id) => [id, 'invalid-id']));
    expect(transport.lines).toEqual(['GET /v2/workflows/dlq?count=100', 'DELETE /v2/workflows/dlq?dlqIds=ok']);
  });

  it('a listing answer without a messages array stops the run: nothing is deleted', async () => {
    const { client, transport } = scriptedClient(() => json(200, { items: [] }));
    const outcomes = await execute(selectAll(), del, client, perId());
    expect(outcomes.stopped).toEqual({ kind: 'listing-failed', reason: 'the DLQ listing had no messages array' });
    expect(transport.sent).toHaveLength(1);
  });

  const listScript =
    (pages: (cursor: string | null, count: number) => ExchangeResult) =>
    (exchange: Exchange): ExchangeResult => {
      const url = new URL(exchange.path, 'http://x');
      if (exchange.method === 'GET' && url.pathname === '/v2/workflows/dlq') {
        return pages(url.searchParams.get('cursor'), Number(url.searchParams.get('count')));
      }
      return json(200, { deleted: url.searchParams.getAll('dlqIds').length });
    };
  const counts = (sent: readonly Exchange[]): number[] =>
    sent.filter((e) => e.method === 'GET').map((e) => Number(new URL(e.path, 'http://x').searchParams.get('count')));
  const tooLarge = (): ExchangeResult => truncated('{"messages":[{"dlqId":"a","body":"xxx');

  it('shrinks pages 100 -> 10 -> 1 while a page is larger than the body limit', async () => {
    const all = ['a', 'b', 'c'];
    const { client, transport } = scriptedClient(
      listScript((cursor, count) => {
        if (count > 1) return tooLarge();
        const at = Number(cursor ?? 0);
        return json(200, { messages: [{ dlqId: all[at] }], ...(at + 1 < all.length && { cursor: String(at + 1) }) });
      }),
    );
    const outcomes = await execute(selectAll(), del, client, perId());
    expect(counts(transport.sent)).toEqual([100, 10, 1, 1, 1]);
    expect(outcomes.done).toEqual(all);
    expect(outcomes.notes).toEqual([
      expect.stringMatching(/larger than 16 MiB.*asked for 10 entries/),
      expect.stringMatching(/larger than 16 MiB.*asked for 1 entries/),
    ]);
  });

  it('a single entry too large for a page fails the listing', async () => {
    const { client, transport } = scriptedClient(listScript(() => tooLarge()));
    const outcomes = await execute(selectAll(), del, client, perId());
    expect(counts(transport.sent)).toEqual([100, 10, 1]);
    expect(outcomes.stopped).toEqual({
      kind: 'listing-failed',
      reason: expect.stringMatching(/a single DLQ entry is larger than 16 MiB/),
    });
    expect(transport.sent.some((e) => e.method === 'DELETE')).toBe(false);
  });

  it('a repeated cursor stops the listing with a failure naming it', async () => {
    const { client, transport } = scriptedClient(
      listScript((cursor) => json(200, { messages: [{ dlqId: cursor ?? 'first' }], cursor: 'c1' })),
    );
    const outcomes = await execute(selectAll(), del, client, perId());
    expect(outcomes.stopped).toEqual({ kind: 'listing-failed', reason: 'the listing returned cursor "c1" twice' });
    expect(transport.sent).toHaveLength(2);
  });

  it('ten pages in a row with nothing new stop the listing', async () => {
    const { client, transport } = scriptedClient(
      listScript((cursor) => json(200, { messages: [{ dlqId: 'same' }], cursor: String(Number(cursor ?? 0) + 1) })),
    );
    const outcomes = await execute(selectAll(), del, client, perId());
    expect(outcomes.stopped).toEqual({
      kind: 'listing-failed',
      reason: 'the listing brought nothing new for 10 pages in a row',
    });
    expect(transport.sent).toHaveLength(11);
  });

  it('the page ceiling (maxListPages) stops a listing that never ends', async () => {
    const { client, transport } = scriptedClient(
      listScript((cursor) => {
        const next = Number(cursor ?? 0) + 1;
        return json(200, { messages: [{ dlqId: `e${next}` }], cursor: String(next) });
      }),
    );
    const outcomes = await execute(selectAll(), del, client, perId(1, { maxListPages: 3 }));
    expect(outcomes.stopped).toEqual({
      kind: 'listing-failed',
      reason: 'the listing did not end within 3 pages (the most one run reads)',
    });
    expect(transport.sent).toHaveLength(3);
    expect(outcomes.done).toEqual([]);
  });

  it('a refused token during the listing stops the run', async () => {
    const { client, transport } = scriptedClient(() => ok(401));
    const outcomes = await execute(selectAll(), del, client, perId());
    expect(outcomes.stopped).toMatchObject({ kind: 'token-refused' });
    expect(transport.sent).toHaveLength(1);
  });
});

describe('review: bulk reconciliation when a probe fails', () => {
  it('an id whose probe failed may be one the count covers: the absent ones are not claimed as removed', async () => {
    // The listing shows a, b, c. Before the bulk call, someone else deletes a; the bulk call deletes only c
    // ({"deleted":1}); b stays. Probing c fails. The count (1) is c's, not a's.
    const dlq = fakeWorkflowDlq(['a', 'b', 'c'], { bulkDeletes: (existing) => existing.filter((id) => id === 'c') });
    const { client } = scriptedClient((exchange) => {
      if (exchange.method === 'DELETE' && exchange.path.includes('dlqIds=')) dlq.entries.delete('a');
      if (exchange.method === 'GET' && exchange.path === '/v2/workflows/dlq/c') return ok(500);
      return dlq.script(exchange);
    });
    const outcomes = await execute(ids('a', 'b', 'c'), del, client, auto(1));
    expect(outcomes.done).not.toContain('a');
    expect(outcomes.done).toContain('b');
    const c = outcomes.failed.find((f) => f.id === 'c');
    // The bulk call may have deleted c: its failure must say so.
    expect(c?.mayHaveActed).toBe(true);
    expect(outcomes.done.length + outcomes.notFound.length + outcomes.failed.length).toBe(3);
  });
});

describe('review: auto when listing pages are too large to read', () => {
  it('does not page through 10-entry pages of large bodies alone: per-id takes the ids once a page is too large', async () => {
    // Every page of 100 is larger than the body limit (entries carry large bodies), so a listing would move 10
    // entries (megabytes) a round trip, one page after another, where per-id moves no body at all.
    const wanted = range(200);
    const dlq = fakeWorkflowDlq(wanted);
    const { client, transport } = scriptedClient((exchange) => {
      const url = new URL(exchange.path, 'http://x');
      if (exchange.method === 'GET' && url.pathname === '/v2/workflows/dlq' && url.searchParams.get('count') === '100')
        return truncated('{"messages":[{"dlqId":"id-0","body":"xxx');
      return dlq.script(exchange);
    });
    const outcomes = await execute(ids(...wanted), del, client, { concurrency: 8, strategy: 'auto', listFromIds: 1 });
    expect(outcomes).toMatchObject({ done: wanted, notFound: [], failed: [] });
    const sent = idsSent(transport.sent);
    expect(sent.listings).toBe(1);
    expect(sent.perId.length).toBe(wanted.length);
    expect(outcomes.notes).toEqual([expect.stringMatching(/larger than 16 MiB.*sent one by one/)]);
  });
});
