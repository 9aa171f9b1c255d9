/**
 * "Never sent" is a fact about the connection phase, end to end through dist/index.js: a connection that dies after
 * the request went out may have acted, whatever its error code says (so a re-run is never sent twice); one that dies
 * in the TLS handshake, before any request byte, did not (so a later 404 is "not found", not "removed").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DlqEmulator, workflowEntries, type EmulatorOptions } from '../../emulator/server.ts';
import { list, runAgainst } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy-server.ts';
import { TEST_CA_PATH, TEST_TLS_HOST, testTls } from '../helpers/tls.ts';
import { afterThisTest } from '../helpers/loopback.ts';

async function startEmulator(options: EmulatorOptions = {}): Promise<DlqEmulator> {
  const emulator = await DlqEmulator.start(options);
  afterThisTest(() => emulator.close());
  return emulator;
}

async function proxyTo(port: number): Promise<TestProxy> {
  const proxy = await startProxy({ resolve: { [TEST_TLS_HOST]: port } });
  afterThisTest(() => proxy.close());
  return proxy;
}

/**
 * A preload (node --import) that lets the first POST's request head go out, and kills its connection with
 * `code` as soon as the answer comes back: the server has received and carried out the request, the action sees
 * only an error. undici reads a socket on 'readable', which is swallowed here.
 */
function dyingAfterPostPreload(code: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'phase-preload-'));
  afterThisTest(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'die-after-post.mjs');
  writeFileSync(
    file,
    `import net from 'node:net';
const code = ${JSON.stringify(code)};
const write = net.Socket.prototype.write;
let armed = true;
net.Socket.prototype.write = function (chunk, ...rest) {
  const head = typeof chunk === 'string' ? chunk.slice(0, 5) : '';
  if (armed && head === 'POST ') {
    armed = false;
    const socket = this;
    const emit = socket.emit;
    socket.emit = function (event, ...args) {
      if (event === 'readable' || event === 'data') {
        socket.emit = emit;
        socket.destroy(Object.assign(new Error('read ' + code + ' (injected by the test)'), { code, syscall: 'read' }));
        return true;
      }
      return emit.call(this, event, ...args);
    };
  }
  return write.call(this, chunk, ...rest);
};
`,
  );
  return file;
}

/** A TCP front for `port` that resets the first connection on its first byte (the TLS ClientHello). */
async function resettingFirstHandshake(port: number): Promise<{ port: number; resets: () => number }> {
  let connections = 0;
  let resets = 0;
  const sockets = new Set<Socket>();
  const front: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    connections += 1;
    if (connections === 1) {
      socket.once('data', () => {
        resets += 1;
        socket.resetAndDestroy();
      });
      return;
    }
    const upstream = connect(port, '127.0.0.1');
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
  afterThisTest(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        front.close(() => resolve());
      }),
  );
  return { port: (front.address() as { port: number }).port, resets: () => resets };
}

const tlsEnv = { NODE_EXTRA_CA_CERTS: TEST_CA_PATH };

describe('a connection that dies after the request went out: may have acted, whatever the code', () => {
  it('through https_proxy, ETIMEDOUT right after the POST: one POST, answer-lost, never a second run', async () => {
    const emulator = await startEmulator({ tls: testTls() });
    const [id] = emulator.seed('workflow', workflowEntries(1));
    const port = Number(new URL(emulator.url).port);
    const proxy = await proxyTo(port);
    const run = await runAgainst(emulator, {
      inputs: {
        'qstash-url': `https://${TEST_TLS_HOST}:${port}`,
        'dlq-ids': id!,
        operation: 'restart',
        'max-retries': '2',
      },
      env: { ...tlsEnv, https_proxy: proxy.url },
      nodeArgs: ['--import', dyingAfterPostPreload('ETIMEDOUT')],
      timeoutMs: 20_000,
    });
    expect(proxy.requests.some((r) => r.method === 'CONNECT' && r.status === 200)).toBe(true);
    expect(emulator.countRequests('POST', `/v2/workflows/dlq/restart/${id}`), 'POSTs of the restart').toBe(1);
    expect(emulator.rerunsOf('workflow', id!)).toHaveLength(1);
    expect(list(run, 'failed')).toEqual([id]);
    expect(run.results).toEqual([expect.objectContaining({ id, outcome: 'failed', cause: 'answer-lost' })]);
    expect(run.stdout).not.toMatch(/proxy[^\n]*unreachable/iu);
  });

  it('direct, EHOSTUNREACH right after the POST: one POST, answer-lost, never a second run', async () => {
    const emulator = await startEmulator();
    const [id] = emulator.seed('workflow', workflowEntries(1));
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': id!, operation: 'restart', 'max-retries': '2' },
      nodeArgs: ['--import', dyingAfterPostPreload('EHOSTUNREACH')],
      timeoutMs: 20_000,
    });
    expect(emulator.countRequests('POST', `/v2/workflows/dlq/restart/${id}`), 'POSTs of the restart').toBe(1);
    expect(emulator.rerunsOf('workflow', id!)).toHaveLength(1);
    expect(list(run, 'failed')).toEqual([id]);
    expect(run.results).toEqual([expect.objectContaining({ id, outcome: 'failed', cause: 'answer-lost' })]);
  });
});

describe('a connection reset in the TLS handshake, before any request byte: not sent', () => {
  async function behindResettingFront() {
    const emulator = await startEmulator({ tls: testTls() });
    const front = await resettingFirstHandshake(Number(new URL(emulator.url).port));
    const proxy = await proxyTo(front.port);
    const origin = `https://${TEST_TLS_HOST}:${front.port}`;
    return { emulator, front, proxy, origin };
  }

  it('a delete answered 404 after it is not-found (not "removed"), and on-not-found: fail fails the step', async () => {
    const { emulator, front, proxy, origin } = await behindResettingFront();
    const run = await runAgainst(emulator, {
      inputs: { 'qstash-url': origin, 'dlq-ids': 'gone-1', 'on-not-found': 'fail', 'max-retries': '2' },
      env: { ...tlsEnv, https_proxy: proxy.url },
      timeoutMs: 20_000,
    });
    expect(front.resets()).toBe(1);
    expect(list(run, 'removed')).toEqual([]);
    expect(list(run, 'not-found')).toEqual(['gone-1']);
    expect(run.results).toEqual([{ id: 'gone-1', outcome: 'not-found' }]);
    expect(run.exitCode).not.toBe(0);
  });

  it('a re-run answered 404 after it is not-found, never "may have started"', async () => {
    const { emulator, front, proxy, origin } = await behindResettingFront();
    const run = await runAgainst(emulator, {
      inputs: { 'qstash-url': origin, 'dlq-ids': 'gone-1', operation: 'restart', 'max-retries': '2' },
      env: { ...tlsEnv, https_proxy: proxy.url },
      timeoutMs: 20_000,
    });
    expect(front.resets()).toBe(1);
    expect(list(run, 'not-found')).toEqual(['gone-1']);
    expect(list(run, 'failed')).toEqual([]);
    expect(run.stdout).not.toMatch(/may have started/u);
  });
});
