/**
 * A proxy that answers CONNECT 200 and then drops the tunnel, before or during the origin's TLS handshake: the
 * request was never written, so a re-run is retried (never a lost answer) and nothing blames the credentials.
 */
import { createServer as createTcpServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DlqClient } from '../../src/qstash/client.js';
import { systemClock } from '../../src/qstash/clock.js';
import { RateLimiter } from '../../src/qstash/rate-limit.js';
import { listenOnLoopback, loopbackTransport } from '../helpers/loopback.ts';

async function tunnelThatDrops(when: 'at-once' | 'in-handshake') {
  let connects = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let established = false;
    socket.on('data', (data) => {
      if (!established && data.toString('latin1').includes('\r\n\r\n')) {
        established = true;
        connects += 1;
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (when === 'at-once') socket.destroy();
        return;
      }
      // The ClientHello: reset the tunnel.
      if (established) socket.resetAndDestroy();
    });
  });
  const port = await listenOnLoopback(server, sockets);
  return { url: `http://127.0.0.1:${port}`, connects: () => connects };
}

describe.each(['at-once', 'in-handshake'] as const)('a tunnel dropped %s after CONNECT 200', (when) => {
  it('the transport: not sent, not a refusal', async () => {
    const proxy = await tunnelThatDrops(when);
    const baseUrl = 'https://qstash.example.test';
    const transport = loopbackTransport(baseUrl, { connectMs: 2_000, requestMs: 2_000 }, { https_proxy: proxy.url });
    const result = await transport.send({ method: 'POST', path: '/v2/workflows/dlq/restart/x', wantsBody: true });
    expect(result).toMatchObject({ kind: 'network', sent: false });
    expect((result as { proxy?: string }).proxy).not.toBe('refused');

    const client = new DlqClient(transport, new RateLimiter(systemClock), systemClock, {
      maxRetries: 2,
      backoff: { baseMs: 1, maxMs: 1 },
    });
    const before = proxy.connects();
    const sent = await client.send(
      { method: 'POST', path: '/v2/workflows/dlq/restart/x', wantsBody: true },
      { idempotent: false },
    );
    expect(sent).toMatchObject({ kind: 'failed', cause: 'retries-exhausted', mayHaveActed: false });
    expect(proxy.connects() - before).toBe(3);
  });
});
