import { describe, expect, it } from 'vitest';
import { DlqClient, serverMessage } from '../../src/qstash/client.js';
import { RateLimiter } from '../../src/qstash/rate-limit.js';
import type { Exchange, ExchangeResult } from '../../src/qstash/transport.js';
import { FakeClock, net, ok, ScriptedTransport } from '../helpers/fakes.ts';

function clientFor(script: (exchange: Exchange, attempt: number) => ExchangeResult, maxRetries = 3) {
  const clock = new FakeClock();
  const transport = new ScriptedTransport(script);
  const client = new DlqClient(transport, new RateLimiter(clock), clock, {
    dlq: 'workflow',
    maxRetries,
    random: () => 0.5,
  });
  return { client, transport, clock };
}

describe('DlqClient.deleteEntry', () => {
  it('200 is removed, 404 is not-found, one request each', async () => {
    const { client, transport } = clientFor((exchange) => (exchange.path.endsWith('/here') ? ok(200) : ok(404)));
    expect(await client.deleteEntry('here')).toEqual({ outcome: 'removed', afterLostResponse: false, attempts: 1 });
    expect(await client.deleteEntry('gone')).toEqual({ outcome: 'not-found', attempts: 1 });
    expect(transport.sent).toEqual([
      { method: 'DELETE', path: '/v2/workflows/dlq/here' },
      { method: 'DELETE', path: '/v2/workflows/dlq/gone' },
    ]);
  });

  it('400 fails at once with the server message', async () => {
    const { client, transport } = clientFor(() => ok(400, {}, '{"error":"bad id"}'));
    expect(await client.deleteEntry('x')).toMatchObject({
      outcome: 'failed',
      reason: 'HTTP 400: bad id',
      unauthorized: false,
    });
    expect(transport.sent).toHaveLength(1);
  });

  it.each([401, 403])('%i fails at once and is flagged as a refused token', async (status) => {
    const { client, transport } = clientFor(() => ok(status));
    expect(await client.deleteEntry('x')).toMatchObject({ outcome: 'failed', unauthorized: true });
    expect(transport.sent).toHaveLength(1);
  });

  it('3xx is never followed', async () => {
    const { client, transport } = clientFor(() => ok(307, { location: 'https://elsewhere.example/steal' }));
    expect(await client.deleteEntry('x')).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(/redirect not followed/),
    });
    expect(transport.sent).toHaveLength(1);
  });

  it('retries 5xx, 408 and network errors up to maxRetries with growing backoff', async () => {
    const { client, transport, clock } = clientFor(() => ok(503), 3);
    expect(await client.deleteEntry('x')).toMatchObject({
      outcome: 'failed',
      reason: 'HTTP 503 (4 attempts)',
      attempts: 4,
    });
    expect(transport.sent).toHaveLength(4);
    expect(clock.sleeps).toEqual([375, 750, 1500]);

    const flaky = clientFor((_e, attempt) => [net('ECONNREFUSED', false), ok(408), ok(200)][attempt - 1]!);
    expect(await flaky.client.deleteEntry('x')).toMatchObject({
      outcome: 'removed',
      afterLostResponse: false,
      attempts: 3,
    });
  });

  it('maxRetries 0 means one attempt', async () => {
    const { client, transport } = clientFor(() => ok(500), 0);
    expect(await client.deleteEntry('x')).toMatchObject({ outcome: 'failed', attempts: 1 });
    expect(transport.sent).toHaveLength(1);
  });

  it('429 waits and retries without using up retries', async () => {
    const { client, transport, clock } = clientFor(
      (_e, attempt) => (attempt <= 5 ? ok(429, { 'Retry-After': '1' }) : ok(200)),
      0,
    );
    expect(await client.deleteEntry('x')).toMatchObject({ outcome: 'removed', attempts: 6 });
    expect(transport.sent).toHaveLength(6);
    expect(clock.sleeps).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('gives up on 429s after the total wait bound', async () => {
    const { client } = clientFor(() => ok(429, { 'Retry-After': '30' }), 0);
    expect(await client.deleteEntry('x')).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(/still rate limited/),
    });
  });

  it('lost-response rule: 404 after an attempt that may have reached the server is removed', async () => {
    const lost = clientFor((_e, attempt) => (attempt === 1 ? net('UND_ERR_SOCKET', true) : ok(404)));
    expect(await lost.client.deleteEntry('x')).toEqual({ outcome: 'removed', afterLostResponse: true, attempts: 2 });

    const neverSent = clientFor((_e, attempt) => (attempt === 1 ? net('ECONNREFUSED', false) : ok(404)));
    expect(await neverSent.client.deleteEntry('x')).toEqual({ outcome: 'not-found', attempts: 2 });

    const afterServerError = clientFor((_e, attempt) => (attempt === 1 ? ok(500) : ok(404)));
    expect(await afterServerError.client.deleteEntry('x')).toEqual({ outcome: 'not-found', attempts: 2 });
  });

  it('stops retrying when stopped, and attempts nothing once stopped', async () => {
    const stop = new AbortController();
    stop.abort(new Error('the token was refused'));
    const { client, transport } = clientFor(() => ok(200));
    expect(await client.deleteEntry('x', stop.signal)).toMatchObject({
      outcome: 'failed',
      reason: 'not attempted: the token was refused',
      attempts: 0,
    });
    expect(transport.sent).toHaveLength(0);
  });
});

describe('DlqClient.probeEntry', () => {
  it('uses GET: 200 exists, 404 not-found, and a 404 after a lost GET is still not-found', async () => {
    const { client, transport } = clientFor((e, attempt) =>
      e.path.endsWith('/a') ? ok(200) : attempt === 1 ? net('UND_ERR_SOCKET', true) : ok(404),
    );
    expect(await client.probeEntry('a')).toEqual({ outcome: 'exists', attempts: 1 });
    expect(await client.probeEntry('b')).toEqual({ outcome: 'not-found', attempts: 2 });
    expect(transport.sent.every((e) => e.method === 'GET')).toBe(true);
  });
});

describe('serverMessage', () => {
  it('takes {"error"} text, flags HTML, flattens and shortens', () => {
    expect(serverMessage('{"error":"invalid id"}')).toBe(': invalid id');
    expect(serverMessage('<html><body>502</body></html>')).toBe(' (HTML body)');
    expect(serverMessage('')).toBe('');
    expect(serverMessage('line1\nline2\u0007')).toBe(': line1 line2');
    expect(serverMessage('x'.repeat(500))).toHaveLength(2 + 200 + 1);
  });
});
