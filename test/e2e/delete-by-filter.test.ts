/**
 * End to end through dist/index.js: selecting by filter or select-all, the cap, the rules checked before any
 * request, bulk deletion by ids with reconciliation, and the QStash message DLQ.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DlqEmulator, messageEntries, workflowEntries } from '../../emulator/server.ts';
import { counts, errors, list, runAgainst, warnings } from '../helpers/e2e.ts';

const DAY = 86_400_000;
const APP = 'https://shop.example.com/api/checkout-workflow';
const OTHER = 'https://shop.example.com/api/emails';

let emulator: DlqEmulator;

beforeEach(async () => {
  emulator = await DlqEmulator.start();
});
afterEach(async () => {
  await emulator.close();
});

/** Bulk and collection requests, to prove no DELETE reached the collection without dlqIds. */
function collectionDeletes(path = '/v2/workflows/dlq'): string[] {
  return emulator.requestsTo(path, 'DELETE').map((r) => r.path);
}

function expectNoUnscopedBulkDelete(): void {
  for (const dlq of ['/v2/workflows/dlq', '/v2/dlq']) {
    for (const path of collectionDeletes(dlq))
      expect(new URL(path, 'http://x').searchParams.getAll('dlqIds').length).toBeGreaterThan(0);
  }
}

describe('filters', () => {
  it('deletes exactly the entries matching workflow-url and older-than, across many pages, with bulk calls', async () => {
    const now = Date.now();
    const old = emulator.seed('workflow', workflowEntries(1000, { workflowUrl: APP }, now - 3 * DAY));
    const recent = emulator.seed('workflow', workflowEntries(50, { workflowUrl: APP }, now));
    const other = emulator.seed('workflow', workflowEntries(120, { workflowUrl: OTHER }, now - 4 * DAY));

    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP, 'older-than': '1d' } });

    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(old);
    expect(counts(run)).toEqual({ removed: 1000, notFound: 0, failed: 0, wouldRemove: 0 });
    expect(emulator.ids('workflow').sort()).toEqual([...recent, ...other].sort());
    // 1,000 matches over 10 pages: 10 listing calls and 10 bulk calls of 100 ids.
    expect(emulator.requestsTo('/v2/workflows/dlq', 'GET')).toHaveLength(10);
    expect(collectionDeletes()).toHaveLength(10);
    expect(emulator.requests.length).toBeLessThanOrEqual(40);
    expectNoUnscopedBulkDelete();
    const firstList = new URL(emulator.requests[0]!.path, 'http://x').searchParams;
    expect(firstList.get('workflowUrl')).toBe(APP);
    expect(firstList.get('count')).toBe('100');
    expect(Number(firstList.get('toDate'))).toBeLessThan(now - DAY + 60_000);
  });

  it('ORs the values of one filter and ANDs different filters', async () => {
    const a = emulator.seed('workflow', workflowEntries(3, { workflowUrl: APP, label: 'billing' }, 1e12));
    const b = emulator.seed('workflow', workflowEntries(3, { workflowUrl: OTHER, label: 'billing' }, 2e12));
    emulator.seed('workflow', workflowEntries(3, { workflowUrl: APP, label: 'search' }, 3e12));
    emulator.seed('workflow', workflowEntries(3, { workflowUrl: 'https://x.example.com', label: 'billing' }, 4e12));
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': `${APP}\n${OTHER}`, label: 'billing' } });
    expect(list(run, 'removed')).toEqual([...a, ...b]);
  });

  it('from-date and to-date take ISO 8601 or Unix milliseconds, both inclusive', async () => {
    const base = Date.parse('2026-11-20T00:00:00Z');
    const ids = emulator.seed(
      'workflow',
      [0, 1, 2, 3, 4].map((d) => ({ dlqId: `e${d}`, createdAt: base + d * DAY })),
    );
    const run = await runAgainst(emulator, {
      inputs: { 'from-date': '2026-11-21T00:00:00Z', 'to-date': String(base + 3 * DAY) },
    });
    expect(list(run, 'removed')).toEqual(ids.slice(1, 4));
  });

  it('reports the filters, the match count and what people recognise in the step summary', async () => {
    const ids = emulator.seed('workflow', workflowEntries(2, { workflowUrl: APP, workflowRunId: 'wfr_checkout_42' }));
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP } });
    expect(run.summary).toContain(`\`workflow-url\` = ${APP}`);
    expect(run.summary).toContain('- Matched: 2');
    expect(run.summary).toContain(
      '| dlqId | outcome | URL | run / message id | created at | response status | detail |',
    );
    expect(run.summary).toMatch(
      new RegExp(
        `\\| ${ids[0]} \\| removed \\| ${APP} \\| wfr\\\\_checkout\\\\_42 \\| \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\| 500 \\|`,
      ),
    );
  });

  it('a filter that matches nothing passes with a notice and deletes nothing', async () => {
    emulator.seed('workflow', workflowEntries(5));
    const run = await runAgainst(emulator, { inputs: { label: 'nothing-has-this' } });
    expect(run.exitCode).toBe(0);
    expect(counts(run)).toEqual({ removed: 0, notFound: 0, failed: 0, wouldRemove: 0 });
    expect(run.annotations).toEqual([
      { level: 'notice', message: 'No DLQ entry matched the filters: nothing to delete.' },
    ]);
    expect(collectionDeletes()).toEqual([]);
  });
});

describe('dry run with filters', () => {
  it('lists and reports would-remove, deletes nothing', async () => {
    const ids = emulator.seed('workflow', workflowEntries(150, { workflowUrl: APP }));
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP, 'dry-run': 'true' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'would-remove')).toEqual(ids);
    expect(list(run, 'removed')).toEqual([]);
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(emulator.ids('workflow')).toHaveLength(150);
    expect(run.summary).toContain('dry run (entries listed, nothing deleted)');
  });
});

describe('select-all and the cap', () => {
  it('select-all: true deletes every entry of the DLQ, by ids', async () => {
    const ids = emulator.seed('workflow', workflowEntries(250));
    const run = await runAgainst(emulator, { inputs: { 'select-all': 'true' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(emulator.ids('workflow')).toEqual([]);
    expect(run.summary).toContain('`select-all` (every entry of the DLQ)');
    expectNoUnscopedBulkDelete();
  });

  it('more matches than max-entries: deletes nothing, fails, says how many matched and how to raise the cap', async () => {
    emulator.seed('workflow', workflowEntries(120, { workflowUrl: APP }));
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP, 'max-entries': '100' } });
    expect(run.exitCode).toBe(1);
    expect(emulator.ids('workflow')).toHaveLength(120);
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(counts(run)).toEqual({ removed: 0, notFound: 0, failed: 0, wouldRemove: 0 });
    expect(errors(run)).toEqual([
      expect.stringMatching(
        /120 entries match, more than max-entries \(100\)\. Nothing was deleted\..*raise max-entries to at least 120 \(0 removes the cap\)/,
      ),
    ]);
  });

  it('the default cap is 1000; a dry run shows what matched and that a real run would refuse', async () => {
    const ids = emulator.seed('workflow', workflowEntries(1001));
    const run = await runAgainst(emulator, { inputs: { 'select-all': 'true', 'dry-run': 'true' } });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'would-remove')).toEqual(ids);
    expect(errors(run)[0]).toMatch(
      /1001 entries match, more than max-entries \(1000\)\. A real run would delete nothing and fail\./,
    );
  });

  it('max-entries: 0 removes the cap', async () => {
    emulator.seed('workflow', workflowEntries(1001));
    const run = await runAgainst(emulator, { inputs: { 'select-all': 'true', 'max-entries': '0' } });
    expect(run.exitCode).toBe(0);
    expect(counts(run).removed).toBe(1001);
    expect(emulator.ids('workflow')).toEqual([]);
  });
});

describe('rules checked before any request', () => {
  const refused = async (inputs: Record<string, string>): Promise<string> => {
    emulator.seed('workflow', workflowEntries(3));
    const run = await runAgainst(emulator, { inputs });
    expect(run.exitCode).toBe(1);
    expect(emulator.requests).toEqual([]);
    expect(errors(run)).toHaveLength(1);
    return errors(run)[0]!;
  };

  it('ids together with filters', async () => {
    expect(await refused({ 'dlq-ids': 'a', label: 'x' })).toMatch(
      /dlq-ids \/ dlq-ids-file select entries by id and cannot be combined with label/,
    );
  });
  it('ids together with select-all', async () => {
    expect(await refused({ 'dlq-ids': 'a', 'select-all': 'true' })).toMatch(/cannot be combined with select-all/);
  });
  it('select-all together with filters', async () => {
    expect(await refused({ 'select-all': 'true', 'older-than': '7d' })).toMatch(
      /select-all: true selects every entry, so it cannot be combined with filters \(older-than\)/,
    );
  });
  it('a filter of the other DLQ', async () => {
    expect(await refused({ 'url-group': 'billing' })).toMatch(
      /url-group: is a filter of the QStash message DLQ \(dlq: qstash\), but dlq is workflow\. Filters for dlq: workflow: workflow-url/,
    );
    expect(await refused({ dlq: 'qstash', 'workflow-url': APP })).toMatch(
      /workflow-url: is a filter of the Workflow DLQ/,
    );
  });
  it.each([
    ['older-than', '7 days', /older-than: "7 days" is not a duration\. Accepted: .*90m, 12h, 7d, 2w/],
    ['from-date', 'yesterday', /from-date: "yesterday" is not a date\. Accepted: ISO 8601/],
    ['to-date', '1763625600', /to-date: "1763625600" looks like Unix seconds; give milliseconds/],
    [
      'failure-function-state',
      'FAILED',
      /failure-function-state: "FAILED" not accepted\. Accepted: CALLBACK_INPROGRESS/,
    ],
    ['dlq', 'events', /dlq: "events" is not a DLQ\. Accepted: workflow .* or qstash/],
    ['max-entries', '-1', /max-entries: "-1" is not accepted/],
    ['select-all', 'yes', /select-all: "yes" is not a boolean/],
  ])('%s: %s', async (input, value, message) => {
    const extra: Record<string, string> = input === 'dlq' || input === 'max-entries' ? { label: 'x' } : {};
    expect(await refused({ [input]: value, ...extra })).toMatch(message);
  });
  it('dates that select nothing', async () => {
    expect(await refused({ 'from-date': '2026-11-25', 'to-date': '2026-11-20' })).toMatch(
      /from-date .* is after the newest time allowed by to-date/,
    );
  });
});

describe('reconciling bulk deletes', () => {
  it('entries that vanish between listing and deletion are not-found, never removed', async () => {
    const ids = emulator.seed('workflow', workflowEntries(10, { workflowUrl: APP }));
    // Someone else deletes every entry after the listing and before our bulk call.
    emulator.faults.push({ pathIncludes: 'dlqIds', method: 'DELETE', times: 1, run: (e) => e.remove('workflow', ids) });
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP, 'on-not-found': 'warn' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual([]);
    expect(list(run, 'not-found')).toEqual(ids);
  });

  it('when some vanish, ids are settled exactly where the count allows, and never over-claimed', async () => {
    const ids = emulator.seed('workflow', workflowEntries(10, { workflowUrl: APP }));
    emulator.faults.push({
      pathIncludes: 'dlqIds',
      method: 'DELETE',
      times: 1,
      run: (e) => e.remove('workflow', ids.slice(0, 3)),
    });
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP } });
    const removed = list(run, 'removed');
    const notFound = list(run, 'not-found');
    expect([...removed, ...notFound].sort()).toEqual([...ids].sort());
    // 7 were deleted by the action, but it cannot tell which of the 10 absent ids they were: none is claimed.
    expect(removed).toEqual([]);
    expect(run.summary).toContain('Unattributed bulk deletions: 7');
    expect(warnings(run).join()).toMatch(/bulk calls deleted 7 entries that cannot be pinned to ids/i);
    expect(emulator.ids('workflow')).toEqual([]);
  });

  it('a bulk call that deleted fewer than sent while the rest remain: the rest are deleted one by one, exactly', async () => {
    const ids = emulator.seed('workflow', workflowEntries(5, { workflowUrl: APP }));
    // The server answers 200 {"deleted": 0} without deleting anything.
    emulator.faults.push({ pathIncludes: 'dlqIds', method: 'DELETE', times: 1, status: 200, body: '{"deleted":0}' });
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(emulator.ids('workflow')).toEqual([]);
    expect(emulator.requests.filter((r) => r.method === 'DELETE' && !r.path.includes('?'))).toHaveLength(5);
  });

  it('a lost bulk response: the retry deletes nothing more, the absent ids count as removed (lost-response rule)', async () => {
    const ids = emulator.seed('workflow', workflowEntries(5, { workflowUrl: APP }));
    emulator.faults.push({ pathIncludes: 'dlqIds', method: 'DELETE', times: 1, drop: 'after' });
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expect(run.summary).toContain('lost-response rule');
  });

  it('a bulk call that keeps failing: its ids are failed and still in the DLQ; other batches go on', async () => {
    const ids = emulator.seed('workflow', workflowEntries(150, { workflowUrl: APP }));
    // A 5xx may come after the server acted, so the batch's ids are looked up and deleted one by one: those fail too.
    emulator.faults.push({ pathIncludes: `dlqIds=${ids[0]}`, method: 'DELETE', status: 500 });
    for (const id of ids.slice(0, 100)) emulator.faults.push({ id, method: 'DELETE', status: 500 });
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP, 'max-retries': '1' } });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual(ids.slice(0, 100));
    expect(list(run, 'removed')).toEqual(ids.slice(100));
    expect(emulator.ids('workflow')).toEqual(ids.slice(0, 100));
  });

  it('a listing that fails: nothing is deleted and the step fails', async () => {
    emulator.seed('workflow', workflowEntries(300));
    emulator.faults.push({ pathIncludes: 'cursor=', method: 'GET', status: 503 });
    const run = await runAgainst(emulator, { inputs: { 'select-all': 'true', 'max-retries': '1' } });
    expect(run.exitCode).toBe(1);
    expect(emulator.ids('workflow')).toHaveLength(300);
    expect(errors(run)[0]).toMatch(/Listing the DLQ failed: HTTP 503.*Nothing was deleted/);
  });

  it('a refused token during the listing: nothing is deleted, the error names the token', async () => {
    emulator.seed('workflow', workflowEntries(3));
    const run = await runAgainst(emulator, { inputs: { 'select-all': 'true', 'qstash-token': 'nope' } });
    expect(run.exitCode).toBe(1);
    expect(emulator.ids('workflow')).toHaveLength(3);
    expect(errors(run)[0]).toMatch(/refused the token/);
  });
});

describe('the QStash message DLQ', () => {
  it('dlq: qstash with ids deletes with DELETE /v2/dlq/{id}', async () => {
    const ids = emulator.seed('qstash', messageEntries(3));
    const run = await runAgainst(emulator, { inputs: { dlq: 'qstash', 'dlq-ids': `${ids[0]} ${ids[2]} gone` } });
    expect(list(run, 'removed')).toEqual([ids[0], ids[2]]);
    expect(list(run, 'not-found')).toEqual(['gone']);
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      [`DELETE /v2/dlq/${ids[0]}`, `DELETE /v2/dlq/${ids[2]}`, 'DELETE /v2/dlq/gone'].sort(),
    );
    expect(run.summary).toContain('QStash message DLQ');
  });

  it('dlq: qstash with filters lists /v2/dlq and bulk-deletes by ids', async () => {
    const match = emulator.seed('qstash', messageEntries(4, { topicName: 'billing', responseStatus: 502 }, 1e12));
    emulator.seed('qstash', messageEntries(4, { topicName: 'billing', responseStatus: 404 }, 2e12));
    emulator.seed('qstash', messageEntries(4, { topicName: 'search', responseStatus: 502 }, 3e12));
    const workflow = emulator.seed('workflow', workflowEntries(2));
    const run = await runAgainst(emulator, {
      inputs: { dlq: 'qstash', 'url-group': 'billing', 'response-status': '500, 502' },
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(match);
    expect(emulator.ids('qstash')).toHaveLength(8);
    expect(emulator.ids('workflow')).toEqual(workflow);
    expect(emulator.requests.every((r) => r.path.startsWith('/v2/dlq?'))).toBe(true);
    expectNoUnscopedBulkDelete();
  });
});
