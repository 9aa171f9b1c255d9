import { describe, expect, it } from 'vitest';
import { StopReason } from '../../src/outcomes.js';
import { LIST_BODY_LIMIT, serverMessage } from '../../src/qstash/client.js';
import type { Exchange, ExchangeResult } from '../../src/qstash/transport.js';
import { json, net, ok, scriptedClient, truncated } from '../helpers/fakes.ts';

function clientFor(script: (exchange: Exchange, attempt: number) => ExchangeResult, maxRetries = 3) {
  return scriptedClient(script, { maxRetries, random: () => 0.5 });
}

const DELETE = (id: string): Exchange => ({ method: 'DELETE', path: `/v2/workflows/dlq/${id}` });
const GET = (id: string): Exchange => ({ method: 'GET', path: `/v2/workflows/dlq/${id}` });
const POST = (id: string): Exchange => ({ method: 'POST', path: `/v2/workflows/dlq/restart/${id}`, wantsBody: true });
const idempotent = { idempotent: true };
const once = { idempotent: false };

describe('DlqClient.send: an idempotent request (DELETE, GET)', () => {
  it('2xx and 404 are answers, one request each', async () => {
    const { client, transport } = clientFor((exchange) => (exchange.path.endsWith('/here') ? ok(200) : ok(404)));
    expect(await client.send(DELETE('here'), idempotent)).toEqual({
      kind: 'answered',
      status: 200,
      body: '',
      truncated: false,
      attempts: 1,
      mayHaveActed: false,
    });
    expect(await client.send(DELETE('gone'), idempotent)).toMatchObject({
      kind: 'answered',
      status: 404,
      attempts: 1,
      mayHaveActed: false,
    });
    expect(transport.sent).toEqual([DELETE('here'), DELETE('gone')]);
    expect(client.requestsSent).toBe(2);
  });

  it('400 fails at once as rejected, with the server message', async () => {
    const { client, transport } = clientFor(() => ok(400, {}, '{"error":"bad id"}'));
    expect(await client.send(DELETE('x'), idempotent)).toEqual({
      kind: 'failed',
      cause: 'rejected',
      reason: 'HTTP 400: bad id',
      attempts: 1,
      mayHaveActed: false,
    });
    expect(transport.sent).toHaveLength(1);
  });

  it.each([401, 403])('%i fails at once as a refused token', async (status) => {
    const { client, transport } = clientFor(() => ok(status));
    expect(await client.send(DELETE('x'), idempotent)).toMatchObject({ kind: 'failed', cause: 'token-refused' });
    expect(transport.sent).toHaveLength(1);
  });

  it('3xx is never followed', async () => {
    const { client, transport } = clientFor(() => ok(307, { location: 'https://elsewhere.example/steal' }));
    expect(await client.send(DELETE('x'), idempotent)).toMatchObject({
      kind: 'failed',
      cause: 'redirect',
      reason: expect.stringMatching(/redirect not followed/),
    });
    expect(transport.sent).toHaveLength(1);
  });

  it('retries 5xx, 408 and network errors up to maxRetries with growing backoff', async () => {
    const { client, transport, clock } = clientFor(() => ok(503), 3);
    // New: a 5xx may come from a gateway after the server acted, so the failure says it may have acted.
    expect(await client.send(DELETE('x'), idempotent)).toEqual({
      kind: 'failed',
      cause: 'retries-exhausted',
      reason: 'HTTP 503 (4 attempts)',
      attempts: 4,
      mayHaveActed: true,
    });
    expect(transport.sent).toHaveLength(4);
    expect(clock.sleeps).toEqual([375, 750, 1500]);

    const flaky = clientFor((_e, attempt) => [net('ECONNREFUSED', false), ok(408), ok(200)][attempt - 1]!);
    // New: a 408 may also come after the server acted, so the answer carries mayHaveActed.
    expect(await flaky.client.send(DELETE('x'), idempotent)).toMatchObject({
      kind: 'answered',
      status: 200,
      attempts: 3,
      mayHaveActed: true,
    });
    expect(flaky.transport.sent).toHaveLength(3);
  });

  it('maxRetries 0 means one attempt', async () => {
    const { client, transport } = clientFor(() => ok(500), 0);
    expect(await client.send(DELETE('x'), idempotent)).toMatchObject({
      kind: 'failed',
      cause: 'retries-exhausted',
      attempts: 1,
    });
    expect(transport.sent).toHaveLength(1);
  });

  it('429 waits and retries without using up retries', async () => {
    const { client, transport, clock } = clientFor(
      (_e, attempt) => (attempt <= 5 ? ok(429, { 'Retry-After': '1' }) : ok(200)),
      0,
    );
    expect(await client.send(DELETE('x'), idempotent)).toMatchObject({
      kind: 'answered',
      status: 200,
      attempts: 6,
      mayHaveActed: false,
    });
    expect(transport.sent).toHaveLength(6);
    expect(clock.sleeps).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('gives up on 429s after the total wait bound', async () => {
    const { client } = clientFor(() => ok(429, { 'Retry-After': '30' }), 0);
    expect(await client.send(DELETE('x'), idempotent)).toMatchObject({
      kind: 'failed',
      cause: 'rate-limited',
      reason: expect.stringMatching(/still rate limited/),
    });
  });

  it('lost-response rule: an answer after an attempt that may have reached the server says so', async () => {
    const lost = clientFor((_e, attempt) => (attempt === 1 ? net('UND_ERR_SOCKET', true) : ok(404)));
    expect(await lost.client.send(DELETE('x'), idempotent)).toMatchObject({
      kind: 'answered',
      status: 404,
      attempts: 2,
      mayHaveActed: true,
    });

    const neverSent = clientFor((_e, attempt) => (attempt === 1 ? net('ECONNREFUSED', false) : ok(404)));
    expect(await neverSent.client.send(DELETE('x'), idempotent)).toMatchObject({
      kind: 'answered',
      status: 404,
      attempts: 2,
      mayHaveActed: false,
    });

    // Deliberate change: a 500 may come after the server acted (the engine then counts a 404 as done, inferred).
    const afterServerError = clientFor((_e, attempt) => (attempt === 1 ? ok(500) : ok(404)));
    expect(await afterServerError.client.send(DELETE('x'), idempotent)).toMatchObject({
      kind: 'answered',
      status: 404,
      attempts: 2,
      mayHaveActed: true,
    });
  });

  it('a GET is retried after a lost attempt like any idempotent request', async () => {
    const { client, transport } = clientFor((e, attempt) =>
      e.path.endsWith('/a') ? ok(200) : attempt === 1 ? net('UND_ERR_SOCKET', true) : ok(404),
    );
    expect(await client.send(GET('a'), idempotent)).toMatchObject({ kind: 'answered', status: 200, attempts: 1 });
    expect(await client.send(GET('b'), idempotent)).toMatchObject({ kind: 'answered', status: 404, attempts: 2 });
    expect(transport.sent.every((e) => e.method === 'GET')).toBe(true);
  });

  it('attempts nothing once stopped, and the stop reason decides the cause', async () => {
    const stop = new AbortController();
    stop.abort(new StopReason('token-refused', 'the token was refused'));
    const { client, transport } = clientFor(() => ok(200));
    expect(await client.send(DELETE('x'), { idempotent: true, stop: stop.signal })).toEqual({
      kind: 'failed',
      cause: 'token-refused',
      reason: 'not attempted: the token was refused',
      attempts: 0,
      mayHaveActed: false,
    });
    const cancel = new AbortController();
    cancel.abort(new Error('received SIGTERM'));
    expect(await client.send(DELETE('x'), { idempotent: true, stop: cancel.signal })).toMatchObject({
      cause: 'cancelled',
      reason: 'not attempted: received SIGTERM',
    });
    expect(transport.sent).toHaveLength(0);
  });

  it('stops retrying when stopped between attempts', async () => {
    const stop = new AbortController();
    const { client, transport } = clientFor(() => {
      stop.abort(new StopReason('cancelled', 'received SIGTERM'));
      return ok(503);
    });
    expect(await client.send(DELETE('x'), { idempotent: true, stop: stop.signal })).toMatchObject({
      kind: 'failed',
      cause: 'cancelled',
      reason: 'HTTP 503; not retried: received SIGTERM',
      attempts: 1,
      mayHaveActed: true,
    });
    expect(transport.sent).toHaveLength(1);
  });

  it('stops sending once the server counts as unreachable', async () => {
    const { client, transport, clock } = scriptedClient(
      () => {
        clock.time += 1000;
        return net('ECONNRESET', true);
      },
      { maxRetries: 10, unreachableAfter: { failures: 3, ms: 1000 }, origin: 'https://qstash.example' },
    );
    expect(await client.send(DELETE('x'), idempotent)).toMatchObject({
      kind: 'failed',
      cause: 'unreachable',
      reason: expect.stringMatching(/^https:\/\/qstash\.example is unreachable: ECONNRESET; no answer to 3 requests/),
    });
    expect(client.unreachable).toBeDefined();
    expect(await client.send(DELETE('y'), idempotent)).toMatchObject({ cause: 'unreachable', attempts: 0 });
    expect(transport.sent).toHaveLength(3);
  });
});

describe('DlqClient.send: a request that is not idempotent (a re-run, POST)', () => {
  it.each<[string, ExchangeResult]>([
    ['HTTP 500', ok(500)],
    ['HTTP 503', ok(503)],
    ['HTTP 408', ok(408)],
    ['a timeout', net('TIMEOUT', true)],
    ['a dropped connection', net('UND_ERR_SOCKET', true)],
    ['a reset connection', net('ECONNRESET', true)],
  ])('is never resent after %s: it fails as answer-lost, may have acted', async (_name, result) => {
    const { client, transport, clock } = clientFor((_e, attempt) => (attempt === 1 ? result : ok(200)), 3);
    expect(await client.send(POST('x'), once)).toMatchObject({
      kind: 'failed',
      cause: 'answer-lost',
      reason: expect.stringMatching(/may have been carried out; not sent again/),
      attempts: 1,
      mayHaveActed: true,
    });
    expect(transport.sent).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it.each<[string, ExchangeResult]>([
    ['429', ok(429, { 'Retry-After': '1' })],
    ['a refused connection', net('ECONNREFUSED', false)],
  ])('is retried after %s: nothing can have run', async (_name, result) => {
    const { client, transport } = clientFor(
      (_e, attempt) => (attempt === 1 ? result : json(200, { workflowRunId: 'w' })),
      3,
    );
    expect(await client.send(POST('x'), once)).toMatchObject({
      kind: 'answered',
      status: 200,
      body: '{"workflowRunId":"w"}',
      attempts: 2,
      mayHaveActed: false,
    });
    expect(transport.sent).toHaveLength(2);
  });

  it('a 4xx is rejected: nothing was done', async () => {
    const { client } = clientFor(() => ok(409, {}, '{"error":"already running"}'));
    expect(await client.send(POST('x'), once)).toEqual({
      kind: 'failed',
      cause: 'rejected',
      reason: 'HTTP 409: already running',
      attempts: 1,
      mayHaveActed: false,
    });
  });
});

describe('DlqClient.listPage', () => {
  it('asks for `count` entries after the cursor and reads entries, cursor and skipped entries', async () => {
    const { client, transport } = clientFor(() =>
      json(200, { messages: [{ dlqId: 'a' }, { noId: true }, { dlqId: 'b', url: 'u' }, null], cursor: 'next' }),
    );
    expect(await client.listPage('qstash', [['label', ['x']]], 'c0', 10)).toEqual({
      kind: 'page',
      entries: [{ dlqId: 'a' }, { dlqId: 'b', url: 'u' }],
      // The listed objects behind the entries, as sent, index by index.
      records: [{ dlqId: 'a' }, { dlqId: 'b', url: 'u' }],
      skipped: 2,
      cursor: 'next',
    });
    expect(transport.sent).toEqual([
      { method: 'GET', path: '/v2/dlq?label=x&count=10&cursor=c0', maxBodyBytes: LIST_BODY_LIMIT, wantsBody: true },
    ]);
  });

  it('the last page has no cursor', async () => {
    const { client } = clientFor(() => json(200, { messages: [], cursor: '' }));
    expect(await client.listPage('workflow', [], undefined, 100)).toEqual({
      kind: 'page',
      entries: [],
      records: [],
      skipped: 0,
    });
  });

  it.each<[string, ExchangeResult, RegExp]>([
    ['no messages array', json(200, { cursor: 'x' }), /no messages array/],
    ['messages that is not an array', json(200, { messages: {} }), /no messages array/],
    ['null', ok(200, {}, 'null'), /no messages array/],
    ['not JSON', ok(200, {}, '<html>'), /not JSON/],
    ['404', ok(404), /HTTP 404 for the DLQ listing \/v2\/workflows\/dlq/],
  ])('an answer with %s is a failed listing (bad-answer), never an empty page', async (_name, result, reason) => {
    const { client } = clientFor(() => result);
    expect(await client.listPage('workflow', [], undefined, 100)).toMatchObject({
      kind: 'failed',
      cause: 'bad-answer',
      reason: expect.stringMatching(reason),
    });
  });

  it('a body cut at the limit asks for fewer entries', async () => {
    const { client } = clientFor(() => truncated('{"messages":[{"dlqId":"a","body":"xx'));
    expect(await client.listPage('workflow', [], undefined, 100)).toEqual({
      kind: 'too-large',
      limitBytes: LIST_BODY_LIMIT,
    });
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

describe('DlqClient: a server that never decides anything does not keep a run going for hours', () => {
  it('only 429s for longer than noProgressMs: the client stops sending (rate-limited), for every later request too', async () => {
    const { client, transport } = scriptedClient(() => ok(429, { 'Retry-After': '30' }), {
      maxRetries: 3,
      maxRateLimitWaitMs: 3_600_000,
      noProgressMs: 120_000,
    });
    expect(await client.send(DELETE('a'), idempotent)).toMatchObject({
      kind: 'failed',
      cause: 'rate-limited',
      reason: expect.stringMatching(/answered no request usefully for 1\d\d s \(last: HTTP 429\)/),
    });
    const sent = transport.sent.length;
    expect(sent).toBeLessThanOrEqual(6);
    expect(await client.send(DELETE('b'), idempotent)).toMatchObject({ kind: 'failed', cause: 'rate-limited' });
    expect(transport.sent.length).toBe(sent);
  });

  it('5xx after 5xx past noProgressMs, whatever max-retries allows: stopped as unreachable', async () => {
    const { client } = scriptedClient(() => ok(503), {
      maxRetries: 20,
      noProgressMs: 30_000,
      backoff: { baseMs: 10_000, maxMs: 10_000 },
    });
    expect(await client.send(DELETE('a'), idempotent)).toMatchObject({
      kind: 'failed',
      cause: 'unreachable',
      reason: expect.stringMatching(/answered no request usefully/),
    });
  });

  it('a deciding answer (2xx, 404, 4xx) resets the clock', async () => {
    let n = 0;
    const { client } = scriptedClient(() => (++n % 3 === 0 ? ok(200) : ok(429, { 'Retry-After': '30' })), {
      maxRetries: 0,
      maxRateLimitWaitMs: 3_600_000,
      noProgressMs: 120_000,
    });
    for (let i = 0; i < 10; i += 1)
      expect(await client.send(DELETE(`id-${i}`), idempotent)).toMatchObject({ kind: 'answered' });
  });

  it('server text is redacted before it is shortened, so no part of a secret survives the cut', () => {
    const secret = 'qst_live_0123456789abcdef0123456789';
    const body = JSON.stringify({ error: `${'x'.repeat(170)} Bearer ${secret}` });
    const message = serverMessage(body, (text) => text.split(secret).join('***'));
    expect(message).not.toMatch(/qst_live|0123456789/);
    expect(serverMessage(body)).toContain('qst_live');
  });
});

describe('serverMessage and JSON escapes', () => {
  it('a secret JSON-escaped in a field other than error (\\/) is still removed', () => {
    const secret = 'qst/live/abc123def456';
    const body = JSON.stringify({ message: `echo ${secret}` }).replace(/\//g, '\\/');
    expect(body).not.toContain(secret);
    const message = serverMessage(body, (text) => text.split(secret).join('***'));
    expect(message).not.toMatch(/abc123def456/);
    expect(message).toContain('***');
  });
});
