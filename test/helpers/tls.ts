/**
 * Test-only TLS material (test/fixtures/tls, see its README) and a loopback https server that presents it.
 * The certificate is for `qstash.test.invalid`, a name that never resolves: only the test proxy's `resolve` map
 * (or a connector pinned to 127.0.0.1) can reach the server under that name.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The host name in the server certificate's SAN. */
export const TEST_TLS_HOST = 'qstash.test.invalid';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url));

/** Absolute path of the test CA, e.g. for `NODE_EXTRA_CA_CERTS` in a child process. */
export const TEST_CA_PATH = fixture('ca.pem');

export interface TestTls {
  /** Server private key (PEM). */
  readonly key: string;
  /** Server certificate for `qstash.test.invalid` (PEM). */
  readonly cert: string;
  /** The CA that signed `cert` (PEM). */
  readonly ca: string;
}

let cached: TestTls | undefined;

export function testTls(): TestTls {
  cached ??= {
    key: readFileSync(fixture('server-key.pem'), 'utf8'),
    cert: readFileSync(fixture('server.pem'), 'utf8'),
    ca: readFileSync(TEST_CA_PATH, 'utf8'),
  };
  return cached;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** The SNI name the client sent, if any. */
  readonly servername: string | undefined;
}

export interface TestHttpsServer {
  readonly port: number;
  /** Origin under the certificate's name, e.g. `https://qstash.test.invalid:43123`. */
  readonly origin: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const defaultHandler: Handler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, method: req.method, path: req.url }));
};

/** An https server on 127.0.0.1 (random port) presenting the `qstash.test.invalid` certificate. */
export async function startHttpsServer(handler: Handler = defaultHandler): Promise<TestHttpsServer> {
  const { key, cert } = testTls();
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ key, cert }, (req, res) => {
    const servername = (req.socket as { servername?: string | false }).servername;
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      servername: servername || undefined,
    });
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    origin: `https://${TEST_TLS_HOST}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
