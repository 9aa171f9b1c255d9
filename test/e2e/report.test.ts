/**
 * End to end through dist/index.js: operation report on both DLQs (the whole DLQ, filters, ids), its outputs with
 * exact figures, every group-by field, the summary, the threshold gate on a report and on a delete, and a listing
 * that fails half-way (no count is claimed).
 */
import { describe, expect, it } from 'vitest';
import { DlqEmulator, messageEntries, workflowEntries, type DlqKind } from '../../emulator/server.ts';
import { counts, emulatorPerTest, errors, list, runAgainst, warnings } from '../helpers/e2e.ts';

const start = emulatorPerTest();

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BASE = Date.parse('2026-11-20T00:00:00Z');
const APP = 'https://shop.example.com/api/checkout';
const OTHER = 'https://shop.example.com/api/emails';

function onlyGets(emulator: DlqEmulator): void {
  expect(emulator.requests.length).toBeGreaterThan(0);
  expect(emulator.requests.filter((r) => r.method !== 'GET')).toEqual([]);
}

function groups(run: { outputs: Record<string, string> }): Record<string, number> {
  return JSON.parse(run.outputs.groups!) as Record<string, number>;
}

describe('report: the whole DLQ', () => {
  it('counts every entry of the workflow DLQ with no selection and no cap (1,500 entries, max-entries 1000)', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(1000, { workflowUrl: APP }, BASE));
    emulator.seed('workflow', workflowEntries(500, { workflowUrl: OTHER }, BASE + DAY));
    const run = await runAgainst(emulator, { inputs: { operation: 'report' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('1500');
    // workflowEntries: one second apart, the newest one second before `now`.
    expect(run.outputs['oldest-created-at']).toBe(new Date(BASE - 1000 * 1000).toISOString());
    expect(run.outputs['newest-created-at']).toBe(new Date(BASE + DAY - 1000).toISOString());
    expect(groups(run)).toEqual({ [APP]: 1000, [OTHER]: 500 });
    expect(run.outputs['groups-others']).toBe('0');
    expect(run.outputs['threshold-exceeded']).toBe('false');
    expect(errors(run)).toEqual([]);
    onlyGets(emulator);
    expect(emulator.ids('workflow')).toHaveLength(1500);
    // The summary: totals, the groups table, the age buckets.
    expect(run.summary).toContain('### What the DLQ holds');
    expect(run.summary).toContain('- Entries: **1500**');
    expect(run.summary).toContain('Filters: none: the whole DLQ');
    expect(run.summary).toContain('| workflow-url | entries |');
    expect(run.summary).toMatch(/\| https:\/\/shop\.example\.com\/api\/checkout \| 1000 \|/u);
    expect(run.summary).toContain('| older | 1500 |');
    expect(run.summary).toContain('| < 1 h | 0 |');
  });

  it('counts the QStash message DLQ, grouped by url by default', async () => {
    const emulator = await start();
    emulator.seed('qstash', messageEntries(3, { url: APP }, BASE));
    emulator.seed('qstash', messageEntries(2, { url: OTHER }, BASE + HOUR));
    const run = await runAgainst(emulator, { inputs: { operation: 'report', dlq: 'qstash' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('5');
    expect(run.outputs['oldest-created-at']).toBe(new Date(BASE - 3000).toISOString());
    expect(run.outputs['newest-created-at']).toBe(new Date(BASE + HOUR - 1000).toISOString());
    expect(groups(run)).toEqual({ [APP]: 3, [OTHER]: 2 });
    onlyGets(emulator);
    expect(emulator.requestsTo('/v2/dlq', 'GET').length).toBeGreaterThan(0);
  });

  it('an empty DLQ: entries-count 0, the dates empty, groups {}', async () => {
    const emulator = await start();
    const run = await runAgainst(emulator, { inputs: { operation: 'report' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('0');
    expect(run.outputs['oldest-created-at']).toBe('');
    expect(run.outputs['newest-created-at']).toBe('');
    expect(groups(run)).toEqual({});
    onlyGets(emulator);
  });
});

describe('report: filters and ids', () => {
  it('with filters: counts only what matches', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(7, { workflowUrl: APP }, BASE));
    emulator.seed('workflow', workflowEntries(4, { workflowUrl: OTHER }, BASE));
    const run = await runAgainst(emulator, { inputs: { operation: 'report', 'workflow-url': APP } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('7');
    expect(groups(run)).toEqual({ [APP]: 7 });
    expect(run.summary).toContain(`\`workflow-url\` = ${APP}`);
    onlyGets(emulator);
    expect(emulator.ids('workflow')).toHaveLength(11);
  });

  it('with dlq-ids: entries-count counts those that exist, not-found lists the rest', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(3, { workflowUrl: APP }, BASE));
    const run = await runAgainst(emulator, {
      inputs: { operation: 'report', 'dlq-ids': [...ids.slice(0, 2), 'gone-1', 'gone-2'].join('\n') },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('2');
    expect(list(run, 'not-found')).toEqual(['gone-1', 'gone-2']);
    expect(run.outputs['oldest-created-at']).toBe(new Date(BASE - 3000).toISOString());
    expect(run.outputs['newest-created-at']).toBe(new Date(BASE - 2000).toISOString());
    expect(groups(run)).toEqual({ [APP]: 2 });
    onlyGets(emulator);
    // One request per id.
    expect(emulator.requests).toHaveLength(4);
  });
});

/** Each group-by field, with the entry field behind it, per DLQ. */
const FIELDS: Record<DlqKind, [string, (value: string) => Record<string, unknown>][]> = {
  workflow: [
    ['workflow-url', (v) => ({ workflowUrl: v })],
    ['url', (v) => ({ url: v })],
    ['response-status', (v) => ({ responseStatus: Number(v) })],
    ['failure-function-state', (v) => ({ failureFunctionState: v })],
    ['flow-control-key', (v) => ({ flowControlKey: v })],
    ['caller-ip', (v) => ({ callerIP: v })],
  ],
  qstash: [
    ['url', (v) => ({ url: v })],
    ['response-status', (v) => ({ responseStatus: Number(v) })],
    ['flow-control-key', (v) => ({ flowControlKey: v })],
    ['url-group', (v) => ({ topicName: v })],
    ['queue-name', (v) => ({ queueName: v })],
    ['caller-ip', (v) => ({ callerIP: v })],
  ],
};

describe('report: group-by', () => {
  for (const dlq of ['workflow', 'qstash'] as const) {
    const make = dlq === 'workflow' ? workflowEntries : messageEntries;
    it(`every group-by field of the ${dlq} DLQ; an entry without the field counts under ""`, async () => {
      // One emulator per field: entries with the field's value 401 (x3) and 503 (x2), and one without the field.
      for (const [field, shape] of FIELDS[dlq]) {
        const fresh = await DlqEmulator.start();
        try {
          fresh.seed(dlq, make(3, shape('401'), BASE));
          fresh.seed(dlq, make(2, shape('503'), BASE + 10_000));
          const fields = Object.keys(shape('1'));
          const bare = make(1, {}, BASE + 20_000).map(
            (entry) =>
              Object.fromEntries(Object.entries(entry).filter(([key]) => !fields.includes(key))) as typeof entry,
          );
          fresh.seed(dlq, bare);
          const run = await runAgainst(fresh, { inputs: { operation: 'report', dlq, 'group-by': field } });
          expect(run.exitCode, `${field}: ${run.stdout}`).toBe(0);
          expect(groups(run), field).toEqual({ '401': 3, '503': 2, '': 1 });
          expect(run.outputs['entries-count']).toBe('6');
          expect(run.summary).toContain(`| ${field} | entries |`);
          expect(run.summary).toContain('| *(no value)* | 1 |');
          onlyGets(fresh);
        } finally {
          await fresh.close();
        }
      }
    }, 60_000);

    it(`label on the ${dlq} DLQ: several labels count under each, a single label too`, async () => {
      const emulator = await start();
      emulator.seed(dlq, make(2, { labels: ['billing', 'eu'] }, BASE));
      emulator.seed(dlq, make(3, { label: 'billing' }, BASE + 10_000));
      emulator.seed(dlq, make(1, {}, BASE + 20_000));
      const run = await runAgainst(emulator, { inputs: { operation: 'report', dlq, 'group-by': 'label' } });
      expect(run.exitCode, run.stdout).toBe(0);
      expect(run.outputs['entries-count']).toBe('6');
      expect(groups(run)).toEqual({ billing: 5, eu: 2, '': 1 });
    });
  }

  it('a hostile value (__proto__, constructor) is just a key', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(2, { flowControlKey: '__proto__' }, BASE));
    emulator.seed('workflow', workflowEntries(3, { flowControlKey: 'constructor' }, BASE + 10_000));
    const run = await runAgainst(emulator, { inputs: { operation: 'report', 'group-by': 'flow-control-key' } });
    expect(run.exitCode, run.stdout).toBe(0);
    const parsed = groups(run);
    expect(Object.prototype.hasOwnProperty.call(parsed, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toBe(2);
    expect(Object.getOwnPropertyDescriptor(parsed, 'constructor')?.value).toBe(3);
    expect(Object.keys(parsed).sort()).toEqual(['__proto__', 'constructor']);
  });

  it('the token inside a group value is redacted from the groups output and the summary', async () => {
    const emulator = await start();
    const leaky = `https://hooks.example.com/?token=${emulator.token}`;
    emulator.seed('workflow', workflowEntries(2, { workflowUrl: leaky }, BASE));
    // runAgainst fails the test if the token appears in any output, the summary or the log.
    const run = await runAgainst(emulator, { inputs: { operation: 'report' } });
    expect(run.exitCode, run.stdout).toBe(0);
    const parsed = groups(run);
    expect(Object.values(parsed)).toEqual([2]);
    expect(Object.keys(parsed)[0]).toMatch(/^https:\/\/hooks\.example\.com\/\?token=/u);
  });
});

describe('thresholds', () => {
  it('report, fail-if-count-above 0 on a DLQ that holds something: fails naming the threshold, figure, limit', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(1, {}, BASE));
    const run = await runAgainst(emulator, { inputs: { operation: 'report', 'fail-if-count-above': '0' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['threshold-exceeded']).toBe('true');
    expect(run.outputs['entries-count']).toBe('1');
    expect(errors(run)).toEqual([expect.stringMatching(/1 entry is selected, more than fail-if-count-above \(0\)/u)]);
    onlyGets(emulator);
  });

  it('report, fail-if-count-above 0 on an empty DLQ, and N on exactly N entries: passes', async () => {
    const emulator = await start();
    let run = await runAgainst(emulator, { inputs: { operation: 'report', 'fail-if-count-above': '0' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['threshold-exceeded']).toBe('false');
    emulator.seed('workflow', workflowEntries(5, {}, BASE));
    run = await runAgainst(emulator, { inputs: { operation: 'report', 'fail-if-count-above': '5' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['threshold-exceeded']).toBe('false');
    expect(run.outputs['entries-count']).toBe('5');
    run = await runAgainst(emulator, { inputs: { operation: 'report', 'fail-if-count-above': '4' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)).toEqual([
      expect.stringMatching(/5 entries are selected, more than fail-if-count-above \(4\)/u),
    ]);
  });

  it('report, fail-if-older-than: fails on an old entry with its date, passes when everything is recent', async () => {
    const emulator = await start();
    const now = Date.now();
    emulator.seed('workflow', workflowEntries(2, {}, now - HOUR));
    let run = await runAgainst(emulator, { inputs: { operation: 'report', 'fail-if-older-than': '1d' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['threshold-exceeded']).toBe('false');
    emulator.seed('workflow', workflowEntries(1, {}, BASE));
    run = await runAgainst(emulator, { inputs: { operation: 'report', 'fail-if-older-than': '1d' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['threshold-exceeded']).toBe('true');
    expect(errors(run)).toEqual([
      expect.stringContaining(`the oldest selected entry was created at ${new Date(BASE - 1000).toISOString()}`),
    ]);
    expect(errors(run)[0]).toContain('older than fail-if-older-than (1d)');
  });

  it('on-threshold warn: the report passes with a warning, threshold-exceeded true', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(3, {}, BASE));
    const run = await runAgainst(emulator, {
      inputs: { operation: 'report', 'fail-if-count-above': '2', 'on-threshold': 'warn' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['threshold-exceeded']).toBe('true');
    expect(errors(run)).toEqual([]);
    expect(warnings(run)).toContainEqual(
      expect.stringMatching(/3 entries are selected, more than fail-if-count-above \(2\)/u),
    );
  });

  it('a delete with filters over fail-if-count-above fails and deletes NOTHING', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(6, { workflowUrl: APP }, BASE));
    emulator.seed('workflow', workflowEntries(2, { workflowUrl: OTHER }, BASE));
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP, 'fail-if-count-above': '5' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['threshold-exceeded']).toBe('true');
    expect(errors(run)).toEqual([
      expect.stringMatching(/6 entries are selected, more than fail-if-count-above \(5\)/u),
    ]);
    expect(emulator.ids('workflow')).toHaveLength(8);
    onlyGets(emulator);
    expect(counts(run).removed).toBe(0);
  });

  it('a select-all delete over fail-if-older-than fails and deletes nothing', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(4, {}, BASE));
    const run = await runAgainst(emulator, { inputs: { 'select-all': 'true', 'fail-if-older-than': '2d' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toContain('fail-if-older-than (2d)');
    expect(emulator.ids('workflow')).toHaveLength(4);
    onlyGets(emulator);
  });

  it('on-threshold warn on a delete: warns and the delete goes on', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(6, { workflowUrl: APP }, BASE));
    const run = await runAgainst(emulator, {
      inputs: { 'workflow-url': APP, 'fail-if-count-above': '5', 'on-threshold': 'warn' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['threshold-exceeded']).toBe('true');
    expect(warnings(run)).toContainEqual(
      expect.stringMatching(/6 entries are selected, more than fail-if-count-above \(5\)/u),
    );
    expect(list(run, 'removed')).toEqual(ids);
    expect(emulator.ids('workflow')).toEqual([]);
  });

  it('a delete under its thresholds goes on, threshold-exceeded false', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(5, { workflowUrl: APP }, Date.now()));
    const run = await runAgainst(emulator, {
      inputs: { 'workflow-url': APP, 'fail-if-count-above': '5', 'fail-if-older-than': '1d' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['threshold-exceeded']).toBe('false');
    expect(list(run, 'removed')).toEqual(ids);
  });

  it('older-than and fail-if-older-than measure from the same "now": what older-than selects exceeds the same age', async () => {
    const emulator = await start();
    const now = Date.now();
    emulator.seed('workflow', workflowEntries(3, {}, now - DAY - 1000));
    emulator.seed('workflow', workflowEntries(2, {}, now));
    const run = await runAgainst(emulator, {
      inputs: { operation: 'report', 'older-than': '1d', 'fail-if-older-than': '1d' },
    });
    expect(run.outputs['entries-count']).toBe('3');
    expect(run.outputs['threshold-exceeded']).toBe('true');
    expect(run.exitCode).toBe(1);
  });

  it('refused in a by-id delete, naming the input, before any request', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(2, {}, BASE));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': 'a\nb', 'fail-if-count-above': '1' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toContain('fail-if-count-above');
    expect(errors(run)[0]).toContain('dlq-ids');
    expect(emulator.requests).toEqual([]);
  });
});

describe('a listing that fails half-way', () => {
  it('the report fails and claims no count: entries-count "", threshold-exceeded false', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(450, {}, BASE));
    // The first two listing pages are answered, every later listing request gets a 500 (retries exhausted).
    emulator.faults.push({ method: 'GET', pathIncludes: '/v2/workflows/dlq', times: 2 });
    emulator.faults.push({ method: 'GET', pathIncludes: '/v2/workflows/dlq', status: 500, body: '{"error":"boom"}' });
    const run = await runAgainst(emulator, {
      inputs: { operation: 'report', 'fail-if-count-above': '10', 'max-retries': '1' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['entries-count']).toBe('');
    expect(run.outputs['oldest-created-at']).toBe('');
    expect(run.outputs['newest-created-at']).toBe('');
    expect(run.outputs['threshold-exceeded']).toBe('false');
    expect(run.summary).not.toContain('- Entries: **200**');
    expect(errors(run).length).toBeGreaterThan(0);
    onlyGets(emulator);
  });
});

describe('report: refusals', () => {
  it('group-by on a delete, and on-threshold that evaluated empty: refused before any request, nothing changed', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(3, {}, BASE));
    let run = await runAgainst(emulator, { inputs: { 'select-all': 'true', 'group-by': 'label' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toContain('group-by: "label"');
    run = await runAgainst(emulator, { inputs: { operation: 'report', 'on-threshold': '' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toContain('on-threshold: evaluated to an empty value');
    expect(emulator.requests).toEqual([]);
    expect(emulator.ids('workflow')).toHaveLength(3);
  });
});

describe('report: bounded groups, and the gate on a re-run', () => {
  it('more than 100 groups: the 100 largest in groups, the entries of the rest in groups-others', async () => {
    const emulator = await start();
    // 120 urls: url-0 .. url-19 with 3 entries each, url-20 .. url-119 with 1 each.
    for (let i = 0; i < 120; i += 1)
      emulator.seed(
        'workflow',
        workflowEntries(i < 20 ? 3 : 1, { workflowUrl: `https://h.example.com/url-${i}` }, BASE + i * 10_000),
      );
    const run = await runAgainst(emulator, { inputs: { operation: 'report' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('160');
    const parsed = groups(run);
    expect(Object.keys(parsed)).toHaveLength(100);
    for (let i = 0; i < 20; i += 1) expect(parsed[`https://h.example.com/url-${i}`]).toBe(3);
    expect(Object.values(parsed).reduce((sum, n) => sum + n, 0) + Number(run.outputs['groups-others'])).toBe(160);
    expect(run.outputs['groups-others']).toBe('20');
    // The summary's table: the largest groups (url-0 .. url-19 first), the rest summed as "others".
    const rows = [...run.summary.matchAll(/^\| https:\/\/h\.example\.com\/url-(\d+) \| (\d+) \|$/gmu)];
    const others = /^\| \*others\* \| (\d+) \|$/mu.exec(run.summary);
    expect(others).not.toBeNull();
    expect(rows.reduce((sum, row) => sum + Number(row[2]), 0) + Number(others![1])).toBe(160);
    expect(rows.slice(0, 20).map((row) => Number(row[2]))).toEqual(Array(Math.min(20, rows.length)).fill(3));
  });

  it('a restart with filters over fail-if-count-above re-runs nothing', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(4, { workflowUrl: APP }, BASE));
    const run = await runAgainst(emulator, {
      inputs: { operation: 'restart', 'workflow-url': APP, 'fail-if-count-above': '3' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['threshold-exceeded']).toBe('true');
    expect(emulator.reruns).toEqual([]);
    expect(emulator.ids('workflow')).toHaveLength(4);
    onlyGets(emulator);
  });
});

describe('report: no cap with filters either', () => {
  it('1,200 entries matching a filter, max-entries default 1000: counted, nothing refused', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(1200, { workflowUrl: APP }, BASE));
    const run = await runAgainst(emulator, { inputs: { operation: 'report', 'workflow-url': APP } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('1200');
    expect(errors(run)).toEqual([]);
    onlyGets(emulator);
  });
});

describe('report: dry-run and keep-newest', () => {
  it('a dry run of a report is the report', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(4, {}, BASE));
    const run = await runAgainst(emulator, { inputs: { operation: 'report', 'dry-run': 'true' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('4');
    onlyGets(emulator);
  });

  it('keep-newest on a report: counts what a cleanup would act on', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(10, {}, BASE));
    const run = await runAgainst(emulator, { inputs: { operation: 'report', 'keep-newest': '3' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['entries-count']).toBe('7');
    expect(run.outputs['kept-count']).toBe('3');
    expect(run.outputs['newest-created-at']).toBe(new Date(BASE - 4000).toISOString());
    onlyGets(emulator);
  });
});
