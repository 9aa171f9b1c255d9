/**
 * End to end, through dist/index.js: progress lines on long runs (issue 18). At most one line every 10 s, none for a
 * run that finishes within 10 s: while sending, "Resumed 1,200 of 10,000 · 12/s · about 12 min left"; during
 * `verify`, the counts by state and the time left of the wait. These are the two slow tests of the suite (about
 * 12 s each): a line only appears after 10 s.
 */
import { describe, expect, it } from 'vitest';
import { runnerLines, type ActionRun } from '../../emulator/run-action.ts';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';
import { object } from '../helpers/verify.ts';

const start = emulatorPerTest();

const SENDING = /^Resumed [\d,]+ of [\d,]+ · [\d.,]+\/s( · about .+ left)?$/u;
const VERIFYING =
  /^Verifying [\d,]+ new runs?: [\d,]+ succeeded, [\d,]+ failed again, [\d,]+ cancelled, [\d,]+ still running(, [\d,]+ not yet seen)? · about .+ left of the wait$/u;

/** The log lines (workflow commands left out) matching a progress line's form. */
const progressLines = (run: ActionRun, form: RegExp): string[] =>
  runnerLines(run.stdout).filter((line) => !line.startsWith('::') && form.test(line));

describe('progress lines', () => {
  it('a resume whose sending takes over 10 s prints "Resumed k of 12 · r/s · about t left", at most every 10 s', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(12));
    // One re-run at a time, each answered after 1 s: about 12 s of sending.
    e.faults.push({ pathIncludes: '/v2/workflows/dlq/resume/', delayMs: 1_000 });
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), concurrency: '1' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(run.durationMs).toBeGreaterThan(11_000);
    const lines = progressLines(run, SENDING);
    expect(lines.length, run.stdout).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(Math.floor(run.durationMs / 10_000));
    for (const line of lines) {
      const [, done, total] = /^Resumed ([\d,]+) of ([\d,]+)/u.exec(line)!;
      expect(total).toBe('12');
      expect(Number(done)).toBeGreaterThan(0);
      expect(Number(done)).toBeLessThanOrEqual(12);
    }
    // About 1 re-run a second.
    expect(lines[0]).toMatch(/ · (0\.\d|1(\.\d)?)\/s/u);
  });

  it('verify 12s with runs that stay RUN_STARTED prints a "Verifying 3 new runs: ..." line', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(3));
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '12s' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(object(run, 'run-states')).toEqual(Object.fromEntries(ids.map((id) => [id, 'RUN_STARTED'])));
    const lines = progressLines(run, VERIFYING);
    expect(lines.length, run.stdout).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines[0]).toMatch(
      /^Verifying 3 new runs: 0 succeeded, 0 failed again, 0 cancelled, 3 still running · about \d+ s left of the wait$/u,
    );
  });

  it('a short run prints no progress line, sending or verifying', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(20));
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '30s' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.durationMs).toBeLessThan(10_000);
    expect(progressLines(run, SENDING)).toEqual([]);
    expect(progressLines(run, VERIFYING)).toEqual([]);
  });
});
