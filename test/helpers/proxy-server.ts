/**
 * A real forward proxy for tests, in-process, on 127.0.0.1: CONNECT tunnelling and plain-http absolute-URI
 * forwarding, optional Basic auth, and a record of everything it could see, so a test can prove the proxy never saw
 * the bearer token. It never connects anywhere but 127.0.0.1: target names are looked up in `resolve` only, and
 * anything else is answered 502.
 */
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface ProxyServerOptions {
  /**
   * Made-up names -> a port on 127.0.0.1. Keys are `host` (any port) or `host:port` (that port only), compared
   * case-insensitively. Targets not in the map are refused with 502; nothing is ever resolved through DNS.
   */
  readonly resolve?: Readonly<Record<string, number>>;
  /** Require `Proxy-Authorization: Basic` with these credentials; 407 with `Proxy-Authenticate` otherwise. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Answer every CONNECT with this status (e.g. 403) instead of tunnelling. */
  readonly refuseConnect?: number;
  /** A secret to look for in everything the proxy sees (request lines, headers, bytes relayed to the server). */
  readonly token?: string;
}

export interface ProxiedRequest {
  /** `CONNECT`, or the method of a forwarded plain-http request. */
  readonly method: string;
  /** The target as `host:port`, as the client asked for it. */
  readonly target: string;
  /** The request-target of a forwarded request (absolute URI); undefined for CONNECT. */
  readonly url: string | undefined;
  /** What the client sent in `Proxy-Authorization`. */
  readonly proxyAuth: 'none' | 'ok' | 'wrong';
  /** Whether any header the proxy could read was named `authorization`. */
  readonly sawAuthorizationHeader: boolean;
  /** Whether `token` appeared in the request line or any header name or value the proxy could read. */
  readonly sawToken: boolean;
  /** What the proxy answered: 200 for an established tunnel, the upstream status for a forward, or its refusal. */
  status: number;
  /** Whether `token` appeared in the raw bytes the proxy relayed to the server (CONNECT: must stay false, it is TLS). */
  tunnelSawToken: boolean;
  /** Bytes relayed client -> server through a tunnel. */
  bytesUp: number;
}

export interface TestProxy {
  /** `http://127.0.0.1:<port>`, without credentials. */
  readonly url: string;
  readonly port: number;
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'Connection Established',
  400: 'Bad Request',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  502: 'Bad Gateway',
};

export async function startProxy(options: ProxyServerOptions = {}): Promise<TestProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const resolve = new Map(Object.entries(options.resolve ?? {}).map(([name, port]) => [name.toLowerCase(), port]));
  const lookup = (host: string, port: number): number | undefined =>
    resolve.get(`${host.toLowerCase()}:${port}`) ?? resolve.get(host.toLowerCase());

  const checkAuth = (req: IncomingMessage): ProxiedRequest['proxyAuth'] => {
    const header = req.headers['proxy-authorization'];
    if (header === undefined) return 'none';
    if (!options.auth) return 'ok';
    const match = /^Basic\s+(\S+)$/iu.exec(header);
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    return decoded === `${options.auth.username}:${options.auth.password}` ? 'ok' : 'wrong';
  };

  const record = (req: IncomingMessage, target: string, url: string | undefined): ProxiedRequest => {
    const token = options.token;
    const raw = req.rawHeaders;
    const sawToken =
      token !== undefined &&
      token !== '' &&
      (`${req.method} ${req.url}`.includes(token) || raw.some((part) => part.includes(token)));
    const entry: ProxiedRequest = {
      method: req.method ?? '',
      target,
      url,
      proxyAuth: checkAuth(req),
      sawAuthorizationHeader: raw.some((part, i) => i % 2 === 0 && part.toLowerCase() === 'authorization'),
      sawToken,
      status: 0,
      tunnelSawToken: false,
      bytesUp: 0,
    };
    requests.push(entry);
    return entry;
  };

  const refuse = (socket: Duplex, status: number, extra = ''): void => {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Refused'}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  };
  const authenticate = 'Proxy-Authenticate: Basic realm="test proxy"\r\n';

  const server = createServer((req, res) => {
    // Plain-http forwarding: the request-target is an absolute URI.
    let target: URL | undefined;
    try {
      target = new URL(req.url ?? '');
    } catch {
      target = undefined;
    }
    const port = target ? Number(target.port || 80) : 0;
    const entry = record(req, target ? `${target.hostname}:${port}` : (req.url ?? ''), req.url);
    if (!target || target.protocol !== 'http:') {
      entry.status = 400;
      res.writeHead(400, { connection: 'close' }).end();
      return;
    }
    if (options.auth && entry.proxyAuth !== 'ok') {
      entry.status = 407;
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test proxy"', connection: 'close' }).end();
      return;
    }
    const upstreamPort = lookup(target.hostname, port);
    if (upstreamPort === undefined) {
      entry.status = 502;
      res.writeHead(502, { connection: 'close' }).end(`unknown host ${target.hostname}`);
      return;
    }
    const headers: OutgoingHttpHeaders = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (/^(proxy-authorization|proxy-connection|connection|keep-alive)$/iu.test(name)) continue;
      const previous = headers[name];
      headers[name] =
        previous === undefined ? req.rawHeaders[i + 1]! : `${String(previous)}, ${req.rawHeaders[i + 1]!}`;
    }
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
      },
      (upstreamRes) => {
        entry.status = upstreamRes.statusCode ?? 0;
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', () => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { connection: 'close' });
      res.end();
    });
    req.pipe(upstream);
  });

  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    const target = req.url ?? '';
    const entry = record(req, target, undefined);
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/u.exec(target);
    if (options.auth && entry.proxyAuth !== 'ok') {
      entry.status = 407;
      refuse(client, 407, authenticate);
      return;
    }
    if (options.refuseConnect !== undefined) {
      entry.status = options.refuseConnect;
      refuse(client, options.refuseConnect);
      return;
    }
    const upstreamPort = match ? lookup(match[1]!, Number(match[2])) : undefined;
    if (upstreamPort === undefined) {
      entry.status = match ? 502 : 400;
      refuse(client, entry.status);
      return;
    }
    const upstream: Socket = connect({ host: '127.0.0.1', port: upstreamPort });
    track(upstream);
    const token = options.token ? Buffer.from(options.token) : undefined;
    let tail = Buffer.alloc(0);
    const scan = (chunk: Buffer): void => {
      entry.bytesUp += chunk.length;
      if (!token || token.length === 0) return;
      const window = Buffer.concat([tail, chunk]);
      if (window.includes(token)) entry.tunnelSawToken = true;
      tail = window.subarray(Math.max(0, window.length - (token.length - 1)));
    };
    upstream.once('connect', () => {
      entry.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) {
        scan(head);
        upstream.write(head);
      }
      client.on('data', scan);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => {
      if (entry.status === 0) {
        entry.status = 502;
        refuse(client, 502);
      } else client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  server.on('connection', (socket: Socket) => track(socket));
  server.on('clientError', (_error, socket: Duplex) => socket.destroy());

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolveClose) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolveClose());
      }),
  };
}

/** A port on 127.0.0.1 that refuses connections: listened on, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', () => resolveListen()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  return port;
}
