/**
 * The transport's "was it sent?" is the connection phase undici reports (onRequestStart), never an error's code:
 * against real loopback servers, directly and through a CONNECT proxy.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { buildConnector, Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher, type DispatcherOptions } from '../../src/qstash/proxy.js';
import { UndiciTransport, type ExchangeResult } from '../../src/qstash/transport.js';
import { closedPort, startProxy, type ProxyServerOptions } from '../helpers/proxy-server.js';
import { startHttpsServer, TEST_TLS_HOST, testTls, type Handler } from '../helpers/tls.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const options = (extra: Partial<DispatcherOptions> = {}): DispatcherOptions => ({
  connections: 2,
  connectTimeoutMs: 2_000,
  headersTimeoutMs: 5_000,
  bodyTimeoutMs: 5_000,
  ca: testTls().ca,
  ...extra,
});

function transportFor(baseUrl: string, env: Record<string, string>, extra: Partial<DispatcherOptions> = {}) {
  const created = createDispatcher(baseUrl, env, options(extra));
  const transport = new UndiciTransport({ baseUrl, token: 'tok', timeoutMs: 2_000, dispatcher: created.dispatcher });
  cleanups.push(() => transport.close());
  return transport;
}

const post = (transport: UndiciTransport): Promise<ExchangeResult> =>
  transport.send({ method: 'POST', path: '/v2/workflows/dlq/restart/x' });

async function https(handler: Handler) {
  const server = await startHttpsServer(handler);
  cleanups.push(() => server.close());
  return server;
}

async function proxyTo(port: number, extra: ProxyServerOptions = {}) {
  const proxy = await startProxy({ resolve: { [TEST_TLS_HOST]: port }, ...extra });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function listen<T extends Server | TcpServer>(server: T): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

/** Answers nothing, and cuts the connection once the request arrived. */
const resetAfterRequest: Handler = (req: IncomingMessage) => {
  req.socket.destroy();
};
const answer = (status: number): Handler => {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  };
};

describe('direct', () => {
  it('a refused connection: not sent', async () => {
    const port = await closedPort();
    const result = await post(transportFor(`http://127.0.0.1:${port}`, {}));
    expect(result).toMatchObject({ kind: 'network', sent: false, reason: 'connection refused', code: 'ECONNREFUSED' });
    expect(result).not.toHaveProperty('proxy');
  });

  it('reset after the request was written: sent', async () => {
    const server = await https(resetAfterRequest);
    const lookup = ((_h, o, cb) =>
      o.all
        ? (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [
            { address: '127.0.0.1', family: 4 },
          ])
        : cb(null, '127.0.0.1', 4)) as NonNullable<DispatcherOptions['lookup']>;
    const result = await post(transportFor(server.origin, {}, { lookup }));
    expect(server.requests.map((r) => r.method)).toEqual(['POST']);
    expect(result).toMatchObject({ kind: 'network', sent: true });
  });

  it('a TLS handshake reset before any request byte: not sent, whatever the code', async () => {
    const tcp = createTcpServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const port = await listen(tcp);
    const lookup = ((_h, o, cb) =>
      o.all
        ? (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [
            { address: '127.0.0.1', family: 4 },
          ])
        : cb(null, '127.0.0.1', 4)) as NonNullable<DispatcherOptions['lookup']>;
    const result = await post(transportFor(`https://${TEST_TLS_HOST}:${port}`, {}, { lookup }));
    expect(result).toMatchObject({ kind: 'network', sent: false, code: 'ECONNRESET' });
  });

  it('our own timeout while connecting (a mute TLS handshake): not sent', async () => {
    const held = new Set<Socket>();
    const tcp = createTcpServer((socket) => held.add(socket));
    const port = await listen(tcp);
    const created = createDispatcher(`https://127.0.0.1:${port}`, {}, options({ connectTimeoutMs: 10_000 }));
    const transport = new UndiciTransport({
      baseUrl: `https://127.0.0.1:${port}`,
      token: 'tok',
      timeoutMs: 300,
      dispatcher: created.dispatcher,
    });
    cleanups.push(() => transport.close());
    // First: the pool's close waits for the handshake, which ends when the server lets go.
    cleanups.push(() => held.forEach((socket) => socket.destroy()));
    const result = await post(transport);
    expect(result).toMatchObject({ kind: 'network', sent: false, code: 'TIMEOUT' });
    expect((result as { reason: string }).reason).toMatch(/could not connect within 0.3 s/u);
  });

  it('our own timeout after the request was written: sent', async () => {
    const server = createHttpServer(() => {});
    const port = await listen(server);
    cleanups.push(() => void server.closeAllConnections());
    const created = createDispatcher(`http://127.0.0.1:${port}`, {}, options());
    const transport = new UndiciTransport({
      baseUrl: `http://127.0.0.1:${port}`,
      token: 'tok',
      timeoutMs: 300,
      dispatcher: created.dispatcher,
    });
    cleanups.push(() => transport.close());
    expect(await post(transport)).toMatchObject({ kind: 'network', sent: true, code: 'TIMEOUT' });
  });

  it.each(['ETIMEDOUT', 'EHOSTUNREACH', 'ECONNREFUSED'])(
    'the connection dying with %s after the request was written: sent (the code does not decide)',
    async (code) => {
      const sockets: Socket[] = [];
      const server = createHttpServer(() => {
        sockets.at(-1)!.destroy(Object.assign(new Error(`fake ${code}`), { code }));
      });
      const port = await listen(server);
      cleanups.push(() => void server.closeAllConnections());
      const connector = buildConnector({});
      const pool = new Pool(`http://127.0.0.1:${port}`, {
        connect: (opts, callback) =>
          connector(opts, (error, socket) => {
            if (socket) sockets.push(socket as Socket);
            // eslint-disable-next-line @typescript-eslint/no-explicit-any -- undici's callback overloads
            (callback as any)(error, socket);
          }),
      });
      const transport = new UndiciTransport({
        baseUrl: `http://127.0.0.1:${port}`,
        token: 'tok',
        timeoutMs: 2_000,
        dispatcher: pool,
      });
      cleanups.push(() => transport.close());
      expect(await post(transport)).toMatchObject({ kind: 'network', sent: true, code });
    },
  );

  it('answers are answers', async () => {
    const server = createHttpServer(answer(404));
    const port = await listen(server);
    expect(await post(transportFor(`http://127.0.0.1:${port}`, {}))).toMatchObject({ kind: 'response', status: 404 });
  });
});

describe('through a CONNECT proxy', () => {
  it('a proxy that refuses the connection: not sent, the proxy unreachable, named', async () => {
    const port = await closedPort();
    const result = await post(transportFor(`https://${TEST_TLS_HOST}:1`, { https_proxy: `http://127.0.0.1:${port}` }));
    expect(result).toMatchObject({ kind: 'network', sent: false, proxy: 'unreachable', code: 'PROXY_UNREACHABLE' });
    expect((result as { reason: string }).reason).toContain(`127.0.0.1:${port}`);
  });

  it.each([
    [407, 'refused', /407 Proxy Authentication Required/u],
    [403, 'refused', /CONNECT answered 403 Forbidden/u],
    [502, 'unreachable', /CONNECT answered 502 Bad Gateway/u],
  ] as const)('CONNECT answered %i: not sent, the proxy %s', async (status, kind, reason) => {
    const server = await https(answer(200));
    const proxy = await proxyTo(
      server.port,
      status === 407 ? { auth: { username: 'u', password: 'p' } } : { refuseConnect: status },
    );
    const result = await post(transportFor(server.origin, { https_proxy: proxy.url }));
    expect(result).toMatchObject({ kind: 'network', sent: false, proxy: kind });
    expect((result as { reason: string }).reason).toMatch(reason);
    expect(server.requests).toEqual([]);
  });

  it('reset after the request was written through the tunnel: sent, and not the proxy', async () => {
    const server = await https(resetAfterRequest);
    const proxy = await proxyTo(server.port);
    const result = await post(transportFor(server.origin, { https_proxy: proxy.url }));
    expect(server.requests.map((r) => r.method)).toEqual(['POST']);
    expect(result).toMatchObject({ kind: 'network', sent: true });
    expect(result).not.toHaveProperty('proxy');
  });

  it('an untrusted origin certificate inside the tunnel: not sent, and not the proxy', async () => {
    const server = await https(answer(200));
    const proxy = await proxyTo(server.port);
    const result = await post(transportFor(server.origin, { https_proxy: proxy.url }, { ca: undefined }));
    expect(result).toMatchObject({ kind: 'network', sent: false });
    expect(result).not.toHaveProperty('proxy');
  });

  it('answers come back through the tunnel', async () => {
    const server = await https(answer(201));
    const proxy = await proxyTo(server.port);
    expect(await post(transportFor(server.origin, { https_proxy: proxy.url }))).toMatchObject({
      kind: 'response',
      status: 201,
    });
  });
});
