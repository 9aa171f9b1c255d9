/**
 * End to end through dist/index.js: the environments a runner puts the action in. Corporate proxies (https_proxy,
 * no_proxy, credentials, refusals), QStash regions from environment variables, the results file under RUNNER_TEMP,
 * and files written on Windows (BOM, CRLF). Only loopback is used: `qstash.test.invalid` reaches the TLS emulator
 * through the test proxy's resolve map, and nowhere else.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runnerLines, type ActionRun } from '../../emulator/run-action.ts';
import { DlqEmulator, workflowEntries, type EmulatorOptions } from '../../emulator/server.ts';
import { errors, expectExactlyOnce, expectNoTokenLeak, list, runAgainst, warnings } from '../helpers/e2e.ts';
import { closedPort, startProxy, type ProxyServerOptions, type TestProxy } from '../helpers/proxy-server.ts';
import { readResultsFile, resultsFileOf, runnerTemp } from '../helpers/runner-temp.ts';
import { TEST_CA_PATH, TEST_TLS_HOST, testTls } from '../helpers/tls.ts';
import { afterThisTest } from '../helpers/loopback.ts';

async function startEmulator(options: EmulatorOptions = {}): Promise<DlqEmulator> {
  const emulator = await DlqEmulator.start(options);
  afterThisTest(() => emulator.close());
  return emulator;
}

async function proxyWith(options: ProxyServerOptions): Promise<TestProxy> {
  const proxy = await startProxy(options);
  afterThisTest(() => proxy.close());
  return proxy;
}

/** A RUNNER_TEMP that outlives one run (runAction deletes its own), removed after the test. */
function ownRunnerTemp(): string {
  const dir = runnerTemp();
  afterThisTest(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** None of `secrets` appears anywhere the action wrote, except in the runner's `::add-mask::` commands. */
function expectNotPrinted(run: ActionRun, secrets: readonly string[]): void {
  const places: Record<string, string> = {
    stdout: runnerLines(run.stdout)
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n'),
    stderr: run.stderr,
    outputs: JSON.stringify(run.outputs),
    summary: run.summary,
    results: JSON.stringify(run.results ?? []),
  };
  for (const secret of secrets) {
    for (const [place, text] of Object.entries(places)) {
      expect(text.includes(secret), `${JSON.stringify(secret)} printed in ${place}`).toBe(false);
    }
  }
}

const json = (run: ActionRun, name: string): Record<string, string> =>
  JSON.parse(run.outputs[name]!) as Record<string, string>;

/** Every output list an id can end in. */
const LISTS = ['removed', 'redriven', 'not-found', 'failed', 'would-remove', 'would-redrive'];

// ---------------------------------------------------------------------------------------------------------------

describe('proxies: https_proxy, credentials, refusals, no_proxy', () => {
  /** The emulator over TLS as qstash.test.invalid, reachable only through a proxy that resolves that name. */
  async function behindProxy(proxyOptions: Omit<ProxyServerOptions, 'resolve' | 'token'> = {}, entries = 5) {
    const emulator = await startEmulator({ tls: testTls() });
    const ids = emulator.seed('workflow', workflowEntries(entries));
    const port = Number(new URL(emulator.url).port);
    const proxy = await proxyWith({ ...proxyOptions, resolve: { [TEST_TLS_HOST]: port }, token: emulator.token });
    const origin = `https://${TEST_TLS_HOST}:${port}`;
    const inputs = { 'qstash-url': origin, 'dlq-ids': ids.join('\n'), 'max-retries': '0' };
    const env = { NODE_EXTRA_CA_CERTS: TEST_CA_PATH };
    return { emulator, ids, port, proxy, origin, inputs, env };
  }

  /** Every connection the emulator accepted was a tunnel the proxy opened, and the proxy could not see the token. */
  function expectAllTunnelled(emulator: DlqEmulator, proxy: TestProxy, port: number): void {
    const tunnels = proxy.requests.filter((r) => r.method === 'CONNECT' && r.status === 200);
    expect(tunnels.length).toBeGreaterThan(0);
    expect(proxy.requests.every((r) => r.method === 'CONNECT' && r.target === `${TEST_TLS_HOST}:${port}`)).toBe(true);
    expect(emulator.connectionsOpened, 'connections the emulator accepted = tunnels the proxy opened').toBe(
      tunnels.length,
    );
    expect(tunnels.every((t) => t.bytesUp > 0)).toBe(true);
    expect(emulator.requests.length).toBeGreaterThan(0);
    expect(emulator.requests.every((r) => r.authorized)).toBe(true);
    for (const seen of proxy.requests) {
      expect(seen.sawToken, 'the proxy saw the token in a request line or header').toBe(false);
      expect(seen.sawAuthorizationHeader, 'the proxy saw an Authorization header').toBe(false);
      expect(seen.tunnelSawToken, 'the token crossed the proxy in clear').toBe(false);
    }
  }

  it('https_proxy: every request is tunnelled through the proxy, which never sees the token; the log names it', async () => {
    const { emulator, ids, port, proxy, inputs, env } = await behindProxy();
    const run = await runAgainst(emulator, { inputs, env: { ...env, https_proxy: proxy.url } });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(emulator.ids('workflow')).toEqual([]);
    expectAllTunnelled(emulator, proxy, port);
    expect(proxy.requests.every((r) => r.proxyAuth === 'none')).toBe(true);
    expect(runnerLines(run.stdout)).toContain(`proxy: 127.0.0.1:${proxy.port}`);
    expectExactlyOnce(run, ids);
  });

  it('HTTPS_PROXY (upper case) works the same way', async () => {
    const { emulator, ids, port, proxy, inputs, env } = await behindProxy();
    const run = await runAgainst(emulator, { inputs, env: { ...env, HTTPS_PROXY: proxy.url } });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expectAllTunnelled(emulator, proxy, port);
    expect(runnerLines(run.stdout)).toContain(`proxy: 127.0.0.1:${proxy.port}`);
  });

  it('credentials in the proxy URL are URL-decoded, sent to the proxy, and never printed', async () => {
    const { emulator, ids, port, proxy, inputs, env } = await behindProxy({
      auth: { username: 'user', password: 'p@ss' },
    });
    const run = await runAgainst(emulator, {
      inputs,
      env: { ...env, https_proxy: `http://user:p%40ss@127.0.0.1:${proxy.port}` },
    });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expectAllTunnelled(emulator, proxy, port);
    expect(proxy.requests.every((r) => r.proxyAuth === 'ok')).toBe(true);
    // Neither the password (decoded or as written) nor the Basic credentials appear outside `::add-mask::`.
    expectNotPrinted(run, ['p@ss', 'p%40ss', Buffer.from('user:p@ss').toString('base64')]);
    expect(run.stdout).not.toContain('user:p');
    expect(runnerLines(run.stdout)).toContain(`proxy: 127.0.0.1:${proxy.port}`);
  });

  it.each([
    ['no credentials', (port: number) => `http://127.0.0.1:${port}`],
    ['wrong credentials', (port: number) => `http://user:n0t-the-pass@127.0.0.1:${port}`],
  ])('a proxy answering 407 (%s): proxy-refused, an error about the proxy, nothing sent', async (_, proxyUrl) => {
    const { emulator, ids, proxy, inputs, env } = await behindProxy({ auth: { username: 'user', password: 'p@ss' } });
    const run = await runAgainst(emulator, { inputs, env: { ...env, https_proxy: proxyUrl(proxy.port) } });

    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(ids);
    expect(list(run, 'removed')).toEqual([]);
    expect(new Set(Object.values(json(run, 'failed-causes')))).toEqual(new Set(['proxy-refused']));
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(proxy.requests.every((r) => r.status === 407)).toBe(true);
    const error = errors(run).join('\n');
    expect(error).toMatch(/proxy/i);
    expect(error).toContain(`127.0.0.1:${proxy.port}`);
    expect(error).toMatch(/407/);
    expect(error).not.toMatch(/token refused|token-refused|unreachable/i);
    expect(emulator.requests).toEqual([]);
    expect(emulator.connectionsOpened).toBe(0);
    expect(run.results?.every((r) => r.cause === 'proxy-refused')).toBe(true);
    expectNotPrinted(run, ['n0t-the-pass', 'p@ss']);
  });

  it('a proxy refusing CONNECT (403): proxy-refused, an error about the proxy, nothing sent', async () => {
    const { emulator, ids, proxy, inputs, env } = await behindProxy({ refuseConnect: 403 });
    const run = await runAgainst(emulator, { inputs, env: { ...env, https_proxy: proxy.url } });

    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(ids);
    expect(new Set(Object.values(json(run, 'failed-causes')))).toEqual(new Set(['proxy-refused']));
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(proxy.requests.every((r) => r.status === 403)).toBe(true);
    const error = errors(run).join('\n');
    expect(error).toMatch(/proxy/i);
    expect(error).toContain(`127.0.0.1:${proxy.port}`);
    expect(error).toMatch(/403/);
    expect(error).not.toMatch(/token refused|token-refused|unreachable/i);
    expect(emulator.requests).toEqual([]);
    expect(emulator.connectionsOpened).toBe(0);
  });

  it.each([
    ['the host', 'no_proxy', 'qstash.test.invalid'],
    ['a .suffix', 'no_proxy', '.test.invalid'],
    ['a parent domain', 'no_proxy', 'test.invalid'],
    ['host:port', 'no_proxy', 'qstash.test.invalid:<port>'],
    ['a list with spaces around commas, any case', 'no_proxy', ' example.com , QSTASH.Test.Invalid ,,other.example '],
    ['the host, in NO_PROXY (upper case)', 'NO_PROXY', 'qstash.test.invalid'],
  ])('no_proxy matching %s: the action goes direct, the proxy sees nothing', async (_, variable, value) => {
    const { emulator, ids, port, proxy, inputs, env } = await behindProxy();
    const noProxy: Record<string, string> = { [variable]: value.replace('<port>', String(port)) };
    const run = await runAgainst(emulator, { inputs, env: { ...env, https_proxy: proxy.url, ...noProxy } });

    expect(proxy.requests).toEqual([]);
    expect(runnerLines(run.stdout)).toContain('proxy: none');
    // Direct, the made-up name does not resolve: the run fails on DNS, not on the proxy.
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(ids);
    expect(run.results).toHaveLength(ids.length);
    for (const record of run.results ?? []) {
      expect(record.cause).not.toBe('proxy-refused');
      expect(String(record.reason)).toMatch(/host not found/);
    }
    expect(errors(run).join('\n')).toMatch(/host not found/);
    expect(emulator.requests).toEqual([]);
  });

  it('an unusable proxy variable is refused before any request, naming it, with every output set', async () => {
    const { emulator, inputs, env } = await behindProxy();
    const run = await runAgainst(emulator, {
      inputs,
      env: { ...env, https_proxy: 'socks5://u:pw-secret@127.0.0.1:1080' },
    });

    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(
      /https_proxy: "socks5:\/\/\*\*\*@127.0.0.1:1080" is a socks5 proxy; only HTTP proxies/,
    );
    expect(errors(run)[0]).not.toContain('pw-secret');
    expect(emulator.requests).toEqual([]);
    for (const name of LISTS) expect(list(run, name)).toEqual([]);
    expect(run.outputs['results-file']).not.toBe('');
  });

  it('a proxy that cannot be reached is named in the reason, not blamed on the QStash host', async () => {
    const { emulator, ids, inputs, env } = await behindProxy();
    const dead = await proxyWith({});
    const url = dead.url;
    await dead.close();
    const run = await runAgainst(emulator, { inputs, env: { ...env, https_proxy: url } });

    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(ids);
    for (const record of run.results ?? []) {
      expect(String(record.reason)).toContain(`proxy ${new URL(url).host}`);
      expect(String(record.reason)).not.toContain(TEST_TLS_HOST);
    }
  });

  it('no_proxy for another host leaves the proxy in use', async () => {
    const { emulator, ids, port, proxy, inputs, env } = await behindProxy();
    const run = await runAgainst(emulator, {
      inputs,
      env: { ...env, https_proxy: proxy.url, no_proxy: 'example.com,qstash.test.invalid:1,invalid.example' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expectAllTunnelled(emulator, proxy, port);
  });

  it('no_proxy entries separated only by spaces are one entry (the toolkit splits on commas): the proxy is used', async () => {
    const { emulator, ids, port, proxy, inputs, env } = await behindProxy();
    const run = await runAgainst(emulator, {
      inputs,
      env: { ...env, https_proxy: proxy.url, no_proxy: 'example.com qstash.test.invalid' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expectAllTunnelled(emulator, proxy, port);
  });

  it('http_proxy alone is not used for an https URL (the toolkit rule): the proxy sees nothing', async () => {
    const { emulator, ids, proxy, inputs, env } = await behindProxy();
    const run = await runAgainst(emulator, {
      inputs,
      env: { ...env, http_proxy: proxy.url, HTTP_PROXY: proxy.url },
    });

    expect(proxy.requests).toEqual([]);
    expect(runnerLines(run.stdout)).toContain('proxy: none');
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(ids);
    for (const record of run.results ?? []) expect(String(record.reason)).toMatch(/host not found/);
    expect(emulator.requests).toEqual([]);
  });

  it('a loopback qstash-url (http://127.0.0.1) is never proxied, whatever proxy variables are set', async () => {
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(4));
    const proxy = await proxyWith({ resolve: {}, token: emulator.token });
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids.join(' ') },
      env: { https_proxy: proxy.url, http_proxy: proxy.url, HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url },
    });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(proxy.requests).toEqual([]);
    expect(runnerLines(run.stdout)).toContain('proxy: none');
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('regions: QSTASH_REGION and <REGION>_QSTASH_URL / _TOKEN when the inputs are empty', () => {
  const noInputs = { 'qstash-url': '', 'qstash-token': '' };

  /** The `::add-mask::` lines come first, before any other line. */
  function maskedFirst(run: ActionRun, secrets: readonly string[]): void {
    const lines = runnerLines(run.stdout).filter((line) => line !== '');
    const leading = lines.slice(
      0,
      lines.findIndex((line) => !line.startsWith('::add-mask::')),
    );
    for (const secret of secrets)
      expect(leading, `${secret} masked before anything else`).toContain(`::add-mask::${secret}`);
  }

  it.each([
    ['us-east-1', 'US_EAST_1'],
    ['EU_CENTRAL_1', 'EU_CENTRAL_1'],
    ['eu-central-1', 'EU_CENTRAL_1'],
  ])(
    'QSTASH_REGION=%s reads %s_QSTASH_URL and _TOKEN; the log and summary say where each came from',
    async (region, prefix) => {
      const emulator = await startEmulator();
      const ids = emulator.seed('workflow', workflowEntries(3));
      const run = await runAgainst(emulator, {
        inputs: { ...noInputs, 'dlq-ids': ids.join(',') },
        env: {
          QSTASH_REGION: region,
          [`${prefix}_QSTASH_URL`]: emulator.url,
          [`${prefix}_QSTASH_TOKEN`]: emulator.token,
        },
      });

      expect(run.exitCode, run.stdout).toBe(0);
      expect(list(run, 'removed')).toEqual(ids);
      expect(emulator.requests.every((r) => r.authorized)).toBe(true);
      const urlSource = `${prefix}_QSTASH_URL (QSTASH_REGION=${region})`;
      const tokenSource = `${prefix}_QSTASH_TOKEN (QSTASH_REGION=${region})`;
      expect(runnerLines(run.stdout)).toContain(
        `qstash-url: ${emulator.url} (from ${urlSource}); token from ${tokenSource}`,
      );
      const summary = run.summary.replace(/\\(.)/gu, '$1');
      expect(summary).toContain(`URL from ${urlSource}; token from ${tokenSource}`);
      expect(warnings(run)).toEqual([]);
      maskedFirst(run, [emulator.token]);
    },
  );

  it('an unknown QSTASH_REGION warns and falls back to QSTASH_URL / QSTASH_TOKEN', async () => {
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(2));
    const run = await runAgainst(emulator, {
      inputs: { ...noInputs, 'dlq-ids': ids.join(',') },
      env: { QSTASH_REGION: 'ap-south-1', QSTASH_URL: emulator.url, QSTASH_TOKEN: emulator.token },
    });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(warnings(run)).toHaveLength(1);
    expect(warnings(run)[0]).toMatch(/QSTASH_REGION is "ap-south-1", not a QStash region/);
    expect(warnings(run)[0]).toMatch(/falling back to QSTASH_URL .*QSTASH_TOKEN/);
    expect(runnerLines(run.stdout)).toContain(`qstash-url: ${emulator.url} (from QSTASH_URL); token from QSTASH_TOKEN`);
  });

  it.each([
    ['not https', 'http://qstash.example.com'],
    ['not a URL', 'qstash us east'],
    ['with a path', 'https://qstash-us-east-1.upstash.io/v2/publish/x'],
  ])('a bad US_EAST_1_QSTASH_URL (%s) is refused naming that variable, before any request', async (_, value) => {
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(2));
    const run = await runAgainst(emulator, {
      inputs: { ...noInputs, 'dlq-ids': ids.join(',') },
      env: { QSTASH_REGION: 'us-east-1', US_EAST_1_QSTASH_URL: value, US_EAST_1_QSTASH_TOKEN: emulator.token },
    });

    expect(run.exitCode).toBe(1);
    expect(errors(run)).toHaveLength(1);
    expect(errors(run)[0]).toMatch(/^- US_EAST_1_QSTASH_URL: /mu);
    expect(emulator.requests).toEqual([]);
    expect(emulator.ids('workflow')).toEqual(ids);
    maskedFirst(run, [emulator.token]);
  });

  it('the URL from an input and the token from a region variable draws a warning', async () => {
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(2));
    const run = await runAgainst(emulator, {
      inputs: { 'qstash-url': emulator.url, 'qstash-token': '', 'dlq-ids': ids.join(',') },
      env: { QSTASH_REGION: 'us-east-1', US_EAST_1_QSTASH_TOKEN: emulator.token },
    });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(warnings(run).join('\n')).toMatch(
      /The QStash URL comes from input qstash-url but the token from US_EAST_1_QSTASH_TOKEN \(QSTASH_REGION=us-east-1\)/,
    );
  });

  it('every token read is masked first, even the unused ones', async () => {
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(2));
    const unused = ['eu-unused-token-5b1e8c', 'plain-unused-token-77d0aa'];
    const run = await runAgainst(emulator, {
      inputs: { ...noInputs, 'dlq-ids': ids.join(',') },
      env: {
        QSTASH_REGION: 'us-east-1',
        US_EAST_1_QSTASH_URL: emulator.url,
        US_EAST_1_QSTASH_TOKEN: emulator.token,
        EU_CENTRAL_1_QSTASH_URL: 'https://qstash-eu-central-1.upstash.io',
        EU_CENTRAL_1_QSTASH_TOKEN: unused[0]!,
        QSTASH_TOKEN: unused[1]!,
      },
    });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    maskedFirst(run, [emulator.token, ...unused]);
    for (const token of unused) expectNoTokenLeak(run, token);
  });

  it('inputs given override every variable', async () => {
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(2));
    const wrong = ['wrong-region-token-1f2e', 'wrong-env-token-9a8b'];
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids.join(',') },
      env: {
        QSTASH_REGION: 'us-east-1',
        US_EAST_1_QSTASH_URL: 'http://not-loopback.example',
        US_EAST_1_QSTASH_TOKEN: wrong[0]!,
        QSTASH_URL: `http://127.0.0.1:${await closedPort()}`,
        QSTASH_TOKEN: wrong[1]!,
      },
    });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(emulator.requests.every((r) => r.authorized)).toBe(true);
    expect(runnerLines(run.stdout)).toContain(
      `qstash-url: ${emulator.url} (from input qstash-url); token from input qstash-token`,
    );
    expect(warnings(run)).toEqual([]);
    maskedFirst(run, [emulator.token, ...wrong]);
    for (const token of wrong) expectNoTokenLeak(run, token);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('results-file: JSON Lines under RUNNER_TEMP', () => {
  /** Each record's outcome is the output list its id is in, and the records follow `ids`. */
  function expectRecordsMatchOutputs(run: ActionRun, ids: readonly string[]): void {
    const records = run.results ?? [];
    expect(records.map((r) => r.id)).toEqual(ids);
    for (const record of records) {
      const id = String(record.id);
      const homes = LISTS.filter((name) => list(run, name).includes(id));
      expect(homes, `${id} is in exactly one list`).toEqual([record.outcome]);
      if (record.outcome === 'failed') {
        expect(record.cause).toBe(json(run, 'failed-causes')[id]);
        expect(typeof record.reason).toBe('string');
      } else {
        expect(record.cause).toBeUndefined();
      }
    }
  }

  it('a failed run (a 400): one record per selected id, in selection order, under RUNNER_TEMP', async () => {
    const temp = ownRunnerTemp();
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(5));
    emulator.faults.push({ id: ids[1]!, status: 400, body: '{"error":"bad request"}' });
    const selected = [ids[3]!, 'gone-1', ids[1]!, ids[0]!, ids[3]!, 'gone-2', ids[4]!];
    const unique = [...new Set(selected)];
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': selected.join('\n'), strategy: 'per-id', 'max-retries': '0' },
      env: { RUNNER_TEMP: temp },
    });

    expect(run.exitCode).toBe(1);
    const path = resultsFileOf(run);
    expect(dirname(path)).toBe(temp);
    expect(readResultsFile(path)).toEqual(run.results);
    expectRecordsMatchOutputs(run, unique);
    expect(run.results!.find((r) => r.id === ids[1])).toMatchObject({ outcome: 'failed', cause: 'rejected' });
    expect(String(run.results!.find((r) => r.id === ids[1])!.reason)).toMatch(/400/);
    expect(run.results!.filter((r) => r.outcome === 'not-found').map((r) => r.id)).toEqual(['gone-1', 'gone-2']);
    expect(run.summary).toContain(path);
  });

  it('a cancelled run (SIGTERM) still writes every selected id', async () => {
    const temp = ownRunnerTemp();
    const emulator = await startEmulator({ latencyMs: 30 });
    const ids = emulator.seed('workflow', workflowEntries(200));
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids.join('\n'), strategy: 'per-id', concurrency: '2' },
      env: { RUNNER_TEMP: temp },
      signal: { name: 'SIGTERM', afterOutput: 'removed "' },
    });

    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/cancelled/);
    const path = resultsFileOf(run);
    expect(dirname(path)).toBe(temp);
    expect(readResultsFile(path)).toEqual(run.results);
    expectRecordsMatchOutputs(run, ids);
    const removed = run.results!.filter((r) => r.outcome === 'removed');
    expect(removed.length).toBeGreaterThan(0);
    expect(removed.length).toBeLessThan(ids.length);
    expect(run.results!.some((r) => r.cause === 'cancelled')).toBe(true);
    expect(removed.map((r) => r.id).sort()).toEqual(ids.filter((id) => !emulator.has('workflow', id)).sort());
  });

  it('a run refused by the cap writes a file with no records', async () => {
    const temp = ownRunnerTemp();
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(5));
    const run = await runAgainst(emulator, {
      inputs: { 'select-all': 'true', 'max-entries': '2' },
      env: { RUNNER_TEMP: temp },
    });

    expect(run.exitCode).toBe(1);
    expect(emulator.ids('workflow')).toEqual(ids);
    const path = resultsFileOf(run);
    expect(dirname(path)).toBe(temp);
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(run.results).toEqual([]);
  });

  it('two steps in one job (same RUNNER_TEMP) get two different files, both intact', async () => {
    const temp = ownRunnerTemp();
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(5));
    const first = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids.slice(0, 2).join(' ') },
      env: { RUNNER_TEMP: temp },
    });
    const second = await runAgainst(emulator, {
      inputs: { 'dlq-ids': [...ids.slice(2), ids[0]!].join(' ') },
      env: { RUNNER_TEMP: temp },
    });

    const [a, b] = [resultsFileOf(first), resultsFileOf(second)];
    expect(a).not.toBe(b);
    expect(dirname(a)).toBe(temp);
    expect(dirname(b)).toBe(temp);
    expect(readResultsFile(a)).toEqual([
      { id: ids[0], outcome: 'removed' },
      { id: ids[1], outcome: 'removed' },
    ]);
    expect(readResultsFile(b)).toEqual([
      { id: ids[2], outcome: 'removed' },
      { id: ids[3], outcome: 'removed' },
      { id: ids[4], outcome: 'removed' },
      { id: ids[0], outcome: 'not-found' },
    ]);
  });

  it('100,000 ids: the outputs still hold them all and the file has every record', { timeout: 90_000 }, async () => {
    const temp = ownRunnerTemp();
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(100_000));
    const idsFile = join(temp, 'ids.txt');
    writeFileSync(idsFile, `${ids.join('\n')}\n`);
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids-file': idsFile, strategy: 'auto' },
      env: { RUNNER_TEMP: temp },
      timeoutMs: 80_000,
    });

    expect(run.exitCode, run.stdout.slice(-2000)).toBe(0);
    expect(emulator.ids('workflow')).toEqual([]);
    expect(list(run, 'removed')).toEqual(ids);
    expect(run.outputs['removed-count']).toBe('100000');
    const records = run.results!;
    expect(records).toHaveLength(100_000);
    expect(records.map((r) => r.id)).toEqual(ids);
    expect(records.every((r) => r.outcome === 'removed')).toBe(true);
    expect(existsSync(resultsFileOf(run))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('files written on Windows: UTF-8 BOM and CRLF', () => {
  function idsFile(content: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'ids-file-'));
    afterThisTest(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ids.txt');
    writeFileSync(path, content, 'utf8');
    return path;
  }

  it.each([
    ['one id a line, BOM and CRLF', (ids: string[]) => `\uFEFF${ids.join('\r\n')}\r\n`],
    ['commas and CRLF, BOM, blank lines', (ids: string[]) => `\uFEFF${ids.join(',\r\n')}\r\n\r\n`],
    [
      'a JSON array with a BOM and CRLF',
      (ids: string[]) => `\uFEFF[\r\n  ${ids.map((id) => `"${id}"`).join(',\r\n  ')}\r\n]\r\n`,
    ],
    ['a one-line JSON array with a BOM', (ids: string[]) => `\uFEFF${JSON.stringify(ids)}`],
  ])('%s: reads as the same ids', async (_, write) => {
    const emulator = await startEmulator();
    const ids = emulator.seed('workflow', workflowEntries(4));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids-file': idsFile(write(ids)) } });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(list(run, 'not-found')).toEqual([]);
    expect(list(run, 'failed')).toEqual([]);
    expect(emulator.ids('workflow')).toEqual([]);
  });
});
