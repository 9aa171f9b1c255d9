import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/qstash/backoff.js';
import {
  parseReset,
  parseRetryAfter,
  RateLimiter,
  readRateLimitState,
  waitAfter429,
} from '../../src/qstash/rate-limit.js';
import { FakeClock } from '../helpers/fakes.ts';

const NOW = 1_800_000_000_000;

describe('parseReset', () => {
  it('reads Unix seconds and Unix milliseconds as absolute times', () => {
    expect(parseReset('1800000002', NOW)).toBe(NOW + 2000);
    expect(parseReset('1800000000750', NOW)).toBe(NOW + 750);
  });
  it('reads small values as seconds from now', () => {
    expect(parseReset('3', NOW)).toBe(NOW + 3000);
  });
  it('ignores garbage', () => {
    expect(parseReset('soon', NOW)).toBeUndefined();
    expect(parseReset('', NOW)).toBeUndefined();
    expect(parseReset('-5', NOW)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads delta seconds and HTTP dates', () => {
    expect(parseRetryAfter('2', NOW)).toBe(NOW + 2000);
    expect(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW)).toBe(NOW + 5000);
    expect(parseRetryAfter('whenever', NOW)).toBeUndefined();
  });
});

describe('waitAfter429', () => {
  const h = (headers: Record<string, string>) =>
    Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

  it('prefers Retry-After, then Burst-RateLimit-Reset', () => {
    expect(waitAfter429(h({ 'Retry-After': '3', 'Burst-RateLimit-Reset': '1800000001' }), NOW)).toBe(3000);
    expect(waitAfter429(h({ 'Burst-RateLimit-Reset': '1800000001' }), NOW)).toBe(1000);
    expect(waitAfter429(h({ 'Burst-RateLimit-Reset': String(NOW + 250) }), NOW)).toBe(250);
  });
  it('waits a default second when nothing usable is said', () => {
    expect(waitAfter429({}, NOW)).toBe(1000);
    expect(waitAfter429(h({ 'Burst-RateLimit-Reset': 'later' }), NOW)).toBe(1000);
  });
  it('caps absurd values and floors resets in the past (clock skew)', () => {
    expect(waitAfter429(h({ 'Retry-After': '999999' }), NOW)).toBe(30_000);
    expect(waitAfter429(h({ 'Burst-RateLimit-Reset': '99999999999999' }), NOW)).toBe(30_000);
    expect(waitAfter429(h({ 'Burst-RateLimit-Reset': String(NOW - 5000) }), NOW)).toBe(50);
  });
});

describe('readRateLimitState', () => {
  it('reads the three burst headers', () => {
    expect(
      readRateLimitState(
        { 'burst-ratelimit-limit': '100', 'burst-ratelimit-remaining': '7', 'burst-ratelimit-reset': '1800000001' },
        NOW,
      ),
    ).toEqual({ limit: 100, remaining: 7, resetAt: NOW + 1000 });
  });
});

describe('RateLimiter', () => {
  it('after a 429, holds every request until the wait is over', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(clock);
    await limiter.acquire();
    expect(limiter.release(429, { 'retry-after': '2' })).toBe(2000);
    const start = clock.now();
    await limiter.acquire();
    expect(clock.now() - start).toBe(2000);
  });

  it('paces from Remaining: starts no more requests in a window than the server has left', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(clock);
    const windowEnd = clock.now() + 1000;
    await limiter.acquire();
    limiter.release(200, { 'burst-ratelimit-remaining': '3', 'burst-ratelimit-reset': String(windowEnd) });
    for (let i = 0; i < 3; i += 1) {
      await limiter.acquire();
      expect(clock.now()).toBe(windowEnd - 1000);
      limiter.release(200, {});
    }
    await limiter.acquire();
    expect(clock.now()).toBe(windowEnd);
  });

  it('counts requests still in flight against what is left', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(clock);
    const windowEnd = clock.now() + 1000;
    for (let i = 0; i < 3; i += 1) await limiter.acquire();
    // One answer says 3 remain, but two more requests of ours are still in flight.
    limiter.release(200, { 'burst-ratelimit-remaining': '3', 'burst-ratelimit-reset': String(windowEnd) });
    await limiter.acquire();
    expect(clock.now()).toBe(windowEnd - 1000);
    await limiter.acquire();
    expect(clock.now()).toBe(windowEnd);
  });

  it('once a 429 told the limit, starts each following window with exactly that many requests', async () => {
    const clock = new FakeClock();
    clock.time = 1_800_000_000_000; // a window boundary
    const limiter = new RateLimiter(clock);
    await limiter.acquire();
    // Headers only on the 429: limit 5, window ends in 400 ms.
    limiter.release(429, { 'burst-ratelimit-limit': '5', 'burst-ratelimit-reset': String(clock.now() + 400) });
    const starts: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      await limiter.acquire();
      starts.push(clock.now() - 1_800_000_000_000);
      limiter.release(200, {});
    }
    expect(starts).toEqual([400, 400, 400, 400, 400, 1400, 1400, 1400, 1400, 1400, 2400, 2400]);
  });

  it('does not pace when the server sends no headers', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(clock);
    for (let i = 0; i < 500; i += 1) {
      await limiter.acquire();
      limiter.release(200, {});
    }
    expect(clock.sleeps).toEqual([]);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter in the upper half, capped', () => {
    expect(backoffDelay(0, { baseMs: 500, maxMs: 10_000 }, () => 0)).toBe(250);
    expect(backoffDelay(0, { baseMs: 500, maxMs: 10_000 }, () => 1)).toBe(500);
    expect(backoffDelay(3, { baseMs: 500, maxMs: 10_000 }, () => 0)).toBe(2000);
    expect(backoffDelay(10, { baseMs: 500, maxMs: 10_000 }, () => 1)).toBe(10_000);
    for (let retry = 0; retry < 8; retry += 1) {
      const delay = backoffDelay(retry);
      const step = Math.min(10_000, 500 * 2 ** retry);
      expect(delay).toBeGreaterThanOrEqual(step / 2);
      expect(delay).toBeLessThanOrEqual(step);
    }
  });
});
