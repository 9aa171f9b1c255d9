/**
 * The DLQ client: sends one request until an answer decides something, with retries, rate-limit waits and the
 * at-most-once rule for requests that are not idempotent. It knows nothing of GitHub Actions or of what an operation
 * means; it is given a transport, a rate limiter and a clock.
 */
import type { Cause } from '../outcomes.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { Breakers, defaultUnreachableAfter } from './breakers.js';
import type { Clock } from './clock.js';
import { entryInfo, isListedEntry, pageProblem, type EntryInfo } from './listing.js';
import { DLQ_COLLECTION, listPath, type DlqKind, type ListQuery } from './paths.js';
import type { RateLimiter } from './rate-limit.js';
import { decide, stopCause, type AttemptResult, type RetryPolicy } from './retry-policy.js';
import { type Exchange, type ExchangeResult, type Transport } from './transport.js';

export { serverMessage } from './retry-policy.js';

export interface ClientOptions {
  readonly maxRetries: number;
  readonly backoff?: BackoffPolicy;
  /** Longest total time one request may spend waiting out 429s before it is given up as failed. */
  readonly maxRateLimitWaitMs?: number;
  readonly random?: () => number;
  /** Most requests in flight at once, however many callers there are. Default: no limit. */
  readonly maxInFlight?: number;
  /** The server's origin, to name it in messages. */
  readonly origin?: string;
  /**
   * The server counts as unreachable, and the client stops sending, after this many network failures in a row
   * (no HTTP answer in between) spread over at least this long. Default: twice the requests in flight (at least
   * 4), over 10 s: long enough that a blip does not end a run, short enough that a dead server ends it in about
   * a minute even when every request times out.
   */
  readonly unreachableAfter?: { readonly failures: number; readonly ms: number };
  /**
   * The client stops sending when no request got a deciding answer (2xx, 404, another 4xx) for this long while
   * requests keep failing (429s, 5xx, network errors): a server that only ever says "later" or "error" does not keep
   * a run going for hours. Default 120 s.
   */
  readonly noProgressMs?: number;
  /** Removes secrets from server text before it is shortened into a reason. */
  readonly redact?: (text: string) => string;
  /** Called once per exchange, for debug logs. */
  readonly onExchange?: (exchange: Exchange, result: ExchangeResult, attempt: number) => void;
}

/** An answer that decides something: 2xx or 404. */
export interface Answered {
  readonly kind: 'answered';
  readonly status: number;
  readonly body: string;
  readonly truncated: boolean;
  readonly attempts: number;
  /** An earlier attempt may have reached the server and acted without its answer arriving. */
  readonly mayHaveActed: boolean;
}

export interface CallFailure {
  readonly kind: 'failed';
  readonly cause: Cause;
  readonly reason: string;
  readonly attempts: number;
  /** Some attempt may have reached the server and acted. */
  readonly mayHaveActed: boolean;
}

export interface SendOptions {
  /** Whether an attempt that may have reached the server may be sent again. */
  readonly idempotent: boolean;
  /** Aborting stops new attempts; the reason (a StopReason) says why. */
  readonly stop?: AbortSignal;
  /**
   * Aborting also abandons this request's attempt in flight (a read that nothing waits for any more: the logs of a
   * wait that is over). Never for a change: a change in flight gets the cancellation grace.
   */
  readonly abandon?: AbortSignal;
}

export type ListResult =
  | {
      readonly kind: 'page';
      readonly entries: readonly EntryInfo[];
      /**
       * The listed objects behind `entries`, index by index (those with a usable dlqId), as the server sent them:
       * for a caller that needs more than the shown fields (a census, an export). The client keeps none of them.
       */
      readonly records: readonly Record<string, unknown>[];
      /** Absent on the last page. */
      readonly cursor?: string;
      /** Entries without a usable dlqId, left out. */
      readonly skipped: number;
    }
  /** The page was larger than the body limit: ask for fewer entries. */
  | { readonly kind: 'too-large'; readonly limitBytes: number }
  | CallFailure;

/** Listing pages may be large (entries carry the failed request's body); a page past this asks for fewer entries. */
export const LIST_BODY_LIMIT = 16 * 1024 * 1024;

export class DlqClient {
  private readonly transport: Transport;
  private readonly limiter: RateLimiter;
  private readonly clock: Clock;
  private readonly options: ClientOptions;
  private readonly backoff: BackoffPolicy;
  private readonly policy: RetryPolicy;
  private readonly breakers: Breakers;
  private sent = 0;
  private readonly slots: Semaphore;
  private readonly inFlight = new AbortController();

  constructor(transport: Transport, limiter: RateLimiter, clock: Clock, options: ClientOptions) {
    this.transport = transport;
    this.limiter = limiter;
    this.clock = clock;
    this.options = options;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.policy = {
      maxRetries: options.maxRetries,
      maxRateLimitWaitMs: options.maxRateLimitWaitMs ?? 120_000,
      origin: options.origin ?? 'the server',
      ...(options.redact && { redact: options.redact }),
    };
    this.breakers = new Breakers(clock, {
      unreachableAfter: options.unreachableAfter ?? defaultUnreachableAfter(options.maxInFlight),
      noProgressMs: options.noProgressMs ?? 120_000,
    });
    this.slots = new Semaphore(options.maxInFlight ?? Number.POSITIVE_INFINITY);
  }

  /** Set once the server is considered unreachable (or only rate limits): why, naming the host. */
  get unreachable(): string | undefined {
    return this.breakers.tripped?.reason;
  }

  /** Why the client stopped sending: unreachable, or rate-limited. */
  get stopCause(): Cause {
    return this.breakers.tripped?.cause ?? 'unreachable';
  }

  /** Aborts the requests in flight (cancellation, after a grace period). Their outcome is unknown: failed. */
  abortInFlight(reason: Error): void {
    this.inFlight.abort(reason);
  }

  /** Requests sent so far, retries included. */
  get requestsSent(): number {
    return this.sent;
  }

  /**
   * One page of `GET /v2/.../dlq?<filters>&count=N&cursor=...`. A page holding more than `count` entries, or an id
   * longer than any DLQ id, is a bad answer (see pageProblem), so that what a page brings is bounded.
   */
  async listPage(
    dlq: DlqKind,
    query: ListQuery,
    cursor: string | undefined,
    count: number,
    stop?: AbortSignal,
  ): Promise<ListResult> {
    const exchange: Exchange = {
      method: 'GET',
      path: listPath(dlq, query, cursor, count),
      maxBodyBytes: LIST_BODY_LIMIT,
      wantsBody: true,
    };
    const result = await this.send(exchange, { idempotent: true, ...(stop && { stop }) });
    if (result.kind === 'failed') return result;
    const bad = (reason: string): CallFailure => ({
      kind: 'failed',
      cause: 'bad-answer',
      reason,
      attempts: result.attempts,
      mayHaveActed: false,
    });
    if (result.status === 404) return bad(`HTTP 404 for the DLQ listing ${DLQ_COLLECTION[dlq]}`);
    if (result.truncated) return { kind: 'too-large', limitBytes: LIST_BODY_LIMIT };
    let page: unknown;
    try {
      page = JSON.parse(result.body);
    } catch {
      return bad(`the DLQ listing was not JSON (${result.body.length} bytes)`);
    }
    const messages = (page as { messages?: unknown } | null)?.messages;
    // An answer without a messages array proves nothing about what the DLQ holds: it is not an empty page.
    if (!Array.isArray(messages)) return bad('the DLQ listing had no messages array');
    // A page past the bounds is refused whole: none of its ids is kept or acted on (listing.ts says why).
    const problem = pageProblem(messages, count, this.options.redact);
    if (problem !== undefined) return bad(problem);
    const records = messages.filter(isListedEntry);
    const entries = records.map((raw) => entryInfo(raw, this.options.redact));
    const next = (page as { cursor?: unknown }).cursor;
    return {
      kind: 'page',
      entries,
      records,
      skipped: messages.length - entries.length,
      ...(typeof next === 'string' && next !== '' && { cursor: next }),
    };
  }

  /**
   * Sends one exchange until it gets an answer that decides something: 2xx or 404 (`answered`), or a failure. The
   * retry policy (retry-policy.ts) judges each attempt; this loop paces, sends, and waits as it is told.
   */
  async send(exchange: Exchange, options: SendOptions): Promise<Answered | CallFailure> {
    const { stop, idempotent } = options;
    let attempts = 0;
    let retries = 0;
    let rateLimitWaitedMs = 0;
    let mayHaveActed = false;
    const failed = (cause: Cause, reason: string): CallFailure => ({
      kind: 'failed',
      cause,
      reason,
      attempts,
      mayHaveActed,
    });
    /** Not sent (again) because of `why`; `last` says what the last attempt got. */
    const notSent = (cause: Cause, why: string, last = ''): CallFailure =>
      failed(cause, `${last}${attempts === 0 ? 'not attempted' : 'not retried'}: ${why}`);
    const stopped = (last?: string): CallFailure => {
      const { cause, text } = stopCause(stop?.reason);
      return notSent(cause, text, last);
    };

    for (;;) {
      const tripped = this.breakers.tripped;
      if (tripped) return notSent(tripped.cause, tripped.reason);
      if (stop?.aborted) return stopped();
      const sent = await this.attempt(exchange, stop, options.abandon);
      if (!sent) return stopped();
      attempts += 1;
      this.options.onExchange?.(exchange, sent.result, attempts);
      const abandoned =
        sent.result.kind === 'network' && (this.inFlight.signal.aborted || options.abandon?.aborted === true);
      const result: AttemptResult =
        sent.result.kind === 'network' && abandoned ? { kind: 'abandoned', sent: sent.result.sent } : sent.result;
      rateLimitWaitedMs += sent.waitMs;
      this.breakers.record(result);
      const breakers = this.breakers.state();
      const decision = decide(this.policy, {
        result,
        idempotent,
        attempts,
        retries,
        rateLimitWaitedMs,
        mayHaveActed,
        breakers,
      });
      mayHaveActed = decision.mayHaveActed;
      if (decision.kind === 'settle') {
        const { status, body, truncated } = decision.response;
        return { kind: 'answered', status, body, truncated: truncated === true, attempts, mayHaveActed };
      }
      if (decision.kind === 'give-up') {
        if (decision.trip) this.breakers.trip(decision.trip);
        return failed(decision.cause, decision.reason);
      }
      if (decision.after === 'backoff') {
        await this.clock.sleep(backoffDelay(retries, this.backoff, this.options.random), stop);
        retries += 1;
        if (stop?.aborted) return stopped(`${decision.reason}; `);
      }
      // After a 429 the rate limiter has paused every request; the next acquire() waits it out.
    }
  }

  /** One request, in a slot and past the rate limiter; undefined when `stop` ended the wait for the limiter. */
  private async attempt(
    exchange: Exchange,
    stop: AbortSignal | undefined,
    abandon?: AbortSignal,
  ): Promise<{ readonly result: ExchangeResult; readonly waitMs: number } | undefined> {
    // A slot first, then the rate limiter: the request timeout only starts once the request can really go out.
    await this.slots.acquire();
    try {
      if (!(await this.limiter.acquire(stop))) return undefined;
      this.sent += 1;
      const inFlight = abandon ? AbortSignal.any([this.inFlight.signal, abandon]) : this.inFlight.signal;
      const result = await this.transport.send(exchange, inFlight);
      const response = result.kind === 'response' ? result : undefined;
      // For a 429: how long the limiter paused every request, which counts against maxRateLimitWaitMs.
      return { result, waitMs: this.limiter.release(response?.status, response?.headers) };
    } finally {
      this.slots.release();
    }
  }
}

/** Counts requests in flight across every caller of one client. */
class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}
