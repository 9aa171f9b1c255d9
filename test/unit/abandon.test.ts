/**
 * A request abandoned on cancellation (abortInFlight) says what the connection phase says: abandoned while still
 * connecting, it certainly never reached the server (not "may have acted", not a lost answer); abandoned after it was
 * written, it may have.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DlqClient } from '../../src/qstash/client.js';
import { systemClock } from '../../src/qstash/clock.js';
import { createDispatcher } from '../../src/qstash/proxy.js';
import { RateLimiter } from '../../src/qstash/rate-limit.js';
import { UndiciTransport } from '../../src/qstash/transport.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen<T extends Server | TcpServer>(server: T): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

function clientFor(baseUrl: string) {
  const created = createDispatcher(
    baseUrl,
    {},
    {
      connections: 1,
      connectTimeoutMs: 3_000,
      headersTimeoutMs: 5_000,
      bodyTimeoutMs: 5_000,
    },
  );
  const transport = new UndiciTransport({ baseUrl, token: 'tok', timeoutMs: 5_000, dispatcher: created.dispatcher });
  cleanups.push(() => transport.close());
  return new DlqClient(transport, new RateLimiter(systemClock), systemClock, { maxRetries: 3 });
}

const POST = { method: 'POST', path: '/v2/workflows/dlq/restart/x', wantsBody: true } as const;

describe('a request abandoned on cancellation', () => {
  it('while still connecting (a mute TLS handshake): cancelled, not sent, never "may have acted"', async () => {
    const held = new Set<Socket>();
    const tcp = createTcpServer((socket) => held.add(socket));
    const port = await listen(tcp);
    cleanups.push(() => held.forEach((socket) => socket.destroy()));
    const client = clientFor(`https://127.0.0.1:${port}`);
    const pending = client.send(POST, { idempotent: false });
    setTimeout(() => client.abortInFlight(new Error('cancelled')), 200);
    const result = await pending;
    expect(result).toMatchObject({ kind: 'failed', cause: 'cancelled', mayHaveActed: false });
  });

  it('after it was written: a lost answer, may have acted (control)', async () => {
    const server = createHttpServer(() => {});
    const port = await listen(server);
    cleanups.push(() => void server.closeAllConnections());
    const client = clientFor(`http://127.0.0.1:${port}`);
    const pending = client.send(POST, { idempotent: false });
    setTimeout(() => client.abortInFlight(new Error('cancelled')), 200);
    expect(await pending).toMatchObject({ kind: 'failed', cause: 'answer-lost', mayHaveActed: true });
  });
});
