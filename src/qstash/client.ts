/**
 * The DLQ client: per-id delete and probe with retries, rate-limit waits and the outcome rules. It knows nothing of
 * GitHub Actions; it is given a transport, a rate limiter and a clock.
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { Clock } from './clock.js';
import { bulkDeletePath, DLQ_COLLECTION, entryPath, listPath, type DlqKind, type ListQuery } from './paths.js';
import type { RateLimiter } from './rate-limit.js';
import type { Exchange, ExchangeResult, Transport } from './transport.js';

export type EntryResult =
  /** DELETE answered 200; or 404 after an earlier attempt's response was lost (that attempt most likely deleted it). */
  | { readonly outcome: 'removed'; readonly afterLostResponse: boolean; readonly attempts: number }
  /** GET answered 200 (dry run). */
  | { readonly outcome: 'exists'; readonly attempts: number }
  | { readonly outcome: 'not-found'; readonly attempts: number }
  | { readonly outcome: 'failed'; readonly reason: string; readonly attempts: number; readonly unauthorized: boolean };

export interface ClientOptions {
  readonly dlq: DlqKind;
  readonly maxRetries: number;
  readonly backoff?: BackoffPolicy;
  /** Longest total time one id may spend waiting out 429s before it is given up as failed. */
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
  /** Called once per exchange, for debug logs. */
  readonly onExchange?: (exchange: Exchange, result: ExchangeResult, attempt: number) => void;
}

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
  private readonly inFlight = new AbortController();

  constructor(transport: Transport, limiter: RateLimiter, clock: Clock, options: ClientOptions) {
    this.transport = transport;
    this.limiter = limiter;
    this.clock = clock;
    this.options = options;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 120_000;
    this.slots = new Semaphore(options.maxInFlight ?? Number.POSITIVE_INFINITY);
  }

  /** Set once the server is considered unreachable: why, naming the host. Every later call fails unsent. */
  get unreachable(): string | undefined {
    return this.tripped;
  }

  /** Aborts the requests in flight (cancellation, after a grace period). Their outcome is unknown: failed. */
  abortInFlight(reason: Error): void {
    this.inFlight.abort(reason);
  }

  /** Requests sent so far, retries included. */
  get requestsSent(): number {
    return this.sent;
  }

  /** `DELETE /v2/.../dlq/{id}`: removed, not-found or failed. */
  async deleteEntry(id: string, stop?: AbortSignal): Promise<EntryResult> {
    const result = await this.call({ method: 'DELETE', path: entryPath(this.options.dlq, id) }, stop);
    if (result.kind === 'failed') return failedEntry(result);
    if (result.status !== 404) return { outcome: 'removed', afterLostResponse: false, attempts: result.attempts };
    return result.responseLost
      ? { outcome: 'removed', afterLostResponse: true, attempts: result.attempts }
      : { outcome: 'not-found', attempts: result.attempts };
  }

  /** `GET /v2/.../dlq/{id}`: exists, not-found or failed. Deletes nothing. */
  async probeEntry(id: string, stop?: AbortSignal): Promise<EntryResult> {
    const result = await this.call({ method: 'GET', path: entryPath(this.options.dlq, id) }, stop);
    if (result.kind === 'failed') return failedEntry(result);
    return result.status === 404
      ? { outcome: 'not-found', attempts: result.attempts }
      : { outcome: 'exists', attempts: result.attempts };
  }

  /** One page of `GET /v2/.../dlq?<filters>&count=100&cursor=...`. */
  async listPage(filters: ListQuery, cursor: string | undefined, stop?: AbortSignal): Promise<ListPage | CallFailure> {
    const path = listPath(this.options.dlq, filters, cursor);
    const result = await this.call({ method: 'GET', path, maxBodyBytes: LIST_BODY_LIMIT, wantsBody: true }, stop);
    if (result.kind === 'failed') return result;
    if (result.status === 404)
      return failure(`HTTP 404 for the DLQ listing ${DLQ_COLLECTION[this.options.dlq]}`, result);
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.body);
    } catch {
      return failure(`the DLQ listing was not JSON (${result.body.length} bytes read)`, result);
    }
    const page = parsed as { messages?: unknown; cursor?: unknown };
    if (!page || typeof page !== 'object' || (page.messages !== undefined && !Array.isArray(page.messages))) {
      return failure('the DLQ listing had no messages array', result);
    }
    const entries = ((page.messages as unknown[] | undefined) ?? []).filter(
      (entry): entry is Record<string, unknown> =>
        !!entry && typeof entry === 'object' && typeof (entry as { dlqId?: unknown }).dlqId === 'string',
    );
    const next = typeof page.cursor === 'string' && page.cursor !== '' ? page.cursor : undefined;
    return { kind: 'page', entries, ...(next !== undefined && { cursor: next }), attempts: result.attempts };
  }

  /** `DELETE /v2/.../dlq?dlqIds=a&dlqIds=b`: how many the server says it deleted. Never sent without ids. */
  async bulkDelete(ids: readonly string[], stop?: AbortSignal): Promise<BulkDeleted | CallFailure> {
    const result = await this.call(
      { method: 'DELETE', path: bulkDeletePath(this.options.dlq, ids), wantsBody: true },
      stop,
    );
    if (result.kind === 'failed') return result;
    let deleted: unknown;
    try {
      deleted = (JSON.parse(result.body) as { deleted?: unknown }).deleted;
    } catch {
      deleted = undefined;
    }
    return {
      kind: 'bulk',
      deleted: typeof deleted === 'number' && Number.isInteger(deleted) && deleted >= 0 ? deleted : undefined,
      responseLost: result.responseLost,
      attempts: result.attempts,
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
      const seconds = Math.round((now - this.failingSince) / 1000);
      this.tripped = `${this.origin} is unreachable: ${reason}; no answer to ${this.networkFailures} requests in ${seconds} s`;
    }
    return this.tripped !== undefined;
  }

  /**
   * Sends one exchange until it gets an answer that decides something: 2xx or 404 (`answered`), or a failure
   * (refused token, other 4xx, redirect, retries used up, stopped). 429s are waited out; 5xx, 408 and network
   * errors are retried with backoff up to maxRetries.
   */
  private async call(exchange: Exchange, stop?: AbortSignal): Promise<Answered | CallFailure> {
    let attempts = 0;
    let retries = 0;
    let rateLimitWaited = 0;
    let responseLost = false;
    const failed = (reason: string, unauthorized = false): CallFailure => ({
      kind: 'failed',
      reason,
      unauthorized,
      attempts,
      responseLost,
    });

    for (;;) {
      if (this.tripped !== undefined)
        return failed(`${attempts === 0 ? 'not attempted' : 'not retried'}: ${this.tripped}`);
      // A slot first, then the rate limiter: the request timeout only starts once the request can really go out.
      await this.slots.acquire();
      let result: ExchangeResult;
      let wait: number;
      try {
        if (!(await this.limiter.acquire(stop))) return failed(stopReason(stop, attempts));
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
        return failed(`abandoned in flight on cancellation; whether the server acted is unknown`);
      }
      let retryReason: string;
      if (result.kind === 'response') {
        this.networkFailures = 0;
        const { status } = result;
        if ((status >= 200 && status < 300) || status === 404) {
          return { kind: 'answered', status, body: result.body, attempts, responseLost };
        }
        if (status === 401 || status === 403) return failed(`HTTP ${status}: the token was refused`, true);
        if (status === 429) {
          rateLimitWaited += wait;
          if (rateLimitWaited > this.maxRateLimitWaitMs) {
            return failed(`HTTP 429: still rate limited after waiting ${Math.round(rateLimitWaited / 1000)} s`);
          }
          // The limiter already paused every request until the wait is over; acquire() waits it out.
          continue;
        }
        if (status >= 300 && status < 400) {
          return failed(`HTTP ${status}: redirect not followed (the token is only sent to the configured URL)`);
        }
        if (status < 500 && status !== 408) return failed(`HTTP ${status}${serverMessage(result.body)}`);
        retryReason = `HTTP ${status}${serverMessage(result.body)}`;
      } else {
        if (result.mayHaveReachedServer) responseLost = true;
        retryReason = `${result.reason} (${this.origin})`;
        if (this.noteNetworkFailure(result.reason)) return failed(this.tripped!);
      }

      if (retries >= this.options.maxRetries) {
        return failed(`${retryReason} (${attempts} attempt${attempts === 1 ? '' : 's'})`);
      }
      await this.clock.sleep(backoffDelay(retries, this.backoff, this.options.random), stop);
      retries += 1;
      if (stop?.aborted) return failed(`${retryReason}; ${stopReason(stop, attempts)}`);
    }
  }
}

/** Listing pages may be large (entries carry the failed request's body); anything beyond this is refused. */
const LIST_BODY_LIMIT = 64 * 1024 * 1024;

interface Answered {
  readonly kind: 'answered';
  readonly status: number;
  readonly body: string;
  readonly attempts: number;
  /** An earlier attempt may have reached the server without its answer arriving. */
  readonly responseLost: boolean;
}

export interface CallFailure {
  readonly kind: 'failed';
  readonly reason: string;
  readonly unauthorized: boolean;
  readonly attempts: number;
  readonly responseLost: boolean;
}

export interface ListPage {
  readonly kind: 'page';
  readonly entries: readonly Record<string, unknown>[];
  /** Absent on the last page. */
  readonly cursor?: string;
  readonly attempts: number;
}

export interface BulkDeleted {
  readonly kind: 'bulk';
  /** The server's count; undefined when the answer did not carry a usable one. */
  readonly deleted: number | undefined;
  readonly responseLost: boolean;
  readonly attempts: number;
}

function failure(reason: string, answered: Answered): CallFailure {
  return {
    kind: 'failed',
    reason,
    unauthorized: false,
    attempts: answered.attempts,
    responseLost: answered.responseLost,
  };
}

function failedEntry(result: CallFailure): EntryResult {
  return { outcome: 'failed', reason: result.reason, attempts: result.attempts, unauthorized: result.unauthorized };
}

function stopReason(stop: AbortSignal | undefined, attempts: number): string {
  const why = stop?.reason instanceof Error ? stop.reason.message : String(stop?.reason ?? 'stopped');
  return attempts === 0 ? `not attempted: ${why}` : `not retried: ${why}`;
}

/** The server's `{"error": "..."}` text, shortened, for a failure reason. Never decides anything. */
export function serverMessage(body: string): string {
  const text = body.trim();
  if (text === '') return '';
  let message = text;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      message = (parsed as { error: string }).error;
    }
  } catch {
    if (/^\s*</u.test(text)) return ' (HTML body)';
  }
  // eslint-disable-next-line no-control-regex
  const oneLine = message.replace(/[\s\u0000-\u001f\u007f-\u009f]+/gu, ' ').trim();
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
