import { describe, expect, it } from 'vitest';
import { batches } from '../../src/engine/index.js';
import { parseDate, parseDuration, readFilters, splitValues } from '../../src/filters.js';
import { bulkDeletePath, listPath } from '../../src/qstash/paths.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const inputs =
  (values: Record<string, string>) =>
  (name: string): string =>
    values[name] ?? '';

describe('parseDuration', () => {
  it.each([
    ['90m', 90 * 60_000],
    ['12h', 12 * 3_600_000],
    ['7d', 7 * 86_400_000],
    ['2w', 14 * 86_400_000],
    [' 3D ', 3 * 86_400_000],
  ])('%s', (raw, ms) => expect(parseDuration('older-than', raw)).toBe(ms));

  it.each(['7', 'd', '0d', '1.5d', '-1d', '7 days', '1y'])('refuses %j', (raw) => {
    expect(() => parseDuration('older-than', raw)).toThrow(/older-than: .* is not a duration\. Accepted/);
  });

  it('refuses a duration that reaches back before the calendar, naming the input', () => {
    expect(() => parseDuration('older-than', '999999999999999w')).toThrow(
      /^older-than: "999999999999999w" reaches back before the calendar begins\. Accepted: /,
    );
    expect(parseDuration('older-than', '100000w')).toBe(100_000 * 604_800_000);
    expect(() => parseDuration('older-than', '100001w')).toThrow(/older-than: .*before the calendar/);
  });
});

describe('parseDate', () => {
  it('reads ISO 8601 dates and times, and Unix milliseconds', () => {
    expect(parseDate('from-date', '2026-11-20')).toBe(Date.parse('2026-11-20T00:00:00Z'));
    expect(parseDate('from-date', '2026-11-20T08:30:00+01:00')).toBe(Date.parse('2026-11-20T07:30:00Z'));
    expect(parseDate('from-date', '1763625600000')).toBe(1763625600000);
  });
  it('refuses Unix seconds, words and impossible dates', () => {
    expect(() => parseDate('to-date', '1763625600')).toThrow(/looks like Unix seconds/);
    expect(() => parseDate('to-date', 'last week')).toThrow(/is not a date/);
    expect(() => parseDate('to-date', '2026-13-45')).toThrow(/is not a date/);
  });
  it('refuses a date beyond the calendar, naming the input', () => {
    expect(() => parseDate('from-date', '99999999999999999')).toThrow(
      /^from-date: "99999999999999999" is beyond the calendar .*Accepted: /,
    );
    expect(parseDate('to-date', '8640000000000000')).toBe(8.64e15);
    expect(() => parseDate('to-date', '8640000000000001')).toThrow(/to-date: .*beyond the calendar/);
  });
});

describe('readFilters', () => {
  it('maps inputs to the API parameters, splitting on newlines and commas', () => {
    const { query } = readFilters(
      'workflow',
      inputs({ 'workflow-url': 'https://a\nhttps://b', label: 'x, y', 'failure-function-state': 'callback_fail' }),
      NOW,
    );
    expect(query).toEqual([
      ['workflowUrl', ['https://a', 'https://b']],
      ['failureFunctionState', ['CALLBACK_FAIL']],
      ['label', ['x', 'y']],
    ]);
  });

  it('older-than means created strictly before now minus the duration, ANDed with to-date', () => {
    const { query } = readFilters('qstash', inputs({ 'older-than': '1d' }), NOW);
    expect(query).toEqual([['toDate', [String(NOW - 86_400_000 - 1)]]]);
    const both = readFilters('qstash', inputs({ 'older-than': '1d', 'to-date': '2026-11-01' }), NOW);
    expect(both.query).toEqual([['toDate', [String(Date.parse('2026-11-01'))]]]);
  });

  it('refuses filters of the other DLQ and bad values, all at once', () => {
    expect(() =>
      readFilters('workflow', inputs({ 'url-group': 'g', 'response-status': '200', 'older-than': 'soon' }), NOW),
    ).toThrow(/url-group: is a filter of the QStash message DLQ[\s\S]*response-status[\s\S]*older-than: "soon"/);
    expect(() => readFilters('qstash', inputs({ 'response-status': '5xx' }), NOW)).toThrow(
      /response-status: "5xx" not accepted\. Accepted: HTTP status codes/,
    );
  });

  it('dates beyond the calendar fail with an error naming the input, never a RangeError', () => {
    expect(() => readFilters('workflow', inputs({ 'from-date': '99999999999999999' }), NOW)).toThrow(
      /from-date: "99999999999999999" is beyond the calendar/,
    );
    expect(() => readFilters('qstash', inputs({ 'older-than': '999999999999999w' }), NOW)).toThrow(
      /older-than: "999999999999999w" reaches back before the calendar/,
    );
    expect(() =>
      readFilters('qstash', inputs({ 'to-date': '99999999999999999', 'older-than': '999999999999999w' }), NOW),
    ).toThrow(/to-date: [\s\S]*\n- older-than: /);
    const cases: Record<string, string>[] = [
      { 'from-date': '99999999999999999' },
      { 'older-than': '999999999999999w' },
      { 'from-date': '8640000000000000', 'older-than': '100000w' },
    ];
    for (const values of cases) {
      try {
        readFilters('workflow', inputs(values), NOW);
      } catch (error) {
        expect(error).not.toBeInstanceOf(RangeError);
        expect((error as Error).name).toBe('FilterError');
      }
    }
  });

  it('splitValues drops blanks', () => {
    expect(splitValues(' a ,\n, b\n')).toEqual(['a', 'b']);
  });
});

describe('request paths', () => {
  it('lists with repeated filter keys, count=100 and the cursor', () => {
    expect(listPath('workflow', [['label', ['a b', 'c']]], 'next')).toBe(
      '/v2/workflows/dlq?label=a+b&label=c&count=100&cursor=next',
    );
  });

  it('never builds a bulk delete without ids, or with more than 100', () => {
    expect(() => bulkDeletePath('workflow', [])).toThrow(/refusing a bulk delete of 0 ids/);
    expect(() =>
      bulkDeletePath(
        'qstash',
        Array.from({ length: 101 }, (_, i) => `i${i}`),
      ),
    ).toThrow(/101 ids/);
    expect(() => bulkDeletePath('qstash', ['a', ''])).toThrow(/refusing/);
    expect(bulkDeletePath('qstash', ['a&b', 'c'])).toBe('/v2/dlq?dlqIds=a%26b&dlqIds=c');
  });

  it('batches ids by count and by query length, keeping order', () => {
    const ids = Array.from({ length: 250 }, (_, i) => `id-${i}`);
    const split = batches(ids);
    expect(split.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(split.flat()).toEqual(ids);
    const long = Array.from({ length: 10 }, (_, i) => `${'x'.repeat(2000)}${i}`);
    const longSplit = batches(long);
    expect(longSplit.every((b) => b.reduce((n, id) => n + id.length, 0) <= 6000)).toBe(true);
    expect(longSplit.flat()).toEqual(long);
  });
});
