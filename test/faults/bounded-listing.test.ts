/**
 * Bounded memory for any listing, whatever the server sends (finding "listing memory has no bound"), end to end
 * through dist/index.js: a page with an id longer than any DLQ id, or with more entries than asked for, is a bad
 * answer whose ids are never acted on, and the run still writes its outputs, summary and results file. Also the
 * date-outlier count, which must count only ids left out.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries, type DlqEmulator } from '../../emulator/server.ts';
import { emulatorPerTest, errors, expectExactlyOnce, list, runAgainst, warnings } from '../helpers/e2e.ts';

const start = emulatorPerTest();
const MIB = 1024 * 1024;
/** The runs get a small heap: a listing that kept what a hostile server sends would abort the process. */
const SMALL_HEAP = ['--max-old-space-size=256'];
const LISTING = '/v2/workflows/dlq?';

/**
 * A hostile listing: every page brings `wanted.splice(0, 2)` (real ids, so that auto's listing would keep paying)
 * and 8 fresh ids of exactly 1 MiB, with a new cursor each time, forever.
 */
function hugeIdPages(wanted: string[]): (url: URL) => string {
  let page = 0;
  return () => {
    page += 1;
    const huge = Array.from({ length: 8 }, (_, i) => ({ dlqId: `${page}-${i}-`.padEnd(MIB, 'x'), createdAt: 1 }));
    const real = wanted.splice(0, 2).map((dlqId) => ({ dlqId, createdAt: 1 }));
    return JSON.stringify({ messages: [...real, ...huge], cursor: `hostile-${page}` });
  };
}

function bulkDeletes(e: DlqEmulator): number {
  return e.requests.filter((r) => r.method === 'DELETE' && r.path.includes('dlqIds=')).length;
}

describe('a listing page holding an id of 1 MiB', () => {
  it('select-all: the run stops with the cause, changes nothing, and still writes outputs, summary and results', async () => {
    const e = await start();
    const seeded = e.seed('workflow', workflowEntries(50));
    e.faults.push({ method: 'GET', pathIncludes: LISTING, status: 200, body: hugeIdPages([]) });
    const run = await runAgainst(e, {
      inputs: { 'select-all': 'true', 'max-entries': '0' },
      nodeArgs: SMALL_HEAP,
      timeoutMs: 60_000,
    });
    expect(run.exitCode).toBe(1);
    const error = errors(run).join('\n');
    expect(error).toContain('an id of 1048576 characters');
    expect(error).toContain('the longest DLQ id accepted is 128');
    // Outputs, summary and results file are all written; no id was selected, none acted on.
    expectExactlyOnce(run, []);
    expect(run.outputs['removed-count']).toBe('0');
    expect(run.results).toEqual([]);
    expect(run.summary).toContain('1048576 characters');
    expect(bulkDeletes(e)).toBe(0);
    expect(e.ids('workflow')).toEqual(seeded);
    // The first bad page ends the listing, and no message carries the id whole.
    expect(e.countRequests('GET', LISTING)).toBe(1);
    expect(run.stdout.length + run.summary.length + JSON.stringify(run.outputs).length).toBeLessThan(100_000);
  });

  it('auto: the listing stops at the bad page, no id of it is acted on from it, per-id settles every id once', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(400));
    e.faults.push({ method: 'GET', pathIncludes: LISTING, status: 200, body: hugeIdPages([...ids]) });
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join('\n'), concurrency: '4' },
      nodeArgs: SMALL_HEAP,
      timeoutMs: 60_000,
    });
    expect(run.exitCode).toBe(0);
    expectExactlyOnce(run, ids);
    expect(list(run, 'removed').sort()).toEqual([...ids].sort());
    expect(e.ids('workflow')).toEqual([]);
    // Nothing from the bad page went into a bulk call: every id was deleted by its own request (exact 200s).
    expect(bulkDeletes(e)).toBe(0);
    expect(e.countRequests('GET', LISTING)).toBe(1);
    expect(run.summary).toContain('an id of 1048576 characters');
    expect(run.results).toHaveLength(400);
  });
});

describe('a listing page holding more entries than asked for', () => {
  it('select-all: 4,000 entries on one page are a bad answer: nothing changed, outputs written', async () => {
    const e = await start();
    const seeded = e.seed('workflow', workflowEntries(4000));
    const page = JSON.stringify({ messages: seeded.map((dlqId) => e.get('workflow', dlqId)) });
    e.faults.push({ method: 'GET', pathIncludes: LISTING, status: 200, body: page });
    const run = await runAgainst(e, { inputs: { 'select-all': 'true', 'max-entries': '0' }, nodeArgs: SMALL_HEAP });
    expect(run.exitCode).toBe(1);
    expect(errors(run).join('\n')).toContain("the listing's page held 4000 entries, more than the 100 asked for");
    expectExactlyOnce(run, []);
    expect(run.results).toEqual([]);
    expect(run.summary).toContain('4000 entries');
    expect(bulkDeletes(e)).toBe(0);
    expect(e.ids('workflow')).toHaveLength(4000);
  });

  it('auto: the page is refused whole and every id is settled by its own request, once', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(4000));
    const page = JSON.stringify({ messages: ids.map((dlqId) => e.get('workflow', dlqId)), cursor: 'more' });
    e.faults.push({ method: 'GET', pathIncludes: LISTING, status: 200, body: page });
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join('\n'), concurrency: '8' },
      nodeArgs: SMALL_HEAP,
      timeoutMs: 90_000,
    });
    expect(run.exitCode).toBe(0);
    expectExactlyOnce(run, ids);
    expect(list(run, 'removed')).toHaveLength(4000);
    expect(bulkDeletes(e)).toBe(0);
    expect(e.countRequests('GET', LISTING)).toBe(1);
    expect(run.summary).toContain('4000 entries, more than the 100 asked for');
  }, 120_000);
});

describe('the date-outlier count', () => {
  it('counts each id left out once, and never one that was selected and acted on', async () => {
    const e = await start();
    const from = Date.UTC(2026, 0, 1);
    const inside = from + 60_000;
    const before = from - 60_000;
    const [x, y, a, b] = e.seed('workflow', [
      { dlqId: '1767225660000-0', createdAt: inside },
      { dlqId: '1767225660000-1', createdAt: before },
      { dlqId: '1767225660000-2', createdAt: inside },
      { dlqId: '1767225660000-3', createdAt: inside },
    ]) as [string, string, string, string];
    // A server that ignores fromDate: x is listed first outside the dates, then inside them; y outside, twice.
    const page1 = {
      messages: [
        { dlqId: x, createdAt: before },
        { dlqId: y, createdAt: before },
        { dlqId: a, createdAt: inside },
      ],
      cursor: 'p2',
    };
    const page2 = {
      messages: [
        { dlqId: x, createdAt: inside },
        { dlqId: y, createdAt: before },
        { dlqId: b, createdAt: inside },
      ],
    };
    e.faults.push(
      { method: 'GET', pathIncludes: 'cursor=p2', status: 200, body: JSON.stringify(page2) },
      { method: 'GET', pathIncludes: LISTING, status: 200, body: JSON.stringify(page1) },
    );
    const run = await runAgainst(e, { inputs: { 'from-date': String(from) } });
    expect(run.exitCode).toBe(0);
    // Selection order: x is selected where it is first listed inside the dates, on page 2.
    expectExactlyOnce(run, [a, x, b]);
    expect(list(run, 'removed').sort()).toEqual([x, a, b].sort());
    expect(e.ids('workflow')).toEqual([y]);
    const outliers = warnings(run).filter((w) => w.includes('created outside'));
    expect(outliers).toHaveLength(1);
    expect(outliers[0]).toContain('returned 1 entry created outside');
  });
});
