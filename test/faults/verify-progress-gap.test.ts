/**
 * Second review: during a long verify wait, progress lines come only after logs rounds, which are up to 30 s apart:
 * the "one line at most every 10 s ... during verify, the counts by state and the time left of the wait" is
 * read by users as a line roughly every 10 s; here a 60 s wait goes 30 s between lines (rounds at 0, 2, 6, 14, 30, 60 s).
 */
import { describe, expect, it } from 'vitest';
import { runnerLines } from '../../emulator/run-action.ts';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('verify progress cadence', () => {
  it(
    'verify 60s with runs that stay RUN_STARTED: no gap over ~12 s between verify progress lines',
    { timeout: 120_000 },
    async () => {
      const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
      const ids = e.seed('workflow', workflowEntries(3));
      const t0 = Date.now();
      const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '60s' } });
      const lines = runnerLines(run.stdout).filter((l) => l.startsWith('Verifying '));
      // The seconds left each line names: consecutive lines should be about 10 s apart.
      const left = lines.map((l) => Number(/about (\d+) s left|about (\d+) min left/u.exec(l)?.[1] ?? Number.NaN));
      console.log(lines, Date.now() - t0);
      expect(lines.length, run.stdout).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < left.length; i += 1) expect(left[i - 1]! - left[i]!).toBeLessThanOrEqual(12);
    },
  );
});
