/**
 * Review of issue 18: progress lines end to end (the "a run long enough to print"): re-runs slow enough to
 * pass 10 s print "Resumed n of 30 · r/s · about t left", and the wait prints its counts and the time left.
 */
import { describe, expect, it } from 'vitest';
import { runnerLines } from '../../emulator/run-action.ts';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('progress lines', () => {
  it('a slow resume and a long wait print their lines, at most one per 10 s', async () => {
    const e = await start({ latencyMs: 450, runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(30));
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '25s', concurrency: '1' },
      timeoutMs: 90_000,
    });
    const lines = runnerLines(run.stdout);
    const operation = lines.filter((line) => /^Resumed \d+ of 30 · /u.test(line));
    const waiting = lines.filter((line) => /^Verifying 30 new runs: /u.test(line));
    expect(operation.length, lines.join('\n')).toBeGreaterThan(0);
    for (const line of operation) expect(line).toMatch(/^Resumed \d+ of 30 · [\d.]+\/s · about \d+ (s|min) left$/u);
    expect(waiting.length, lines.join('\n')).toBeGreaterThan(0);
    for (const line of waiting) expect(line).toMatch(/30 still running · about \d+ s left of the wait$/u);
  }, 90_000);
});
