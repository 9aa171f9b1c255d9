/**
 * The side-by-side listing (Lister.listWide) through a real DlqClient against the loopback emulator: exact counts
 * whatever the server's order and cursor, many entries in one millisecond, entries added while it lists, a server
 * that ignores the date filters, and the listing's bounds (a failed page, the entry bound, the page ceiling, the
 * caller's "enough") across all ranges together.
 */
import { describe, expect, it } from 'vitest';
import { DlqStore, type ListOrder } from '../../emulator/store.ts';
import { workflowEntries, type CursorMode, type DlqEmulator, type DlqEntry } from '../../emulator/server.ts';
import { connect } from '../../src/connection.js';
import { Ledger } from '../../src/engine/ledger.js';
import { Lister, type ListingEnd, type ListerOptions } from '../../src/engine/listing.js';
import type { ListQuery } from '../../src/qstash/paths.js';
import type { Settings } from '../../src/settings.js';
import { emulatorPerTest } from '../helpers/e2e.ts';
import { afterThisTest } from '../helpers/loopback.ts';

const start = emulatorPerTest();
const LISTING = '/v2/workflows/dlq?';

interface Listed {
  end: ListingEnd;
  /** How many times each id was handed on. */
  seen: Map<string, number>;
  notes: string[];
  /** The listing requests the emulator got. */
  requests: URL[];
}

/** Lists the emulator's Workflow DLQ with listWide, the client built as the action builds it (connection.ts). */
async function listWide(
  e: DlqEmulator,
  {
    query = [],
    concurrency = 8,
    now = Date.now(),
    lister = {},
    onPage,
  }: {
    query?: ListQuery;
    concurrency?: number;
    now?: number;
    lister?: ListerOptions;
    onPage?: (ids: readonly string[]) => boolean;
  } = {},
): Promise<Listed> {
  const settings = {
    endpoint: { url: e.url, token: e.token },
    concurrency,
    requestTimeoutMs: 10_000,
    maxRetries: 0,
  } as unknown as Settings;
  const connection = connect(settings, {}, { redact: (text) => text });
  afterThisTest(() => connection.close());
  const ledger = new Ledger(connection.client, { concurrency, strategy: 'auto', now: () => now });
  const notes: string[] = [];
  const note = ledger.note.bind(ledger);
  ledger.note = (text) => {
    notes.push(text);
    note(text);
  };
  const seen = new Map<string, number>();
  const before = e.requests.length;
  const end = await new Lister('workflow', connection.client, ledger, lister).listWide(
    query,
    (entries, records) => {
      // The records are the listed objects behind the entries, index by index.
      expect(records.map((record) => record.dlqId)).toEqual(entries.map((entry) => entry.dlqId));
      for (const entry of entries) seen.set(entry.dlqId, (seen.get(entry.dlqId) ?? 0) + 1);
      return onPage?.(entries.map((entry) => entry.dlqId));
    },
    { concurrency, now },
  );
  const requests = e.requests
    .slice(before)
    .filter((r) => r.path.startsWith(LISTING))
    .map((r) => new URL(r.path, e.url));
  return { end, seen, notes, requests };
}

/** Entries one second apart over the last `count` seconds, and `old` of them a year or more before. */
function incident(count: number, old = 0, now = Date.now()): DlqEntry[] {
  const year = 365 * 86_400_000;
  const ancient = Array.from({ length: old }, (_, i) => ({
    ...workflowEntries(1, {}, now - year - i * 86_400_000)[0]!,
    dlqId: `${now - year - i * 86_400_000}-old${i}`,
  }));
  return [...ancient, ...workflowEntries(count, {}, now)];
}

function ranged(requests: readonly URL[]): number {
  return requests.filter((url) => url.searchParams.has('fromDate') || url.searchParams.has('toDate')).length;
}

describe('listWide: exact for every order and cursor', () => {
  const cases: [CursorMode, ListOrder][] = [];
  for (const cursor of ['id', 'position'] as const)
    for (const order of ['insertion', 'newest-first', 'shuffled'] as const) cases.push([cursor, order]);

  it.each(cases)(
    '5,000 entries, cursor by %s, %s order: each counted once, read side by side',
    async (cursor, order) => {
      const e = await start({ cursor, listOrder: order, latencyMs: 2 });
      const now = Date.now();
      const ids = e.seed('workflow', incident(5000, 3, now));
      const run = await listWide(e, { now });
      expect(run.end).toEqual({ kind: 'complete' });
      expect([...run.seen.keys()].sort()).toEqual([...ids].sort());
      // Side by side: ranges by date, more than one page in flight, and no page read more than once.
      expect(ranged(run.requests)).toBeGreaterThan(10);
      expect(e.maxInFlight).toBeGreaterThan(1);
      const paths = run.requests.map((url) => url.search);
      expect(new Set(paths).size).toBe(paths.length);
      // Duplicates are only what a range's first page showed before it was split: a few pages' worth.
      const repeats = [...run.seen.values()].reduce((sum, n) => sum + n - 1, 0);
      expect(repeats).toBeLessThan(2000);
      expect(run.notes).toEqual([]);
    },
  );

  it("stays inside the user's fromDate / toDate and lists exactly what they hold", async () => {
    const e = await start({ cursor: 'position', listOrder: 'shuffled' });
    const now = Date.now();
    const entries = incident(5000, 0, now);
    e.seed('workflow', entries);
    const from = now - 4000 * 1000;
    const to = now - 500 * 1000;
    const inside = entries.filter((x) => x.createdAt >= from && x.createdAt <= to).map((x) => x.dlqId);
    const run = await listWide(e, {
      now,
      query: [
        ['fromDate', [String(from)]],
        ['toDate', [String(to)]],
      ],
    });
    expect(run.end).toEqual({ kind: 'complete' });
    expect([...run.seen.keys()].sort()).toEqual(inside.sort());
    for (const url of run.requests) {
      expect(Number(url.searchParams.get('fromDate'))).toBeGreaterThanOrEqual(from);
      expect(Number(url.searchParams.get('toDate'))).toBeLessThanOrEqual(to);
    }
    expect(ranged(run.requests)).toBe(run.requests.length);
  });

  it('a small DLQ costs one request, as a sequential listing does', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(60));
    const run = await listWide(e);
    expect(run.end).toEqual({ kind: 'complete' });
    expect([...run.seen.keys()]).toEqual(ids);
    expect(run.requests).toHaveLength(1);
    expect(ranged(run.requests)).toBe(0);
  });
});

describe('listWide: many entries in one millisecond', () => {
  it.each(['id', 'position'] as const)(
    '2,000 entries created in the same ms, cursor by %s: all counted',
    async (cursor) => {
      const e = await start({ cursor, listOrder: 'newest-first' });
      const now = Date.now();
      const burst = workflowEntries(2000, { createdAt: now - 30_000 }, now);
      const ids = e.seed('workflow', [...incident(1000, 2, now), ...burst]);
      const run = await listWide(e, { now });
      expect(run.end).toEqual({ kind: 'complete' });
      expect(run.seen.size).toBe(ids.length);
      expect([...run.seen.keys()].sort()).toEqual([...ids].sort());
      // The range holding that millisecond was paged through (it cannot split below 1 ms): 20 pages or more.
      const holding = run.requests.filter(
        (url) =>
          Number(url.searchParams.get('fromDate') ?? -Infinity) <= now - 30_000 &&
          Number(url.searchParams.get('toDate') ?? Infinity) >= now - 30_000 &&
          url.searchParams.has('cursor'),
      );
      expect(holding.length).toBeGreaterThanOrEqual(19);
    },
  );
});

describe('listWide: entries added while it lists', () => {
  it.each<[CursorMode, ListOrder]>([
    ['id', 'insertion'],
    ['position', 'insertion'],
    ['id', 'newest-first'],
    ['position', 'newest-first'],
    ['position', 'shuffled'],
  ])('cursor by %s, %s order: every entry there at the start is counted exactly once', async (cursor, order) => {
    const e = await start({ cursor, listOrder: order });
    const now = Date.now();
    const ids = e.seed('workflow', incident(5000, 2, now));
    let added = 0;
    e.faults.push({
      method: 'GET',
      pathIncludes: LISTING,
      times: 60,
      // New failures arrive while the step runs: created after it started.
      run: (emulator) => {
        const at = Date.now() + 1;
        emulator.seed(
          'workflow',
          workflowEntries(5, {}, at + 5000).map((x, i) => ({ ...x, dlqId: `${at}-new${added++}-${i}` })),
        );
      },
    });
    const run = await listWide(e, { now });
    expect(run.end).toEqual({ kind: 'complete' });
    for (const id of ids) expect(run.seen.has(id), id).toBe(true);
    expect(added).toBeGreaterThan(10);
    // Nothing is counted that is not an entry of the DLQ.
    const all = new Set(e.ids('workflow'));
    for (const id of run.seen.keys()) expect(all.has(id)).toBe(true);
  });
});

describe('listWide: a server that ignores fromDate / toDate', () => {
  it('gives up the ranges, reads one sequential listing, counts each entry once, and says so', async () => {
    const e = await start();
    const now = Date.now();
    const entries = incident(3000, 2, now);
    const ids = e.seed('workflow', entries);
    // The answers come from a second store that drops the dates: every range lists the whole DLQ.
    const ignoring = new DlqStore();
    ignoring.seed('workflow', entries);
    e.faults.push({
      method: 'GET',
      pathIncludes: LISTING,
      status: 200,
      body: (url) => {
        const params = new URLSearchParams(url.search);
        params.delete('fromDate');
        params.delete('toDate');
        const page = ignoring.page('workflow', params, Number(params.get('count') ?? 100), 'id');
        return JSON.stringify({ messages: page.entries, ...(page.cursor && { cursor: page.cursor }) });
      },
    });
    const run = await listWide(e, { now });
    expect(run.end).toEqual({ kind: 'complete' });
    expect([...run.seen.keys()].sort()).toEqual([...ids].sort());
    expect(run.notes.join('\n')).toContain('ignores the date filters');
    // One sequential listing of the original query after the ranges: 30 pages with no dates.
    const plain = run.requests.filter((url) => !url.searchParams.has('fromDate') && !url.searchParams.has('toDate'));
    expect(plain.length).toBeGreaterThanOrEqual(30);
    expect(run.requests.length).toBeLessThan(30 + 60);
  });
});

describe('listWide: the bounds hold across all ranges', () => {
  it('a failed page mid-way ends the whole listing as failed', async () => {
    const e = await start();
    e.seed('workflow', incident(5000, 2));
    // The third page of some range (a cursor, and dates) is not JSON.
    e.faults.push({ method: 'GET', pathIncludes: 'cursor=', status: 200, body: '<html>', times: 1 });
    const run = await listWide(e);
    expect(run.end).toMatchObject({
      kind: 'failed',
      cause: 'bad-answer',
      reason: 'the DLQ listing was not JSON (6 bytes)',
    });
    // No page is asked for once the listing failed: at most the pages then in flight follow.
    const failedAt = run.requests.findIndex((url) => url.searchParams.has('cursor'));
    expect(run.requests.length - failedAt).toBeLessThanOrEqual(8 + 1);
  });

  it('the entry bound counts the distinct entries of every range together', async () => {
    const e = await start();
    e.seed('workflow', incident(5000, 2));
    const run = await listWide(e, { lister: { maxListedEntries: 1000 } });
    expect(run.end).toMatchObject({ kind: 'failed', reason: expect.stringContaining('more than 1000 entries') });
    expect(run.seen.size).toBeLessThanOrEqual(1000);
  });

  it('the page ceiling counts the pages of every range together', async () => {
    const e = await start();
    e.seed('workflow', incident(5000, 2));
    const run = await listWide(e, { lister: { maxListPages: 25 } });
    expect(run.end).toMatchObject({ kind: 'failed', reason: expect.stringContaining('within 25 pages') });
    expect(run.requests.length).toBeLessThanOrEqual(25);
  });

  it('the caller saying "enough" stops every range', async () => {
    const e = await start({ latencyMs: 5 });
    e.seed('workflow', incident(5000, 2));
    let pages = 0;
    const run = await listWide(e, { onPage: () => ++pages === 5 });
    expect(run.end).toEqual({ kind: 'stopped' });
    // The pages already in flight may arrive, but none is handed on after "enough".
    expect(pages).toBe(5);
    expect(run.requests.length).toBeLessThanOrEqual(5 + 8);
  });

  it('a repeated cursor within one range is a bad answer', async () => {
    const e = await start();
    e.seed('workflow', incident(5000, 2));
    e.faults.push({
      method: 'GET',
      pathIncludes: 'fromDate=',
      status: 200,
      body: (url) =>
        JSON.stringify({
          messages: [
            {
              createdAt: Number(url.searchParams.get('toDate') ?? url.searchParams.get('fromDate')),
              dlqId: `${url.searchParams.get('toDate')}-${url.searchParams.get('fromDate')}-${url.searchParams.get('cursor') ?? 'first'}`,
            },
          ],
          cursor: 'same',
        }),
    });
    const run = await listWide(e);
    expect(run.end).toMatchObject({ kind: 'failed', reason: 'the listing returned cursor "same" twice' });
  });
});
