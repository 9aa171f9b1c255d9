import { createServer as createHttpServer, type Server } from 'node:http';
import type { LookupFunction } from 'node:net';
import { checkBypass, getProxyUrl } from '@actions/http-client/lib/proxy';
import { Pool, ProxyAgent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  bypassesProxy,
  createDispatcher,
  parseProxy,
  ProxyConfigError,
  proxyCredentials,
  proxyFor,
  ProxyTunnelError,
  showProxy,
  tunnelFailure,
  tunnelRefusal,
  type DispatcherOptions,
} from '../../src/qstash/proxy.js';
import { closedPort, startProxy, type TestProxy } from '../helpers/proxy-server.js';
import { startHttpsServer, TEST_TLS_HOST, testTls, type TestHttpsServer } from '../helpers/tls.js';

const TOKEN = 'tok_proxytest_SECRET_4f2a9c';
const QSTASH = new URL('https://qstash.upstash.io');

// The proxy variables are read from the source given; which targets bypass the proxy is the toolkit's checkBypass,
// which reads process.env: so `env` also puts the no_proxy variables there, for the test.
afterEach(() => {
  vi.unstubAllEnvs();
});
const env = (vars: Record<string, string>): ((name: string) => string | undefined) => {
  for (const name of ['no_proxy', 'NO_PROXY']) vi.stubEnv(name, vars[name] ?? '');
  return (name) => vars[name];
};
const proxied = (target: URL | string, vars: Record<string, string>): string | undefined =>
  proxyFor(typeof target === 'string' ? new URL(target) : target, env(vars))?.href;

describe('proxyFor: which variable', () => {
  it.each([
    ['https_proxy', { https_proxy: 'http://lower:3128' }, 'http://lower:3128/'],
    ['HTTPS_PROXY', { HTTPS_PROXY: 'http://upper:3128' }, 'http://upper:3128/'],
    [
      'both casings: lowercase wins',
      { https_proxy: 'http://lower:3128', HTTPS_PROXY: 'http://upper:3128' },
      'http://lower:3128/',
    ],
    [
      'an empty lowercase value counts as unset',
      { https_proxy: '', HTTPS_PROXY: 'http://upper:3128' },
      'http://upper:3128/',
    ],
    [
      'a blank lowercase value counts as unset',
      { https_proxy: '  ', HTTPS_PROXY: 'http://upper:3128' },
      'http://upper:3128/',
    ],
    [
      'no https -> http_proxy fallback',
      { http_proxy: 'http://plain:3128', HTTP_PROXY: 'http://plain:3128' },
      undefined,
    ],
    ['nothing set', {}, undefined],
  ])('https target, %s', (_name, vars, expected) => {
    expect(proxied(QSTASH, vars)).toBe(expected);
  });

  it.each([
    ['http_proxy', { http_proxy: 'http://lower:3128' }, 'http://lower:3128/'],
    ['HTTP_PROXY', { HTTP_PROXY: 'http://upper:3128' }, 'http://upper:3128/'],
    ['lowercase wins', { http_proxy: 'http://lower:3128', HTTP_PROXY: 'http://upper:3128' }, 'http://lower:3128/'],
    ['https_proxy is not for http', { https_proxy: 'http://secure:3128' }, undefined],
  ])('http target, %s', (_name, vars, expected) => {
    expect(proxied('http://qstash.example.com:8080', vars)).toBe(expected);
  });

  it('accepts process.env-like maps as well as a reader', () => {
    env({});
    expect(proxyFor(QSTASH, { HTTPS_PROXY: 'http://upper:3128' })?.href).toBe('http://upper:3128/');
  });
});

describe('proxyFor: no_proxy and loopback', () => {
  const proxy = { https_proxy: 'http://proxy.corp:3128', http_proxy: 'http://proxy.corp:3128' };
  it.each([
    ['qstash.upstash.io', 'https://qstash.upstash.io', true],
    ['upstash.io (suffix without a dot)', 'https://qstash.upstash.io', true],
    ['upstash.io (matches itself)', 'https://upstash.io', true],
    ['.upstash.io (subdomains)', 'https://qstash.upstash.io', true],
    ['.upstash.io does not match the apex', 'https://upstash.io', false],
    ['io (any suffix label)', 'https://qstash.upstash.io', true],
    ['pstash.io (not a label boundary)', 'https://qstash.upstash.io', false],
    ['*', 'https://qstash.upstash.io', true],
    ['*.upstash.io (no wildcard patterns, as in the toolkit)', 'https://qstash.upstash.io', false],
    ['qstash.upstash.io:443 (default port)', 'https://qstash.upstash.io', true],
    ['qstash.upstash.io:8443 (other port)', 'https://qstash.upstash.io', false],
    ['upstash.io:8443 (suffix with port)', 'https://qstash.upstash.io:8443', true],
    ['QSTASH.UPSTASH.IO (case-insensitive)', 'https://qstash.upstash.io', true],
    ['example.com, qstash.upstash.io (comma list)', 'https://qstash.upstash.io', true],
    ['  example.com ,  qstash.upstash.io  (entries trimmed)', 'https://qstash.upstash.io', true],
    ['example.com qstash.upstash.io (spaces do not separate)', 'https://qstash.upstash.io', false],
    ['example.com;qstash.upstash.io (nor semicolons)', 'https://qstash.upstash.io', false],
    [',,, (empty entries)', 'https://qstash.upstash.io', false],
    ['10.0.0.0/8 (no CIDR)', 'https://10.1.2.3', false],
    ['10.1.2.3 (an IP)', 'https://10.1.2.3', true],
    ['example.com (http target, port 80)', 'http://example.com', true],
    ['example.com:80 (http default port)', 'http://example.com', true],
  ])('no_proxy=%s -> %s bypassed: %s', (noProxy, target, bypass) => {
    const value = noProxy.replace(/ \(.*\)$/u, '');
    expect(proxied(target, { ...proxy, no_proxy: value }) === undefined).toBe(bypass);
    expect(proxied(target, { ...proxy, NO_PROXY: value }) === undefined).toBe(bypass);
  });

  it('lowercase no_proxy wins over NO_PROXY; an empty one counts as unset', () => {
    const target = 'https://qstash.upstash.io';
    expect(proxied(target, { ...proxy, no_proxy: 'example.com', NO_PROXY: 'upstash.io' })).toBeDefined();
    expect(proxied(target, { ...proxy, no_proxy: '', NO_PROXY: 'upstash.io' })).toBeUndefined();
  });

  it.each([
    'http://localhost:8080',
    'https://localhost',
    'http://LOCALHOST:8080',
    'http://127.0.0.1:8080',
    'https://127.1.2.3',
    'http://[::1]:8080',
    'http://[0:0:0:0:0:0:0:1]:8080',
  ])('never proxies loopback %s, without any no_proxy', (target) => {
    expect(proxied(target, proxy)).toBeUndefined();
  });

  it('does not treat other hosts as loopback', () => {
    expect(proxied('https://localhost.example.com', proxy)).toBeDefined();
    expect(proxied('https://10.0.0.1', proxy)).toBeDefined();
  });

  it('checks no_proxy before reading the proxy value, as the toolkit does', () => {
    expect(proxied(QSTASH, { https_proxy: 'http://[broken', no_proxy: 'upstash.io' })).toBeUndefined();
    expect(proxied('http://127.0.0.1:1', { http_proxy: 'http://[broken' })).toBeUndefined();
  });
});

describe('proxy values', () => {
  it.each([
    ['http://proxy.corp:3128', 'http://proxy.corp:3128/'],
    ['https://proxy.corp:8443', 'https://proxy.corp:8443/'],
    ['  http://proxy.corp:3128  ', 'http://proxy.corp:3128/'],
    ['HTTP://Proxy.Corp:3128', 'http://proxy.corp:3128/'],
    // No scheme: read as http://, as the toolkit does for values that do not parse...
    ['10.0.0.1:3128', 'http://10.0.0.1:3128/'],
    ['proxy.corp', 'http://proxy.corp/'],
    // ...and also for host:port, which the toolkit parses as a URL with scheme "proxy.corp:" and no host.
    ['proxy.corp:3128', 'http://proxy.corp:3128/'],
    ['user:pw@proxy.corp:3128', 'http://user:pw@proxy.corp:3128/'],
  ])('%s -> %s', (value, expected) => {
    expect(proxied(QSTASH, { https_proxy: value })).toBe(expected);
  });

  it.each([
    ['http://user:s3cret@[proxy:3128', 'is not a proxy URL', 'http://***@[proxy:3128'],
    ['http://user:s3cret@proxy.corp:99999', 'is not a proxy URL', 'http://***@proxy.corp:99999'],
    ['http://user:s3cret%ZZ@proxy.corp:3128', 'not valid URL-encoding', 'http://***@proxy.corp:3128'],
    ['socks5://user:s3cret@proxy.corp:1080', 'is a socks5 proxy', 'socks5://***@proxy.corp:1080'],
    ['ftp://proxy.corp', 'is a ftp proxy', 'ftp://proxy.corp'],
    ['user:s3cr/et@proxy.corp:3128', 'is not a proxy URL', '***@proxy.corp:3128'],
  ])('refuses %s, naming the variable and hiding credentials', (value, why, shown) => {
    let error: unknown;
    try {
      proxyFor(QSTASH, env({ HTTPS_PROXY: value }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProxyConfigError);
    const message = (error as ProxyConfigError).message;
    expect(message).toContain(`HTTPS_PROXY: ${JSON.stringify(shown)} `);
    expect(message).toContain(why);
    expect(message).not.toContain('s3cr');
    expect((error as ProxyConfigError).variable).toBe('HTTPS_PROXY');
  });

  it('decodes credentials as the toolkit does', () => {
    const url = parseProxy('https_proxy', 'http://corp%5Cjdoe%40x:p%3Aw%2F%40d%20!@proxy.corp:3128');
    const credentials = proxyCredentials(url)!;
    expect(credentials.username).toBe('corp\\jdoe@x');
    expect(credentials.password).toBe('p:w/@d !');
    expect(credentials.header).toBe(`Basic ${Buffer.from('corp\\jdoe@x:p:w/@d !').toString('base64')}`);
    expect(proxyCredentials(parseProxy('https_proxy', 'http://proxy.corp:3128'))).toBeUndefined();
    expect(proxyCredentials(parseProxy('https_proxy', 'http://apikey@proxy.corp'))?.header).toBe(
      `Basic ${Buffer.from('apikey:').toString('base64')}`,
    );
  });

  it('shows host:port only', () => {
    expect(showProxy(parseProxy('x', 'http://u:p@proxy.corp:3128'))).toBe('proxy.corp:3128');
    expect(showProxy(parseProxy('x', 'http://proxy.corp'))).toBe('proxy.corp:80');
    expect(showProxy(parseProxy('x', 'https://proxy.corp'))).toBe('proxy.corp:443');
    expect(showProxy(parseProxy('x', 'http://[fd00::1]:3128'))).toBe('[fd00::1]:3128');
  });
});

describe('agrees with the installed @actions/http-client', () => {
  const names = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY'];
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const stub = (vars: Record<string, string>): void => {
    for (const name of names) vi.stubEnv(name, vars[name] ?? '');
  };

  const targets = [
    'https://qstash.upstash.io',
    'https://qstash-us-east-1.upstash.io:443',
    'https://upstash.io:8443',
    'http://qstash.example.com',
    'http://localhost:8080',
    'https://127.0.0.1',
    'http://[::1]:1',
    'https://10.1.2.3',
  ];
  const noProxies = [
    '',
    'upstash.io',
    '.upstash.io',
    'UPSTASH.IO:443',
    'upstash.io:8443',
    '*',
    '*.upstash.io',
    'a.com, qstash-us-east-1.upstash.io ',
    'a.com qstash.upstash.io',
    'example.com:80',
    '10.1.2.3',
  ];
  const proxies = [
    ['http://lower:3128', ''],
    ['', 'http://upper:3128'],
    ['http://lower:3128', 'http://upper:3128'],
    ['http://u%40x:p%3Aw@proxy:3128', ''],
    ['10.0.0.1:3128', ''],
  ] as const;

  it('on bypass decisions: ours goes direct exactly when the toolkit bypasses', () => {
    for (const target of targets) {
      for (const noProxy of noProxies) {
        for (const variable of ['no_proxy', 'NO_PROXY']) {
          const vars = { https_proxy: 'http://proxy:3128', http_proxy: 'http://proxy:3128', [variable]: noProxy };
          stub(vars);
          const url = new URL(target);
          expect(bypassesProxy(url), `${target} with ${variable}=${noProxy}`).toBe(checkBypass(url));
          expect(proxyFor(url, env(vars)) === undefined, `${target} with ${variable}=${noProxy}`).toBe(
            checkBypass(url),
          );
        }
      }
    }
  });

  it('on proxy choice for well-formed values', () => {
    for (const target of targets) {
      for (const [lower, upper] of proxies) {
        const vars = { https_proxy: lower, HTTPS_PROXY: upper, http_proxy: lower, HTTP_PROXY: upper };
        stub(vars);
        const theirs = getProxyUrl(new URL(target));
        const ours = proxyFor(new URL(target), env(vars));
        expect(ours?.href, `${target} with ${JSON.stringify(vars)}`).toBe(theirs?.href);
        expect(ours && proxyCredentials(ours)?.username).toBe(theirs?.username || undefined);
        expect(ours && proxyCredentials(ours)?.password).toBe(theirs?.password || undefined);
      }
    }
  });
});

describe('tunnel errors (without a proxy at hand)', () => {
  it('a CONNECT answered 5xx, 429 or 408 is the proxy unreachable (retried); any other status a refusal; 407 asks for credentials', () => {
    expect(tunnelRefusal('proxy.corp:3128', 502)).toMatchObject({
      kind: 'unreachable',
      status: 502,
      code: 'PROXY_UNREACHABLE',
      message:
        'the proxy proxy.corp:3128 refused to open a tunnel to the QStash API (CONNECT answered 502 Bad Gateway)',
    });
    expect(tunnelRefusal('proxy.corp:3128', 403)).toMatchObject({
      kind: 'refused',
      status: 403,
      code: 'PROXY_REFUSED',
    });
    // A busy proxy (429) or one that timed out (408) refused nothing for good: retried, not the run stopped.
    expect(tunnelRefusal('proxy.corp:3128', 429)).toMatchObject({ kind: 'unreachable', status: 429 });
    expect(tunnelRefusal('proxy.corp:3128', 408)).toMatchObject({ kind: 'unreachable', status: 408 });
    const auth = tunnelRefusal('proxy.corp:3128', 407);
    expect(auth).toBeInstanceOf(ProxyTunnelError);
    expect(auth).toMatchObject({ kind: 'refused', status: 407, proxy: 'proxy.corp:3128' });
    expect(auth.message).toMatch(/407 Proxy Authentication Required: its credentials are missing or wrong/u);
  });

  it('any failure while talking to the proxy is the proxy unreachable, named, with the cause kept', () => {
    const cause = Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:3128'), { code: 'ETIMEDOUT' });
    const error = tunnelFailure('proxy.corp:3128', cause);
    expect(error).toMatchObject({ kind: 'unreachable', code: 'PROXY_UNREACHABLE', status: undefined, cause });
    expect(error.message).toBe('cannot open a tunnel through the proxy proxy.corp:3128 (connect timed out)');
    expect(tunnelFailure('p:1', Object.assign(new Error('x'), { code: 'HPE_INVALID_CONSTANT' })).message).toMatch(
      /is it an HTTP proxy/u,
    );
    expect(tunnelFailure('p:1', undefined).message).toMatch(/error unknown/u);
  });
});

describe('createDispatcher through a real proxy', () => {
  let https: TestHttpsServer;
  let plain: Server;
  let plainPort: number;
  const plainSeen: { url: string; authorization: string | undefined; proxyAuthorization: string | undefined }[] = [];
  const proxies: TestProxy[] = [];
  const options = (extra: Partial<DispatcherOptions> = {}): DispatcherOptions => ({
    connections: 4,
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 5_000,
    bodyTimeoutMs: 5_000,
    ca: testTls().ca,
    ...extra,
  });
  const start = async (extra: Parameters<typeof startProxy>[0] = {}): Promise<TestProxy> => {
    const proxy = await startProxy({
      resolve: { [TEST_TLS_HOST]: https.port, 'plain.test.invalid': plainPort },
      token: TOKEN,
      ...extra,
    });
    proxies.push(proxy);
    return proxy;
  };
  const get = async (
    created: ReturnType<typeof createDispatcher>,
    origin: string,
    path = '/v2/workflows/dlq',
  ): Promise<{ status: number; body: string }> => {
    const response = await created.dispatcher.request({
      origin,
      path,
      method: 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json' },
    });
    return { status: response.statusCode, body: await response.body.text() };
  };
  const failure = async (created: ReturnType<typeof createDispatcher>, origin: string): Promise<unknown> => {
    try {
      await get(created, origin);
    } catch (error) {
      return error;
    } finally {
      await created.dispatcher.destroy();
    }
    throw new Error('the request did not fail');
  };

  beforeAll(async () => {
    https = await startHttpsServer();
    plain = createHttpServer((req, res) => {
      plainSeen.push({
        url: req.url ?? '',
        authorization: req.headers.authorization,
        proxyAuthorization: req.headers['proxy-authorization'],
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('plain ok');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', () => resolve()));
    plainPort = (plain.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
    await https.close();
    await new Promise<void>((resolve) => plain.close(() => resolve()));
  });

  it('tunnels every request with CONNECT; the proxy never sees the token', async () => {
    const proxy = await start();
    const created = createDispatcher(https.origin, env({ https_proxy: proxy.url }), options());
    expect(created.dispatcher).toBeInstanceOf(ProxyAgent);
    expect(created.proxy).toBe(`127.0.0.1:${proxy.port}`);
    expect(created.secrets).toEqual([]);
    const before = https.requests.length;
    try {
      const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => get(created, https.origin, `/v2/dlq/${i}`)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    } finally {
      await created.dispatcher.close();
    }

    // Arrived, under the certificate's name (which only the proxy can resolve), with the token.
    const seen = https.requests.slice(before);
    expect(seen.map((r) => r.url).sort()).toEqual([1, 2, 3, 4, 5, 6].map((i) => `/v2/dlq/${i}`));
    for (const request of seen) {
      expect(request.servername).toBe(TEST_TLS_HOST);
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.headers['proxy-authorization']).toBeUndefined();
    }
    // Through the proxy: CONNECT only, at most one tunnel per connection, and the token in none of it.
    expect(proxy.requests.length).toBeGreaterThanOrEqual(1);
    expect(proxy.requests.length).toBeLessThanOrEqual(4);
    for (const request of proxy.requests) {
      expect(request).toMatchObject({
        method: 'CONNECT',
        target: `${TEST_TLS_HOST}:${https.port}`,
        status: 200,
        sawAuthorizationHeader: false,
        sawToken: false,
        tunnelSawToken: false,
      });
      expect(request.bytesUp).toBeGreaterThan(0);
    }
  });

  it('sends URL-decoded proxy credentials to the proxy only', async () => {
    const proxy = await start({ auth: { username: 'corp\\jdoe', password: 'p@ss:w/rd' } });
    const url = proxy.url.replace('http://', 'http://corp%5Cjdoe:p%40ss%3Aw%2Frd@');
    const created = createDispatcher(https.origin, env({ HTTPS_PROXY: url }), options());
    expect(created.proxy).toBe(`127.0.0.1:${proxy.port}`);
    expect(created.secrets).toEqual(
      expect.arrayContaining(['p@ss:w/rd', 'p%40ss%3Aw%2Frd', `Basic ${btoa('corp\\jdoe:p@ss:w/rd')}`]),
    );
    const before = https.requests.length;
    try {
      expect((await get(created, https.origin)).status).toBe(200);
    } finally {
      await created.dispatcher.close();
    }
    expect(proxy.requests).toHaveLength(1);
    expect(proxy.requests[0]).toMatchObject({ method: 'CONNECT', proxyAuth: 'ok', status: 200, sawToken: false });
    expect(https.requests.slice(before)[0]!.headers['proxy-authorization']).toBeUndefined();
  });

  it('a 407 (no or wrong credentials) is a refusal naming the credentials, never showing them', async () => {
    const proxy = await start({ auth: { username: 'jdoe', password: 'right-pass' } });
    const missing = createDispatcher(https.origin, env({ https_proxy: proxy.url }), options());
    const missingError = await failure(missing, https.origin);
    expect(missingError).toBeInstanceOf(ProxyTunnelError);
    expect(missingError).toMatchObject({ kind: 'refused', status: 407 });

    const wrong = createDispatcher(
      https.origin,
      env({ https_proxy: proxy.url.replace('http://', 'http://jdoe:wrong-pass@') }),
      options(),
    );
    const failed = (await failure(wrong, https.origin)) as ProxyTunnelError;
    expect(failed).toMatchObject({ kind: 'refused', status: 407, proxy: `127.0.0.1:${proxy.port}` });
    expect(failed.message).toContain(`127.0.0.1:${proxy.port}`);
    expect(failed.message).toMatch(/407 Proxy Authentication Required/u);
    expect(failed.message).not.toContain('wrong-pass');
    expect(proxy.requests.map((r) => [r.proxyAuth, r.status])).toEqual([
      ['none', 407],
      ['wrong', 407],
    ]);
  });

  it('a CONNECT answered 403 is a refusal; 502 (a name the proxy cannot resolve) the proxy unreachable', async () => {
    const proxy = await start({ refuseConnect: 403 });
    const created = createDispatcher(https.origin, env({ https_proxy: proxy.url }), options());
    const error = await failure(created, https.origin);
    expect(error).toBeInstanceOf(ProxyTunnelError);
    expect(error).toMatchObject({
      kind: 'refused',
      status: 403,
      message: `the proxy 127.0.0.1:${proxy.port} refused to open a tunnel to the QStash API (CONNECT answered 403 Forbidden)`,
    });
    const unknownProxy = await start();
    const viaUnknown = createDispatcher(
      'https://elsewhere.test.invalid',
      env({ https_proxy: unknownProxy.url }),
      options(),
    );
    expect(await failure(viaUnknown, 'https://elsewhere.test.invalid')).toMatchObject({
      kind: 'unreachable',
      status: 502,
    });
    expect(unknownProxy.requests[0]).toMatchObject({ target: 'elsewhere.test.invalid:443', status: 502 });
  });

  it('a proxy that refuses the connection is unreachable, named, without its credentials', async () => {
    const port = await closedPort();
    const created = createDispatcher(https.origin, env({ https_proxy: `http://u:pw123@127.0.0.1:${port}` }), options());
    const error = await failure(created, https.origin);
    expect(error).toBeInstanceOf(ProxyTunnelError);
    expect(error).toMatchObject({
      kind: 'unreachable',
      message: `cannot open a tunnel through the proxy 127.0.0.1:${port} (connection refused)`,
      cause: { code: 'ECONNREFUSED' },
    });
  });

  it('a proxy that closes the connection or never answers CONNECT is unreachable', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const closing = createHttpServer();
    closing.on('connect', (_req, socket) => socket.destroy());
    const silent = createHttpServer();
    silent.on('connect', (_req, socket: import('node:net').Socket) => sockets.add(socket));
    for (const server of [closing, silent]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    }
    const url = (server: Server): string => `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const closed = createDispatcher(https.origin, env({ https_proxy: url(closing) }), options());
      const closedError = await failure(closed, https.origin);
      expect(closedError).toBeInstanceOf(ProxyTunnelError);
      expect(closedError).toMatchObject({
        kind: 'unreachable',
        message: expect.stringMatching(/closed the connection/u),
      });

      const mute = createDispatcher(
        https.origin,
        env({ https_proxy: url(silent) }),
        options({ headersTimeoutMs: 300 }),
      );
      const muteError = await failure(mute, https.origin);
      expect(muteError).toBeInstanceOf(ProxyTunnelError);
      expect(muteError).toMatchObject({
        kind: 'unreachable',
        message: expect.stringMatching(/no answer to CONNECT in time/u),
        cause: { code: 'UND_ERR_HEADERS_TIMEOUT' },
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      closing.close();
      silent.close();
    }
  });

  it('does not blame the proxy for the origin', async () => {
    const proxy = await start();
    // The origin's certificate is not trusted (no ca): a TLS error inside an established tunnel.
    const created = createDispatcher(https.origin, env({ https_proxy: proxy.url }), options({ ca: undefined }));
    const error = await failure(created, https.origin);
    expect((error as { code?: string }).code).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|CERT/u);
    expect(error).not.toBeInstanceOf(ProxyTunnelError);
    expect(proxy.requests[0]).toMatchObject({ method: 'CONNECT', status: 200 });
  });

  it('goes direct for a no_proxy host, with a Pool', async () => {
    const proxy = await start();
    // Resolve the made-up name without DNS, for the direct connection only.
    const lookup = ((_host, opts, callback) =>
      opts.all
        ? (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
            { address: '127.0.0.1', family: 4 },
          ])
        : callback(null, '127.0.0.1', 4)) as LookupFunction;
    const created = createDispatcher(
      https.origin,
      env({ https_proxy: proxy.url, no_proxy: `example.com,${TEST_TLS_HOST}` }),
      options({ lookup }),
    );
    expect(created.dispatcher).toBeInstanceOf(Pool);
    expect(created.proxy).toBeUndefined();
    try {
      expect((await get(created, https.origin)).status).toBe(200);
    } finally {
      await created.dispatcher.close();
    }
    expect(proxy.requests).toEqual([]);
  });

  it('forwards plain http (absolute URI); there the proxy does see headers, which the recorder catches', async () => {
    const proxy = await start();
    const origin = `http://plain.test.invalid:${plainPort}`;
    const created = createDispatcher(origin, env({ http_proxy: proxy.url }), options());
    try {
      expect(await get(created, origin, '/x')).toEqual({ status: 200, body: 'plain ok' });
    } finally {
      await created.dispatcher.close();
    }
    expect(proxy.requests[0]).toMatchObject({
      method: 'GET',
      target: `plain.test.invalid:${plainPort}`,
      url: `${origin}/x`,
      sawAuthorizationHeader: true,
      sawToken: true,
    });
    expect(plainSeen.at(-1)).toMatchObject({ url: '/x', authorization: `Bearer ${TOKEN}` });
  });

  it('the tunnel recorder would catch a token sent in clear (control)', async () => {
    const proxy = await start();
    const agent = new ProxyAgent({ uri: proxy.url, proxyTunnel: true });
    const origin = `http://plain.test.invalid:${plainPort}`;
    try {
      const response = await agent.request({
        origin,
        path: '/clear',
        method: 'GET',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      await response.body.dump();
    } finally {
      await agent.close();
    }
    expect(proxy.requests[0]).toMatchObject({ method: 'CONNECT', sawToken: false, tunnelSawToken: true });
  });

  it('refuses an unusable proxy variable before any request', () => {
    expect(() => createDispatcher(https.origin, env({ https_proxy: 'http://u:pw@[x' }), options())).toThrow(
      ProxyConfigError,
    );
  });
});
