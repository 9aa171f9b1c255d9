/**
 * End to end: dist/index.js run as a runner runs it, against the loopback emulator. One block per behaviour the
 * by-id contract promises. Every run is checked for token leaks by runAgainst().
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DlqEmulator, workflowEntries } from '../../emulator/server.ts';
import { counts, errors, list, runAgainst, warnings } from '../helpers/e2e.ts';
import { runnerLines } from '../../emulator/run-action.ts';

let emulator: DlqEmulator;
let seeded: string[];

beforeEach(async () => {
  emulator = await DlqEmulator.start();
  seeded = emulator.seed('workflow', workflowEntries(6));
});
afterEach(async () => {
  await emulator.close();
});

const deletesOf = (): string[] =>
  emulator.requests.filter((r) => r.method === 'DELETE').map((r) => decodeURIComponent(r.path.split('/').pop()!));

describe('deleting by id', () => {
  it('sends one DELETE per id to /v2/workflows/dlq/{id} and reports removed and not-found in input order', async () => {
    const ids = [seeded[2]!, 'gone-1', seeded[0]!, 'gone-2'];
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids.join('\n') } });

    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual([seeded[2], seeded[0]]);
    expect(list(run, 'not-found')).toEqual(['gone-1', 'gone-2']);
    expect(list(run, 'failed')).toEqual([]);
    expect(counts(run)).toEqual({ removed: 2, notFound: 2, failed: 0, wouldRemove: 0 });
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      ids.map((id) => `DELETE /v2/workflows/dlq/${id}`).sort(),
    );
    expect(emulator.has('workflow', seeded[2]!)).toBe(false);
    expect(emulator.has('workflow', seeded[1]!)).toBe(true);
  });

  it('encodes each id as exactly one path segment', async () => {
    const odd = ['x=1', 'a+b', 'ünï-☃', '.hidden', 'a..b', 'it(1)!', 'a;b', 'a&b', '[x]'];
    emulator.seed(
      'workflow',
      odd.map((dlqId) => ({ dlqId, createdAt: Date.now() })),
    );
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': JSON.stringify(odd) } });

    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(odd);
    for (const request of emulator.requests) {
      const rest = request.path.slice('/v2/workflows/dlq/'.length);
      expect(request.path.startsWith('/v2/workflows/dlq/')).toBe(true);
      expect(rest).not.toMatch(/[/?#]/);
    }
    expect(deletesOf().sort()).toEqual([...odd].sort());
  });

  it.each(['a/b', 'x/..', 'a\\b', 'x?y=1', 'h#frag', '100%', '%2F', 'a,b', 'a b', '\ud800'])(
    'refuses the id %j before any request: no DLQ id has it, and a hop could change the request with it',
    async (id) => {
      const run = await runAgainst(emulator, { inputs: { 'dlq-ids': JSON.stringify([seeded[0], id]) } });
      expect(run.exitCode).toBe(1);
      expect(emulator.requests).toEqual([]);
      expect(errors(run)[0]).toMatch(/dlq-ids: 1 invalid id: id #2 .*(contains|lone)/);
      expect(emulator.ids('workflow')).toHaveLength(6);
    },
  );

  it('accepts ids separated by newlines, commas or spaces, drops duplicates and keeps first-occurrence order', async () => {
    const [a, b, c] = seeded;
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': `${b}, ${a}\n${b}\t${c},,\n\n${a}` } });
    expect(list(run, 'removed')).toEqual([b, a, c]);
    expect(emulator.requests).toHaveLength(3);
  });

  it('combines dlq-ids with dlq-ids-file (lines or a JSON array from an earlier step)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ids-'));
    const file = join(dir, 'ids.json');
    writeFileSync(file, JSON.stringify([seeded[3], seeded[0], 'gone-9']));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': `${seeded[0]}`, 'dlq-ids-file': file } });
    expect(list(run, 'removed')).toEqual([seeded[0], seeded[3]]);
    expect(list(run, 'not-found')).toEqual(['gone-9']);
  });

  it('keeps requests in flight up to concurrency over reused keep-alive connections', async () => {
    await emulator.close();
    emulator = await DlqEmulator.start({ latencyMs: 30 });
    const ids = emulator.seed('workflow', workflowEntries(60));
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids.join(','), concurrency: '6', strategy: 'per-id' },
    });
    expect(counts(run).removed).toBe(60);
    expect(emulator.maxInFlight).toBe(6);
    expect(emulator.connectionsOpened).toBeLessThanOrEqual(6);
  });
});

describe('status codes and faults', () => {
  it('400: that id failed, not retried; the others go on; the step fails naming it', async () => {
    emulator.faults.push({ id: seeded[1], status: 400, body: '{"error":"invalid dlq id"}' });
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': seeded.slice(0, 3).join(' ') } });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual([seeded[1]]);
    expect(list(run, 'removed')).toEqual([seeded[0], seeded[2]]);
    expect(deletesOf().filter((id) => id === seeded[1])).toHaveLength(1);
    expect(errors(run)).toHaveLength(1);
    expect(errors(run)[0]).toContain(seeded[1]);
    expect(errors(run)[0]).toContain('HTTP 400: invalid dlq id');
  });

  it('401: stops sending, every unsettled id is failed, the error says to check the secret and the region', async () => {
    const many = emulator.seed('workflow', workflowEntries(40));
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': many.join('\n'), 'qstash-token': 'wrong-token-xyz', concurrency: '2' },
    });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(many);
    expect(list(run, 'removed')).toEqual([]);
    expect(emulator.requests.length).toBeLessThanOrEqual(2);
    expect(errors(run)).toHaveLength(1);
    expect(errors(run)[0]).toMatch(/refused the token/);
    expect(errors(run)[0]).toMatch(/region/);
    expect(emulator.ids('workflow')).toHaveLength(46);
  });

  it('429: waits as Burst-RateLimit-Reset says (seconds or milliseconds) and retries without using up max-retries', async () => {
    for (const unit of ['s', 'ms'] as const) {
      const ids = emulator.seed('workflow', workflowEntries(3, {}, Date.now() + (unit === 's' ? 1e6 : 2e6)));
      const reset = unit === 's' ? Math.ceil((Date.now() + 1200) / 1000) : Date.now() + 400;
      emulator.faults.push({
        id: ids[0],
        times: 2,
        status: 429,
        headers: {
          'Burst-RateLimit-Limit': '100',
          'Burst-RateLimit-Remaining': '0',
          'Burst-RateLimit-Reset': String(reset),
        },
      });
      const started = Date.now();
      const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids.join(','), 'max-retries': '0' } });
      expect(run.exitCode, run.stdout).toBe(0);
      expect(list(run, 'removed')).toEqual(ids);
      expect(Date.now() - started).toBeGreaterThanOrEqual(unit === 's' ? 300 : 350);
    }
  });

  it('429 with Retry-After is honoured', async () => {
    emulator.faults.push({ id: seeded[0], times: 1, status: 429, headers: { 'Retry-After': '1' } });
    const started = Date.now();
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': seeded[0]!, 'max-retries': '0' } });
    expect(list(run, 'removed')).toEqual([seeded[0]]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('5xx: retried with backoff up to max-retries, then failed', async () => {
    emulator.faults.push({ id: seeded[0], times: 2, status: 503 });
    emulator.faults.push({ id: seeded[1], status: 500, body: '<html>oops</html>' });
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': `${seeded[0]} ${seeded[1]}`, 'max-retries': '2' } });
    expect(list(run, 'removed')).toEqual([seeded[0]]);
    expect(list(run, 'failed')).toEqual([seeded[1]]);
    expect(deletesOf().filter((id) => id === seeded[0])).toHaveLength(3);
    expect(deletesOf().filter((id) => id === seeded[1])).toHaveLength(3);
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toContain('HTTP 500 (HTML body) (3 attempts)');
  });

  it('a hanging request is abandoned after request-timeout and retried', async () => {
    emulator.faults.push({ id: seeded[0], times: 1, hang: 'before' });
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': seeded[0]!, 'request-timeout': '0.5' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual([seeded[0]]);
    expect(emulator.count('hung')).toBe(1);
  });

  it('a connection dropped before the server acted is retried; the id is removed by the retry', async () => {
    emulator.faults.push({ id: seeded[0], times: 1, drop: 'before' });
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': seeded[0]! } });
    expect(list(run, 'removed')).toEqual([seeded[0]]);
    expect(run.summary).not.toContain('lost-response rule');
  });

  it('lost-response rule: a 404 on the retry after an unanswered DELETE counts as removed', async () => {
    emulator.faults.push({ id: seeded[0], times: 1, drop: 'after' });
    emulator.faults.push({ id: seeded[1], times: 1, hang: 'after' });
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': `${seeded[0]} ${seeded[1]} never-existed`, 'request-timeout': '0.5' },
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual([seeded[0], seeded[1]]);
    expect(list(run, 'not-found')).toEqual(['never-existed']);
    expect(run.summary).toContain('lost-response rule');
  });

  it('connection refused: every id failed after the retries, with the reason', async () => {
    const url = emulator.url;
    await emulator.close();
    const run = await runAgainst(emulator, {
      inputs: { 'qstash-url': url, 'dlq-ids': 'a b', 'max-retries': '1' },
    });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(['a', 'b']);
    expect(errors(run)[0]).toContain('connection refused');
  });

  it('every id ends in exactly one list, and removed holds only what the server deleted', async () => {
    const ids = emulator.seed('workflow', workflowEntries(30, {}, Date.now() + 5e6));
    emulator.faults.push({ id: ids[3], status: 500 });
    emulator.faults.push({ id: ids[7], status: 400 });
    emulator.faults.push({ id: ids[11], times: 1, drop: 'before' });
    emulator.faults.push({ id: ids[12], times: 1, status: 502 });
    emulator.faults.push({ id: ids[20], times: 1, status: 429, headers: { 'Retry-After': '0' } });
    const all = [...ids, 'missing-a', 'missing-b'];
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': all.join('\n'), 'max-retries': '1', strategy: 'per-id' },
    });
    const removed = list(run, 'removed');
    const notFound = list(run, 'not-found');
    const failed = list(run, 'failed');
    expect([...removed, ...notFound, ...failed].sort()).toEqual([...all].sort());
    expect(new Set([...removed, ...notFound, ...failed]).size).toBe(all.length);
    expect(failed).toEqual([ids[3], ids[7]]);
    for (const id of removed) expect(emulator.has('workflow', id)).toBe(false);
    for (const id of failed) expect(emulator.has('workflow', id)).toBe(true);
    expect(removed).toEqual(ids.filter((id) => id !== ids[3] && id !== ids[7]));
  });
});

describe('refusals before any request', () => {
  const refused = async (inputs: Record<string, string>, env: Record<string, string> = {}): Promise<string> => {
    const run = await runAgainst(emulator, { inputs, env });
    expect(run.exitCode).toBe(1);
    expect(emulator.requests).toEqual([]);
    expect(emulator.ids('workflow')).toHaveLength(6);
    expect(errors(run)).toHaveLength(1);
    expect(counts(run)).toEqual({ removed: 0, notFound: 0, failed: 0, wouldRemove: 0 });
    return errors(run)[0]!;
  };

  it.each([
    ['an empty id in a JSON array', JSON.stringify(['a', '']), /id #2 "" is empty/],
    ['a blank id in a JSON array', JSON.stringify(['  ']), /is empty/],
    ['an id made of one dot', 'ok .', /id #2 "\." is made only of dots/],
    ['an id made of dots', 'ok ..', /"\.\." is made only of dots/],
    ['an id with a control character', JSON.stringify(['a\u0007b']), /control character/],
    ['an id with a newline inside a JSON string', JSON.stringify(['a\nb']), /control character/],
    ['a malformed JSON array', '["a", ', /dlq-ids: starts with '\[' but is not a valid JSON array/],
    ['a JSON array of numbers', '[1, 2]', /element 0 of the JSON array is a number/],
  ])('refuses %s', async (_name, value, message) => {
    const error = await refused({ 'dlq-ids': value });
    expect(error).toMatch(message);
    expect(error).toMatch(/dlq-ids/);
    expect(error).toMatch(/nothing was deleted/i);
  });

  it.each([
    ['on-not-found', 'explode', /on-not-found: "explode" is not a policy\. Accepted: pass, warn, fail/],
    ['concurrency', '0', /concurrency: "0" is not accepted\. Accepted: a whole number from 1 to 100/],
    ['concurrency', '101', /concurrency: "101"/],
    ['max-retries', 'three', /max-retries: "three" is not accepted/],
    ['request-timeout', '-1', /request-timeout: "-1" is not accepted\. Accepted: a number of seconds/],
    ['dry-run', 'maybe', /dry-run: "maybe" is not a boolean\. Accepted: true or false/],
    ['qstash-url', 'not a url', /qstash-url: "not a url" is not a URL/],
    ['qstash-url', 'http://qstash.upstash.io', /is not https/],
    ['qstash-url', 'https://user:secret@qstash.upstash.io', /carries credentials/],
    ['qstash-url', 'https://qstash.upstash.io/v2', /has a path/],
    ['qstash-url', 'https://qstash.upstash.io/?x=1', /has a query or fragment/],
  ])('refuses %s: %s', async (input, value, message) => {
    const error = await refused({ 'dlq-ids': seeded[0]!, [input]: value });
    expect(error).toMatch(message);
    expect(error).not.toContain('secret@');
  });

  it('refuses a dlq-ids-file that does not exist, naming the path', async () => {
    const error = await refused({ 'dlq-ids': seeded[0]!, 'dlq-ids-file': '/nonexistent/ids.txt' });
    expect(error).toContain('dlq-ids-file ("/nonexistent/ids.txt"): cannot read the file: no such file');
  });

  it('reports every bad input at once', async () => {
    const error = await refused({ 'dlq-ids': seeded[0]!, concurrency: '0', 'dry-run': 'maybe' });
    expect(error).toMatch(/2 invalid inputs/);
    expect(error).toMatch(/concurrency/);
    expect(error).toMatch(/dry-run/);
  });

  it('a refused run writes a step summary naming each problem, and outputs for the operation asked for', async () => {
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': seeded[0]!, operation: 'restart', concurrency: '0', 'dry-run': 'maybe' },
    });
    expect(run.exitCode).toBe(1);
    expect(emulator.requests).toEqual([]);
    expect(run.summary).toContain('inputs refused');
    expect(run.summary).toContain('nothing was sent');
    expect(run.summary).toMatch(/concurrency: "0" is not accepted/);
    expect(run.summary).toMatch(/dry-run: "maybe" is not a boolean/);
    expect(run.outputs.redriven).toBe('[]');
    expect(run.outputs['redriven-count']).toBe('0');
  });

  it('no token at all: a clear error and no request', async () => {
    const error = await refused({ 'dlq-ids': seeded[0]!, 'qstash-token': '' });
    expect(error).toMatch(/qstash-token: no QStash token/);
    expect(error).toMatch(/QSTASH_TOKEN/);
  });

  it('a malformed token is refused without being echoed', async () => {
    const bad = 'Bearer abc.def-secret-part';
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': seeded[0]!, 'qstash-token': bad }, token: bad });
    expect(run.exitCode).toBe(1);
    expect(emulator.requests).toEqual([]);
    expect(errors(run)[0]).toMatch(/value hidden/);
    const printed = runnerLines(run.stdout).filter((line) => !line.startsWith('::add-mask::'));
    expect(printed.join('\n')).not.toContain('secret-part');
  });
});

describe('token and URL sources', () => {
  it('masks the token before printing anything else', async () => {
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': seeded[0]! } });
    expect(runnerLines(run.stdout)[0]).toBe(`::add-mask::${emulator.token}`);
  });

  it('reads QSTASH_TOKEN and QSTASH_URL from the environment when the inputs are empty', async () => {
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': seeded[0]!, 'qstash-token': '', 'qstash-url': '' },
      env: { QSTASH_TOKEN: emulator.token, QSTASH_URL: `${emulator.url}/` },
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual([seeded[0]]);
    expect(runnerLines(run.stdout)[0]).toBe(`::add-mask::${emulator.token}`);
  });
});

describe('nothing selected', () => {
  it('sends no request, sets every count to 0, passes with a warning', async () => {
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ' \n , ' } });
    expect(run.exitCode).toBe(0);
    expect(emulator.requests).toEqual([]);
    expect(counts(run)).toEqual({ removed: 0, notFound: 0, failed: 0, wouldRemove: 0 });
    expect(list(run, 'removed')).toEqual([]);
    expect(warnings(run)).toEqual([expect.stringMatching(/Nothing selected/)]);
  });
});

describe('on-not-found', () => {
  const ids = (): string => `${seeded[0]} missing-1 missing-2`;

  it('pass: succeeds quietly', async () => {
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids(), 'on-not-found': 'pass' } });
    expect(run.exitCode).toBe(0);
    expect(run.annotations).toEqual([]);
  });

  it('warn: succeeds with one warning naming the ids', async () => {
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids(), 'on-not-found': 'warn' } });
    expect(run.exitCode).toBe(0);
    expect(warnings(run)).toHaveLength(1);
    expect(warnings(run)[0]).toContain('"missing-1", "missing-2"');
    expect(errors(run)).toEqual([]);
  });

  it('fail: tries every id, then fails with one error naming the missing ones', async () => {
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': `missing-1 ${seeded[0]} missing-2`, 'on-not-found': 'FAIL' },
    });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'removed')).toEqual([seeded[0]]);
    expect(errors(run)).toHaveLength(1);
    expect(errors(run)[0]).toMatch(/2 ids were not found.*"missing-1", "missing-2".*on-not-found is 'fail'/);
  });
});

describe('dry run', () => {
  it('deletes nothing: probes with GET and reports would-remove; removed is []', async () => {
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': `${seeded[1]} missing-1 ${seeded[0]}`, 'dry-run': 'true' },
    });
    expect(run.exitCode).toBe(0);
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(emulator.ids('workflow')).toHaveLength(6);
    expect(list(run, 'would-remove')).toEqual([seeded[1], seeded[0]]);
    expect(list(run, 'removed')).toEqual([]);
    expect(list(run, 'not-found')).toEqual(['missing-1']);
    expect(run.outputs['would-remove-count']).toBe('2');
    expect(run.summary).toContain('dry run: nothing deleted');
  });

  it('tells the truth: what it says would be removed is what a real run then removes', async () => {
    const inputs = { 'dlq-ids': `${seeded[1]} missing-1 ${seeded[4]}` };
    const dry = await runAgainst(emulator, { inputs: { ...inputs, 'dry-run': 'true' } });
    const real = await runAgainst(emulator, { inputs });
    expect(list(real, 'removed')).toEqual(list(dry, 'would-remove'));
    expect(list(real, 'not-found')).toEqual(list(dry, 'not-found'));
  });
});

describe('report', () => {
  it('writes a step summary with counts, the DLQ, the base URL, the run link and a table of ids', async () => {
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': `${seeded[0]} missing-1` } });
    expect(run.summary).toContain('| removed | 1 |');
    expect(run.summary).toContain('| not found | 1 |');
    expect(run.summary).toContain('| failed | 0 |');
    expect(run.summary).toContain('Upstash Workflow DLQ');
    expect(run.summary).toContain(emulator.url);
    expect(run.summary).toContain('https://github.com/octo-org/shop/actions/runs/4242');
    expect(run.summary).toMatch(new RegExp(`\\| ${seeded[0]} \\| removed \\|`));
    expect(run.summary).toMatch(/\| missing-1 \| not found \|/);
  });

  it('caps the table rows and says how many were left out', async () => {
    const ids = Array.from({ length: 1500 }, (_, i) => `missing-${i}`);
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids.join('\n'), concurrency: '50' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'not-found')).toHaveLength(1500);
    expect(run.summary.match(/\| not found \| {2}\|/g)).toHaveLength(1000);
    expect(run.summary).toContain('500 more ids not shown');
    expect(Buffer.byteLength(run.summary)).toBeLessThan(300 * 1024);
  });

  it('groups the log and ends with a one-line tally', async () => {
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': `${seeded[0]} missing-1` } });
    expect(run.stdout).toContain('::group::Settings');
    expect(run.stdout).toContain('::group::Deleting 2 ids in the Upstash Workflow DLQ');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^Removed 1, not found 0?1, failed 0 \(2 ids, 2 requests, [\d.]+ s\)\.$/);
  });

  it('with step debug on, logs each request (never the token)', async () => {
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': `${seeded[0]} missing-1` },
      env: { RUNNER_DEBUG: '1' },
    });
    expect(run.stdout).toContain(`::debug::DELETE /v2/workflows/dlq/${seeded[0]} attempt 1: HTTP 200`);
    expect(run.stdout).toContain('::debug::DELETE /v2/workflows/dlq/missing-1 attempt 1: HTTP 404');
  });

  it('sets the outputs also when the step fails', async () => {
    emulator.faults.push({ id: seeded[1], status: 400 });
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': `${seeded[0]} ${seeded[1]}` } });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'removed')).toEqual([seeded[0]]);
    expect(list(run, 'failed')).toEqual([seeded[1]]);
    expect(run.outputs['failed-count']).toBe('1');
  });
});

describe('strategy: auto', () => {
  it('a small DLQ next to many ids: one listing, bulk deletes of the ids that exist, the rest not-found', async () => {
    const ids = emulator.seed('workflow', workflowEntries(400, {}, Date.now() + 1e7));
    const missing = Array.from({ length: 400 }, (_, i) => `missing-${i}`);
    // Interleave present and missing ids.
    const input = ids.flatMap((id, i) => [id, missing[i]!]);
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': input.join('\n') } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(list(run, 'not-found')).toEqual(missing);
    expect(emulator.ids('workflow')).toEqual(seeded);
    // 5 listing pages (406 entries), 4 bulk calls for the ids listed and 4 for those not listed (each answers
    // deleted: 0, which confirms them not found), instead of 800 per-id requests.
    expect(emulator.requests.length).toBe(13);
    expect(emulator.requests.filter((r) => r.method === 'DELETE').every((r) => r.path.includes('dlqIds='))).toBe(true);
  });

  it('gives the same outcomes as per-id for all present, all missing, and ids that vanish mid-run', async () => {
    const present = emulator.seed('workflow', workflowEntries(100, {}, Date.now() + 1e7));
    const vanishing = present.slice(0, 10);
    const missing = Array.from({ length: 100 }, (_, i) => `missing-${i}`);
    // Someone else deletes ten entries after the listing, before the bulk call.
    emulator.faults.push({
      method: 'DELETE',
      pathIncludes: 'dlqIds',
      times: 1,
      run: (e) => e.remove('workflow', vanishing),
    });
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': [...present, ...missing].join(' '), 'on-not-found': 'warn' },
    });
    const removed = list(run, 'removed');
    const notFound = list(run, 'not-found');
    expect(list(run, 'failed')).toEqual([]);
    expect([...removed, ...notFound].sort()).toEqual([...present, ...missing].sort());
    for (const id of missing) expect(notFound).toContain(id);
    for (const id of vanishing) expect(removed).not.toContain(id);
    expect(emulator.ids('workflow')).toEqual(seeded);
  });

  it.each([
    ['all present', 200, 0],
    ['all missing', 0, 200],
  ])('exact outcomes with the ids %s', async (_name, present, missing) => {
    const ids = emulator.seed('workflow', workflowEntries(present, {}, Date.now() + 1e7));
    const absent = Array.from({ length: missing }, (_, i) => `missing-${i}`);
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': [...ids, ...absent].join('\n') } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(list(run, 'not-found')).toEqual(absent);
    expect(emulator.ids('workflow')).toEqual(seeded);
    // A listing of at most 206 entries (3 pages) and at most 2 bulk calls, never 200 per-id requests.
    expect(emulator.requests.length).toBeLessThanOrEqual(5);
  });

  it('dry run: the listing tells which ids exist; nothing is deleted', async () => {
    const ids = emulator.seed('workflow', workflowEntries(40, {}, Date.now() + 1e7));
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': [...ids, 'gone-1'].join(' '), 'dry-run': 'true', concurrency: '1' },
    });
    expect(list(run, 'would-remove')).toEqual(ids);
    expect(list(run, 'not-found')).toEqual(['gone-1']);
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(emulator.ids('workflow')).toHaveLength(46);
  });

  it('a DLQ too large to list: the listing stops when its pages stop showing ids, per-id finishes', async () => {
    emulator.seed('workflow', workflowEntries(2000, {}, Date.now() + 1e7));
    const ids = seeded.slice(0, 5).concat(Array.from({ length: 195 }, (_, i) => `missing-${i}`));
    // 200 ids at concurrency 8 (from 160 auto lists): page 1 shows the 5, pages 2 and 3 none, under 2 a page.
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids.join(' ') } });
    expect(list(run, 'removed')).toEqual(seeded.slice(0, 5));
    expect(counts(run).notFound).toBe(195);
    expect(emulator.requestsTo('/v2/workflows/dlq', 'GET')).toHaveLength(3);
    // The 5 ids the listing showed go in one bulk call; the 195 it did not show, one by one: each id once.
    expect(emulator.requests.filter((r) => r.method === 'DELETE' && r.path.includes('dlqIds='))).toHaveLength(1);
    expect(emulator.requests.filter((r) => r.method === 'DELETE')).toHaveLength(196);
  });
});
