/**
 * For tests that talk to real sockets: servers on 127.0.0.1 and transports to them, and anything else a test starts
 * (emulators, proxies, temporary directories), all closed after each test in the reverse order they were made.
 */
import type { Server } from 'node:http';
import type { Server as TcpServer, Socket } from 'node:net';
import { afterEach } from 'vitest';
import { createDispatcher, type EnvSource } from '../../src/qstash/proxy.js';
import { UndiciTransport } from '../../src/qstash/transport.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs `cleanup` once the current test is over. */
export function afterThisTest(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

/** Listens on a free loopback port; after the test, destroys the `sockets` given and closes the server. */
export async function listenOnLoopback(server: Server | TcpServer, sockets?: ReadonlySet<Socket>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  afterThisTest(
    () =>
      new Promise<void>((resolve) => {
        sockets?.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  );
  return (server.address() as { port: number }).port;
}

/** A transport over one connection, with every timeout as given (connect: at most `connectMs`), closed after the test. */
export function loopbackTransport(
  baseUrl: string,
  timeouts: { readonly connectMs: number; readonly requestMs: number },
  env: EnvSource = {},
): UndiciTransport {
  const created = createDispatcher(baseUrl, env, {
    connections: 1,
    connectTimeoutMs: timeouts.connectMs,
    headersTimeoutMs: timeouts.requestMs,
    bodyTimeoutMs: timeouts.requestMs,
  });
  const transport = new UndiciTransport({
    baseUrl,
    token: 'tok',
    timeoutMs: timeouts.requestMs,
    dispatcher: created.dispatcher,
  });
  afterThisTest(() => transport.close());
  return transport;
}
