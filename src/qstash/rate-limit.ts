/**
 * Reading Upstash's burst rate-limit headers, and pacing all requests of a run from them.
 *
 * A 429 carries `Burst-RateLimit-Limit`, `-Remaining` and `-Reset` (a Unix time, in seconds or milliseconds: both are
 * accepted) and may carry `Retry-After`. When successful responses carry them too, the limiter paces ahead of the
 * limit instead of bouncing off it.
 */
import type { Clock } from './clock.js';

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface RateLimitState {
  readonly limit?: number;
  readonly remaining?: number;
  /** Unix milliseconds at which the window resets. */
  readonly resetAt?: number;
}

export interface RateLimitPolicy {
  /** Wait after a 429 that says nothing usable about when to retry. */
  readonly defaultWaitMs: number;
  /** Shortest wait after a 429, so that a skewed clock cannot turn retries into a busy loop. */
  readonly minWaitMs: number;
  /** Longest single wait, whatever the server says. */
  readonly maxWaitMs: number;
}

export const DEFAULT_RATE_LIMIT_POLICY: RateLimitPolicy = { defaultWaitMs: 1000, minWaitMs: 50, maxWaitMs: 30_000 };

export function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

function finiteNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A reset value as Unix milliseconds. Values that look like Unix milliseconds (>= 1e12) or seconds (>= 1e9) are
 * absolute; smaller ones are taken as seconds from now, which some servers send.
 */
export function parseReset(text: string | undefined, now: number): number | undefined {
  const value = finiteNumber(text);
  if (value === undefined || value < 0) return undefined;
  if (value >= 1e12) return value;
  if (value >= 1e9) return value * 1000;
  return now + value * 1000;
}

/** `Retry-After` as Unix milliseconds: delta seconds or an HTTP date. */
export function parseRetryAfter(text: string | undefined, now: number): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const seconds = finiteNumber(text);
  if (seconds !== undefined) return seconds >= 0 ? now + seconds * 1000 : undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : date;
}

export function readRateLimitState(headers: HeaderBag, now: number): RateLimitState {
  const limit = finiteNumber(header(headers, 'burst-ratelimit-limit'));
  const remaining = finiteNumber(header(headers, 'burst-ratelimit-remaining'));
  const resetAt = parseReset(header(headers, 'burst-ratelimit-reset'), now);
  return {
    ...(limit !== undefined && { limit }),
    ...(remaining !== undefined && { remaining }),
    ...(resetAt !== undefined && { resetAt }),
  };
}

/** How long to wait after a 429: Retry-After when given, else the burst reset, clamped to the policy. */
export function waitAfter429(headers: HeaderBag, now: number, policy = DEFAULT_RATE_LIMIT_POLICY): number {
  const until = parseRetryAfter(header(headers, 'retry-after'), now) ?? readRateLimitState(headers, now).resetAt;
  const wanted = until === undefined ? policy.defaultWaitMs : until - now;
  return Math.min(policy.maxWaitMs, Math.max(policy.minWaitMs, Math.ceil(wanted)));
}

/**
 * Shared by every request of a run. `acquire` before sending, `release` with the response's status and headers.
 *
 * Pacing: after a response says `remaining` requests are left until `resetAt`, the requests already in flight are
 * assumed to take their share of that, and new ones are started only while some of it is left; then everyone waits
 * for the reset. A 429 pauses everyone for the wait it asks for. Once the limit is known (`Burst-RateLimit-Limit`,
 * even if only 429s carry it), each following window starts with that many requests, so a server that sends the
 * headers only on 429s is bounced off once, not once per window. Windows are taken to last `windowMs` (Upstash's
 * burst limit is per second).
 */
export class RateLimiter {
  private pausedUntil = 0;
  private inFlight = 0;
  private budget: number | undefined;
  private windowEnd = 0;
  private limit: number | undefined;
  private readonly clock: Clock;
  private readonly policy: RateLimitPolicy;
  private readonly windowMs: number;

  constructor(clock: Clock, policy: RateLimitPolicy = DEFAULT_RATE_LIMIT_POLICY, windowMs = 1000) {
    this.clock = clock;
    this.policy = policy;
    this.windowMs = windowMs;
  }

  /** Waits until a request may be sent; returns false when `signal` aborted the wait. */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const now = this.clock.now();
      if (now >= this.windowEnd) this.nextWindow(now);
      let waitUntil = this.pausedUntil;
      if (this.budget !== undefined && this.budget <= 0) waitUntil = Math.max(waitUntil, this.windowEnd);
      if (now >= waitUntil) break;
      await this.clock.sleep(waitUntil - now, signal);
    }
    this.inFlight += 1;
    if (this.budget !== undefined) this.budget -= 1;
    return true;
  }

  private nextWindow(now: number): void {
    if (this.limit === undefined || this.windowEnd === 0) {
      this.budget = undefined;
      return;
    }
    this.windowEnd += Math.ceil((now - this.windowEnd + 1) / this.windowMs) * this.windowMs;
    this.budget = this.limit - this.inFlight;
  }

  /** Records a finished request. For a 429, returns how long the caller should wait before retrying. */
  release(status: number | undefined, headers: HeaderBag | undefined): number {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (status === undefined || headers === undefined) return 0;
    const now = this.clock.now();
    const state = readRateLimitState(headers, now);
    if (state.limit !== undefined && state.limit > 0) this.limit = state.limit;
    if (status === 429) {
      const wait = waitAfter429(headers, now, this.policy);
      this.pausedUntil = Math.max(this.pausedUntil, now + wait);
      // The window is spent; the next one starts when the wait is over.
      this.windowEnd = Math.max(this.windowEnd, now + wait);
      this.budget = 0;
      return wait;
    }
    if (state.remaining !== undefined && state.resetAt !== undefined && state.resetAt > now) {
      const resetAt = Math.min(state.resetAt, now + this.policy.maxWaitMs);
      const left = state.remaining - this.inFlight;
      if (resetAt !== this.windowEnd || this.budget === undefined) {
        this.windowEnd = resetAt;
        this.budget = left;
      } else {
        this.budget = Math.min(this.budget, left);
      }
    }
    return 0;
  }
}
