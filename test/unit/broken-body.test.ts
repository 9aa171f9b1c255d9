/**
 * A status that arrived decides, even when its error body is then cut off: a 404 (or 429) whose body breaks is a
 * 404 (or 429), never a network failure that "may have acted" (which would make a retry's 404 read as "removed",
 * and a re-run's 429 as a lost answer).
 */
import { createServer as createTcpServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DlqClient } from '../../src/qstash/client.js';
import { systemClock } from '../../src/qstash/clock.js';
import { RateLimiter } from '../../src/qstash/rate-limit.js';
import { listenOnLoopback, loopbackTransport } from '../helpers/loopback.ts';

/** A raw HTTP/1.1 server: `answer(n)` is the n-th request's response bytes; it cuts the connection after them. */
async function rawServer(answer: (n: number) => string) {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        requests += 1;
        socket.end(answer(requests));
      }
    });
    socket.on('error', () => {});
  });
  const port = await listenOnLoopback(server, sockets);
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

function transportFor(baseUrl: string) {
  return loopbackTransport(baseUrl, { connectMs: 2_000, requestMs: 2_000 });
}

const cut = (status: string) =>
  `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"err`;
const whole = 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n';

describe('an error status whose body is cut off', () => {
  it.each(['404 Not Found', '429 Too Many Requests', '400 Bad Request'])(
    '%s: the status, as a response',
    async (status) => {
      const server = await rawServer(() => cut(status));
      const result = await transportFor(server.url).send({
        method: 'POST',
        path: '/v2/workflows/dlq/restart/x',
        wantsBody: true,
      });
      expect(result).toMatchObject({ kind: 'response', status: Number(status.slice(0, 3)) });
    },
  );

  it('a DELETE answered 404 with a cut body is not found after one request, never "may have acted"', async () => {
    const server = await rawServer((n) => (n === 1 ? cut('404 Not Found') : whole));
    const client = new DlqClient(transportFor(server.url), new RateLimiter(systemClock), systemClock, {
      maxRetries: 3,
    });
    const result = await client.send({ method: 'DELETE', path: '/v2/workflows/dlq/x' }, { idempotent: true });
    expect(result).toMatchObject({ kind: 'answered', status: 404, mayHaveActed: false, attempts: 1 });
    expect(server.requests()).toBe(1);
  });
});
