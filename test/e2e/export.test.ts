/**
 * End to end through dist/index.js: export on filter runs. The file at export-file (mode 0600, JSON Lines, one line
 * per selected entry), header values replaced with names kept, bodies only on request and with the token redacted,
 * written before a delete that then fails, and without what keep-newest kept.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { messageEntries, workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';
import { runnerTemp } from '../helpers/runner-temp.ts';

const start = emulatorPerTest();

const BASE = Date.parse('2026-11-20T00:00:00Z');
const APP = 'https://shop.example.com/api/checkout';
const OTHER = 'https://shop.example.com/api/emails';
const SECRET_HEADER = 'Bearer user-secret-value-42';

let temp: string | undefined;
afterEach(() => {
  if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
  temp = undefined;
});

/** The export-file output, checked to exist, and its lines parsed. */
function exported(run: { outputs: Record<string, string> }): Record<string, unknown>[] {
  const path = run.outputs['export-file'];
  expect(path, 'the export-file output is set').toBeTruthy();
  expect(existsSync(path!), `the export file ${path} exists`).toBe(true);
  expect(path!.startsWith(temp!), 'under RUNNER_TEMP').toBe(true);
  const text = readFileSync(path!, 'utf8');
  if (text !== '') expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function ids(lines: readonly Record<string, unknown>[]): string[] {
  return lines.map((line) => String(line.dlqId)).sort();
}

describe('export on filter runs', () => {
  it('one JSON line per selected entry, mode 0600, header values replaced (names kept), no bodies by default', async () => {
    const emulator = await start();
    const selected = emulator.seed(
      'workflow',
      workflowEntries(
        150,
        {
          workflowUrl: APP,
          header: { Authorization: [SECRET_HEADER], 'X-Trace': ['trace-1'] },
          responseHeader: { 'Set-Cookie': ['session=abc123'] },
          body: 'order 42 payload',
          responseBody: 'upstream said no',
        },
        BASE,
      ),
    );
    emulator.seed('workflow', workflowEntries(5, { workflowUrl: OTHER }, BASE));
    temp = runnerTemp();
    const run = await runAgainst(emulator, {
      inputs: { 'workflow-url': APP, export: 'entries', 'dry-run': 'true' },
      env: { RUNNER_TEMP: temp },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    const lines = exported(run);
    expect(ids(lines)).toEqual([...selected].sort());
    expect(statSync(run.outputs['export-file']!).mode & 0o777).toBe(0o600);
    const first = lines[0]!;
    // The fields the server gave are there.
    expect(first.workflowUrl).toBe(APP);
    expect(typeof first.createdAt).toBe('number');
    expect(first.workflowRunId).toEqual(expect.any(String));
    // Header names kept, values gone.
    expect(Object.keys(first.header as object).sort()).toEqual(['Authorization', 'X-Trace']);
    expect(Object.keys(first.responseHeader as object)).toEqual(['Set-Cookie']);
    const text = readFileSync(run.outputs['export-file']!, 'utf8');
    expect(text).not.toContain(SECRET_HEADER);
    expect(text).not.toContain('trace-1');
    expect(text).not.toContain('session=abc123');
    // Bodies only with entries-with-bodies.
    expect(text).not.toContain('order 42 payload');
    expect(text).not.toContain('upstream said no');
    expect(first).not.toHaveProperty('body');
    expect(first).not.toHaveProperty('responseBody');
    expect(emulator.ids('workflow')).toHaveLength(155);
  });

  it('entries-with-bodies keeps the bodies, with the token redacted from them', async () => {
    const emulator = await start();
    emulator.seed(
      'qstash',
      messageEntries(3, { url: APP, body: `payload with ${emulator.token} inside`, responseBody: 'nope' }, BASE),
    );
    temp = runnerTemp();
    const run = await runAgainst(emulator, {
      inputs: { dlq: 'qstash', url: APP, export: 'entries-with-bodies', 'dry-run': 'true' },
      env: { RUNNER_TEMP: temp },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    const lines = exported(run);
    expect(lines).toHaveLength(3);
    const text = readFileSync(run.outputs['export-file']!, 'utf8');
    expect(text).not.toContain(emulator.token);
    expect(text).not.toContain(emulator.token.slice(0, 12));
    expect(String(lines[0]!.body)).toMatch(/^payload with .* inside$/u);
    expect(lines[0]!.responseBody).toBe('nope');
  });

  it('is written before a delete that then fails: the export still holds every selected entry', async () => {
    const emulator = await start();
    const selected = emulator.seed('workflow', workflowEntries(120, { workflowUrl: APP }, BASE));
    emulator.faults.push({ method: 'DELETE', status: 500, body: '{"error":"internal"}' });
    temp = runnerTemp();
    const run = await runAgainst(emulator, {
      inputs: { 'workflow-url': APP, export: 'entries', 'max-retries': '0' },
      env: { RUNNER_TEMP: temp },
    });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'removed')).toEqual([]);
    expect(emulator.ids('workflow')).toHaveLength(120);
    expect(emulator.requests.some((r) => r.method === 'DELETE')).toBe(true);
    expect(ids(exported(run))).toEqual([...selected].sort());
  });

  it('a delete that succeeds leaves the export of what it deleted', async () => {
    const emulator = await start();
    const selected = emulator.seed('workflow', workflowEntries(30, { workflowUrl: APP }, BASE));
    temp = runnerTemp();
    const run = await runAgainst(emulator, {
      inputs: { 'workflow-url': APP, export: 'entries' },
      env: { RUNNER_TEMP: temp },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(emulator.ids('workflow')).toEqual([]);
    expect(ids(exported(run))).toEqual([...selected].sort());
  });

  it('does not hold the entries keep-newest kept', async () => {
    const emulator = await start();
    const all = emulator.seed('workflow', workflowEntries(10, {}, BASE));
    temp = runnerTemp();
    const run = await runAgainst(emulator, {
      inputs: { 'select-all': 'true', 'keep-newest': '4', export: 'entries' },
      env: { RUNNER_TEMP: temp },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(ids(exported(run))).toEqual(all.slice(0, 6).sort());
    expect(emulator.ids('workflow').sort()).toEqual(all.slice(6).sort());
  });

  it('a report exports what it counted', async () => {
    const emulator = await start();
    const all = emulator.seed('workflow', workflowEntries(7, {}, BASE));
    temp = runnerTemp();
    const run = await runAgainst(emulator, {
      inputs: { operation: 'report', export: 'entries' },
      env: { RUNNER_TEMP: temp },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('7');
    expect(ids(exported(run))).toEqual([...all].sort());
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true);
  });
});

describe('export: the token', () => {
  it('a field holding the token is redacted in the export even without bodies', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(2, { workflowUrl: `https://h.example.com/?t=${emulator.token}` }, BASE));
    temp = runnerTemp();
    const run = await runAgainst(emulator, {
      inputs: { 'select-all': 'true', 'dry-run': 'true', export: 'entries' },
      env: { RUNNER_TEMP: temp },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    const lines = exported(run);
    expect(lines).toHaveLength(2);
    const text = readFileSync(run.outputs['export-file']!, 'utf8');
    expect(text).not.toContain(emulator.token);
    expect(String(lines[0]!.workflowUrl)).toMatch(/^https:\/\/h\.example\.com\/\?t=/u);
  });
});
