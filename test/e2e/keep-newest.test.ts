/**
 * End to end through dist/index.js: keep-newest (overall and with keep-per), its dry run, the cap counting only what
 * is acted on, ties and entries without createdAt, and its refusal with ids.
 */
import { describe, expect, it } from 'vitest';
import { messageEntries, workflowEntries, type DlqEntry } from '../../emulator/server.ts';
import { emulatorPerTest, errors, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

const BASE = Date.parse('2026-11-20T00:00:00Z');
const APP = 'https://shop.example.com/api/checkout';
const OTHER = 'https://shop.example.com/api/emails';

describe('keep-newest', () => {
  it('overall: deletes all but the N newest by createdAt, whatever the listing order', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(10, { workflowUrl: APP }, BASE).reverse());
    // reversed: the listing gives the newest first; the oldest are ids[5..9].
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP, 'keep-newest': '5' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['kept-count']).toBe('5');
    expect([...list(run, 'removed')].sort()).toEqual(ids.slice(5).sort());
    expect(emulator.ids('workflow').sort()).toEqual(ids.slice(0, 5).sort());
  });

  it('dry run: would-remove is what would go, kept-count what stays, nothing is deleted', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(8, {}, BASE));
    const run = await runAgainst(emulator, { inputs: { 'select-all': 'true', 'keep-newest': '3', 'dry-run': 'true' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'would-remove')).toEqual(ids.slice(0, 5));
    expect(run.outputs['kept-count']).toBe('3');
    expect(emulator.ids('workflow')).toHaveLength(8);
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true);
    // The summary shows what is acted on and what is kept.
    expect(run.summary).toContain('would remove 5');
    expect(run.summary).toContain('- Kept (keep-newest: the 3 newest): 3, left out of the selection');
  });

  it('keep-per workflow-url: the N newest of each group are kept', async () => {
    const emulator = await start();
    const app = emulator.seed('workflow', workflowEntries(4, { workflowUrl: APP }, BASE));
    const other = emulator.seed('workflow', workflowEntries(3, { workflowUrl: OTHER }, BASE + 500));
    const run = await runAgainst(emulator, {
      inputs: { 'select-all': 'true', 'keep-newest': '2', 'keep-per': 'workflow-url' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['kept-count']).toBe('4');
    expect([...list(run, 'removed')].sort()).toEqual([...app.slice(0, 2), other[0]!].sort());
    expect(emulator.ids('workflow').sort()).toEqual([...app.slice(2), ...other.slice(1)].sort());
  });

  it('keep-per label: an entry of several labels is kept when it is among the newest of any of them', async () => {
    const emulator = await start();
    const t = (s: number): number => BASE + s * 1000;
    emulator.seed('workflow', [
      { dlqId: 'a1', createdAt: t(1), labels: ['billing'] },
      { dlqId: 'a2', createdAt: t(2), labels: ['billing'] },
      { dlqId: 'b1', createdAt: t(3), labels: ['search'] },
      { dlqId: 'ab', createdAt: t(4), labels: ['billing', 'search'] },
      { dlqId: 'b2', createdAt: t(0), labels: ['search'] },
    ]);
    const run = await runAgainst(emulator, {
      inputs: { 'select-all': 'true', 'keep-newest': '1', 'keep-per': 'label' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    // billing's newest is ab, search's newest is ab: only ab is kept.
    expect(run.outputs['kept-count']).toBe('1');
    expect([...list(run, 'removed')].sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(emulator.ids('workflow')).toEqual(['ab']);
  });

  it('ties in createdAt go by dlqId; entries without createdAt are kept on top of the N', async () => {
    const emulator = await start();
    emulator.seed('workflow', [
      { dlqId: `${BASE}-9`, createdAt: BASE },
      { dlqId: `${BASE}-10`, createdAt: BASE },
      { dlqId: `${BASE}-2`, createdAt: BASE },
      { dlqId: 'undated-1' } as unknown as DlqEntry,
      { dlqId: `${BASE - 5}-0`, createdAt: BASE - 5 },
    ]);
    const run = await runAgainst(emulator, { inputs: { 'select-all': 'true', 'keep-newest': '2' } });
    expect(run.exitCode, run.stdout).toBe(0);
    // Same ms: -10 is newer than -9 (stream ids grow), then -9; the undated one is kept too.
    expect(run.outputs['kept-count']).toBe('3');
    expect([...emulator.ids('workflow')].sort()).toEqual([`${BASE}-10`, `${BASE}-9`, 'undated-1'].sort());
    expect([...list(run, 'removed')].sort()).toEqual([`${BASE - 5}-0`, `${BASE}-2`].sort());
  });
});

describe('keep-newest and the cap', () => {
  it('the cap counts what is acted on: 1,200 matching, keep-newest 300, max-entries 1000 passes', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(1200, { workflowUrl: APP }, BASE));
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP, 'keep-newest': '300' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toHaveLength(900);
    expect(run.outputs['kept-count']).toBe('300');
    expect(emulator.ids('workflow').sort()).toEqual(ids.slice(900).sort());
  });

  it('1,200 matching with keep-newest 100: 1,100 over the cap of 1000, fails and deletes nothing', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(1200, { workflowUrl: APP }, BASE));
    const run = await runAgainst(emulator, { inputs: { 'workflow-url': APP, 'keep-newest': '100' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)).toEqual([expect.stringMatching(/1100 entries match, more than max-entries \(1000\)/u)]);
    expect(emulator.ids('workflow')).toHaveLength(1200);
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('refused with dlq-ids, naming both inputs, before any request', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(2, {}, BASE));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': 'a', 'keep-newest': '1' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toContain('keep-newest');
    expect(errors(run)[0]).toContain('dlq-ids');
    expect(emulator.requests).toEqual([]);
    expect(emulator.ids('workflow')).toHaveLength(2);
  });
});

describe('keep-newest with other operations and DLQs', () => {
  it('restart (workflow): the newest are neither re-run nor deleted', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(6, {}, BASE));
    const run = await runAgainst(emulator, {
      inputs: { operation: 'restart', 'select-all': 'true', 'keep-newest': '2' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['kept-count']).toBe('2');
    expect([...list(run, 'redriven')].sort()).toEqual(ids.slice(0, 4).sort());
    expect(emulator.reruns.map((r) => r.dlqId).sort()).toEqual(ids.slice(0, 4).sort());
    for (const id of ids.slice(4)) expect(emulator.rerunsOf('workflow', id)).toHaveLength(0);
  });

  it('QStash, keep-per url: the newest message of each url stays', async () => {
    const emulator = await start();
    const a = emulator.seed('qstash', messageEntries(3, { url: APP }, BASE));
    const b = emulator.seed('qstash', messageEntries(2, { url: OTHER }, BASE + 500));
    const run = await runAgainst(emulator, {
      inputs: { dlq: 'qstash', 'select-all': 'true', 'keep-newest': '1', 'keep-per': 'url' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs['kept-count']).toBe('2');
    expect([...emulator.ids('qstash')].sort()).toEqual([a[2]!, b[1]!].sort());
    expect([...list(run, 'removed')].sort()).toEqual([a[0]!, a[1]!, b[0]!].sort());
  });
});
