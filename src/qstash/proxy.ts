/**
 * Outbound proxy support, following `@actions/http-client` (what GitHub's own JavaScript actions use), so a
 * self-hosted runner behind a corporate proxy needs nothing beyond the `https_proxy` / `no_proxy` it already sets.
 *
 * The rules (actions/toolkit packages/http-client/src/proxy.ts):
 * - https targets read `https_proxy`, then `HTTPS_PROXY`; http targets `http_proxy`, then `HTTP_PROXY`. Lowercase
 *   wins; an empty value counts as unset. There is no https -> `http_proxy` fallback (undici's EnvHttpProxyAgent has
 *   one; the toolkit does not).
 * - Loopback hosts (`localhost`, `127.*`, `[::1]`) are never proxied.
 * - `no_proxy` (then `NO_PROXY`) is a comma-separated list, entries trimmed, compared case-insensitively; spaces do
 *   not separate entries. An entry matches the host, or the host with its port (default 80/443), exactly or as a
 *   dot-suffix: `example.com` matches `example.com` and `api.example.com`; `.example.com` only subdomains;
 *   `example.com:443` only that port; `*` alone matches everything. (`*.example.com` matches nothing, as in the
 *   toolkit; no CIDR ranges.)
 * - Proxy credentials in the URL are URL-decoded and sent as `Proxy-Authorization: Basic`, to the proxy only.
 *
 * Requests through a proxy go through undici's `ProxyAgent`: https origins are tunnelled with CONNECT, so the
 * `Authorization: Bearer` header only ever travels inside TLS to the origin.
 */
import type { LookupFunction } from 'node:net';
import { Pool, ProxyAgent, type Dispatcher } from 'undici';

/** Reads one environment variable; undefined when unset. */
export type EnvReader = (name: string) => string | undefined;

/** An EnvReader, or a plain map of variables such as `process.env`. */
export type EnvSource = EnvReader | Readonly<Record<string, string | undefined>>;

function readerOf(env: EnvSource): EnvReader {
  return typeof env === 'function' ? env : (name) => env[name];
}

/** A proxy variable that cannot be used. The message names the variable and never shows credentials. */
export class ProxyConfigError extends Error {
  override name = 'ProxyConfigError';
  /** The environment variable the value came from, e.g. `https_proxy`. */
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(message);
    this.variable = variable;
  }
}

const ACCEPTED_PROXY =
  'Accepted: http://host:port or https://host:port, optionally with URL-encoded user:password@ ' +
  '(a value without a scheme is read as http://).';

/** The first of `names` whose value is not blank. */
function firstSet(env: EnvSource, names: readonly string[]): { name: string; value: string } | undefined {
  const read = readerOf(env);
  for (const name of names) {
    const value = read(name);
    if (value !== undefined && value.trim() !== '') return { name, value };
  }
  return undefined;
}

/** Shows a URL-ish value with anything that could be credentials (up to the last `@`) replaced by `***`. */
export function showProxyValue(raw: string): string {
  return JSON.stringify(raw.trim().replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?).*@/isu, '$1***@'));
}

/** Whether a host is loopback, as the toolkit decides it (a URL's `hostname`, brackets included for IPv6). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === 'localhost' || host.startsWith('127.') || host.startsWith('[::1]') || host.startsWith('[0:0:0:0:0:0:0:1]')
  );
}

/** Whether `target` bypasses the proxy: a loopback host, or a `no_proxy` / `NO_PROXY` match. */
export function bypassesProxy(target: URL, env: EnvSource): boolean {
  if (!target.hostname) return false;
  if (isLoopbackHost(target.hostname)) return true;
  const noProxy = firstSet(env, ['no_proxy', 'NO_PROXY'])?.value ?? '';
  if (noProxy === '') return false;

  const port = target.port
    ? Number(target.port)
    : target.protocol === 'http:'
      ? 80
      : target.protocol === 'https:'
        ? 443
        : undefined;
  const host = target.hostname.toUpperCase();
  const candidates = port === undefined ? [host] : [host, `${host}:${port}`];
  const entries = noProxy
    .split(',')
    .map((entry) => entry.trim().toUpperCase())
    .filter((entry) => entry !== '');
  return entries.some(
    (entry) =>
      entry === '*' ||
      candidates.some(
        (candidate) =>
          candidate === entry ||
          candidate.endsWith(`.${entry}`) ||
          (entry.startsWith('.') && candidate.endsWith(entry)),
      ),
  );
}

/**
 * The proxy for `target`, or undefined to connect directly. Throws ProxyConfigError for a value that is not a usable
 * proxy URL (the toolkit silently ignores some of those; a typo in a proxy setting should not quietly send traffic
 * around the proxy).
 */
export function proxyFor(target: URL, env: EnvSource): URL | undefined {
  if (bypassesProxy(target, env)) return undefined;
  const names = target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
  const found = firstSet(env, names);
  return found ? parseProxy(found.name, found.value) : undefined;
}

/** Parses one proxy variable's value. Exported for tests and for checking a value without a target. */
export function parseProxy(variable: string, raw: string): URL {
  const value = raw.trim();
  // The toolkit prefixes http:// when the value does not parse as a URL. It misses `proxy.corp:3128`, which parses
  // as scheme `proxy.corp:` with no host (so the toolkit ends up not proxying at all); any value without `://` is
  // read here as http://, as curl does.
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//iu.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new ProxyConfigError(variable, `${variable}: ${showProxyValue(raw)} is not a proxy URL. ${ACCEPTED_PROXY}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProxyConfigError(
      variable,
      `${variable}: ${showProxyValue(raw)} is a ${url.protocol.slice(0, -1)} proxy; only HTTP proxies (CONNECT) are supported. ${ACCEPTED_PROXY}`,
    );
  }
  if (url.hostname === '') {
    throw new ProxyConfigError(variable, `${variable}: ${showProxyValue(raw)} names no proxy host. ${ACCEPTED_PROXY}`);
  }
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw new ProxyConfigError(
      variable,
      `${variable}: ${showProxyValue(raw)} has credentials that are not valid URL-encoding (write % as %25). ${ACCEPTED_PROXY}`,
    );
  }
  return url;
}

export interface ProxyCredentials {
  /** URL-decoded. */
  readonly username: string;
  /** URL-decoded. */
  readonly password: string;
  /** The `Proxy-Authorization` value: `Basic base64(username:password)`. */
  readonly header: string;
}

/** The proxy's credentials, URL-decoded as the toolkit does; undefined when the URL carries none. */
export function proxyCredentials(proxy: URL): ProxyCredentials | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const username = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return { username, password, header: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

/** `host:port` of the proxy, never its credentials: for the log. */
export function showProxy(proxy: URL): string {
  const port = proxy.port || (proxy.protocol === 'https:' ? '443' : '80');
  return `${proxy.hostname}:${port}`;
}

export interface DispatcherOptions {
  /** Connections to the origin (through the proxy, tunnels to the origin). */
  readonly connections: number;
  /** TCP (and TLS) connect timeout, to the origin or to the proxy. */
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Idle keep-alive sockets are closed after this; 30 s by default. */
  readonly keepAliveTimeoutMs?: number;
  /**
   * CA certificates to trust instead of Node's defaults, for the origin and an https proxy. For tests: the action
   * itself trusts extra CAs through NODE_EXTRA_CA_CERTS, which keeps the default roots.
   */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** For tests: resolves the origin's host name when connecting directly (no proxy), instead of DNS. */
  readonly lookup?: LookupFunction;
}

export interface CreatedDispatcher {
  /** Use as `dispatcher.request({ origin: baseUrl, path, method, headers })`, with or without a proxy. */
  readonly dispatcher: Dispatcher;
  /** `host:port` of the proxy in use, for the log; undefined when connecting directly. */
  readonly proxy?: string;
  /** Values to mask in logs: the proxy password (decoded and as written) and the `Proxy-Authorization` value. */
  readonly secrets: string[];
  /** With a proxy: classifyProxyError bound to it (says whether a failed request was the proxy's doing). */
  readonly proxyFailure?: (error: unknown) => ProxyFailure | undefined;
}

/**
 * A dispatcher for `baseUrl` (an origin): a keep-alive Pool, or undici's ProxyAgent when the environment names a
 * proxy for it. Throws ProxyConfigError for an unusable proxy variable. Does no I/O until the first request.
 */
export function createDispatcher(baseUrl: string, env: EnvSource, options: DispatcherOptions): CreatedDispatcher {
  const target = new URL(baseUrl);
  const proxy = proxyFor(target, env);
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 30_000;
  const ca = options.ca as string | Buffer | (string | Buffer)[] | undefined;
  const common = {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
  };

  if (!proxy) {
    const dispatcher = new Pool(target.origin, {
      ...common,
      connect: {
        timeout: options.connectTimeoutMs,
        ...(ca !== undefined && { ca }),
        ...(options.lookup && { lookup: options.lookup }),
      },
    });
    return { dispatcher, secrets: [] };
  }

  const credentials = proxyCredentials(proxy);
  const uri = new URL(proxy.href);
  uri.username = '';
  uri.password = '';
  const secrets = new Set<string>();
  if (credentials) {
    secrets.add(credentials.header);
    secrets.add(credentials.header.slice('Basic '.length));
    if (credentials.password !== '') {
      secrets.add(credentials.password);
      secrets.add(proxy.password);
    } else {
      // A lone user name is often an API key (http://KEY@proxy): mask it too.
      secrets.add(credentials.username);
      secrets.add(proxy.username);
    }
  }

  const dispatcher = new ProxyAgent({
    ...common,
    uri: uri.href,
    // Sent to the proxy only: on the CONNECT request (https origins) or on forwarded plain-http requests.
    ...(credentials && { token: credentials.header }),
    connectTimeout: options.connectTimeoutMs,
    ...(ca !== undefined && { requestTls: { ca }, proxyTls: { ca } }),
    // The connection to the proxy itself (it carries the CONNECT requests): the same timeouts, so a proxy that
    // accepts the connection but never answers does not hang for undici's 5-minute default.
    clientFactory: (origin: URL, factoryOptions: object) =>
      markTunnelErrors(
        new Pool(origin, {
          ...(factoryOptions as Pool.Options),
          keepAliveTimeout,
          headersTimeout: options.headersTimeoutMs,
          bodyTimeout: options.bodyTimeoutMs,
        }),
      ),
  });
  const shown = showProxy(proxy);
  return {
    dispatcher,
    proxy: shown,
    secrets: [...secrets].filter((value) => value !== ''),
    proxyFailure: (error) => classifyProxyError(error, shown),
  };
}

/** Set on errors raised while talking to the proxy itself (opening the tunnel), whatever their code. */
const TUNNEL_PHASE = Symbol('upstash-dlq-cleanup-action.proxy-tunnel');

type ConnectCallback = (error: Error | null, data: unknown) => void;

/**
 * ProxyAgent opens each tunnel with `connect()` on the dispatcher `clientFactory` returns (the connection to the
 * proxy). Errors from there are the proxy's: a refused TCP connection, a proxy that never answers CONNECT (headers
 * timeout), one that answers something that is not HTTP, TLS trouble with an https proxy. They carry the same codes
 * as the origin's would, so they are marked here, and classifyProxyError can tell them apart. If a later undici
 * stopped calling `connect()`, errors would simply go unmarked.
 */
function markTunnelErrors(pool: Pool): Pool {
  const original = pool.connect.bind(pool) as unknown as (options: unknown, callback?: ConnectCallback) => unknown;
  const mark = (error: unknown): unknown => {
    if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
      Object.defineProperty(error, TUNNEL_PHASE, { value: true });
    }
    return error;
  };
  const connect = (options: unknown, callback?: ConnectCallback): unknown => {
    if (typeof callback === 'function') {
      return original(options, (error, data) => callback(mark(error) as Error | null, data));
    }
    return (original(options) as Promise<unknown>).catch((error: unknown) => {
      throw mark(error);
    });
  };
  Object.defineProperty(pool, 'connect', { value: connect, configurable: true, writable: true });
  return pool;
}

export type ProxyFailureKind = 'proxy-refused' | 'proxy-auth' | 'proxy-unreachable';

export interface ProxyFailure {
  readonly kind: ProxyFailureKind;
  /** A short human reason naming the proxy (host:port), never its credentials. */
  readonly reason: string;
  /** The status the proxy answered, when it answered. */
  readonly status?: number;
}

const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
};

const CONNECT_REFUSED = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/u;

/**
 * Whether an error undici raised for a request sent through a proxy is the proxy's doing: it refused the tunnel
 * (CONNECT answered non-200, or closed the connection), wants credentials (407), or cannot be reached. Undefined for
 * anything else (origin errors, timeouts of the request itself). `proxy` is the `host:port` shown in the reason.
 *
 * undici 8 reports a CONNECT answered with any status but 200 as `RequestAbortedError` (code `UND_ERR_ABORTED`, the
 * same code as an aborted request) with the message `Proxy response (407) !== 200 when HTTP Tunneling`, so the
 * message is what tells them apart.
 */
export function classifyProxyError(error: unknown, proxy = 'the proxy'): ProxyFailure | undefined {
  const via = proxy === 'the proxy' ? proxy : `the proxy ${proxy}`;
  for (const err of errorChain(error)) {
    const code = typeof err.code === 'string' ? err.code : '';
    const message = typeof err.message === 'string' ? err.message : '';

    const refused = CONNECT_REFUSED.exec(message);
    if (refused) {
      const status = Number(refused[1]);
      if (status === 407) return authFailure(via);
      return {
        kind: 'proxy-refused',
        status,
        reason: `${via} refused to open a tunnel to the QStash API (CONNECT answered ${status}${statusText(status)})`,
      };
    }
    // A plain-http origin forwarded through the proxy (loopback origins are never proxied, so only in tests).
    if (code === 'UND_ERR_INVALID_ARG' && message === 'Proxy Authentication Required (407)') return authFailure(via);
    if (code === 'UND_ERR_PRX_CONN') {
      return { kind: 'proxy-refused', reason: `${via} closed the connection while opening the tunnel` };
    }
    if (code === 'UND_ERR_PRX_TLS') {
      return {
        kind: 'proxy-unreachable',
        reason: `TLS to ${via} failed: its certificate does not match its host name`,
      };
    }
    if (code in UNREACHABLE && (code !== 'UND_ERR_CONNECT_TIMEOUT' || mentionsProxy(message, proxy))) {
      return { kind: 'proxy-unreachable', reason: `cannot connect to ${via} (${UNREACHABLE[code]!})` };
    }
    if ((err as Record<symbol, unknown>)[TUNNEL_PHASE] === true) return tunnelFailure(via, err, code);
  }
  return undefined;
}

/** An error marked as raised while opening the tunnel, other than the ones recognised by code above. */
function tunnelFailure(via: string, err: ErrorLike, code: string): ProxyFailure {
  const name = typeof (err as { name?: unknown }).name === 'string' ? (err as { name: string }).name : '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return { kind: 'proxy-unreachable', reason: `${via} accepted the connection but did not answer CONNECT in time` };
  }
  if (name === 'HTTPParserError' || code.startsWith('HPE_')) {
    return { kind: 'proxy-unreachable', reason: `${via} did not answer CONNECT with HTTP: is it an HTTP proxy?` };
  }
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') {
    return { kind: 'proxy-refused', reason: `${via} closed the connection while opening the tunnel` };
  }
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/u.test(code)) {
    return { kind: 'proxy-unreachable', reason: `TLS to ${via} failed (${code})` };
  }
  return { kind: 'proxy-unreachable', reason: `error while talking to ${via} (${code || name || 'unknown'})` };
}

function authFailure(via: string): ProxyFailure {
  return {
    kind: 'proxy-auth',
    status: 407,
    reason:
      `${via} answered 407 Proxy Authentication Required: its credentials are missing or wrong ` +
      `(give them in the proxy URL, http://user:password@host:port, URL-encoded)`,
  };
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: ' Bad Request',
    403: ' Forbidden',
    404: ' Not Found',
    405: ' Method Not Allowed',
    500: ' Internal Server Error',
    502: ' Bad Gateway',
    503: ' Service Unavailable',
    504: ' Gateway Timeout',
  };
  return texts[status] ?? '';
}

/**
 * undici's connect timeout names the address it tried; through a proxy the TCP connection is always to the proxy,
 * but the TLS handshake with the origin (inside the tunnel) has the same timeout and names the origin.
 */
function mentionsProxy(message: string, proxy: string): boolean {
  if (proxy === 'the proxy') return true;
  // "attempted addresses: ip:port, ..." (plural) comes from a TCP connect with a DNS lookup: only the proxy's.
  const attempted = /attempted address: ([^,)]+)/u.exec(message)?.[1];
  if (attempted === undefined) return true;
  const proxyHost = proxy.slice(0, proxy.lastIndexOf(':')).replace(/^\[|\]$/gu, '');
  const attemptedHost = attempted.slice(0, attempted.lastIndexOf(':')).replace(/^\[|\]$/gu, '');
  return attemptedHost === proxyHost;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error, its causes, and an AggregateError's members (Node's happy-eyeballs connect). */
function errorChain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const pending: unknown[] = [error];
  while (pending.length > 0 && out.length < 16) {
    const next = pending.shift();
    if (typeof next !== 'object' || next === null || out.includes(next as ErrorLike)) continue;
    const err = next as ErrorLike;
    out.push(err);
    if (err.cause !== undefined) pending.push(err.cause);
    if (Array.isArray(err.errors)) pending.push(...(err.errors as unknown[]));
  }
  return out;
}
