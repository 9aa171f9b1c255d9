/**
 * What to do with one attempt's result, as a pure function: settle, retry, or give up with a cause. The at-most-once
 * rule lives here: a request that is not idempotent is sent again only when it certainly never reached the server
 * (a 429, a connection that was refused), never after a 5xx, a timeout or a dropped connection.
 */
import { StopReason, type Cause } from '../outcomes.js';
import type { BreakerState, Trip } from './breakers.js';
import type { ExchangeResult } from './transport.js';

export type ResponseResult = Extract<ExchangeResult, { kind: 'response' }>;

/**
 * What came of an attempt: the transport's result, or `abandoned` when cancellation aborted it in flight. `sent`:
 * the transport's connection phase (false: aborted before it was written, so it certainly did not reach the
 * server); absent counts as sent.
 */
export type AttemptResult = ExchangeResult | { readonly kind: 'abandoned'; readonly sent?: boolean };

/** The same for every request of a client. */
export interface RetryPolicy {
  /** Retries after a 5xx, 408 or network failure (429 waits do not count). */
  readonly maxRetries: number;
  /** Longest total time one request may spend waiting out 429s. */
  readonly maxRateLimitWaitMs: number;
  /** The server, as messages name it. */
  readonly origin: string;
  /** Removes secrets from server text. */
  readonly redact?: (text: string) => string;
}

export interface Attempt {
  readonly result: AttemptResult;
  /** Whether an attempt that may have reached the server may be sent again. */
  readonly idempotent: boolean;
  /** Attempts made, this one included. */
  readonly attempts: number;
  /** Retries after backoff used so far. */
  readonly retries: number;
  /** Time spent waiting out 429s so far, this attempt's wait included. */
  readonly rateLimitWaitedMs: number;
  /** An earlier attempt may have reached the server and acted. */
  readonly mayHaveActed: boolean;
  /** The breakers, with this attempt recorded. */
  readonly breakers: BreakerState;
}

export type Decision =
  /** A 2xx or 404: the answer. */
  | { readonly kind: 'settle'; readonly response: ResponseResult; readonly mayHaveActed: boolean }
  /** Send again: after backoff, or (429) once the rate limiter's pause is over. */
  | {
      readonly kind: 'retry';
      readonly after: 'backoff' | 'rate-limit';
      readonly reason: string;
      readonly mayHaveActed: boolean;
    }
  /** Fail. `trip`: the client stops sending, for every later request too. */
  | {
      readonly kind: 'give-up';
      readonly cause: Cause;
      readonly reason: string;
      readonly mayHaveActed: boolean;
      readonly trip?: Trip;
    };

/** What a status says by itself, before idempotency and budgets. */
export type StatusClass = 'answered' | 'token-refused' | 'rate-limited' | 'redirect' | 'server-error' | 'rejected';

export function classifyStatus(status: number): StatusClass {
  if ((status >= 200 && status < 300) || status === 404) return 'answered';
  if (status === 401 || status === 403) return 'token-refused';
  if (status === 429) return 'rate-limited';
  if (status >= 300 && status < 400) return 'redirect';
  // A 5xx or 408 may come from a gateway after the server acted.
  if (status >= 500 || status === 408) return 'server-error';
  return 'rejected';
}

const NOT_SENT_AGAIN = 'the request may have been carried out; not sent again';

/**
 * What to do after one attempt. Answers (2xx, 404) settle; 401/403, 3xx, other 4xx and a refusing proxy give up at
 * once; a 429 waits for the rate limiter, within maxRateLimitWaitMs; a 5xx, 408 or network failure is retried with
 * backoff, within maxRetries, unless it may have reached the server and the request is not idempotent (answer-lost)
 * or a breaker stops the client.
 */
export function decide(policy: RetryPolicy, attempt: Attempt): Decision {
  const { result, idempotent } = attempt;
  if (result.kind === 'abandoned') {
    if (result.sent === false) {
      // Abandoned while still connecting: this attempt never reached the server, whatever earlier ones did.
      const reason = 'abandoned on cancellation before it was sent (still connecting)';
      return giveUp(attempt.mayHaveActed && !idempotent ? 'answer-lost' : 'cancelled', reason, attempt.mayHaveActed);
    }
    // A re-run abandoned in flight may have started: the same as a lost answer, never "not sent".
    const reason = 'abandoned in flight on cancellation; whether the server acted is unknown';
    return giveUp(idempotent ? 'cancelled' : 'answer-lost', reason, true);
  }
  const giveUpAs = (cause: Cause, reason: string): Decision => giveUp(cause, reason, attempt.mayHaveActed);
  if (result.kind === 'network') {
    if (result.proxy === 'refused') return giveUpAs('proxy-refused', result.reason);
    const mayHaveActed = attempt.mayHaveActed || result.sent;
    const reason = result.proxy === 'unreachable' ? result.reason : `${result.reason} (${policy.origin})`;
    const breaker =
      attempt.breakers.tripped ??
      unreachable(policy, attempt.breakers, result.reason) ??
      stalled(policy, attempt.breakers, 'unreachable', result.reason);
    // A re-run that may have reached the server is a lost answer, even when this failure also stops the run.
    if (mayHaveActed && !idempotent) return giveUp('answer-lost', `${reason}: ${NOT_SENT_AGAIN}`, true, breaker);
    return backoff(policy, attempt, reason, mayHaveActed, breaker);
  }
  const { status } = result;
  switch (classifyStatus(status)) {
    case 'answered':
      return { kind: 'settle', response: result, mayHaveActed: attempt.mayHaveActed };
    case 'token-refused':
      return giveUpAs('token-refused', `HTTP ${status}: the token was refused`);
    case 'redirect':
      return giveUpAs(
        'redirect',
        `HTTP ${status}: redirect not followed (the token is only sent to the configured URL)`,
      );
    case 'rejected':
      return giveUpAs('rejected', `HTTP ${status}${serverMessage(result.body, policy.redact)}`);
    case 'rate-limited': {
      const waited = attempt.rateLimitWaitedMs;
      if (waited > policy.maxRateLimitWaitMs) {
        return giveUpAs('rate-limited', `HTTP 429: still rate limited after waiting ${Math.round(waited / 1000)} s`);
      }
      const breaker = attempt.breakers.tripped ?? stalled(policy, attempt.breakers, 'rate-limited', 'HTTP 429');
      if (breaker) return giveUp(breaker.cause, breaker.reason, attempt.mayHaveActed, breaker);
      // The limiter already paused every request until the wait is over; its acquire() waits it out.
      return { kind: 'retry', after: 'rate-limit', reason: 'HTTP 429', mayHaveActed: attempt.mayHaveActed };
    }
    case 'server-error': {
      const reason = `HTTP ${status}${serverMessage(result.body, policy.redact)}`;
      if (!idempotent) return giveUp('answer-lost', `${reason}: ${NOT_SENT_AGAIN}`, true);
      const breaker = attempt.breakers.tripped ?? stalled(policy, attempt.breakers, 'unreachable', reason);
      return backoff(policy, attempt, reason, true, breaker);
    }
  }
}

/** Retry after backoff, unless a breaker stops the request or the retries are used up. */
function backoff(
  policy: RetryPolicy,
  attempt: Attempt,
  reason: string,
  mayHaveActed: boolean,
  breaker: Trip | undefined,
): Decision {
  if (breaker) return giveUp(breaker.cause, breaker.reason, mayHaveActed, breaker);
  if (attempt.retries >= policy.maxRetries) {
    const attempts = `${attempt.attempts} attempt${attempt.attempts === 1 ? '' : 's'}`;
    return giveUp('retries-exhausted', `${reason} (${attempts})`, mayHaveActed);
  }
  return { kind: 'retry', after: 'backoff', reason, mayHaveActed };
}

function giveUp(cause: Cause, reason: string, mayHaveActed: boolean, trip?: Trip): Decision {
  return { kind: 'give-up', cause, reason, mayHaveActed, ...(trip && { trip }) };
}

function unreachable(policy: RetryPolicy, breakers: BreakerState, last: string): Trip | undefined {
  if (!breakers.unreachable) return undefined;
  const { failures, ms } = breakers.unreachable;
  const reason = `${policy.origin} is unreachable: ${last}; no answer to ${failures} requests in ${Math.round(ms / 1000)} s`;
  return { cause: 'unreachable', reason };
}

function stalled(policy: RetryPolicy, breakers: BreakerState, cause: Trip['cause'], last: string): Trip | undefined {
  if (breakers.stalledMs === undefined) return undefined;
  const seconds = Math.round(breakers.stalledMs / 1000);
  return {
    cause,
    reason: `${policy.origin} answered no request usefully for ${seconds} s (last: ${last}); stopped sending`,
  };
}

/** A stop signal's reason: a StopReason names its cause; anything else is a cancellation. */
export function stopCause(reason: unknown): { readonly cause: Cause; readonly text: string } {
  const cause: Cause = reason instanceof StopReason ? reason.kind : 'cancelled';
  const text = reason instanceof Error ? reason.message : String(reason ?? 'stopped');
  return { cause, text };
}

/**
 * The server's `{"error": "..."}` text, shortened, for a failure reason. Never decides anything. Secrets are removed
 * before it is shortened, so that a cut cannot leave part of one behind.
 */
export function serverMessage(body: string, redact: (text: string) => string = (text) => text): string {
  const text = redact(body).trim();
  if (text === '') return '';
  let message = text;
  try {
    const parsed = JSON.parse(text) as unknown;
    // The error text, or else the whole body re-serialised: either way without JSON escapes (\/, \u002b) that
    // could hide a secret from the redaction below.
    message =
      parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string'
        ? (parsed as { error: string }).error
        : JSON.stringify(parsed);
  } catch {
    if (/^\s*</u.test(text)) return ' (HTML body)';
  }
  // The parsed text again: JSON escapes (\/, \u0041) can hide a secret from the first pass.
  message = redact(message);
  // eslint-disable-next-line no-control-regex
  const oneLine = message.replace(/[\s\u0000-\u001f\u007f-\u009f\u2028\u2029]+/gu, ' ').trim();
  return oneLine === '' ? '' : `: ${oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine}`;
}
