/**
 * One HTTP exchange with the QStash API over undici keep-alive connections (a Pool, or a ProxyAgent when a proxy is
 * configured). It never throws for network trouble: it says what happened, including whether the request may have
 * reached the server (which decides whether it may be sent again). Redirects are returned, never followed, so the
 * token only goes to the configured origin.
 */
import type { Dispatcher } from 'undici';
import { recordPhase, REQUEST_PHASE, type PhasedOptions, type RequestPhase } from './phase.js';
import { ProxyTunnelError } from './proxy.js';
import type { HeaderBag } from './rate-limit.js';

export type HttpMethod = 'GET' | 'DELETE' | 'POST';

export interface Exchange {
  readonly method: HttpMethod;
  /** Path and query, starting with `/`. */
  readonly path: string;
  /** Extra request headers (re-run overrides). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Read at most this much of the body; past it the body is cut and `truncated` is set. */
  readonly maxBodyBytes?: number;
  /** Whether a 2xx body is needed (listings, bulk counts, new run ids). Error bodies are always read, for messages. */
  readonly wantsBody?: boolean;
}

export type ExchangeResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: HeaderBag;
      readonly body: string;
      /** The body was longer than the exchange's limit and was cut. */
      readonly truncated?: boolean;
    }
  | {
      readonly kind: 'network';
      /** A short, human reason: "connection refused", "timed out after 30 s", ... */
      readonly reason: string;
      readonly code: string;
      /**
       * The request was handed to the socket (undici's onRequestStart: after DNS, TCP, the proxy's CONNECT and the
       * TLS handshake, just before the first byte is written), so it may have reached the server. False: it
       * certainly did not. A fact about the connection phase, never about an error's code or text.
       */
      readonly sent: boolean;
      /**
       * The failure was the proxy's, while opening the tunnel: `refused` (it refused the tunnel or the credentials:
       * the run stops) or `unreachable` (it could not be reached, or failed: retried like any request not sent).
       * `reason` then names the proxy.
       */
      readonly proxy?: 'refused' | 'unreachable';
    };

export interface Transport {
  send(exchange: Exchange, signal?: AbortSignal): Promise<ExchangeResult>;
  close(): Promise<void>;
}

export interface TransportOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
  /** Bodies are read up to this many bytes unless the exchange says otherwise; the rest is discarded. */
  readonly maxBodyBytes?: number;
  readonly userAgent?: string;
  /** The dispatcher to send through: a keep-alive Pool, or a ProxyAgent (see createDispatcher in proxy.ts). */
  readonly dispatcher: Dispatcher;
}

const CONNECT_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset while connecting',
  ENOTFOUND: 'host not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
};

const EXCHANGE_REASONS: Readonly<Record<string, string>> = {
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
};

/**
 * A failed request, as a result. `sent` is whether undici had started writing it (see phase.ts), and nothing else
 * decides it; the error's code only words the reason, differently before the request started (connecting) and
 * after (exchanging). `timedOut`: our own timer fired.
 */
export function describeNetworkError(
  error: unknown,
  sent: boolean,
  timedOut: boolean,
  timeoutMs: number,
): ExchangeResult & { kind: 'network' } {
  if (error instanceof ProxyTunnelError) {
    return {
      kind: 'network',
      reason: error.message,
      code: error.code,
      sent: false,
      proxy: error.kind,
    };
  }
  if (timedOut) {
    const reason = sent
      ? `timed out after ${timeoutMs / 1000} s`
      : `could not connect within ${timeoutMs / 1000} s (the request was not sent)`;
    return { kind: 'network', reason, code: 'TIMEOUT', sent };
  }
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err?.code ?? err?.cause?.code ?? err?.name ?? 'UNKNOWN';
  const known = sent ? EXCHANGE_REASONS[code] : CONNECT_REASONS[code];
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|TLS|SSL/u.test(code);
  const reason =
    known ?? (tls ? `TLS failure (${code})` : sent ? `network error (${code})` : `could not connect (${code})`);
  return { kind: 'network', reason, code, sent };
}

export class UndiciTransport implements Transport {
  /** The dispatcher given, as sent through: composed with recordPhase. */
  private readonly dispatcher: Dispatcher;
  private readonly closable: Dispatcher;
  private readonly headers: Record<string, string>;
  private readonly maxBodyBytes: number;
  private readonly options: TransportOptions;

  constructor(options: TransportOptions) {
    this.options = options;
    this.closable = options.dispatcher;
    this.dispatcher = options.dispatcher.compose(recordPhase);
    this.headers = {
      authorization: `Bearer ${options.token}`,
      'user-agent': options.userAgent ?? 'upstash-dlq-action',
      accept: 'application/json',
    };
    this.maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  }

  async send(exchange: Exchange, signal?: AbortSignal): Promise<ExchangeResult> {
    // One timer per request, cleared as soon as it is done: AbortSignal.timeout() would keep every request's
    // signal alive for the full timeout, which adds up over tens of thousands of requests.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const phase: RequestPhase = { started: false };
    try {
      const request: PhasedOptions<Dispatcher.RequestOptions> = {
        origin: this.options.baseUrl,
        method: exchange.method,
        path: exchange.path,
        headers: exchange.headers ? { ...this.headers, ...exchange.headers } : this.headers,
        signal: controller.signal,
        // Handed on to the dispatcher with the options: recordPhase fills it in.
        [REQUEST_PHASE]: phase,
      };
      const response = await this.dispatcher.request(request);
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      if (ok && !exchange.wantsBody) {
        // The status is the answer: a body that breaks off now changes nothing.
        await response.body.dump().catch(() => undefined);
        return { kind: 'response', status: response.statusCode, headers: response.headers, body: '' };
      }
      // A 2xx whose body is needed (a listing, a new run id) and breaks off is a failure after the server acted; an
      // error status decides by itself (its body is only read for a message), so a broken error body is cut short.
      const { text, truncated } = await readCapped(response.body, exchange.maxBodyBytes ?? this.maxBodyBytes, !ok);
      return {
        kind: 'response',
        status: response.statusCode,
        headers: response.headers,
        body: text,
        ...(truncated && { truncated }),
      };
    } catch (error) {
      return describeNetworkError(error, phase.started, timedOut, this.options.timeoutMs);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.closable.close().catch(() => this.closable.destroy());
  }
}

/** Reads up to `max` bytes. `tolerant`: a body that breaks off ends the text there (marked truncated), not throws. */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  max: number,
  tolerant = false,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      if (size + chunk.length > max) {
        chunks.push(chunk.subarray(0, max - size));
        // Enough for any message or listing page we need; do not stream a huge body through the runner.
        body.destroy();
        return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch (error) {
    if (!tolerant) throw error;
    return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}
