/**
 * The DLQ client one step talks through, built from its settings: a dispatcher (direct, or through the proxy the
 * environment names), the transport, the rate limiter and the client. Knows nothing of GitHub Actions; does no I/O
 * until the first request.
 */
import type { Settings } from './settings.js';
import { DlqClient, type ClientOptions } from './qstash/client.js';
import { systemClock } from './qstash/clock.js';
import { createDispatcher, type EnvSource } from './qstash/proxy.js';
import { RateLimiter } from './qstash/rate-limit.js';
import { UndiciTransport } from './qstash/transport.js';

export interface Connection {
  readonly client: DlqClient;
  /** `host:port` of the proxy in use; undefined when connecting directly. */
  readonly proxy: string | undefined;
  /** The proxy's credentials in every form they could be printed in: mask them before logging anything. */
  readonly secrets: readonly string[];
  /** After a cancellation: requests still in flight this much later are abandoned (their outcome is unknown). */
  abandonInFlightAfter(ms: number): void;
  close(): Promise<void>;
}

export interface ConnectionHooks {
  /** Removes secrets from server text before it becomes a reason. */
  readonly redact: (text: string) => string;
  readonly onExchange?: ClientOptions['onExchange'];
}

export function connect(settings: Settings, env: EnvSource, hooks: ConnectionHooks): Connection {
  const { endpoint } = settings;
  const created = createDispatcher(endpoint.url, env, {
    connections: settings.concurrency,
    connectTimeoutMs: Math.min(settings.requestTimeoutMs, 10_000),
    headersTimeoutMs: settings.requestTimeoutMs,
    bodyTimeoutMs: settings.requestTimeoutMs,
  });
  const transport = new UndiciTransport({
    baseUrl: endpoint.url,
    token: endpoint.token,
    timeoutMs: settings.requestTimeoutMs,
    dispatcher: created.dispatcher,
  });
  const client = new DlqClient(transport, new RateLimiter(systemClock), systemClock, {
    maxRetries: settings.maxRetries,
    maxInFlight: settings.concurrency,
    origin: new URL(endpoint.url).host,
    // Nothing decided for this long (only 429s, 5xx, network errors): stop, rather than retry for hours.
    noProgressMs: Math.max(120_000, 3 * settings.requestTimeoutMs),
    redact: hooks.redact,
    ...(hooks.onExchange && { onExchange: hooks.onExchange }),
  });
  return {
    client,
    proxy: created.proxy,
    secrets: created.secrets,
    abandonInFlightAfter: (ms) => {
      setTimeout(() => client.abortInFlight(new Error('cancelled')), ms).unref();
    },
    close: () => transport.close(),
  };
}
