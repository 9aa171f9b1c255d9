/**
 * Where the URL and the token come from, and where the results file lands, through dist/index.js: a token input is
 * never sent to a host that only a variable named, mixed sources warn as the README says, and the results file is
 * readable by its owner only, with or without RUNNER_TEMP.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DlqEmulator, workflowEntries } from '../../emulator/server.ts';
import { errors, expectNoTokenLeak, list, runAgainst, warnings } from '../helpers/e2e.ts';
import { startProxy } from '../helpers/proxy-server.ts';
import { afterThisTest } from '../helpers/loopback.ts';

async function emulatorWith(count: number): Promise<{ emulator: DlqEmulator; ids: string[] }> {
  const emulator = await DlqEmulator.start();
  afterThisTest(() => emulator.close());
  const ids = emulator.seed('workflow', workflowEntries(count));
  return { emulator, ids };
}

describe('a token input with a URL from a variable', () => {
  it('is refused before any request when the variable names a host that is neither Upstash nor loopback', async () => {
    const { emulator, ids } = await emulatorWith(2);
    // Any request would go through this proxy (it resolves nothing): it must see none.
    const proxy = await startProxy();
    afterThisTest(() => proxy.close());
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids.join('\n'), 'qstash-url': '' },
      env: { QSTASH_URL: 'https://dlq-api.example.invalid', HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url },
    });
    expect(run.exitCode).toBe(1);
    expect(proxy.requests).toEqual([]);
    expect(emulator.requests).toEqual([]);
    const [error] = errors(run);
    expect(error).toMatch(/qstash-token/);
    expect(error).toMatch(/QSTASH_URL/);
    expect(error).toMatch(/dlq-api\.example\.invalid/);
    expect(error).toMatch(/qstash-url too|QSTASH_TOKEN/);
    // Refused like any bad input: outputs set and empty, a summary that names the problem.
    expect(list(run, 'removed')).toEqual([]);
    expect(run.summary).toMatch(/qstash-token/);
  });

  it('goes ahead with a warning naming both sources when the variable names loopback', async () => {
    const { emulator, ids } = await emulatorWith(1);
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids[0]!, 'qstash-url': '' },
      env: { QSTASH_URL: emulator.url },
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(warnings(run)).toContainEqual(
      expect.stringMatching(/QSTASH_URL.*input qstash-token|input qstash-token.*QSTASH_URL/su),
    );
  });
});

describe('a URL input with a token from a variable', () => {
  it('warns that the token comes from a different place', async () => {
    const { emulator, ids } = await emulatorWith(1);
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids[0]!, 'qstash-token': '' },
      env: { QSTASH_TOKEN: emulator.token },
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(warnings(run)).toContainEqual(expect.stringMatching(/input qstash-url.*QSTASH_TOKEN/su));
  });

  it('says nothing when both come from the inputs', async () => {
    const { emulator, ids } = await emulatorWith(1);
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids[0]! },
      env: { QSTASH_URL: 'https://x.invalid' },
    });
    expect(run.exitCode).toBe(0);
    expect(warnings(run).filter((w) => /comes from/u.test(w))).toEqual([]);
  });
});

describe('the results file is readable by its owner only', () => {
  const owner = process.platform === 'win32' ? it.skip : it;

  owner('under RUNNER_TEMP: mode 0600', async () => {
    const { emulator, ids } = await emulatorWith(1);
    const temp = mkdtempSync(join(tmpdir(), 'runner-temp-'));
    afterThisTest(() => rmSync(temp, { recursive: true, force: true }));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids[0]! }, env: { RUNNER_TEMP: temp } });
    const path = run.outputs['results-file']!;
    expect(dirname(path)).toBe(temp);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  owner(
    'without RUNNER_TEMP: mode 0600, in a directory of mode 0700 under the system temporary directory',
    async () => {
      const { emulator, ids } = await emulatorWith(1);
      const systemTemp = mkdtempSync(join(tmpdir(), 'system-temp-'));
      afterThisTest(() => rmSync(systemTemp, { recursive: true, force: true }));
      const run = await runAgainst(emulator, {
        inputs: { 'dlq-ids': ids[0]! },
        env: { RUNNER_TEMP: '', TMPDIR: systemTemp },
      });
      expectNoTokenLeak(run, emulator.token);
      const path = run.outputs['results-file']!;
      expect(path.startsWith(systemTemp)).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(dirname(path)).not.toBe(systemTemp);
      expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
      expect(run.results).toEqual([expect.objectContaining({ id: ids[0], outcome: 'removed' })]);
    },
  );
});

describe('QSTASH_REGION', () => {
  it('an unknown value that looks like a key is never echoed; the run falls back and says so', async () => {
    const { emulator, ids } = await emulatorWith(1);
    const keyLike = 'eyJVc2VySUQiOiJhYmMi';
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids[0]!, 'qstash-url': '', 'qstash-token': '' },
      env: { QSTASH_REGION: keyLike, QSTASH_URL: emulator.url, QSTASH_TOKEN: emulator.token },
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(warnings(run)).toContainEqual(expect.stringMatching(/QSTASH_REGION.*not shown/su));
    for (const text of [run.stdout, run.stderr, run.summary]) expect(text).not.toContain(keyLike);
  });

  it('a value that reads as a region name is shown, to help fix a typo', async () => {
    const { emulator, ids } = await emulatorWith(1);
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids[0]!, 'qstash-url': '', 'qstash-token': '' },
      env: { QSTASH_REGION: 'us-east-2', QSTASH_URL: emulator.url, QSTASH_TOKEN: emulator.token },
    });
    expect(run.exitCode).toBe(0);
    expect(warnings(run)).toContainEqual(expect.stringMatching(/us-east-2/u));
  });
});
