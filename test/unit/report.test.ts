import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OUTPUTS } from '../../src/inputs.js';
import { operationFor, probeFor, type Operation } from '../../src/operations.js';
import {
  CAUSES,
  noOutcomes,
  nothingSent,
  type Cause,
  type FailedId,
  type Outcomes,
  type SelectionReport,
  type StopKind,
} from '../../src/outcomes.js';
import {
  outputsFor,
  resultRecords,
  runAttemptWarning,
  summaryMarkdown,
  tally,
  verdict,
  type SummaryContext,
  type VerdictContext,
} from '../../src/report.js';

const del = operationFor('delete', 'workflow');
const dryDel = probeFor(del);
const restart = operationFor('restart', 'workflow');

const outcomes = (partial: Partial<Outcomes>): Outcomes => ({ ...noOutcomes(), elapsedMs: 1234, ...partial });
const failure = (id: string, reason: string, cause: Cause = 'retries-exhausted', mayHaveActed = false): FailedId => ({
  id,
  cause,
  reason,
  mayHaveActed,
});
const BASE_URL = 'https://qstash.upstash.io';
const ctx = (onNotFound: VerdictContext['onNotFound'], operation: Operation = del): VerdictContext => ({
  onNotFound,
  baseUrl: BASE_URL,
  operation,
});
const summaryCtx = (operation: Operation = del, extra: Partial<SummaryContext> = {}): SummaryContext => ({
  ...ctx('pass', operation),
  title: 'delete',
  dlqName: 'Upstash Workflow DLQ',
  verdict: { warnings: [], notices: [] },
  redact: (text) => text,
  ...extra,
});

describe('outputsFor', () => {
  it('gives JSON arrays and decimal counts for every outcome, and every output', () => {
    expect(
      outputsFor(
        outcomes({ done: ['a', 'b'], notFound: ['c'], failed: [failure('d', 'x', 'rejected')] }),
        del,
        '/tmp/results.jsonl',
      ),
    ).toEqual({
      removed: '["a","b"]',
      'removed-count': '2',
      redriven: '[]',
      'redriven-count': '0',
      'new-runs': '{}',
      'not-found': '["c"]',
      'not-found-count': '1',
      failed: '["d"]',
      'failed-count': '1',
      'failed-causes': '{"d":"rejected"}',
      'would-remove': '[]',
      'would-remove-count': '0',
      'would-redrive': '[]',
      'would-redrive-count': '0',
      'results-file': '/tmp/results.jsonl',
      // What a report or a listing saw is given by main (look.ts); on its own, nothing was counted.
      'entries-count': '',
      'oldest-created-at': '',
      'newest-created-at': '',
      groups: '',
      'groups-others': '',
      'threshold-exceeded': 'false',
      'kept-count': '',
      'export-file': '',
      // Without verify, nothing was waited for: the run outputs are empty, not zero.
      'run-states': '',
      'succeeded-count': '',
      're-failed': '',
      're-failed-count': '',
      'still-running-count': '',
      're-failed-dlq-ids': '',
    });
  });

  it('sets every output in OUTPUTS', () => {
    expect(Object.keys(outputsFor(noOutcomes(), del)).sort()).toEqual([...OUTPUTS].sort());
  });

  it('puts the ids carried out in the operation’s own output', () => {
    const done = outcomes({ done: ['a'] });
    expect(outputsFor(done, dryDel)).toMatchObject({
      removed: '[]',
      'would-remove': '["a"]',
      'would-remove-count': '1',
    });
    expect(outputsFor(done, probeFor(restart))).toMatchObject({ 'would-remove': '[]', 'would-redrive': '["a"]' });
    expect(
      outputsFor(outcomes({ done: ['a', '__proto__'], newRuns: new Map([['__proto__', 'wfr_1']]) }), restart),
    ).toMatchObject({ removed: '[]', redriven: '["a","__proto__"]', 'new-runs': '{"__proto__":"wfr_1"}' });
  });
});

describe('verdict', () => {
  it('passes with nothing missing or failed', () => {
    expect(verdict(outcomes({ done: ['a'] }), ctx('fail'))).toEqual({ warnings: [], notices: [] });
  });

  it('not-found: pass says nothing, warn warns, fail fails', () => {
    const o = outcomes({ notFound: ['x', 'y'] });
    expect(verdict(o, ctx('pass'))).toEqual({ warnings: [], notices: [] });
    expect(verdict(o, ctx('warn'))).toEqual({ warnings: [expect.stringContaining('"x", "y"')], notices: [] });
    expect(verdict(o, ctx('fail')).error).toMatch(/2 ids were not found.*on-not-found is 'fail'/);
  });

  it('fails when any id failed, naming ids and the first reason', () => {
    const error = verdict(outcomes({ failed: [failure('a', 'HTTP 500 (4 attempts)')] }), ctx('pass')).error;
    expect(error).toBe('1 id was not deleted: "a". First reason: HTTP 500 (4 attempts).');
  });

  it('a refused token says to check the secret and the region, and explains the ids it left', () => {
    const error = verdict(
      outcomes({
        stopped: { kind: 'token-refused', reason: 'HTTP 401: the token was refused' },
        failed: [failure('a', 'HTTP 401: the token was refused', 'token-refused')],
      }),
      ctx('pass'),
    ).error;
    expect(error).toMatch(/refused the token.*qstash-token.*region/);
    expect(error).not.toMatch(/not deleted/);
  });

  it('a stop does not hide failures of other causes', () => {
    const error = verdict(
      outcomes({
        stopped: { kind: 'cancelled', reason: 'received SIGTERM' },
        failed: [failure('a', 'HTTP 400', 'rejected'), failure('b', 'not attempted', 'cancelled')],
      }),
      ctx('pass'),
    ).error;
    expect(error).toMatch(/cancelled \(received SIGTERM\).*2 ids were not deleted: "a"\. First reason: HTTP 400\./);
  });

  it('lists at most ten ids in a message', () => {
    const ids = Array.from({ length: 25 }, (_, i) => `m${i}`);
    expect(verdict(outcomes({ notFound: ids }), ctx('warn')).warnings[0]).toMatch(/"m9" and 15 more\.$/);
  });

  it('re-runs that may have acted are named, never to be re-run blindly', () => {
    const error = verdict(
      outcomes({ failed: [failure('a', 'lost', 'answer-lost', true), failure('b', 'HTTP 400', 'rejected')] }),
      ctx('pass', restart),
    ).error;
    expect(error).toMatch(/1 failed id may have been restarted without the answer arriving: "a"\. Never restart/);
  });

  it('warns about unattributed bulk deletions, and names the cap input a run was given', () => {
    expect(verdict(outcomes({ unattributed: 2 }), ctx('pass')).warnings).toEqual([
      expect.stringMatching(/deleted 2 entries that cannot be pinned to ids/),
    ]);
    const selection: SelectionReport = {
      filters: [],
      matched: 12,
      entries: new Map(),
      cap: 10,
      capInput: 'max-entries',
      allInput: 'select-all',
    };
    const capped = verdict(outcomes({ selection, stopped: { kind: 'cap-exceeded', reason: '' } }), ctx('pass'));
    expect(capped.error).toMatch(
      /12 entries match, more than max-entries \(10\)\. Nothing was deleted\..*raise max-entries/,
    );
  });

  it('an empty selection is a notice, not a failure', () => {
    const selection: SelectionReport = {
      filters: [],
      matched: 0,
      entries: new Map(),
      capInput: 'max-entries',
      allInput: 'select-all',
    };
    expect(verdict(outcomes({ selection }), ctx('pass'))).toEqual({
      warnings: [],
      notices: ['The DLQ is empty: nothing to delete.'],
    });
  });

  it('decides on cause kinds, never on reason text', () => {
    const causes = Object.keys(CAUSES) as Cause[];
    const stops: StopKind[] = [
      'token-refused',
      'unreachable',
      'cancelled',
      'proxy-refused',
      'listing-failed',
      'cap-exceeded',
      'internal',
    ];
    // Reasons as the action writes them (which a text-matching verdict would key on), and arbitrary text.
    const reason = fc.oneof(
      fc.constantFrom(
        'not attempted: the token was refused',
        'not attempted: received SIGTERM',
        'HTTP 401: the token was refused',
        'HTTP 500 (4 attempts)',
        'HTTP 404',
        'not found',
        'HTTP 503: the request may have been carried out; not sent again',
        'internal error: boom',
        'not sent: the id contains / \\ ? # % , or whitespace, which no DLQ id has',
        '',
      ),
      fc.string({ unit: 'binary', maxLength: 80 }),
    );
    const id = fc.string({ minLength: 1, maxLength: 8 });
    const arbitraryOutcomes = fc.record({
      failed: fc.array(fc.record({ id, cause: fc.constantFrom(...causes), reason, mayHaveActed: fc.boolean() }), {
        maxLength: 6,
      }),
      notFound: fc.array(id, { maxLength: 4 }),
      done: fc.array(id, { maxLength: 4 }),
      stopped: fc.option(fc.record({ kind: fc.constantFrom(...stops), reason }), { nil: undefined }),
      selection: fc.option(
        fc.record({
          filters: fc.constantFrom([], [{ input: 'label', values: ['x'] }]),
          matched: fc.nat(3),
          entries: fc.constant(new Map()),
          cap: fc.option(fc.nat(3), { nil: undefined }),
          capInput: fc.constant('max-entries'),
          allInput: fc.constant('select-all'),
        }),
        { nil: undefined },
      ),
      unattributed: fc.nat(3),
    });
    const operations = [del, dryDel, restart, probeFor(restart), operationFor('retry', 'qstash')];
    fc.assert(
      fc.property(
        arbitraryOutcomes,
        fc.constantFrom('pass', 'warn', 'fail' as const),
        fc.constantFrom(...operations),
        fc.infiniteStream(reason),
        (partial, onNotFound, operation, texts) => {
          const { stopped, selection, ...rest } = partial;
          const original = outcomes({ ...rest, ...(stopped && { stopped }), ...(selection && { selection }) });
          const rewritten = outcomes({
            ...rest,
            failed: rest.failed.map((entry) => ({ ...entry, reason: texts.next().value })),
            ...(stopped && { stopped: { ...stopped, reason: texts.next().value } }),
            ...(selection && { selection }),
          });
          const before = verdict(original, ctx(onNotFound, operation));
          const after = verdict(rewritten, ctx(onNotFound, operation));
          expect(after.error !== undefined).toBe(before.error !== undefined);
          expect(after.warnings.length).toBe(before.warnings.length);
          expect(after.notices.length).toBe(before.notices.length);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('tally and summary', () => {
  it('tally is one line with every count', () => {
    expect(tally(outcomes({ done: ['a'], notFound: ['b'], requests: 3 }), del)).toBe(
      'Removed 1, not found 1, failed 0 (2 ids, 3 requests, 1.2 s).',
    );
    expect(tally(outcomes({ done: ['a'] }), dryDel)).toMatch(/^Dry run: would remove 1,/);
    expect(tally(outcomes({ done: ['a'] }), restart)).toMatch(/^Restarted 1,/);
  });

  it('escapes ids so they cannot break the table or inject markup', () => {
    const md = summaryMarkdown(outcomes({ done: ['a|b', '<img src=x>', '`x`'] }), summaryCtx());
    expect(md).toContain('| a\\|b | removed |');
    expect(md).toContain('&lt;img src=x&gt;');
    expect(md).toContain('\\`x\\`');
    expect(md).not.toContain('<img');
  });

  it('escapes reasons and keeps each row on one line', () => {
    const md = summaryMarkdown(
      outcomes({ failed: [failure('a', 'line one\n| injected | row |\r\n<script>', 'bad-answer')] }),
      summaryCtx(),
    );
    const row = md.split('\n').find((line) => line.startsWith('| a |'))!;
    expect(row).toContain('bad-answer: line one \\| injected \\| row \\| &lt;script&gt;');
    expect(md).not.toContain('<script>');
  });

  it('redacts secrets before escaping or cutting', () => {
    const secret = 'tok_SECRET';
    const md = summaryMarkdown(outcomes({ failed: [failure('a', `sent ${secret}|x`, 'rejected')] }), {
      ...summaryCtx(),
      redact: (text) => text.replaceAll(secret, '***'),
    });
    expect(md).not.toContain('SECRET');
    expect(md).toContain('sent \\*\\*\\*\\|x');
  });

  it('stays far under 1 MiB even for 100,000 long ids', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `${'x'.repeat(300)}-${i}`);
    const md = summaryMarkdown(outcomes({ done: ids }), summaryCtx());
    expect(Buffer.byteLength(md)).toBeLessThan(300 * 1024);
    expect(md).toMatch(/99\d{3} more ids not shown/);
  });

  it('shows new runs for re-runs', () => {
    const md = summaryMarkdown(
      outcomes({ done: ['a'], newRuns: new Map([['a', 'wfr-1']]) }),
      summaryCtx(restart, { title: 'restart' }),
    );
    expect(md).toContain('| a | restarted | wfr-1 |  |');
    expect(md).not.toContain('lost-response rule');
  });

  it('marks deletes settled by the lost-response rule', () => {
    const md = summaryMarkdown(outcomes({ done: ['a', 'b'], inferred: ['b'] }), summaryCtx());
    expect(md).toContain('| b | removed | lost-response rule |');
    expect(md).toContain('by the lost-response rule (deletes only)');
  });

  it('a run-attempt warning turns the status to warnings and is quoted', () => {
    const warning = runAttemptWarning(restart, '2')!;
    const md = summaryMarkdown(
      outcomes({ done: ['a'] }),
      summaryCtx(restart, { title: 'restart', runAttemptWarning: warning }),
    );
    expect(md).toContain('⚠️ passed with warnings');
    expect(md).toContain('> This is attempt 2 of the workflow run (GITHUB\\_RUN\\_ATTEMPT=2)');
  });
});

describe('resultRecords', () => {
  it('one JSON line per selected id, in selection order, with cause, newRun and inferred where they apply', () => {
    const results = new Map([
      ['a', { kind: 'done', newRun: 'wfr_1' } as const],
      ['b', { kind: 'not-found' } as const],
      ['c', { kind: 'failed', cause: 'answer-lost', reason: 'lost', mayHaveActed: true } as const],
    ]);
    const lines = [...resultRecords(outcomes({ ids: ['a', 'b', 'c'], results }), restart)];
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { id: 'a', outcome: 'redriven', newRun: 'wfr_1' },
      { id: 'b', outcome: 'not-found' },
      { id: 'c', outcome: 'failed', cause: 'answer-lost', reason: 'lost', mayHaveActed: true },
    ]);
    const deletes = new Map([['d', { kind: 'done', inferred: true } as const]]);
    expect([...resultRecords(outcomes({ ids: ['d'], results: deletes }), del)].map((l) => JSON.parse(l))).toEqual([
      { id: 'd', outcome: 'removed', inferred: true },
    ]);
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
  });
});

describe('runAttemptWarning', () => {
  const restartAfter = operationFor('restart', 'workflow', { headers: {}, deleteAfter: true });
  it.each([
    ['a redrive on attempt 2', restart, '2', true],
    ['a retry on attempt 3', operationFor('retry', 'qstash'), '3', true],
    ['a first attempt', restart, '1', false],
    ['no GITHUB_RUN_ATTEMPT', restart, undefined, false],
    ['a value that is not a number', restart, 'two', false],
    ['a delete', del, '2', false],
    ['a dry run', probeFor(restart), '2', false],
    ['delete-after-redrive', restartAfter, '2', false],
  ] as const)('%s: %s', (_name, operation, attempt, warns) => {
    const warning = runAttemptWarning(operation, attempt);
    if (!warns) expect(warning).toBeUndefined();
    else {
      expect(warning).toContain(`This is attempt ${attempt} of the workflow run`);
      expect(warning).toContain('delete-after-redrive is off');
      expect(warning).toContain('set delete-after-redrive: true');
    }
  });
});

describe('nothingSent: a run that stopped before its first request', () => {
  it('fails every selected id once, as never sent, and fails the step with the reason', () => {
    const result = nothingSent(['a', 'b', 'a'], 'the connection could not be set up: boom');
    expect(result.ids).toEqual(['a', 'b']);
    expect(result.failed.map((f) => [f.id, f.cause, f.mayHaveActed])).toEqual([
      ['a', 'internal', false],
      ['b', 'internal', false],
    ]);
    expect(result.failed[0]!.reason).toMatch(/^not sent: the connection could not be set up: boom/);
    expect(result.done).toEqual([]);
    expect(outputsFor(result, del)['failed-count']).toBe('2');
    const v = verdict(result, { onNotFound: 'pass', baseUrl: 'https://qstash.upstash.io', operation: del });
    expect(v.error).toMatch(/boom/);
  });
});
