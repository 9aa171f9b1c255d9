/**
 * End to end, through dist/index.js: re-runs whose new runs fail again at once and land back in the DLQ as new
 * entries (the emulator's runOutcomes). The step re-runs what it selected, once each; the new entries the failures
 * leave are not picked up by the same step, and the old ids stay in `redriven` (the re-run was confirmed). With
 * `verify`, the step also says which failed again and names the new entries, for a later step to act on.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, errors, expectExactlyOnce, expectNoTokenLeak, list, runAgainst } from '../helpers/e2e.ts';
import { logsAsks, object } from '../helpers/verify.ts';

const start = emulatorPerTest();

describe('new runs that fail again', () => {
  for (const removes of [false, true]) {
    it(`by filter: each selected entry re-run once, the re-failed entries left for a later step (removes: ${removes})`, async () => {
      const e = await start({ runOutcomes: () => ({ state: 'RUN_FAILED' }), redriveRemoves: { workflow: removes } });
      const url = 'https://shop.example/api/checkout';
      const ids = e.seed('workflow', workflowEntries(120, { workflowUrl: url }));
      const run = await runAgainst(e, { inputs: { operation: 'resume', 'workflow-url': url } });
      expect(run.exitCode).toBe(0);
      expect(list(run, 'redriven')).toEqual(ids);
      expectExactlyOnce(run, ids);
      // Every re-run was of a selected entry, once.
      expect(e.reruns.map((r) => r.dlqId).sort()).toEqual([...ids].sort());
      // Each new run failed and left a new entry, with the new run's id, which this step did not touch.
      const newRuns = JSON.parse(run.outputs['new-runs']!) as Record<string, string>;
      const refailed = e.runs.filter((r) => r.state === 'RUN_FAILED');
      expect(refailed).toHaveLength(120);
      for (const r of refailed) {
        expect(newRuns[r.fromDlqId]).toBe(r.workflowRunId);
        expect(e.get('workflow', r.dlqId!)).toMatchObject({ workflowRunId: r.workflowRunId });
        expect(ids).not.toContain(r.dlqId);
      }
      expectNoTokenLeak(run, e.token);
    });
  }

  it('with verify: all 120 failed again, each named with the new entry it left, asked 50 runs a request at most', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_FAILED' }) });
    const url = 'https://shop.example/api/checkout';
    const ids = e.seed('workflow', workflowEntries(120, { workflowUrl: url }));
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'workflow-url': url, verify: '30s', 'on-re-failed': 'warn' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expectExactlyOnce(run, ids);
    expect(e.reruns.map((r) => r.dlqId).sort()).toEqual([...ids].sort());
    expect(list(run, 're-failed')).toEqual(ids);
    expect(run.outputs['re-failed-count']).toBe('120');
    expect(run.outputs['succeeded-count']).toBe('0');
    const newDlqIds = object(run, 're-failed-dlq-ids');
    expect(Object.keys(newDlqIds).sort()).toEqual([...ids].sort());
    for (const r of e.runs) {
      expect(newDlqIds[r.fromDlqId]).toBe(r.dlqId);
      expect(e.get('workflow', r.dlqId!)).toMatchObject({ workflowRunId: r.workflowRunId });
      expect(e.rerunsOf('workflow', r.dlqId!)).toHaveLength(0);
    }
    expect(run.summary).toMatch(/Resumed 120: 0 succeeded, 120 failed again, 0 still running/u);
    expect(errors(run)).toEqual([]);
    const asks = logsAsks(e);
    expect(asks.length).toBeGreaterThanOrEqual(3);
    for (const ask of asks) expect(ask.pairs.length).toBeLessThanOrEqual(50);
  });
});
