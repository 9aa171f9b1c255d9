/**
 * A request abandoned on cancellation (abortInFlight) says what the connection phase says: abandoned while still
 * connecting, it certainly never reached the server (not "may have acted", not a lost answer); abandoned after it was
 * written, it may have.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DlqClient } from '../../src/qstash/client.js';
import { systemClock } from '../../src/qstash/clock.js';
import { RateLimiter } from '../../src/qstash/rate-limit.js';
import { afterThisTest, listenOnLoopback, loopbackTransport } from '../helpers/loopback.ts';

function clientFor(baseUrl: string) {
  const transport = loopbackTransport(baseUrl, { connectMs: 3_000, requestMs: 5_000 });
  return new DlqClient(transport, new RateLimiter(systemClock), systemClock, { maxRetries: 3 });
}

const POST = { method: 'POST', path: '/v2/workflows/dlq/restart/x', wantsBody: true } as const;

describe('a request abandoned on cancellation', () => {
  it('while still connecting (a mute TLS handshake): cancelled, not sent, never "may have acted"', async () => {
    const held = new Set<Socket>();
    const tcp = createTcpServer((socket) => held.add(socket));
    const port = await listenOnLoopback(tcp);
    afterThisTest(() => held.forEach((socket) => socket.destroy()));
    const client = clientFor(`https://127.0.0.1:${port}`);
    const pending = client.send(POST, { idempotent: false });
    setTimeout(() => client.abortInFlight(new Error('cancelled')), 200);
    const result = await pending;
    expect(result).toMatchObject({ kind: 'failed', cause: 'cancelled', mayHaveActed: false });
  });

  it('after it was written: a lost answer, may have acted (control)', async () => {
    const server = createHttpServer(() => {});
    const port = await listenOnLoopback(server);
    afterThisTest(() => void server.closeAllConnections());
    const client = clientFor(`http://127.0.0.1:${port}`);
    const pending = client.send(POST, { idempotent: false });
    setTimeout(() => client.abortInFlight(new Error('cancelled')), 200);
    expect(await pending).toMatchObject({ kind: 'failed', cause: 'answer-lost', mayHaveActed: true });
  });
});
