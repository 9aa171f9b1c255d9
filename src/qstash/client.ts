/**
 * The DLQ client: per-id delete and probe with retries, rate-limit waits and the outcome rules. It knows nothing of
 * GitHub Actions; it is given a transport, a rate limiter and a clock.
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { Clock } from './clock.js';
import { entryPath, type DlqKind } from './paths.js';
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

  constructor(transport: Transport, limiter: RateLimiter, clock: Clock, options: ClientOptions) {
    this.transport = transport;
    this.limiter = limiter;
    this.clock = clock;
    this.options = options;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 120_000;
  }

  /** `DELETE /v2/.../dlq/{id}`: removed, not-found or failed. */
  deleteEntry(id: string, stop?: AbortSignal): Promise<EntryResult> {
    return this.perform({ method: 'DELETE', path: entryPath(this.options.dlq, id) }, stop);
  }

  /** `GET /v2/.../dlq/{id}`: exists, not-found or failed. Deletes nothing. */
  probeEntry(id: string, stop?: AbortSignal): Promise<EntryResult> {
    return this.perform({ method: 'GET', path: entryPath(this.options.dlq, id) }, stop);
  }

  private async perform(exchange: Exchange, stop?: AbortSignal): Promise<EntryResult> {
    let attempts = 0;
    let retries = 0;
    let rateLimitWaited = 0;
    let responseLost = false;
    const failed = (reason: string, unauthorized = false): EntryResult => ({
      outcome: 'failed',
      reason,
      attempts,
      unauthorized,
    });

    for (;;) {
      if (!(await this.limiter.acquire(stop))) return failed(stopReason(stop, attempts));
      attempts += 1;
      const result = await this.transport.send(exchange);
      const wait = this.limiter.release(
        result.kind === 'response' ? result.status : undefined,
        result.kind === 'response' ? result.headers : undefined,
      );
      this.options.onExchange?.(exchange, result, attempts);

      let retryReason: string;
      if (result.kind === 'response') {
        const { status } = result;
        if (status >= 200 && status < 300) {
          return exchange.method === 'DELETE'
            ? { outcome: 'removed', afterLostResponse: false, attempts }
            : { outcome: 'exists', attempts };
        }
        if (status === 404) {
          return exchange.method === 'DELETE' && responseLost
            ? { outcome: 'removed', afterLostResponse: true, attempts }
            : { outcome: 'not-found', attempts };
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
        retryReason = result.reason;
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
