/**
 * Outbound proxy support, following `@actions/http-client` (what GitHub's own JavaScript actions use), so a
 * self-hosted runner behind a corporate proxy needs nothing beyond the `https_proxy` / `no_proxy` it already sets.
 *
 * The rules (actions/toolkit packages/http-client/src/proxy.ts):
 * - https targets read `https_proxy`, then `HTTPS_PROXY`; http targets `http_proxy`, then `HTTP_PROXY`. Lowercase
 *   wins; an empty value counts as unset. There is no https -> `http_proxy` fallback (undici's EnvHttpProxyAgent has
 *   one; the toolkit does not).
 * - Which targets bypass the proxy is the toolkit's own `checkBypass` (it reads `process.env`): loopback hosts
 *   (`localhost`, `127.*`, `[::1]`) never use one; `no_proxy` (then `NO_PROXY`) is a comma-separated list, entries
 *   trimmed, compared case-insensitively; spaces do not separate entries. An entry matches the host, or the host with
 *   its port (default 80/443), exactly or as a dot-suffix: `example.com` matches `example.com` and
 *   `api.example.com`; `.example.com` only subdomains; `example.com:443` only that port; `*` alone matches
 *   everything. (`*.example.com` matches nothing, as in the toolkit; no CIDR ranges.)
 * - Proxy credentials in the URL are URL-decoded and sent as `Proxy-Authorization: Basic`, to the proxy only.
 *
 * Requests through a proxy go through undici's `ProxyAgent`: https origins are tunnelled with CONNECT, so the
 * `Authorization: Bearer` header only ever travels inside TLS to the origin.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkBypass } from '@actions/http-client/lib/proxy';
import { Pool, ProxyAgent, type Dispatcher } from 'undici';
import { ForwardingHandler } from './phase.js';

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
  'Accepted: http://host:port or https://host:port, optionally with URL-encoded user:password@, and no path, ' +
  'query or fragment (a value without a scheme is read as http://).';

/** The first of `names` whose value is not blank. */
function firstSet(env: EnvSource, names: readonly string[]): { name: string; value: string } | undefined {
  const read = readerOf(env);
  for (const name of names) {
    const value = read(name);
    if (value !== undefined && value.trim() !== '') return { name, value };
  }
  return undefined;
}

/**
 * Shows a URL-ish value with anything that could be a secret replaced by `***`: the credentials (up to the last
 * `@`), and the query and fragment (a proxy key may be passed as `?key=...`).
 */
export function showProxyValue(raw: string): string {
  return JSON.stringify(
    raw
      .trim()
      .replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?).*@/isu, '$1***@')
      .replace(/([?#]).*$/su, '$1***')
      // Some proxies take a key in the path: shown as /*** too. (Every part optional: nothing to backtrack into.)
      .replace(
        /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)(\/[^?#]*)?/isu,
        (_, scheme: string | undefined, authority: string, path: string | undefined) =>
          `${scheme ?? ''}${authority}${path === undefined || path === '/' ? (path ?? '') : '/***'}`,
      ),
  );
}

/**
 * Whether `target` bypasses the proxy: a loopback host, or a `no_proxy` / `NO_PROXY` match. The toolkit's own
 * `checkBypass` decides, so the rule is exactly GitHub's actions'; it reads `process.env`, where the runner puts
 * `no_proxy`.
 */
export function bypassesProxy(target: URL): boolean {
  return checkBypass(target);
}

/**
 * The proxy for `target`, or undefined to connect directly. The proxy variables are read from `env`; the bypass
 * (`no_proxy`, loopback) is checkBypass's, from `process.env`, which is what `env` is outside tests. Throws ProxyConfigError for a value that is not a usable
 * proxy URL (the toolkit silently ignores some of those; a typo in a proxy setting should not quietly send traffic
 * around the proxy).
 */
export function proxyFor(target: URL, env: EnvSource): URL | undefined {
  if (bypassesProxy(target)) return undefined;
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
  // undici's ProxyAgent refuses a proxy URL with a path or query only once the run has started ("invalid url",
  // naming no variable): refused here, before any request. A lone `/` is what URL parsing adds to an origin.
  const extra = [
    url.pathname !== '/' && url.pathname !== '' && 'a path (hidden)',
    url.search !== '' && 'a query (hidden)',
    (url.hash !== '' || candidate.includes('#')) && 'a fragment (hidden)',
  ].filter((part): part is string => part !== false);
  if (extra.length > 0) {
    throw new ProxyConfigError(
      variable,
      `${variable}: ${showProxyValue(raw)} has ${extra.join(' and ')}; a proxy URL names only the proxy. ${ACCEPTED_PROXY}`,
    );
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
  refuseWhatUndiciRefuses(variable, raw, url);
  return url;
}

/**
 * Anything else undici's ProxyAgent refuses when the run builds its connection is refused now, naming the variable,
 * rather than mid-run with an error that names none. Building one does no I/O.
 */
function refuseWhatUndiciRefuses(variable: string, raw: string, url: URL): void {
  const uri = new URL(url.href);
  uri.username = '';
  uri.password = '';
  try {
    new ProxyAgent({ uri: uri.href }).close().catch(() => undefined);
  } catch (error) {
    throw new ProxyConfigError(
      variable,
      `${variable}: ${showProxyValue(raw)} is refused by the HTTP client (${(error as Error).message}). ${ACCEPTED_PROXY}`,
    );
  }
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
}

/**
 * A dispatcher for `baseUrl` (an origin): a keep-alive Pool, or undici's ProxyAgent when the environment names a
 * proxy for it. Throws ProxyConfigError for an unusable proxy variable. Does no I/O until the first request. A
 * failure to open a tunnel reaches the request as a ProxyTunnelError.
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
    // HTTP/1.1 only, though undici 8 would offer h2 through ALPN: one request per connection at a time keeps "was
    // this request written?" a fact about its own connection, a connection that dies takes one request with it
    // rather than every stream multiplexed on it, and `concurrency` stays the number of connections.
    allowH2: false,
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

  const shown = showProxy(proxy);
  const dispatcher = new ProxyAgent({
    ...common,
    uri: uri.href,
    // Sent to the proxy only: on the CONNECT request (https origins) or on forwarded plain-http requests.
    ...(credentials && { token: credentials.header }),
    connectTimeout: options.connectTimeoutMs,
    ...(ca !== undefined && { requestTls: { ca }, proxyTls: { ca } }),
    // The connection to the proxy itself (it carries the CONNECT requests): the same timeouts, so a proxy that
    // accepts the connection but never answers does not hang for undici's 5-minute default; and every CONNECT
    // through readTunnel, which turns the proxy's answer or failure into a ProxyTunnelError.
    clientFactory: (origin: URL, factoryOptions: object) =>
      new Pool(origin, {
        ...(factoryOptions as Pool.Options),
        keepAliveTimeout,
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
      }).compose(readTunnel(shown)),
  });
  return { dispatcher, proxy: shown, secrets: [...secrets].filter((value) => value !== '') };
}

/**
 * What the proxy did to a tunnel: `refused` it for good (another answer to CONNECT, 407 included: the run stops),
 * or could not be reached or failed (`unreachable`: a 5xx, 429 or 408 answer, a refused or broken connection, no
 * answer in time: retried). Either way the request never reached the QStash API.
 */
export type ProxyFailureKind = 'refused' | 'unreachable';

/** The proxy failed to open a tunnel. Recognise it with `instanceof`; the message is for people. */
export class ProxyTunnelError extends Error {
  override name = 'ProxyTunnelError';
  readonly code: string;
  readonly kind: ProxyFailureKind;
  /** `host:port` of the proxy, never its credentials. */
  readonly proxy: string;
  /** The proxy's answer to CONNECT, when it answered one. */
  readonly status: number | undefined;

  constructor(kind: ProxyFailureKind, proxy: string, message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
    this.proxy = proxy;
    this.status = status;
    // Never undici's recoverable UND_ERR_SOCKET: the client must fail the waiting requests, not retry forever.
    this.code = kind === 'refused' ? 'PROXY_REFUSED' : 'PROXY_UNREACHABLE';
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The typed error for a CONNECT answered `status` (not 200). */
export function tunnelRefusal(proxy: string, status: number): ProxyTunnelError {
  const via = `the proxy ${proxy}`;
  if (status === 407) {
    return new ProxyTunnelError(
      'refused',
      proxy,
      `${via} answered 407 Proxy Authentication Required: its credentials are missing or wrong ` +
        `(give them in the proxy URL, http://user:password@host:port, URL-encoded)`,
      status,
    );
  }
  const text = STATUS_TEXT[status] === undefined ? '' : ` ${STATUS_TEXT[status]}`;
  // A 5xx, or a proxy that is busy (429) or timed out (408), refused nothing for good: retried like any request not
  // sent.
  const kind = status >= 500 || status === 429 || status === 408 ? 'unreachable' : 'refused';
  return new ProxyTunnelError(
    kind,
    proxy,
    `${via} refused to open a tunnel to the QStash API (CONNECT answered ${status}${text})`,
    status,
  );
}

const CONNECTION_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer to CONNECT in time',
  UND_ERR_SOCKET: 'it closed the connection',
  UND_ERR_CLOSED: 'it closed the connection',
};

/** The typed error for a failure while talking to the proxy (before or during CONNECT). Codes only word it. */
export function tunnelFailure(proxy: string, error: unknown): ProxyTunnelError {
  const err = error as { code?: unknown; name?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : typeof err?.name === 'string' ? err.name : 'unknown';
  const what =
    CONNECTION_REASONS[code] ??
    (code.startsWith('HPE_') ? 'its answer to CONNECT is not HTTP: is it an HTTP proxy?' : `error ${code}`);
  return new ProxyTunnelError(
    'unreachable',
    proxy,
    `cannot open a tunnel through the proxy ${proxy} (${what})`,
    undefined,
    error,
  );
}

/** Reads one CONNECT's outcome (see readTunnel). */
class TunnelHandler extends ForwardingHandler {
  private readonly proxy: string;

  constructor(handler: Dispatcher.DispatchHandler, proxy: string) {
    super(handler);
    this.proxy = proxy;
  }

  override onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    if (statusCode === 200) {
      super.onRequestUpgrade(controller, statusCode, headers, socket);
      return;
    }
    socket.on('error', () => {}).destroy();
    super.onResponseError(controller, tunnelRefusal(this.proxy, statusCode));
  }

  override onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    super.onResponseError(controller, error instanceof ProxyTunnelError ? error : tunnelFailure(this.proxy, error));
  }
}

/**
 * An interceptor for the connection to the proxy: ProxyAgent opens each tunnel with `connect()` on it, a CONNECT
 * dispatched through here. Whatever goes wrong there is the proxy's, so it is answered with a ProxyTunnelError that
 * ProxyAgent hands on to the waiting request. (Plain-http requests forwarded through the proxy pass untouched.)
 */
export function readTunnel(proxy: string): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) =>
    dispatch(options, options.method === 'CONNECT' ? new TunnelHandler(handler, proxy) : handler);
}
