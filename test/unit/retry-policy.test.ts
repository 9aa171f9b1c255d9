import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Breakers, type BreakerState, type Trip } from '../../src/qstash/breakers.js';
import {
  classifyStatus,
  decide,
  type Attempt,
  type AttemptResult,
  type Decision,
  type RetryPolicy,
} from '../../src/qstash/retry-policy.js';
import { FakeClock } from '../helpers/fakes.ts';

const POLICY: RetryPolicy = { maxRetries: 3, maxRateLimitWaitMs: 120_000, origin: 'https://qstash.example' };

const response = (status: number, body = ''): AttemptResult => ({ kind: 'response', status, headers: {}, body });
const network = (reason: string, sent: boolean, proxy?: 'refused' | 'unreachable'): AttemptResult => ({
  kind: 'network',
  reason,
  code: 'X',
  sent,
  ...(proxy && { proxy }),
});
const ABANDONED: AttemptResult = { kind: 'abandoned' };

/** The first attempt, every budget left, no breaker showing anything. */
function attempt(result: AttemptResult, idempotent: boolean, more: Partial<Attempt> = {}): Attempt {
  return {
    result,
    idempotent,
    attempts: 1,
    retries: 0,
    rateLimitWaitedMs: 0,
    mayHaveActed: false,
    breakers: {},
    ...more,
  };
}

/** The decision without the settled response, for tables. */
function summary(decision: Decision): Record<string, unknown> {
  if (decision.kind === 'settle') return { kind: 'settle', mayHaveActed: decision.mayHaveActed };
  return decision;
}

const RETRY = { kind: 'retry', after: 'backoff' } as const;
const WAIT = { kind: 'retry', after: 'rate-limit', reason: 'HTTP 429', mayHaveActed: false } as const;
const giveUp = (cause: string, mayHaveActed = false) => ({ kind: 'give-up', cause, mayHaveActed });

describe('classifyStatus', () => {
  it.each<[number, string]>([
    [200, 'answered'],
    [201, 'answered'],
    [204, 'answered'],
    [299, 'answered'],
    [404, 'answered'],
    [401, 'token-refused'],
    [403, 'token-refused'],
    [429, 'rate-limited'],
    [301, 'redirect'],
    [302, 'redirect'],
    [307, 'redirect'],
    [308, 'redirect'],
    [500, 'server-error'],
    [502, 'server-error'],
    [503, 'server-error'],
    [504, 'server-error'],
    [599, 'server-error'],
    [408, 'server-error'],
    [400, 'rejected'],
    [405, 'rejected'],
    [409, 'rejected'],
    [410, 'rejected'],
    [422, 'rejected'],
    [100, 'rejected'],
  ])('%i is %s', (status, kind) => {
    expect(classifyStatus(status)).toBe(kind);
  });
});

describe('decide: every status, idempotent (DELETE, GET) or not (a re-run), with every budget left', () => {
  it.each<[number, boolean, Record<string, unknown>]>([
    [200, true, { kind: 'settle', mayHaveActed: false }],
    [200, false, { kind: 'settle', mayHaveActed: false }],
    [201, false, { kind: 'settle', mayHaveActed: false }],
    [404, true, { kind: 'settle', mayHaveActed: false }],
    [404, false, { kind: 'settle', mayHaveActed: false }],
    [401, true, { ...giveUp('token-refused'), reason: 'HTTP 401: the token was refused' }],
    [403, false, { ...giveUp('token-refused'), reason: 'HTTP 403: the token was refused' }],
    [307, true, giveUp('redirect')],
    [301, false, giveUp('redirect')],
    [400, true, { ...giveUp('rejected'), reason: 'HTTP 400: bad id' }],
    [409, false, { ...giveUp('rejected'), reason: 'HTTP 409: bad id' }],
    [429, true, WAIT],
    [429, false, WAIT],
    [500, true, { ...RETRY, reason: 'HTTP 500: bad id', mayHaveActed: true }],
    [503, true, { ...RETRY, mayHaveActed: true }],
    [408, true, { ...RETRY, reason: 'HTTP 408: bad id', mayHaveActed: true }],
    [
      500,
      false,
      {
        ...giveUp('answer-lost', true),
        reason: 'HTTP 500: bad id: the request may have been carried out; not sent again',
      },
    ],
    [502, false, giveUp('answer-lost', true)],
    [408, false, giveUp('answer-lost', true)],
  ])('HTTP %i, idempotent %s', (status, idempotent, expected) => {
    const decision = decide(POLICY, attempt(response(status, '{"error":"bad id"}'), idempotent));
    expect(summary(decision)).toMatchObject(expected);
    expect(decision).not.toHaveProperty('trip');
  });

  it('a redirect says it was not followed, and why', () => {
    expect(decide(POLICY, attempt(response(302), true))).toMatchObject({
      reason: 'HTTP 302: redirect not followed (the token is only sent to the configured URL)',
    });
  });

  it('settles with the response itself, and with what earlier attempts may have done', () => {
    const answer = response(404);
    expect(decide(POLICY, attempt(answer, true, { mayHaveActed: true, attempts: 2, retries: 1 }))).toEqual({
      kind: 'settle',
      response: answer,
      mayHaveActed: true,
    });
  });

  it('a failure after an attempt that may have acted says so', () => {
    expect(decide(POLICY, attempt(response(400), true, { mayHaveActed: true }))).toMatchObject({
      cause: 'rejected',
      mayHaveActed: true,
    });
  });

  it('server text is redacted and shortened into the reason', () => {
    const redact = (text: string): string => text.replaceAll('s3cret', '***');
    expect(decide({ ...POLICY, redact }, attempt(response(422, '{"error":"token s3cret"}'), true))).toMatchObject({
      reason: 'HTTP 422: token ***',
    });
  });
});

describe('decide: network failures, sent or not, through a proxy or not', () => {
  it.each<[string, boolean, AttemptResult, Record<string, unknown>]>([
    ['refused (never sent)', true, network('connection refused', false), { ...RETRY, mayHaveActed: false }],
    ['refused (never sent)', false, network('connection refused', false), { ...RETRY, mayHaveActed: false }],
    ['dropped (sent)', true, network('connection reset', true), { ...RETRY, mayHaveActed: true }],
    ['dropped (sent)', false, network('connection reset', true), giveUp('answer-lost', true)],
    ['proxy unreachable', true, network('cannot connect to proxy.corp:3128', false, 'unreachable'), RETRY],
    ['proxy unreachable', false, network('cannot connect to proxy.corp:3128', false, 'unreachable'), RETRY],
    ['proxy refused', true, network('proxy.corp:3128 refused the tunnel', false, 'refused'), giveUp('proxy-refused')],
    ['proxy refused', false, network('proxy.corp:3128 refused the tunnel', false, 'refused'), giveUp('proxy-refused')],
  ])('%s, idempotent %s', (_name, idempotent, result, expected) => {
    expect(decide(POLICY, attempt(result, idempotent))).toMatchObject(expected);
  });

  it("names the server, or the proxy when the failure was the proxy's", () => {
    expect(decide(POLICY, attempt(network('connection refused', false), true))).toMatchObject({
      reason: 'connection refused (https://qstash.example)',
    });
    expect(
      decide(POLICY, attempt(network('cannot connect to proxy.corp:3128', false, 'unreachable'), true)),
    ).toMatchObject({ reason: 'cannot connect to proxy.corp:3128' });
    expect(decide(POLICY, attempt(network('timed out after 30 s', true), false))).toMatchObject({
      reason: 'timed out after 30 s (https://qstash.example): the request may have been carried out; not sent again',
    });
    expect(
      decide(POLICY, attempt(network('proxy.corp:3128 refused the credentials', false, 'refused'), true)),
    ).toMatchObject({ reason: 'proxy.corp:3128 refused the credentials' });
  });

  it.each([true, false])('abandoned in flight on cancellation (idempotent %s): may have acted', (idempotent) => {
    expect(decide(POLICY, attempt(ABANDONED, idempotent))).toEqual({
      kind: 'give-up',
      cause: idempotent ? 'cancelled' : 'answer-lost',
      reason: 'abandoned in flight on cancellation; whether the server acted is unknown',
      mayHaveActed: true,
    });
  });
});

describe('decide: budgets', () => {
  const spent = { retries: 3, attempts: 4 };
  it.each<[string, boolean, AttemptResult, Record<string, unknown>]>([
    ['HTTP 503', true, response(503), { ...giveUp('retries-exhausted', true), reason: 'HTTP 503 (4 attempts)' }],
    ['a refused connection', true, network('connection refused', false), giveUp('retries-exhausted')],
    ['a refused connection', false, network('connection refused', false), giveUp('retries-exhausted')],
    ['a dropped connection', true, network('connection reset', true), giveUp('retries-exhausted', true)],
    // Never resent, so never "exhausted": the answer is lost.
    ['HTTP 503', false, response(503), giveUp('answer-lost', true)],
    ['a dropped connection', false, network('connection reset', true), giveUp('answer-lost', true)],
    // 429 waits do not use up retries.
    ['HTTP 429', true, response(429), WAIT],
    ['HTTP 429', false, response(429), WAIT],
  ])('retries used up, then %s (idempotent %s)', (_name, idempotent, result, expected) => {
    expect(decide(POLICY, attempt(result, idempotent, spent))).toMatchObject(expected);
  });

  it('one attempt, no retries allowed: "1 attempt"', () => {
    expect(decide({ ...POLICY, maxRetries: 0 }, attempt(response(500), true))).toMatchObject({
      cause: 'retries-exhausted',
      reason: 'HTTP 500 (1 attempt)',
    });
  });

  it.each<[number, Record<string, unknown>]>([
    [0, WAIT],
    [120_000, WAIT],
    [120_001, { ...giveUp('rate-limited'), reason: 'HTTP 429: still rate limited after waiting 120 s' }],
  ])('429 after waiting %i ms of 120 s in all', (rateLimitWaitedMs, expected) => {
    expect(decide(POLICY, attempt(response(429), false, { rateLimitWaitedMs }))).toMatchObject(expected);
  });
});

describe('decide: the breakers', () => {
  const elsewhere: Trip = { cause: 'unreachable', reason: 'https://qstash.example is unreachable: connection refused' };
  const tripped: BreakerState = { tripped: elsewhere };
  const stalled: BreakerState = { stalledMs: 125_400 };
  const unreachable: BreakerState = { unreachable: { failures: 4, ms: 10_600 } };
  const stoppedBy = (trip: Trip, mayHaveActed = false) => ({ kind: 'give-up', ...trip, mayHaveActed, trip });
  const stalledBy = (cause: Trip['cause'], last: string): Trip => ({
    cause,
    reason: `https://qstash.example answered no request usefully for 125 s (last: ${last}); stopped sending`,
  });
  const lostWith = (trip: Trip) => ({ ...giveUp('answer-lost', true), trip });

  it.each<[string, boolean, AttemptResult, BreakerState, Record<string, unknown>]>([
    // Tripped by another request: every request that would be retried stops, with that reason.
    ['HTTP 429', true, response(429), tripped, stoppedBy(elsewhere)],
    ['HTTP 503', true, response(503), tripped, stoppedBy(elsewhere, true)],
    ['a refused connection', false, network('connection refused', false), tripped, stoppedBy(elsewhere)],
    ['a dropped connection', true, network('connection reset', true), tripped, stoppedBy(elsewhere, true)],
    // A re-run that may have acted is a lost answer, whatever else stops the run.
    ['a dropped connection', false, network('connection reset', true), tripped, lostWith(elsewhere)],
    // Answers decide whatever the breakers say.
    ['HTTP 200', true, response(200), tripped, { kind: 'settle' }],
    ['HTTP 400', true, response(400), tripped, giveUp('rejected')],
    ['HTTP 401', false, response(401), tripped, giveUp('token-refused')],
    // A re-run's 5xx is a lost answer and leaves the breakers alone.
    ['HTTP 503', false, response(503), stalled, giveUp('answer-lost', true)],
    // Nothing decided for too long: the last attempt names the cause.
    ['HTTP 429', true, response(429), stalled, stoppedBy(stalledBy('rate-limited', 'HTTP 429'))],
    ['HTTP 503', true, response(503), stalled, stoppedBy(stalledBy('unreachable', 'HTTP 503'), true)],
    ['a timeout', true, network('timed out', true), stalled, stoppedBy(stalledBy('unreachable', 'timed out'), true)],
    ['a timeout', false, network('timed out', true), stalled, lostWith(stalledBy('unreachable', 'timed out'))],
    // Network failures in a row: unreachable, named for the server.
    [
      'a refused connection',
      true,
      network('connection refused', false),
      unreachable,
      stoppedBy({
        cause: 'unreachable',
        reason: 'https://qstash.example is unreachable: connection refused; no answer to 4 requests in 11 s',
      }),
    ],
    // Only network failures count towards "unreachable".
    ['HTTP 503', true, response(503), unreachable, { ...RETRY, mayHaveActed: true }],
    ['a refusing proxy', true, network('proxy refused', false, 'refused'), unreachable, giveUp('proxy-refused')],
  ])('%s, idempotent %s (case %#)', (_name, idempotent, result, breakers, expected) => {
    const decision = decide(POLICY, attempt(result, idempotent, { breakers }));
    expect(summary(decision)).toMatchObject(expected);
    if (!('trip' in expected)) expect(decision).not.toHaveProperty('trip');
  });

  it('a breaker wins over the retry budget', () => {
    expect(decide(POLICY, attempt(response(503), true, { breakers: stalled, retries: 3, attempts: 4 }))).toMatchObject({
      cause: 'unreachable',
      trip: stalledBy('unreachable', 'HTTP 503'),
    });
  });

  it('the rate-limit budget wins over a breaker, and trips nothing', () => {
    const decision = decide(POLICY, attempt(response(429), true, { breakers: stalled, rateLimitWaitedMs: 130_000 }));
    expect(decision).toEqual({
      kind: 'give-up',
      cause: 'rate-limited',
      reason: 'HTTP 429: still rate limited after waiting 130 s',
      mayHaveActed: false,
    });
  });

  it('an earlier trip wins over a new one', () => {
    const decision = decide(
      POLICY,
      attempt(network('reset', true), true, { breakers: { ...tripped, ...unreachable, ...stalled } }),
    );
    expect(decision).toMatchObject(stoppedBy(elsewhere, true));
  });

  it('the unreachable breaker wins over the no-progress one', () => {
    const decision = decide(
      POLICY,
      attempt(network('reset', false), true, { breakers: { ...unreachable, ...stalled } }),
    );
    expect(decision).toMatchObject({
      cause: 'unreachable',
      reason: expect.stringMatching(/is unreachable: reset; no answer to 4/),
    });
  });
});

describe('decide: what users rely on, over every result, budget and breaker', () => {
  const statuses = fc.oneof(
    fc.constantFrom(200, 201, 204, 301, 307, 400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504),
    fc.integer({ min: 100, max: 599 }),
  );
  const results = fc.oneof(
    statuses.map((status) => response(status, '{"error":"x"}')),
    fc
      .record({
        sent: fc.boolean(),
        proxy: fc.constantFrom(undefined, 'refused' as const, 'unreachable' as const),
      })
      // A proxy failure happens while opening the tunnel: before anything was sent.
      .map(({ sent, proxy }) => network('failure', proxy ? false : sent, proxy)),
    fc.constant(ABANDONED),
  );
  // Each breaker shows something half the time, so that every combination comes up often.
  const breakers = fc
    .record({ tripped: fc.boolean(), unreachable: fc.boolean(), stalledMs: fc.integer({ min: 0, max: 1_000_000 }) })
    .map(({ tripped, unreachable, stalledMs }): BreakerState => ({
      ...(tripped && { tripped: { cause: 'unreachable', reason: 'elsewhere' } }),
      ...(unreachable && { unreachable: { failures: 4, ms: 10_000 } }),
      ...(stalledMs >= 500_000 && { stalledMs }),
    }));
  const attempts = (idempotent: fc.Arbitrary<boolean>, mayHaveActed: fc.Arbitrary<boolean>) =>
    fc
      .record({
        result: results,
        idempotent,
        retries: fc.integer({ min: 0, max: 5 }),
        rateLimitWaitedMs: fc.integer({ min: 0, max: 200_000 }),
        mayHaveActed,
        breakers,
      })
      .map((a): Attempt => ({ ...a, attempts: a.retries + 1 }));
  const policies = fc.record({
    maxRetries: fc.integer({ min: 0, max: 5 }),
    maxRateLimitWaitMs: fc.integer({ min: 0, max: 200_000 }),
    origin: fc.constant('https://qstash.example'),
  });

  it('at most once for re-runs: one is sent again only when nothing can have run (a 429, a request never sent)', () => {
    // A re-run starts with mayHaveActed false and is retried only while the decision keeps it false, so by
    // induction no re-run that may have reached the server is ever sent again.
    fc.assert(
      fc.property(policies, attempts(fc.constant(false), fc.constant(false)), (policy, a) => {
        const decision = decide(policy, a);
        if (decision.kind !== 'retry') return;
        expect(decision.mayHaveActed).toBe(false);
        const { result } = a;
        expect(result.kind === 'response' ? result.status === 429 : result.kind === 'network' && !result.sent).toBe(
          true,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('a re-run that may have acted fails as answer-lost, whatever the breakers and budgets say', () => {
    fc.assert(
      fc.property(policies, attempts(fc.constant(false), fc.constant(false)), (policy, a) => {
        const { result } = a;
        const acted =
          result.kind === 'abandoned' ||
          (result.kind === 'network' && result.sent) ||
          (result.kind === 'response' && classifyStatus(result.status) === 'server-error');
        if (acted)
          expect(decide(policy, a)).toMatchObject({ kind: 'give-up', cause: 'answer-lost', mayHaveActed: true });
      }),
      { numRuns: 2000 },
    );
  });

  it('a 429 always waits for the rate limiter, never for backoff, and never counts as acted', () => {
    fc.assert(
      fc.property(policies, attempts(fc.boolean(), fc.boolean()), (policy, a) => {
        const decision = decide(policy, a);
        if (a.result.kind === 'response' && a.result.status === 429) {
          if (decision.kind === 'retry') expect(decision.after).toBe('rate-limit');
          expect(decision.mayHaveActed).toBe(a.mayHaveActed);
        }
        if (decision.kind === 'retry' && decision.after === 'rate-limit') {
          expect(a.result).toMatchObject({ kind: 'response', status: 429 });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('is retried only within its budgets and while no breaker has tripped', () => {
    fc.assert(
      fc.property(policies, attempts(fc.boolean(), fc.boolean()), (policy, a) => {
        const decision = decide(policy, a);
        if (decision.kind !== 'retry') return;
        expect(a.breakers.tripped).toBeUndefined();
        if (decision.after === 'backoff') expect(a.retries).toBeLessThan(policy.maxRetries);
        else expect(a.rateLimitWaitedMs).toBeLessThanOrEqual(policy.maxRateLimitWaitMs);
      }),
      { numRuns: 2000 },
    );
  });

  it('settles on 2xx and 404 only, whatever else holds; never forgets an earlier attempt that may have acted', () => {
    fc.assert(
      fc.property(policies, attempts(fc.boolean(), fc.boolean()), (policy, a) => {
        const decision = decide(policy, a);
        const { result } = a;
        const answered =
          result.kind === 'response' && ((result.status >= 200 && result.status < 300) || result.status === 404);
        expect(decision.kind === 'settle').toBe(answered);
        if (a.mayHaveActed) expect(decision.mayHaveActed).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Breakers', () => {
  const limits = { unreachableAfter: { failures: 3, ms: 1000 }, noProgressMs: 5000 };
  const dropped = network('connection reset', true);

  it('unreachable: network failures in a row, over long enough; an HTTP answer starts the count again', () => {
    const clock = new FakeClock();
    const breakers = new Breakers(clock, limits);
    for (let i = 0; i < 3; i += 1) breakers.record(dropped);
    expect(breakers.state()).toEqual({});
    clock.time += 1000;
    breakers.record(response(503));
    breakers.record(dropped);
    breakers.record(dropped);
    expect(breakers.state()).toEqual({});
    clock.time += 1000;
    breakers.record(dropped);
    expect(breakers.state()).toEqual({ unreachable: { failures: 3, ms: 1000 } });
  });

  it('a refusing proxy and a request abandoned on cancellation say nothing about the server', () => {
    const clock = new FakeClock();
    const breakers = new Breakers(clock, { ...limits, unreachableAfter: { failures: 1, ms: 0 } });
    breakers.record(network('proxy refused', false, 'refused'));
    breakers.record(ABANDONED);
    expect(breakers.state()).toEqual({});
    breakers.record(network('cannot connect to the proxy', false, 'unreachable'));
    expect(breakers.state()).toMatchObject({ unreachable: { failures: 1 } });
  });

  it.each<[string, AttemptResult, boolean]>([
    ['HTTP 200', response(200), true],
    ['HTTP 404', response(404), true],
    ['HTTP 400', response(400), true],
    ['HTTP 401', response(401), true],
    ['HTTP 307', response(307), true],
    ['HTTP 429', response(429), false],
    ['HTTP 503', response(503), false],
    ['HTTP 408', response(408), false],
    ['a network failure', dropped, false],
  ])('no-progress clock: %s counts as progress: %s', (_name, result, progress) => {
    const clock = new FakeClock();
    const breakers = new Breakers(clock, limits);
    clock.time += 6000;
    breakers.record(result);
    expect(breakers.state().stalledMs).toBe(progress ? undefined : 6000);
  });

  it('the first trip stays', () => {
    const breakers = new Breakers(new FakeClock(), limits);
    breakers.trip({ cause: 'rate-limited', reason: 'first' });
    breakers.trip({ cause: 'unreachable', reason: 'second' });
    expect(breakers.tripped).toEqual({ cause: 'rate-limited', reason: 'first' });
    expect(breakers.state()).toMatchObject({ tripped: { reason: 'first' } });
  });
});
