/**
 * The DLQ client: sends one request until an answer decides something, with retries, rate-limit waits and the
 * at-most-once rule for requests that are not idempotent. It knows nothing of GitHub Actions or of what an operation
 * means; it is given a transport, a rate limiter and a clock.
 */
import { StopReason, type Cause } from '../outcomes.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { Clock } from './clock.js';
import { entryInfo, isListedEntry, type EntryInfo } from './listing.js';
import { DLQ_COLLECTION, listPath, type DlqKind, type ListQuery } from './paths.js';
import type { RateLimiter } from './rate-limit.js';
import { type Exchange, type ExchangeResult, type Transport } from './transport.js';

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
}

export type ListResult =
  | {
      readonly kind: 'page';
      readonly entries: readonly EntryInfo[];
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
  private readonly maxRateLimitWaitMs: number;
  private sent = 0;
  private readonly slots: Semaphore;
  private networkFailures = 0;
  private failingSince = 0;
  private tripped: string | undefined;
  private trippedCause: Cause = 'unreachable';
  /** When a request last got a deciding answer (or the client started). */
  private lastProgress: number;
  private readonly inFlight = new AbortController();

  constructor(transport: Transport, limiter: RateLimiter, clock: Clock, options: ClientOptions) {
    this.transport = transport;
    this.limiter = limiter;
    this.clock = clock;
    this.options = options;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 120_000;
    this.slots = new Semaphore(options.maxInFlight ?? Number.POSITIVE_INFINITY);
    this.lastProgress = clock.now();
  }

  /** Set once the server is considered unreachable (or only rate limits): why, naming the host. */
  get unreachable(): string | undefined {
    return this.tripped;
  }

  /** Why the client stopped sending: unreachable, or rate-limited. */
  get stopCause(): Cause {
    return this.trippedCause;
  }

  /** Trips when nothing decided anything for too long; returns whether the client has stopped. */
  private noteNoProgress(cause: 'rate-limited' | 'unreachable', what: string): boolean {
    const limit = this.options.noProgressMs ?? 120_000;
    const waited = this.clock.now() - this.lastProgress;
    if (this.tripped === undefined && waited >= limit) {
      this.trippedCause = cause;
      this.tripped = `${this.origin} answered no request usefully for ${Math.round(waited / 1000)} s (last: ${what}); stopped sending`;
    }
    return this.tripped !== undefined;
  }

  /** Aborts the requests in flight (cancellation, after a grace period). Their outcome is unknown: failed. */
  abortInFlight(reason: Error): void {
    this.inFlight.abort(reason);
  }

  /** Requests sent so far, retries included. */
  get requestsSent(): number {
    return this.sent;
  }

  /** One page of `GET /v2/.../dlq?<filters>&count=N&cursor=...`. */
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
    const entries = messages.filter(isListedEntry).map(entryInfo);
    const next = (page as { cursor?: unknown }).cursor;
    return {
      kind: 'page',
      entries,
      skipped: messages.length - entries.length,
      ...(typeof next === 'string' && next !== '' && { cursor: next }),
    };
  }

  private get origin(): string {
    return this.options.origin ?? 'the server';
  }

  private noteNetworkFailure(reason: string): boolean {
    const now = this.clock.now();
    if (this.networkFailures === 0) this.failingSince = now;
    this.networkFailures += 1;
    const limit = this.options.unreachableAfter ?? {
      failures: Math.max(4, 2 * Math.min(this.options.maxInFlight ?? 2, 50)),
      ms: 10_000,
    };
    if (this.tripped === undefined && this.networkFailures >= limit.failures && now - this.failingSince >= limit.ms) {
      this.trippedCause = 'unreachable';
      const seconds = Math.round((now - this.failingSince) / 1000);
      this.tripped = `${this.origin} is unreachable: ${reason}; no answer to ${this.networkFailures} requests in ${seconds} s`;
    }
    return this.tripped !== undefined;
  }

  /**
   * Sends one exchange until it gets an answer that decides something: 2xx or 404 (`answered`), or a failure.
   * 429s and connections that were refused (never reached the server) are retried whatever the request. 5xx, 408,
   * timeouts and dropped connections may have reached the server: an idempotent request is retried with backoff up
   * to maxRetries; any other request is never sent again, and fails as `answer-lost`.
   */
  async send(exchange: Exchange, options: SendOptions): Promise<Answered | CallFailure> {
    const { stop, idempotent } = options;
    let attempts = 0;
    let retries = 0;
    let rateLimitWaited = 0;
    let mayHaveActed = false;
    const failed = (cause: Cause, reason: string): CallFailure => ({
      kind: 'failed',
      cause,
      reason,
      attempts,
      mayHaveActed,
    });
    const stopped = (): CallFailure => {
      const why = stop?.reason;
      const cause: Cause = why instanceof StopReason ? why.kind : 'cancelled';
      const text = why instanceof Error ? why.message : String(why ?? 'stopped');
      return failed(cause, `${attempts === 0 ? 'not attempted' : 'not retried'}: ${text}`);
    };

    for (;;) {
      if (this.tripped !== undefined) {
        return failed(this.trippedCause, `${attempts === 0 ? 'not attempted' : 'not retried'}: ${this.tripped}`);
      }
      if (stop?.aborted) return stopped();
      // A slot first, then the rate limiter: the request timeout only starts once the request can really go out.
      await this.slots.acquire();
      let result: ExchangeResult;
      let wait: number;
      try {
        if (!(await this.limiter.acquire(stop))) return stopped();
        attempts += 1;
        this.sent += 1;
        result = await this.transport.send(exchange, this.inFlight.signal);
        wait = this.limiter.release(
          result.kind === 'response' ? result.status : undefined,
          result.kind === 'response' ? result.headers : undefined,
        );
      } finally {
        this.slots.release();
      }
      this.options.onExchange?.(exchange, result, attempts);

      if (result.kind === 'network' && this.inFlight.signal.aborted) {
        mayHaveActed = true;
        // A re-run abandoned in flight may have started: the same as a lost answer, never "not sent".
        return failed(
          idempotent ? 'cancelled' : 'answer-lost',
          'abandoned in flight on cancellation; whether the server acted is unknown',
        );
      }
      let retryReason: string;
      if (result.kind === 'response') {
        this.networkFailures = 0;
        const { status } = result;
        if (status !== 429 && status < 500 && status !== 408) this.lastProgress = this.clock.now();
        if ((status >= 200 && status < 300) || status === 404) {
          return {
            kind: 'answered',
            status,
            body: result.body,
            truncated: result.truncated === true,
            attempts,
            mayHaveActed,
          };
        }
        if (status === 401 || status === 403) return failed('token-refused', `HTTP ${status}: the token was refused`);
        if (status === 429) {
          rateLimitWaited += wait;
          if (rateLimitWaited > this.maxRateLimitWaitMs) {
            return failed(
              'rate-limited',
              `HTTP 429: still rate limited after waiting ${Math.round(rateLimitWaited / 1000)} s`,
            );
          }
          if (this.noteNoProgress('rate-limited', 'HTTP 429')) return failed(this.trippedCause, this.tripped!);
          // The limiter already paused every request until the wait is over; acquire() waits it out.
          continue;
        }
        if (status >= 300 && status < 400) {
          return failed(
            'redirect',
            `HTTP ${status}: redirect not followed (the token is only sent to the configured URL)`,
          );
        }
        const message = serverMessage(result.body, this.options.redact);
        if (status < 500 && status !== 408) return failed('rejected', `HTTP ${status}${message}`);
        // A 5xx or 408 may come from a gateway after the server acted.
        mayHaveActed = true;
        retryReason = `HTTP ${status}${message}`;
        if (!idempotent) {
          return failed('answer-lost', `${retryReason}: the request may have been carried out; not sent again`);
        }
        if (this.noteNoProgress('unreachable', retryReason)) return failed(this.trippedCause, this.tripped!);
      } else {
        if (result.proxy === 'refused') return failed('proxy-refused', result.reason);
        if (result.sent) mayHaveActed = true;
        retryReason = result.proxy === 'unreachable' ? result.reason : `${result.reason} (${this.origin})`;
        const halted = this.noteNetworkFailure(result.reason) || this.noteNoProgress('unreachable', result.reason);
        // A re-run that may have reached the server is a lost answer, even when this failure also stops the run.
        if (mayHaveActed && !idempotent) {
          return failed('answer-lost', `${retryReason}: the request may have been carried out; not sent again`);
        }
        if (halted) return failed(this.trippedCause, this.tripped!);
      }
      if (retries >= this.options.maxRetries) {
        return failed('retries-exhausted', `${retryReason} (${attempts} attempt${attempts === 1 ? '' : 's'})`);
      }
      await this.clock.sleep(backoffDelay(retries, this.backoff, this.options.random), stop);
      retries += 1;
      if (stop?.aborted) {
        const end = stopped();
        return { ...end, reason: `${retryReason}; ${end.reason}` };
      }
    }
  }
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
