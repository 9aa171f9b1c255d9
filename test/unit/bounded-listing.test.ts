/** The bounds on what a listing page may hold, and on what a listing keeps (finding "listing memory has no bound"). */
import { describe, expect, it } from 'vitest';
import { execute, type Target } from '../../src/engine/index.js';
import { Ledger } from '../../src/engine/ledger.js';
import { Lister } from '../../src/engine/listing.js';
import { operationFor } from '../../src/operations.js';
import { entryInfo, MAX_LISTED_ID_LENGTH, MAX_SHOWN_LENGTH, pageProblem } from '../../src/qstash/listing.js';
import type { Exchange, ExchangeResult } from '../../src/qstash/transport.js';
import { json, scriptedClient } from '../helpers/fakes.ts';

const del = operationFor('delete', 'workflow');
const redact = (text: string): string => text.split('SECRET-TOKEN-1234567890').join('***');

describe('pageProblem: what a page may hold', () => {
  it('accepts a page of at most the entries asked for, with ids of at most MAX_LISTED_ID_LENGTH', () => {
    expect(pageProblem([{ dlqId: 'a'.repeat(MAX_LISTED_ID_LENGTH) }, { dlqId: 'b' }], 2)).toBeUndefined();
    expect(pageProblem([], 100)).toBeUndefined();
  });

  it('refuses more entries than asked for', () => {
    const page = Array.from({ length: 101 }, (_, i) => ({ dlqId: `${i}` }));
    expect(pageProblem(page, 100)).toBe("the listing's page held 101 entries, more than the 100 asked for");
  });

  it('refuses an id longer than any DLQ id, showing only a redacted start of it', () => {
    const id = `SECRET-TOKEN-1234567890${'x'.repeat(1024 * 1024)}`;
    const problem = pageProblem([{ dlqId: 'ok' }, { dlqId: id }], 100, redact)!;
    expect(problem).toContain(`an id of ${id.length} characters (the longest DLQ id accepted is 128)`);
    expect(problem).not.toContain('SECRET');
    expect(problem.length).toBeLessThan(200);
  });

  it('ignores records without a string dlqId (they are skipped, not refused)', () => {
    expect(pageProblem([{ dlqId: 5 }, { other: 'x'.repeat(1000) }], 100)).toBeUndefined();
  });
});

describe('entryInfo keeps bounded shown fields', () => {
  it('cuts a long URL or run id to MAX_SHOWN_LENGTH, after removing secrets', () => {
    const url = `https://app/${'SECRET-TOKEN-1234567890'.repeat(3)}${'p'.repeat(5000)}`;
    const info = entryInfo({ dlqId: 'd', workflowUrl: url, workflowRunId: 'r'.repeat(1000) }, redact);
    expect(info.url).toBe(`${redact(url).slice(0, MAX_SHOWN_LENGTH)}…`);
    expect(info.url).not.toContain('SECRET');
    expect(info.runOrMessageId).toHaveLength(MAX_SHOWN_LENGTH + 1);
    expect(entryInfo({ dlqId: 'd', url: 'https://short' }).url).toBe('https://short');
  });
});

describe('DlqClient.listPage refuses a page past the bounds', () => {
  it.each<[string, unknown[], RegExp]>([
    [
      'more entries than asked for',
      [{ dlqId: 'a' }, { dlqId: 'b' }, { dlqId: 'c' }],
      /held 3 entries, more than the 2/,
    ],
    ['an id of 1 MiB', [{ dlqId: 'x'.repeat(1024 * 1024) }], /an id of 1048576 characters/],
  ])('%s: a failed listing (bad-answer), with no entry', async (_name, messages, reason) => {
    const { client } = scriptedClient(() => json(200, { messages, cursor: 'next' }));
    expect(await client.listPage('workflow', [], undefined, 2)).toEqual({
      kind: 'failed',
      cause: 'bad-answer',
      reason: expect.stringMatching(reason),
      attempts: 1,
      mayHaveActed: false,
    });
  });
});

/** A listing that pages `perPage` fresh entries at a time, forever. */
const endless =
  (perPage: number) =>
  (exchange: Exchange): ExchangeResult => {
    const url = new URL(exchange.path, 'http://x');
    const page = Number(url.searchParams.get('cursor') ?? 0) + 1;
    const messages = Array.from({ length: perPage }, (_, i) => ({ dlqId: `${page}-${i}` }));
    return json(200, { messages, cursor: String(page) });
  };

describe('the Lister keeps a bounded number of entries', () => {
  it('stops before a page would take it past maxListedEntries, without handing that page on', async () => {
    const { client } = scriptedClient(endless(10));
    const ledger = new Ledger(client, { concurrency: 1, strategy: 'per-id' });
    const lister = new Lister('workflow', client, ledger, { maxListedEntries: 25 });
    const handed: number[] = [];
    const end = await lister.list([], 100, (entries) => void handed.push(entries.length));
    expect(end).toEqual({
      kind: 'failed',
      cause: 'bad-answer',
      reason: 'the listing held more than 25 entries, the most one run keeps: narrow the selection',
    });
    expect(handed).toEqual([10, 10]);
  });
});

describe('the date-outlier count', () => {
  const fromDate = 1000;
  const target: Target = {
    kind: 'query',
    query: [['fromDate', [String(fromDate)]]],
    filters: [{ input: 'from-date', values: [String(fromDate)] }],
    cap: 0,
    capInput: 'max-entries',
    allInput: 'select-all',
  };
  const pages: Record<string, unknown> = {
    first: {
      messages: [
        { dlqId: 'x', createdAt: 1 },
        { dlqId: 'y', createdAt: 1 },
        { dlqId: 'a', createdAt: 2000 },
      ],
      cursor: 'p2',
    },
    p2: {
      messages: [
        { dlqId: 'x', createdAt: 2000 },
        { dlqId: 'y', createdAt: 1 },
        { dlqId: 'b', createdAt: 2000 },
      ],
    },
  };

  it('counts ids left out, each once, never an id that was also listed inside the dates and acted on', async () => {
    const { client } = scriptedClient((exchange) => {
      const url = new URL(exchange.path, 'http://x');
      if (exchange.method === 'GET') return json(200, pages[url.searchParams.get('cursor') ?? 'first']);
      return json(200, { deleted: url.searchParams.getAll('dlqIds').length });
    });
    const outcomes = await execute(target, del, client, { concurrency: 1, strategy: 'auto' });
    expect([...outcomes.done].sort()).toEqual(['a', 'b', 'x']);
    expect(outcomes.dateOutliers).toBe(1);
  });
});
