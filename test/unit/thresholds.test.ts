import { describe, expect, it } from 'vitest';
import { exceededThresholds, hasThresholds } from '../../src/thresholds.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const DAY = 86_400_000;

describe('exceededThresholds', () => {
  it('no thresholds: nothing exceeds, whatever the figures', () => {
    expect(hasThresholds({})).toBe(false);
    expect(exceededThresholds({}, { count: 1e6, oldestMs: 0 }, NOW)).toEqual([]);
  });

  it('count == limit does not exceed; one more does, with figure and limit in the message', () => {
    expect(exceededThresholds({ countAbove: 5 }, { count: 5 }, NOW)).toEqual([]);
    expect(exceededThresholds({ countAbove: 5 }, { count: 6 }, NOW)).toEqual([
      { input: 'fail-if-count-above', message: '6 entries are selected, more than fail-if-count-above (5)' },
    ]);
  });

  it('0 means "fail when anything is selected"', () => {
    expect(hasThresholds({ countAbove: 0 })).toBe(true);
    expect(exceededThresholds({ countAbove: 0 }, { count: 0 }, NOW)).toEqual([]);
    expect(exceededThresholds({ countAbove: 0 }, { count: 1 }, NOW)).toEqual([
      { input: 'fail-if-count-above', message: '1 entry is selected, more than fail-if-count-above (0)' },
    ]);
  });

  it('age exactly the limit does not exceed; one millisecond older does', () => {
    const thresholds = { olderThanMs: DAY, olderThanRaw: '1d' };
    expect(exceededThresholds(thresholds, { count: 3, oldestMs: NOW - DAY }, NOW)).toEqual([]);
    const exceeded = exceededThresholds(thresholds, { count: 3, oldestMs: NOW - DAY - 1 }, NOW);
    expect(exceeded).toHaveLength(1);
    expect(exceeded[0]!.input).toBe('fail-if-older-than');
    expect(exceeded[0]!.message).toContain(`created at ${new Date(NOW - DAY - 1).toISOString()}`);
    expect(exceeded[0]!.message).toContain('older than fail-if-older-than (1d)');
  });

  it('no dated entry: the age threshold cannot exceed', () => {
    expect(exceededThresholds({ olderThanMs: 1 }, { count: 10 }, NOW)).toEqual([]);
  });

  it('measured at the given now (the frozen step start), not the clock', () => {
    const thresholds = { olderThanMs: DAY };
    const oldest = NOW - 2 * DAY;
    expect(exceededThresholds(thresholds, { count: 1, oldestMs: oldest }, oldest + DAY)).toEqual([]);
    expect(exceededThresholds(thresholds, { count: 1, oldestMs: oldest }, NOW)).toHaveLength(1);
  });

  it('both thresholds exceeded: both are named, count first', () => {
    const exceeded = exceededThresholds(
      { countAbove: 1, olderThanMs: DAY, olderThanRaw: '1d' },
      { count: 2, oldestMs: NOW - 3 * DAY },
      NOW,
    );
    expect(exceeded.map((e) => e.input)).toEqual(['fail-if-count-above', 'fail-if-older-than']);
  });
});
