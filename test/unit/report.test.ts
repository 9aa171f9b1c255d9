import { describe, expect, it } from 'vitest';
import { noOutcomes, type Outcomes } from '../../src/cleanup.js';
import { outputsFor, summaryMarkdown, tally, verdict } from '../../src/report.js';

const outcomes = (partial: Partial<Outcomes>): Outcomes => ({ ...noOutcomes(), elapsedMs: 1234, ...partial });
const ctx = { baseUrl: 'https://qstash.upstash.io' };

describe('outputsFor', () => {
  it('gives JSON arrays and decimal counts for every outcome', () => {
    expect(outputsFor(outcomes({ removed: ['a', 'b'], notFound: ['c'], failed: [{ id: 'd', reason: 'x' }] }))).toEqual({
      removed: '["a","b"]',
      'removed-count': '2',
      'not-found': '["c"]',
      'not-found-count': '1',
      failed: '["d"]',
      'failed-count': '1',
      'would-remove': '[]',
      'would-remove-count': '0',
    });
  });
});

describe('verdict', () => {
  it('passes with nothing missing or failed', () => {
    expect(verdict(outcomes({ removed: ['a'] }), 'fail', ctx)).toEqual({ warnings: [], notices: [] });
  });
  it('not-found: pass says nothing, warn warns, fail fails', () => {
    const o = outcomes({ notFound: ['x', 'y'] });
    expect(verdict(o, 'pass', ctx)).toEqual({ warnings: [], notices: [] });
    expect(verdict(o, 'warn', ctx)).toEqual({ warnings: [expect.stringContaining('"x", "y"')], notices: [] });
    expect(verdict(o, 'fail', ctx).error).toMatch(/2 ids were not found.*on-not-found is 'fail'/);
  });
  it('fails when any id failed, naming ids and the first reason', () => {
    const error = verdict(outcomes({ failed: [{ id: 'a', reason: 'HTTP 500 (4 attempts)' }] }), 'pass', ctx).error;
    expect(error).toBe('1 id was not deleted: "a". First reason: HTTP 500 (4 attempts).');
  });
  it('a refused token says to check the secret and the region', () => {
    const error = verdict(
      outcomes({
        tokenRefused: 'HTTP 401: the token was refused',
        failed: [{ id: 'a', reason: 'HTTP 401: the token was refused' }],
      }),
      'pass',
      ctx,
    ).error;
    expect(error).toMatch(/refused the token.*qstash-token.*region/);
  });
  it('lists at most ten ids in a message', () => {
    const ids = Array.from({ length: 25 }, (_, i) => `m${i}`);
    expect(verdict(outcomes({ notFound: ids }), 'warn', ctx).warnings[0]).toMatch(/"m9" and 15 more\.$/);
  });
});

describe('tally and summary', () => {
  it('tally is one line with every count', () => {
    expect(tally(outcomes({ removed: ['a'], notFound: ['b'], requests: 3 }))).toBe(
      'Removed 1, not found 1, failed 0 (2 ids, 3 requests, 1.2 s).',
    );
    expect(tally(outcomes({ dryRun: true, wouldRemove: ['a'] }))).toMatch(/^Dry run: would remove 1,/);
  });

  it('escapes ids so they cannot break the table or inject markup', () => {
    const md = summaryMarkdown(outcomes({ removed: ['a|b', '<img src=x>', '`x`'] }), {
      dlqName: 'Upstash Workflow DLQ',
      baseUrl: ctx.baseUrl,
      onNotFound: 'pass',
      verdict: { warnings: [], notices: [] },
    });
    expect(md).toContain('| a\\|b | removed |');
    expect(md).toContain('&lt;img src=x&gt;');
    expect(md).not.toContain('<img');
  });

  it('stays far under 1 MiB even for 100,000 long ids', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `${'x'.repeat(300)}-${i}`);
    const md = summaryMarkdown(outcomes({ removed: ids }), {
      dlqName: 'Upstash Workflow DLQ',
      baseUrl: ctx.baseUrl,
      onNotFound: 'pass',
      verdict: { warnings: [], notices: [] },
    });
    expect(Buffer.byteLength(md)).toBeLessThan(300 * 1024);
    expect(md).toMatch(/99\d{3} more ids not shown/);
  });
});
