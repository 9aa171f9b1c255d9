/** The time ranges of the side-by-side listing: together they cover every ms of the range asked for, once. */
import { describe, expect, it } from 'vitest';
import { DlqStore, workflowEntries, type CursorMode, type ListOrder } from '../../emulator/store.ts';
import {
  dateBounds,
  firstRanges,
  FIRST_RANGE_MS,
  rangeQuery,
  splitRange,
  within,
  type TimeRange,
} from '../../src/engine/listing.js';

const NOW = Date.UTC(2026, 11, 2, 4, 0, 0);
const DAY = 86_400_000;

/** Fails unless `ranges` cover `whole` exactly: in order, each ms once, no gap, no overlap, each non-empty. */
function expectCover(ranges: readonly TimeRange[], whole: TimeRange): void {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  expect(sorted[0]!.from).toBe(whole.from);
  expect(sorted[sorted.length - 1]!.to).toBe(whole.to);
  for (const [i, range] of sorted.entries()) {
    expect(range.from).toBeLessThanOrEqual(range.to);
    for (const end of [range.from, range.to]) if (Number.isFinite(end)) expect(Number.isInteger(end)).toBe(true);
    if (i > 0) expect(range.from).toBe(sorted[i - 1]!.to + 1);
  }
}

const wholes: [string, TimeRange][] = [
  ['no dates', { from: -Infinity, to: Infinity }],
  ['fromDate only', { from: NOW - 30 * DAY, to: Infinity }],
  ['toDate only, before now', { from: -Infinity, to: NOW - 3 * DAY }],
  ['both, around now', { from: NOW - 10 * DAY, to: NOW + DAY }],
  ['both, in the past', { from: NOW - 10 * DAY, to: NOW - 5 * DAY }],
  ['both, in the future', { from: NOW + DAY, to: NOW + 2 * DAY }],
  ['one ms', { from: NOW - 5, to: NOW - 5 }],
  ['three ms', { from: NOW - 1, to: NOW + 1 }],
];

describe('firstRanges', () => {
  it.each(wholes)('%s: covers every ms once, whatever the oldest entry seen', (_name, whole) => {
    for (const oldest of [undefined, NOW - 90_000, NOW - 400 * DAY, NOW + 5 * DAY, -5]) {
      expectCover(firstRanges(whole, NOW, oldest), whole);
    }
  });

  it('starts with 1 minute back from now, doubling, down to the range holding the oldest entry seen', () => {
    const ranges = firstRanges({ from: -Infinity, to: Infinity }, NOW, NOW - 5 * FIRST_RANGE_MS);
    expect(ranges).toEqual([
      { from: NOW + 1, to: Infinity },
      { from: NOW - FIRST_RANGE_MS + 1, to: NOW },
      { from: NOW - 3 * FIRST_RANGE_MS + 1, to: NOW - FIRST_RANGE_MS },
      { from: NOW - 7 * FIRST_RANGE_MS + 1, to: NOW - 3 * FIRST_RANGE_MS },
      { from: -Infinity, to: NOW - 7 * FIRST_RANGE_MS },
    ]);
  });

  it.each(wholes)(
    '%s: with room for parts, equal parts from the oldest entry seen to now, still covering every ms',
    (_name, whole) => {
      for (const oldest of [undefined, NOW - 90_000, NOW - 400 * DAY, NOW + 5 * DAY, -5]) {
        expectCover(firstRanges(whole, NOW, oldest, 16), whole);
      }
    },
  );

  it('with room for parts: the span the first page showed is cut into that many equal ranges', () => {
    const ranges = firstRanges({ from: -Infinity, to: Infinity }, NOW, NOW - 16_000, 16);
    expect(ranges[0]).toEqual({ from: NOW + 1, to: Infinity });
    expect(ranges.at(-1)).toEqual({ from: -Infinity, to: NOW - 16_001 });
    const middle = ranges.slice(1, -1);
    expect(middle).toHaveLength(16);
    expect(new Set(middle.map((r) => r.to - r.from + 1)).size).toBeLessThanOrEqual(2);
  });

  it('without a hint, a bounded number of ranges reaching decades back', () => {
    const ranges = firstRanges({ from: -Infinity, to: Infinity }, NOW);
    expect(ranges.length).toBeLessThanOrEqual(26);
    expect(ranges.at(-2)!.from).toBeLessThan(NOW - 30 * 365 * DAY);
  });
});

describe('splitRange', () => {
  it('a bounded range: equal parts covering it', () => {
    const range = { from: NOW - 600_000, to: NOW };
    const parts = splitRange(range, 8);
    expect(parts).toHaveLength(8);
    expectCover(parts, range);
    const widths = parts.map((p) => p.to - p.from + 1);
    expect(Math.max(...widths) - Math.min(...widths)).toBeLessThanOrEqual(1);
  });

  it('never splits 1 ms, and splits a few ms into at most one part each', () => {
    expect(splitRange({ from: NOW, to: NOW }, 8)).toEqual([{ from: NOW, to: NOW }]);
    const three = splitRange({ from: NOW, to: NOW + 2 }, 8);
    expect(three).toEqual([
      { from: NOW, to: NOW },
      { from: NOW + 1, to: NOW + 1 },
      { from: NOW + 2, to: NOW + 2 },
    ]);
  });

  it('open ends: doubling ranges away from the bound, then the open rest', () => {
    const older = { from: -Infinity, to: NOW - DAY };
    const down = splitRange(older, 4, { oldest: NOW - DAY - 5 * FIRST_RANGE_MS + 1 });
    expect(down).toHaveLength(4);
    expectCover(down, older);
    expect(down.map((r) => r.to - r.from + 1).slice(0, 3)).toEqual([
      5 * FIRST_RANGE_MS,
      10 * FIRST_RANGE_MS,
      20 * FIRST_RANGE_MS,
    ]);
    const newer = { from: NOW + 1, to: Infinity };
    const up = splitRange(newer, 5, {});
    expectCover(up, newer);
    expect(up[0]).toEqual({ from: NOW + 1, to: NOW + FIRST_RANGE_MS });
  });

  it.each(wholes)('%s: any split covers it exactly', (_name, whole) => {
    for (const parts of [1, 2, 3, 8]) {
      const split = splitRange(whole, parts, { oldest: NOW - DAY, newest: NOW + DAY });
      expect(split.length).toBeLessThanOrEqual(Math.max(1, parts));
      expectCover(split, whole);
    }
  });

  it('refuses arithmetic past exact doubles: a range far off just pages', () => {
    const far = { from: -Infinity, to: -(2 ** 51) };
    expect(splitRange(far, 8, { oldest: -(2 ** 52) })).toEqual([far]);
  });
});

describe('dateBounds and rangeQuery', () => {
  it("reads the user's dates, and sends a range's finite ends in their place", () => {
    const query = [
      ['workflowUrl', ['https://a']],
      ['fromDate', ['100']],
      ['toDate', ['200']],
    ] as const;
    expect(dateBounds(query)).toEqual({ from: 100, to: 200 });
    expect(dateBounds([])).toEqual({ from: -Infinity, to: Infinity });
    expect(rangeQuery(query, { from: 120, to: Infinity })).toEqual([
      ['workflowUrl', ['https://a']],
      ['fromDate', ['120']],
    ]);
  });

  it('leaves a query it cannot split exactly to the sequential listing', () => {
    expect(dateBounds([['fromDate', ['1', '2']]])).toBeUndefined();
    expect(dateBounds([['toDate', ['soon']]])).toBeUndefined();
    expect(
      dateBounds([
        ['fromDate', ['300']],
        ['toDate', ['200']],
      ]),
    ).toBeUndefined();
  });

  it('within: an entry without createdAt is in no bounded range', () => {
    expect(within({ from: 1, to: 2 }, undefined)).toBe(false);
    expect(within({ from: -Infinity, to: Infinity }, undefined)).toBe(true);
    expect(within({ from: 1, to: 2 }, 2)).toBe(true);
  });
});

describe('the emulator lists in the order asked for', () => {
  const entries = workflowEntries(250, {}, NOW);
  function all(store: DlqStore, mode: CursorMode, between?: (page: number) => void): string[] {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page += 1) {
      const query = new URLSearchParams(cursor === undefined ? {} : { cursor });
      const result = store.page('workflow', query, 40, mode);
      ids.push(...result.entries.map((entry) => entry.dlqId));
      if (result.cursor === undefined) return ids;
      cursor = result.cursor;
      between?.(page);
    }
    throw new Error('the listing did not end');
  }

  it.each<[ListOrder, CursorMode]>([
    ['insertion', 'id'],
    ['insertion', 'position'],
    ['newest-first', 'id'],
    ['newest-first', 'position'],
    ['shuffled', 'id'],
    ['shuffled', 'position'],
  ])('%s order, cursor by %s: every entry once, in that order', (order, mode) => {
    const store = new DlqStore();
    store.seed('workflow', entries);
    store.listOrder = order;
    const ids = all(store, mode);
    expect([...ids].sort()).toEqual(entries.map((entry) => entry.dlqId).sort());
    const byInsertion = entries.map((entry) => entry.dlqId);
    if (order === 'insertion') expect(ids).toEqual(byInsertion);
    if (order === 'newest-first') expect(ids).toEqual([...byInsertion].reverse());
    if (order === 'shuffled') {
      expect(ids).not.toEqual(byInsertion);
      expect(all(store, mode)).toEqual(ids);
    }
  });

  it.each<ListOrder>(['newest-first', 'shuffled'])('%s, cursor by id: paging is stable under deletions', (order) => {
    const store = new DlqStore();
    store.seed('workflow', entries);
    store.listOrder = order;
    const first = all(store, 'id');
    // Delete, between pages, entries already listed: nothing not yet listed is skipped.
    let listedSoFar = 0;
    const ids = all(store, 'id', (page) => {
      listedSoFar = (page + 1) * 40;
      for (const id of first.slice(listedSoFar - 40, listedSoFar - 20)) store.delete('workflow', id);
    });
    expect(ids).toEqual(first);
  });
});
