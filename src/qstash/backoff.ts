/** Delays between retries of a network error, timeout or 5xx. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 10_000 };

/**
 * Exponential backoff with "equal jitter": half of the exponential step is kept, the other half is random, so
 * retries spread out without ever collapsing to zero. `retry` is 0 for the first retry.
 */
export function backoffDelay(retry: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random = Math.random): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry));
  return Math.round(step / 2 + (step / 2) * random());
}
