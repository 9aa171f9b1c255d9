/** Progress lines (src/progress.ts) with a fake clock: when they appear, and what they say. */
import { describe, expect, it } from 'vitest';
import {
  OperationProgress,
  VerifyProgress,
  formatDuration,
  formatRate,
  operationLine,
  verifyLine,
} from '../../src/progress.ts';

const clockAt = (start = 0) => {
  const clock = { t: start, now: () => clock.t };
  return clock;
};

describe('operation progress', () => {
  it('the line: done of total, the rate, about how long is left', () => {
    expect(operationLine('Resumed', 1_200, 10_000, 100_000)).toBe('Resumed 1,200 of 10,000 · 12/s · about 12 min left');
    expect(operationLine('Deleted', 5, 100, 10_000)).toBe('Deleted 5 of 100 · 0.5/s · about 3 min left');
    expect(operationLine('Resumed', 0, 100, 10_000)).toBe('Resumed 0 of 100 · 0/s');
  });

  it('prints nothing for a run that finishes within 10 s', () => {
    const clock = clockAt();
    const lines: string[] = [];
    const progress = new OperationProgress('Resumed', 100, clock, (line) => lines.push(line));
    for (let done = 1; done <= 100; done += 1) {
      clock.t += 99;
      progress.update(done);
    }
    expect(clock.t).toBeLessThan(10_000);
    expect(lines).toEqual([]);
  });

  it('at most one line every 10 s, the first after 10 s, none once all are done', () => {
    const clock = clockAt();
    const lines: string[] = [];
    const progress = new OperationProgress('Resumed', 10_000, clock, (line) => lines.push(line));
    const at: number[] = [];
    for (let done = 1; done <= 10_000; done += 1) {
      clock.t += 10; // 100 per second
      const before = lines.length;
      progress.update(done);
      if (lines.length > before) at.push(clock.t);
    }
    expect(at[0]).toBe(10_000);
    for (let i = 1; i < at.length; i += 1) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(10_000);
    expect(lines.length).toBe(9); // 10 s .. 90 s; at 100 s everything is done
    expect(lines[0]).toBe('Resumed 1,000 of 10,000 · 100/s · about 2 min left');
  });

  it('tick prints during a stall, with the rate so far', () => {
    const clock = clockAt();
    const lines: string[] = [];
    const progress = new OperationProgress('Restarted', 50, clock, (line) => lines.push(line));
    progress.update(10);
    clock.t = 20_000;
    progress.tick();
    expect(lines).toEqual(['Restarted 10 of 50 · 0.5/s · about 1 min left']);
  });
});

describe('verify progress', () => {
  const counts = { RUN_SUCCESS: 600, RUN_FAILED: 3, RUN_CANCELED: 1, RUN_STARTED: 396, unknown: 0 };

  it('the line: counts by state and the time left of the wait', () => {
    expect(verifyLine(counts, 4 * 60_000 - 500)).toBe(
      'Verifying 1,000 new runs: 600 succeeded, 3 failed again, 1 cancelled, 396 still running · about 4 min left of the wait',
    );
    expect(verifyLine({ ...counts, unknown: 2, RUN_STARTED: 394 }, 30_000)).toMatch(
      /394 still running, 2 not yet seen ·/,
    );
  });

  it('throttled like operations, silent once every run ended', () => {
    const clock = clockAt();
    const lines: string[] = [];
    const progress = new VerifyProgress(clock, (line) => lines.push(line));
    progress.update(counts, 60_000);
    clock.t = 2_000;
    progress.update(counts, 58_000);
    clock.t = 10_000;
    progress.update(counts, 50_000);
    clock.t = 14_000;
    progress.update(counts, 46_000);
    clock.t = 30_000;
    progress.update({ ...counts, RUN_SUCCESS: 996, RUN_STARTED: 0 }, 30_000);
    expect(lines).toEqual([verifyLine(counts, 50_000)]);
  });
});

describe('formats', () => {
  it('rates and durations', () => {
    expect([formatRate(0), formatRate(0.04), formatRate(2.26), formatRate(12.4), formatRate(1234)]).toEqual([
      '0/s',
      '0/s',
      '2.3/s',
      '12/s',
      '1,234/s',
    ]);
    expect([0, 400, 59_000, 61_000, 3_600_000, 3_900_000].map(formatDuration)).toEqual([
      '0 s',
      '1 s',
      '59 s',
      '1 min',
      '1 h',
      '1 h 5 min',
    ]);
  });
});
