/**
 * The written guarantees (README, "Guarantees"), each proven end to end through dist/index.js against the loopback
 * emulator with injected faults. Every run is also scanned for the token (guarantee 7) by runAgainst().
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DlqEmulator, workflowEntries } from '../../emulator/server.ts';
import { counts, errors, list, runAgainst } from '../helpers/e2e.ts';

let emulator: DlqEmulator;

beforeEach(async () => {
  emulator = await DlqEmulator.start();
});
afterEach(async () => {
  await emulator.close();
});

/** Every id in exactly one list; `removed` is exactly what left the emulator (no lost-response rule in play). */
function expectExactAccounting(
  run: Awaited<ReturnType<typeof runAgainst>>,
  ids: readonly string[],
  before: readonly string[],
): void {
  const removed = list(run, 'removed');
  const notFound = list(run, 'not-found');
  const failed = list(run, 'failed');
  const all = [...removed, ...notFound, ...failed];
  expect(all.length).toBe(ids.length);
  expect([...all].sort()).toEqual([...ids].sort());
  const gone = before.filter((id) => !emulator.has('workflow', id));
  expect([...removed].sort()).toEqual(gone.filter((id) => ids.includes(id)).sort());
}

describe('1. accounting: every id in exactly one list; removed is exactly what the server deleted', () => {
  it.each(['auto', 'per-id'])('strategy %s under 5xx, 429, drops before the request and 400s', async (strategy) => {
    const ids = emulator.seed('workflow', workflowEntries(300));
    const missing = Array.from({ length: 50 }, (_, i) => `missing-${i}`);
    emulator.faults.push(
      { method: 'DELETE', pathIncludes: 'dlqIds', times: 1, status: 503 },
      { method: 'GET', times: 1, status: 500 },
      { id: ids[5], status: 400 },
      { id: ids[6], times: 2, drop: 'before' },
      { id: ids[7], times: 1, status: 429, headers: { 'Retry-After': '0' } },
      { pathIncludes: 'dlqIds', times: 1, drop: 'before' },
    );
    const before = emulator.ids('workflow');
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': [...ids, ...missing].join('\n'), strategy, 'on-not-found': 'pass' },
    });
    expectExactAccounting(run, [...ids, ...missing], before);
    for (const id of missing) expect(list(run, 'not-found')).toContain(id);
  });

  it('filter mode under faults on listing pages and bulk calls', async () => {
    const ids = emulator.seed('workflow', workflowEntries(450, { label: 'old' }));
    emulator.faults.push(
      { method: 'GET', pathIncludes: 'cursor=', times: 2, status: 502 },
      { method: 'DELETE', pathIncludes: 'dlqIds', times: 1, drop: 'before' },
      { method: 'DELETE', pathIncludes: 'dlqIds', times: 1, status: 200, body: '{"deleted":0}' },
    );
    const before = emulator.ids('workflow');
    const run = await runAgainst(emulator, { inputs: { label: 'old' } });
    expect(run.exitCode).toBe(0);
    expectExactAccounting(run, ids, before);
    expect(counts(run).removed).toBe(450);
  });
});

describe('2. bounded time', () => {
  it('a server that refuses connections: every id failed within seconds, the error names the host', async () => {
    const url = emulator.url;
    await emulator.close();
    const ids = Array.from({ length: 300 }, (_, i) => `id-${i}`);
    const started = Date.now();
    const run = await runAgainst(emulator, {
      inputs: { 'qstash-url': url, 'dlq-ids': ids.join(' '), strategy: 'per-id' },
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(ids);
    expect(errors(run)).toHaveLength(1);
    expect(errors(run)[0]).toMatch(
      new RegExp(`Could not reach QStash: ${new URL(url).host} is unreachable: connection refused`),
    );
  });

  it('a server that accepts but never answers: abandoned after request-timeout, the run ends in well under a minute', async () => {
    emulator.faults.push({ hang: 'before' });
    const ids = Array.from({ length: 100 }, (_, i) => `id-${i}`);
    const started = Date.now();
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids.join(' '), 'request-timeout': '2' } });
    expect(Date.now() - started).toBeLessThan(40_000);
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(ids);
    expect(errors(run)[0]).toMatch(/is unreachable: timed out after 2 s/);
  });

  it('TLS failure: https to a server that does not speak TLS', async () => {
    const run = await runAgainst(emulator, {
      inputs: { 'qstash-url': emulator.url.replace('http:', 'https:'), 'dlq-ids': 'a b', 'max-retries': '0' },
    });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(['a', 'b']);
    expect(errors(run)[0]).toMatch(/TLS failure|network error/);
  });
});

describe('3. cancellation', () => {
  it('SIGTERM: no new request, outputs and summary describe exactly what was deleted, exit non-zero', async () => {
    await emulator.close();
    emulator = await DlqEmulator.start({ latencyMs: 40 });
    const ids = emulator.seed('workflow', workflowEntries(400));
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids.join('\n'), strategy: 'per-id', concurrency: '2' },
      signal: { name: 'SIGTERM', afterOutput: 'removed "' },
    });
    const requestsAtExit = emulator.requests.length;
    expect(run.exitCode).toBe(1);
    const removed = list(run, 'removed');
    expect(removed.length).toBeGreaterThan(0);
    expect(removed.length).toBeLessThan(400);
    expect(removed.sort()).toEqual(ids.filter((id) => !emulator.has('workflow', id)).sort());
    expect(counts(run).removed + counts(run).failed).toBe(400);
    expect(errors(run)[0]).toMatch(/cancelled \(received SIGTERM\)/);
    expect(run.summary).toContain(`| removed | ${removed.length} |`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emulator.requests.length).toBe(requestsAtExit);
  });

  it('SIGINT then SIGTERM, with requests stuck in flight: abandoned after the grace period, outputs still written', async () => {
    const ids = emulator.seed('workflow', workflowEntries(20));
    emulator.faults.push({ id: ids[0], times: 1, status: 200, body: '' }, { hang: 'before' });
    const started = Date.now();
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids.join(' '), strategy: 'per-id', concurrency: '4' },
      signal: { name: 'SIGINT', afterOutput: '::group::Deleting', then: 'SIGTERM' },
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.exitCode).toBe(1);
    expect(counts(run).failed).toBe(ids.length - counts(run).removed);
    expect(run.stdout).toMatch(/abandoned in flight on cancellation/);
  });
});

describe('4. the token only goes to the configured origin', () => {
  let other: Server;
  let stolen: string[];
  beforeEach(async () => {
    stolen = [];
    other = createServer((req, res) => {
      stolen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.end();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  });

  it.each([301, 302, 307, 308])('a %i redirect is not followed', async (status) => {
    const target = `http://127.0.0.1:${(other.address() as AddressInfo).port}/v2/workflows/dlq/x`;
    emulator.faults.push({ status, headers: { location: target } });
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': 'x y' } });
    expect(stolen).toEqual([]);
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(['x', 'y']);
    expect(errors(run)[0]).toMatch(new RegExp(`HTTP ${status}: redirect not followed`));
  });
});

describe('5. hostile input', () => {
  it('a 10 KB id is refused before any request', async () => {
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': `ok ${'x'.repeat(10_240)}` } });
    expect(run.exitCode).toBe(1);
    expect(emulator.requests).toEqual([]);
    expect(errors(run)[0]).toMatch(/id #2 "x{80}…" \(10240 characters\) is longer than 512 characters/);
  });

  it('100,000 ids from dlq-ids-file stream through', async () => {
    const present = emulator.seed('workflow', workflowEntries(500));
    const ids = [...present, ...Array.from({ length: 99_500 }, (_, i) => `${1_700_000_000_000 + i}-0`)];
    const dir = mkdtempSync(join(tmpdir(), 'ids-'));
    writeFileSync(join(dir, 'ids.txt'), ids.join('\n'));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids-file': join(dir, 'ids.txt') } });
    expect(run.exitCode).toBe(0);
    expect(counts(run)).toEqual({ removed: 500, notFound: 99_500, failed: 0, wouldRemove: 0 });
    expect(Buffer.byteLength(run.summary)).toBeLessThan(1024 * 1024);
  });

  it('a dlq-ids-file that is a directory is refused, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ids-'));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids-file': dir } });
    expect(run.exitCode).toBe(1);
    expect(emulator.requests).toEqual([]);
    expect(errors(run)[0]).toContain(`dlq-ids-file (${JSON.stringify(dir)}): cannot read the file: it is a directory`);
  });
});

describe('6. odd servers do not crash it', () => {
  it('decides on the status code, whatever the body: HTML, empty or huge', async () => {
    const ids = emulator.seed('workflow', workflowEntries(3));
    emulator.faults.push(
      { id: ids[0], status: 200, body: '<html><body>OK</body></html>' },
      { id: ids[1], status: 404, body: `<html>${'x'.repeat(5 * 1024 * 1024)}</html>` },
      { id: 'gone', status: 404, body: '' },
    );
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': `${ids[0]} ${ids[1]} gone`, strategy: 'per-id' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual([ids[0]]);
    expect(list(run, 'not-found')).toEqual([ids[1], 'gone']);
  });

  it('a body that stalls is abandoned at request-timeout and retried', async () => {
    const ids = emulator.seed('workflow', workflowEntries(1));
    emulator.faults.push({
      id: ids[0],
      times: 1,
      status: 500,
      body: 'x'.repeat(1000),
      slowBody: { pieces: 10, intervalMs: 500 },
    });
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids[0]!, 'request-timeout': '1' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
  });

  it('429 with no headers waits a second and retries', async () => {
    const ids = emulator.seed('workflow', workflowEntries(1));
    emulator.faults.push({ id: ids[0], times: 1, status: 429 });
    const started = Date.now();
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids[0]! } });
    expect(list(run, 'removed')).toEqual(ids);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('an empty reply (connection closed without an answer) is retried', async () => {
    const ids = emulator.seed('workflow', workflowEntries(1));
    emulator.faults.push({ id: ids[0], times: 1, drop: 'before' });
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids[0]! } });
    expect(list(run, 'removed')).toEqual(ids);
  });

  it('a listing that is not JSON: filter runs fail and delete nothing; id runs fall back to per-id', async () => {
    const ids = emulator.seed('workflow', workflowEntries(40));
    emulator.faults.push({ method: 'GET', pathIncludes: '?', status: 200, body: '<html>maintenance</html>' });
    const filtered = await runAgainst(emulator, { inputs: { 'select-all': 'true' } });
    expect(filtered.exitCode).toBe(1);
    expect(errors(filtered)[0]).toMatch(/Listing the DLQ failed: the DLQ listing was not JSON/);
    expect(emulator.ids('workflow')).toHaveLength(40);
    const byId = await runAgainst(emulator, { inputs: { 'dlq-ids': ids.join(' ') } });
    expect(byId.exitCode).toBe(0);
    expect(list(byId, 'removed')).toEqual(ids);
  });
});
