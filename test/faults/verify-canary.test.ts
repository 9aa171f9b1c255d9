/**
 * Review of issue 18: the canary. A canary whose re-run answer gave no workflowCreatedAt is never looked up (no
 * wait at all), yet the step says it "had not ended when the wait of 10m ran out". And a canary as large as the
 * selection is no canary: it holds nothing back, the summary has no canary line, and with on-re-failed: pass every
 * "canary" failing again leaves the step green.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, errors, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('verify: canary', () => {
  it('bounces: the rest are not sent, the step fails naming the canary and its state', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_FAILED', afterMs: 300 }) });
    const ids = e.seed('workflow', workflowEntries(6));
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '30s', canary: '2' },
    });
    expect(run.exitCode).toBe(1);
    expect(e.reruns.map((r) => r.dlqId)).toEqual(ids.slice(0, 2));
    expect(list(run, 'redriven')).toEqual(ids.slice(0, 2));
    expect(list(run, 're-failed')).toEqual(ids.slice(0, 2));
    expect(errors(run).join('\n')).toContain(ids[0]!);
  });

  it('a canary whose answer gave no workflowCreatedAt: the message does not claim a wait that ran out', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    e.faults.push({ method: 'POST', id: ids[0], status: 200, body: JSON.stringify({ workflowRunId: 'wfr_new_1' }) });
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '10m', canary: '1' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.durationMs).toBeLessThan(10_000);
    const text = errors(run).join('\n');
    expect(text).not.toMatch(/ran out/u);
  });

  it('canary larger than the selection, on-re-failed: pass: every canary failing again does not pass the step', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_FAILED' }) });
    const ids = e.seed('workflow', workflowEntries(3));
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '30s', canary: '5', 'on-re-failed': 'pass' },
    });
    expect(list(run, 're-failed')).toEqual(ids);
    expect(run.summary).toMatch(/Canary/u);
    expect(run.exitCode).toBe(1);
  });
});
