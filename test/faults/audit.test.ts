/**
 * Regression tests for the audit findings ("Lose nothing when a worker throws, a listing lies, a page is huge, or
 * an input is hostile"), one block per finding, end to end through dist/index.js against the loopback emulator.
 * Each failed on the dist/ of d0b648a: `ACTION_ENTRY=<old dist>/index.js npx vitest run test/faults/audit.test.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runnerLines } from '../../emulator/run-action.ts';
import { messageEntries, workflowEntries, type DlqEmulator, type FaultRule } from '../../emulator/server.ts';
import { emulatorPerTest, errors, expectExactlyOnce, list, runAgainst, warnings } from '../helpers/e2e.ts';

const start = emulatorPerTest();

/**
 * A listing the emulator answers with `pageAt(n)` for the n-th GET whose path includes `path` (n from 1), as a server
 * with its own ideas would. Returns how many pages it has answered.
 */
function scriptedListing(
  e: DlqEmulator,
  path: string,
  pageAt: (page: number) => { messages: unknown[]; cursor?: string },
): () => number {
  let page = 0;
  const rule: FaultRule = {
    method: 'GET',
    pathIncludes: path,
    status: 200,
    body: '',
    run: () => {
      page += 1;
      rule.body = JSON.stringify(pageAt(page));
    },
  };
  e.faults.push(rule);
  return () => page;
}

describe('1. one item that throws does not take the report down', () => {
  it('an id with a lone surrogate is refused before any request; outputs are set', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(60));
    const run = await runAgainst(e, { inputs: { 'dlq-ids': JSON.stringify([...ids, '\ud800']), strategy: 'per-id' } });
    expect(run.exitCode).toBe(1);
    expect(e.requests).toEqual([]);
    expect(errors(run)[0]).toMatch(/dlq-ids: 1 invalid id: id #61 .* lone UTF-16 surrogate/);
    expect(run.outputs['failed-count']).toBe('0');
    expect(e.ids('workflow')).toHaveLength(60);
  });

  it('listed entries whose dlqId is "", "." or holds a comma are failed and never sent; the rest are deleted', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(250, { label: 'old' }));
    const bad = ['', '.', 'a,b'];
    e.seed(
      'workflow',
      bad.map((dlqId) => ({ dlqId, createdAt: Date.now(), label: 'old' })),
    );
    e.seed('workflow', [
      { dlqId: 'a', createdAt: Date.now() },
      { dlqId: 'b', createdAt: Date.now() },
    ]);
    const run = await runAgainst(e, { inputs: { label: 'old' } });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'removed')).toEqual(ids);
    expect(list(run, 'failed')).toEqual(bad);
    expect(JSON.parse(run.outputs['failed-causes']!)).toEqual({
      '': 'invalid-id',
      '.': 'invalid-id',
      'a,b': 'invalid-id',
    });
    expectExactlyOnce(run, [...ids, ...bad]);
    // Never sent: nothing else was deleted, and no request named them.
    expect(e.has('workflow', 'a')).toBe(true);
    expect(e.has('workflow', 'b')).toBe(true);
    expect(e.requests.some((r) => r.path.includes('a%2Cb') || r.path.endsWith('/dlq/') || r.path.endsWith('/.'))).toBe(
      false,
    );
  });
});

describe('2. a listing is never proof of absence', () => {
  it('a listing answered 200 {} (no messages) is not an empty DLQ: every present id is deleted', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(40));
    e.faults.push({ method: 'GET', pathIncludes: 'count=', status: 200, body: '{}' });
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join(' ') } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(list(run, 'not-found')).toEqual([]);
    expect(e.ids('workflow')).toEqual([]);
  });

  for (const cursor of ['id', 'position'] as const) {
    it(`strategy auto with a cursor keyed by ${cursor}, deleting while listing: exact outcomes`, async () => {
      const e = await start({ cursor, latencyMs: 5 });
      const present = e.seed('workflow', workflowEntries(1000));
      const missing = Array.from({ length: 200 }, (_, i) => `missing-${i}`);
      const input = [...present, ...missing];
      const run = await runAgainst(e, { inputs: { 'dlq-ids': input.join('\n') } });
      expect(run.exitCode).toBe(0);
      expect(list(run, 'removed')).toEqual(present);
      expect(list(run, 'not-found')).toEqual(missing);
      expectExactlyOnce(run, input);
      expect(e.ids('workflow')).toEqual([]);
    });
  }
});

describe('3. large payloads', () => {
  it('pages shrink when entries carry large bodies, and the run says so', async () => {
    const e = await start();
    const body = 'x'.repeat(1024 * 1024);
    const ids = e.seed('workflow', workflowEntries(40, { body }));
    const run = await runAgainst(e, { inputs: { 'select-all': 'true' }, timeoutMs: 120_000 });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(run.summary).toMatch(/asked for 10 entries a page instead/);
  });

  it('a single entry larger than a page may hold: a clear error, nothing deleted', async () => {
    const e = await start();
    e.seed('workflow', workflowEntries(2, { body: 'y'.repeat(17 * 1024 * 1024) }));
    const run = await runAgainst(e, { inputs: { 'select-all': 'true' }, timeoutMs: 120_000 });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/a single DLQ entry is larger than 16 MiB/);
    expect(e.ids('workflow')).toHaveLength(2);
  });
});

describe('4. a value cannot forge workflow commands', () => {
  it('a carriage return in a filter value is logged on one line', async () => {
    const e = await start();
    const run = await runAgainst(e, {
      inputs: { label: 'x\r::warning::forged\r::stop-commands::abc\r', 'dry-run': 'true' },
    });
    expect(run.annotations.filter((a) => a.message.includes('forged'))).toEqual([]);
    expect(runnerLines(run.stdout).some((line) => line.startsWith('::stop-commands::'))).toBe(false);
  });
});

describe('5. redaction comes before escaping', () => {
  it('a token echoed by the server never reaches the summary, raw or Markdown-escaped', async () => {
    const token = 'qst_live_tok_9f8e7d';
    const e = await start({ token });
    const ids = e.seed('workflow', workflowEntries(2));
    e.faults.push({ id: ids[0], status: 400, body: JSON.stringify({ error: `bad request for token ${token}` }) });
    // runAgainst fails the test if the token appears anywhere, raw or escaped as qst\_live\_...
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join(' ') } });
    expect(run.exitCode).toBe(1);
    expect(run.summary).toContain('bad request for token \\*\\*\\*');
  });
});

describe('6. unattributed deletions are counted across concurrent batches and in auto', () => {
  it('filter run: three batches with vanishing entries add up', async () => {
    const e = await start({ latencyMs: 20 });
    const ids = e.seed('workflow', workflowEntries(300, { label: 'old' }));
    // While each bulk call is in flight, someone else deletes 3 of its entries.
    for (let batch = 0; batch < 3; batch += 1) {
      const vanish = ids.slice(batch * 100, batch * 100 + 3);
      e.faults.push({
        method: 'DELETE',
        pathIncludes: `dlqIds=${ids[batch * 100]}`,
        times: 1,
        run: (em) => void em.remove('workflow', vanish),
      });
    }
    const run = await runAgainst(e, { inputs: { label: 'old' } });
    expect(run.summary).toContain('Unattributed bulk deletions: 291');
    expect(warnings(run).join()).toMatch(/deleted 291 entries that cannot be pinned/);
    expect(list(run, 'removed')).toEqual([]);
    expect(list(run, 'not-found')).toHaveLength(300);
  });

  it('strategy auto reports them too', async () => {
    const e = await start();
    // 200 ids: auto lists from 20 ids per concurrency slot (160 at the default 8).
    const ids = e.seed('workflow', workflowEntries(200));
    e.faults.push({
      method: 'DELETE',
      pathIncludes: 'dlqIds',
      times: 1,
      run: (em) => void em.remove('workflow', ids.slice(0, 4)),
    });
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join(' ') } });
    expect(warnings(run).join()).toMatch(/deleted 96 entries that cannot be pinned/);
    expectExactlyOnce(run, ids);
  });
});

describe('7. a gateway error after the server acted', () => {
  it.each([502, 504, 408])(
    '%i after the delete happened, then 404 on the retry: removed (lost-response rule)',
    async (status) => {
      const e = await start();
      const ids = e.seed('workflow', workflowEntries(2));
      e.faults.push({ id: ids[0], method: 'DELETE', times: 1, statusAfter: status });
      const run = await runAgainst(e, {
        inputs: { 'dlq-ids': ids.join(' '), 'on-not-found': 'fail', strategy: 'per-id' },
      });
      expect(run.exitCode).toBe(0);
      expect(list(run, 'removed')).toEqual(ids);
      expect(run.summary).toContain('lost-response rule');
    },
  );
});

describe('8. the summary survives odd server data', () => {
  it("a created-at date outside JavaScript's range does not break the summary", async () => {
    const e = await start();
    e.seed('workflow', [
      { dlqId: 'far-1', createdAt: 1e17 },
      { dlqId: 'far-2', createdAt: -1e17 },
    ]);
    const run = await runAgainst(e, { inputs: { 'select-all': 'true' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(['far-1', 'far-2']);
    expect(run.summary).toContain('| far-1 |');
  });
});

describe('9. dates beyond the calendar', () => {
  it.each([
    ['from-date', '99999999999999999', /from-date: "99999999999999999" is beyond the calendar/],
    ['older-than', '999999999999999w', /older-than: "999999999999999w" reaches back before the calendar begins/],
  ])('%s: %s is refused naming the input', async (input, value, message) => {
    const e = await start();
    const run = await runAgainst(e, { inputs: { [input]: value } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(message);
    expect(e.requests).toEqual([]);
  });
});

describe('10. a FIFO or a device as dlq-ids-file', () => {
  it.each(['fifo', '/dev/zero'])('%s: refused at once, naming the input', async (kind) => {
    const e = await start();
    let path = kind;
    if (kind === 'fifo') {
      path = join(mkdtempSync(join(tmpdir(), 'fifo-')), 'ids');
      execFileSync('mkfifo', [path]);
    }
    const started = Date.now();
    const run = await runAgainst(e, { inputs: { 'dlq-ids-file': path }, timeoutMs: 20_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/dlq-ids-file \(.*\): cannot read the file: it is not a regular file/);
    expect(e.requests).toEqual([]);
  });
});

describe('11. a listing that never ends', () => {
  it('the same entries with a new cursor on every page: stopped, naming the bound', async () => {
    const e = await start();
    const pages = scriptedListing(e, 'count=', (page) => ({ messages: [{ dlqId: 'same-1' }], cursor: `c${page}` }));
    const run = await runAgainst(e, { inputs: { 'select-all': 'true' }, timeoutMs: 30_000 });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/the listing brought nothing new for 10 pages in a row/);
    expect(pages()).toBeLessThanOrEqual(11);
    expect(e.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });
});

describe('15. smaller findings', () => {
  it.each([
    ['https://a@b@qstash.example.com', 'b@'],
    ['user:pass@qstash.example.com', 'pass'],
  ])('credentials in %s are never echoed', async (url, secret) => {
    const e = await start();
    const run = await runAgainst(e, { inputs: { 'qstash-url': url, 'dlq-ids': 'x' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/qstash-url/);
    expect(errors(run)[0]).not.toContain(secret);
  });

  it('bulk calls stay under the query limit measured as URLSearchParams encodes it', async () => {
    const e = await start();
    // ( ) ! ~ are left alone by encodeURIComponent but percent-encoded in a query: three times longer. (A quote is
    // too, but no DLQ id holds one: such a listed id is refused as invalid.)
    const ids = e.seed(
      'workflow',
      Array.from({ length: 60 }, (_, i) => ({ dlqId: `${'()!~'.repeat(30)}-${i}`, createdAt: Date.now() + i })),
    );
    const run = await runAgainst(e, { inputs: { 'select-all': 'true' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    for (const request of e.requests.filter((r) => r.method === 'DELETE')) {
      expect(request.path.length).toBeLessThan(6200);
    }
  });
});

/** Findings of the hostile review of this change, each proven end to end. */
describe('review: more ways to lose an id or select too much', () => {
  it.each([
    [{ 'workflow-url': ',' }, /workflow-url: "," holds no value/],
    [{ operation: 'restart', 'failure-function-state': ' , ' }, /failure-function-state: " , " holds no value/],
    [{ url: ',' }, /url: "," holds no value/],
  ])('a filter of nothing but separators (%j) is refused, never "every entry"', async (inputs, message) => {
    const e = await start();
    e.seed('workflow', workflowEntries(5));
    const run = await runAgainst(e, { inputs });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(message);
    expect(e.requests).toEqual([]);
    expect(e.reruns).toEqual([]);
    expect(e.ids('workflow')).toHaveLength(5);
  });

  it('a results file that cannot be written: a warning; the outputs and the summary are still written', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2000));
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join('\n') },
      env: { RUNNER_TEMP: '/nonexistent/runner-temp' },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs['removed-count']).toBe('2000');
    expect(run.outputs['results-file']).toBe('');
    expect(warnings(run).join()).toMatch(/Could not write the results file/);
    expect(run.summary).toContain('| removed | 2000 |');
    expect(run.stderr).not.toMatch(/Unhandled|ENOENT/);
  });

  it('re-runs that hang after the server acted are answer-lost, never "unreachable", even when the run stops', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(40));
    e.faults.push({ method: 'POST', hang: 'after' });
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join(' '), operation: 'restart', 'request-timeout': '1', concurrency: '4' },
      timeoutMs: 90_000,
    });
    expect(run.exitCode).toBe(1);
    expectExactlyOnce(run, ids);
    const causes = JSON.parse(run.outputs['failed-causes']!) as Record<string, string>;
    for (const rerun of e.reruns) expect(causes[rerun.dlqId], `${rerun.dlqId} ran`).toBe('answer-lost');
    for (const [id, cause] of Object.entries(causes)) {
      if (cause !== 'answer-lost') expect(e.rerunsOf('workflow', id), `${id} ran but is ${cause}`).toHaveLength(0);
    }
  }, 90_000);

  it('a token in a long server message is removed before the message is shortened', async () => {
    const token = 'qst_live_tok_a1b2c3d4e5f6g7h8';
    const e = await start({ token });
    const ids = e.seed('workflow', workflowEntries(1));
    e.faults.push({ id: ids[0], status: 400, body: JSON.stringify({ error: `${'x'.repeat(150)} Bearer ${token}` }) });
    // runAgainst fails the test if any 12 characters of the token appear anywhere.
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids[0]! } });
    expect(run.exitCode).toBe(1);
  });

  it.each([
    ['2xx without a count', { statusAfter: 200, body: '{}' }],
    ['404', { statusAfter: 404, body: '' }],
  ])(
    'a bulk delete answered %s: listed ids gone count as removed (marked); ids never listed are not found, never removed',
    async (_name, fault) => {
      const e = await start();
      const ids = e.seed('workflow', workflowEntries(40));
      const missing = Array.from({ length: 200 }, (_, i) => `missing-${i}`);
      e.faults.push({ method: 'DELETE', pathIncludes: 'dlqIds=', ...fault });
      const run = await runAgainst(e, { inputs: { 'dlq-ids': [...ids, ...missing].join(' ') } });
      expect(run.exitCode).toBe(0);
      expect(list(run, 'removed')).toEqual(ids);
      expect(list(run, 'not-found')).toEqual(missing);
      expect(run.summary).toContain('lost-response rule');
    },
  );

  it('after a bulk call whose count cannot be pinned to ids, the remaining batches go id by id, exactly', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(300, { label: 'old' }));
    // While the first bulk call is in flight, 3 of its entries expire.
    e.faults.push({
      method: 'DELETE',
      pathIncludes: `dlqIds=${ids[0]}`,
      times: 1,
      run: (em) => void em.remove('workflow', ids.slice(0, 3)),
    });
    const run = await runAgainst(e, { inputs: { label: 'old', concurrency: '1' } });
    expect(run.exitCode).toBe(0);
    // The first batch: unattributed. The other 200: deleted one by one, each confirmed.
    expect(list(run, 'removed')).toEqual(ids.slice(100));
    expect(list(run, 'not-found')).toEqual(ids.slice(0, 100));
    expect(e.ids('workflow')).toEqual([]);
  });

  it('a bulk delete answered as if the ids were ignored (more deleted than named): the run stops at once', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(300, { label: 'old' }));
    e.faults.push({
      method: 'DELETE',
      pathIncludes: 'dlqIds=',
      times: 1,
      status: 200,
      body: '{"deleted":100,"cursor":"1"}',
    });
    const run = await runAgainst(e, { inputs: { label: 'old', concurrency: '1' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/as if it ignored the ids; stopped so that no unselected entry is deleted/);
    expect(e.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expectExactlyOnce(run, ids);
  });

  it('the cap counts only entries inside the dates: a listing that ignores to-date cannot stop it early', async () => {
    const e = await start();
    const old = e.seed('workflow', workflowEntries(100, {}, Date.now() - 30 * 86_400_000));
    const fresh = e.seed('workflow', workflowEntries(200));
    const all = [...old, ...fresh].map((dlqId) => ({ dlqId, createdAt: Number(dlqId.split('-')[0]) }));
    scriptedListing(e, 'toDate=', (page) => ({
      messages: all.slice((page - 1) * 100, page * 100),
      ...(page * 100 < all.length && { cursor: String(page) }),
    }));
    const run = await runAgainst(e, { inputs: { 'older-than': '1d', 'max-entries': '120' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(old);
    for (const id of fresh) expect(e.has('workflow', id)).toBe(true);
  });

  it('a cursor in a message-DLQ bulk answer (not documented as "ignored ids" there) does not stop the run', async () => {
    const e = await start();
    const ids = e.seed('qstash', messageEntries(30, { label: 'old' }));
    e.faults.push({ method: 'DELETE', pathIncludes: 'dlqIds=', statusAfter: 200, body: '{"deleted":30,"cursor":"0"}' });
    const run = await runAgainst(e, { inputs: { dlq: 'qstash', label: 'old' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
  });

  it('a listing that ignores to-date: entries created after it are left out, and the run says so', async () => {
    const e = await start();
    const old = e.seed('workflow', workflowEntries(5, {}, Date.now() - 30 * 86_400_000));
    const fresh = e.seed('workflow', workflowEntries(5));
    // The server answers the filtered listing with every entry.
    e.faults.push({
      method: 'GET',
      pathIncludes: 'toDate=',
      status: 200,
      body: JSON.stringify({
        messages: [...old, ...fresh].map((dlqId) => ({ dlqId, createdAt: Number(dlqId.split('-')[0]) })),
      }),
    });
    const run = await runAgainst(e, { inputs: { 'older-than': '7d' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(old);
    for (const id of fresh) expect(e.has('workflow', id)).toBe(true);
    expect(warnings(run).join()).toMatch(
      /The listing returned 5 entries created outside from-date \/ to-date \/ older-than \(or without a createdAt\); they were left out/,
    );
  });

  it('a JSON-escaped token (\\/) in a long server message still leaves no part of it', async () => {
    const token = 'qst/live/tok/a1b2c3d4e5f6g7';
    const e = await start({ token });
    const ids = e.seed('workflow', workflowEntries(1));
    const body = JSON.stringify({ error: `${'x'.repeat(170)} Bearer ${token}` }).replace(/\//g, '\\/');
    e.faults.push({ id: ids[0], status: 400, body });
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids[0]! } });
    expect(run.exitCode).toBe(1);
  });

  it('an unused token variable of several lines does not mangle the outputs', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(12));
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join(' ') },
      env: { QSTASH_TOKEN: 'old-token-xyz\n0' },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs['removed-count']).toBe('12');
    expect(list(run, 'removed')).toEqual(ids);
    expect(run.results).toHaveLength(12);
  });

  it('a bulk delete the server refuses (414): each id is sent alone instead', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(30, { label: 'old' }));
    e.faults.push({ method: 'DELETE', pathIncludes: 'dlqIds=', status: 414 });
    const run = await runAgainst(e, { inputs: { label: 'old' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(e.ids('workflow')).toEqual([]);
  });

  it('past the cap, the listing stops: a listing that keeps growing cannot hold the run', async () => {
    const e = await start();
    const pages = scriptedListing(e, 'count=', (page) => ({
      messages: Array.from({ length: 100 }, (_, i) => ({ dlqId: `p${page}-${i}` })),
      cursor: `c${page}`,
    }));
    const run = await runAgainst(e, { inputs: { 'select-all': 'true', 'max-entries': '250' }, timeoutMs: 30_000 });
    expect(run.exitCode).toBe(1);
    expect(pages()).toBe(3);
    expect(errors(run)[0]).toMatch(/300 or more entries match, more than max-entries \(250\)/);
    expect(e.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it.each([
    ['an id with a look-alike of / (U+FF0F)', 'x\uff0f..'],
    ['an id with a look-alike of .. (U+2025)', 'a\u2025b'],
    ['an id that is one look-alike dot (U+FF0E)', '\uff0e'],
    ['an id that is a one-dot leader (U+2024)', '\u2024'],
    ['an id with full-width digits (another id once normalised)', '\uff11\uff17\uff15\uff12-0'],
    ['an id with a Hangul filler (invisible)', 'a\u3164b'],
  ])('%s is refused before any request', async (_name, id) => {
    const e = await start();
    const run = await runAgainst(e, { inputs: { 'dlq-ids': JSON.stringify([id]) } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/Unicode normalisation|invisible|normal form NFKC/);
    expect(e.requests).toEqual([]);
  });

  it('an id with a zero-width space is refused before any request', async () => {
    const e = await start();
    const run = await runAgainst(e, { inputs: { 'dlq-ids': JSON.stringify(['\u200b']) } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/invisible formatting character/);
    expect(e.requests).toEqual([]);
  });

  it('a day the month does not have (2026-02-30) is refused, not rolled over', async () => {
    const e = await start();
    const run = await runAgainst(e, { inputs: { 'to-date': '2026-02-30' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/to-date: "2026-02-30" is not a date/);
    expect(e.requests).toEqual([]);
  });
});
