/**
 * Paging through a listing, and when to stop: the caller's budget or its "enough", a failed page (a bad answer
 * among them: a page past the bounds), a cursor seen before, pages that bring nothing new, the hard ceilings of pages
 * and of entries kept. Shrinks the page size while a page is too large to read. A large listing may also be read
 * wide: as several listings of disjoint time ranges side by side (listWide).
 */
import type { Cause, EntryInfo } from '../outcomes.js';
import type { DlqClient, ListResult } from '../qstash/client.js';
import { PAGE_SIZE, type DlqKind, type ListQuery } from '../qstash/paths.js';
import type { Ledger } from './ledger.js';

/** A listing stops after this many pages: 2,000,000 entries at 100 a page. */
export const MAX_LIST_PAGES = 20_000;
/** A listing stops after this many pages in a row that bring no entry it has not seen. */
export const MAX_STALE_PAGES = 10;
/**
 * A listing stops before it would keep more than this many distinct entries. Each page holds at most the entries
 * asked for, each with a bounded id and bounded shown fields (qstash/listing.ts), so this bounds what any listing
 * of the run keeps, whoever reads it: the README's "Bounds on what a listing may hold" gives the figures.
 */
export const MAX_LISTED_ENTRIES = 500_000;

export type ListingEnd =
  | { readonly kind: 'complete' }
  /** The caller said it had enough. */
  | { readonly kind: 'stopped' }
  /** The caller's page budget was spent. */
  | { readonly kind: 'budget' }
  | { readonly kind: 'failed'; readonly cause: Cause; readonly reason: string };

export interface ListerOptions {
  /** Most pages any listing of the run reads. */
  readonly maxListPages?: number;
  /** Most distinct entries any listing of the run keeps (default MAX_LISTED_ENTRIES). */
  readonly maxListedEntries?: number;
  /** Called after each page with the pages and entries listed so far. */
  readonly onListed?: (pages: number, entries: number) => void;
}

export class Lister {
  private readonly dlq: DlqKind;
  private readonly client: DlqClient;
  private readonly ledger: Ledger;
  private readonly options: ListerOptions;

  constructor(dlq: DlqKind, client: DlqClient, ledger: Ledger, options: ListerOptions) {
    this.dlq = dlq;
    this.client = client;
    this.ledger = ledger;
    this.options = options;
  }

  /** The most distinct entries one listing keeps. */
  private get maxEntries(): number {
    return this.options.maxListedEntries ?? MAX_LISTED_ENTRIES;
  }

  /** The most pages one listing reads. */
  get ceiling(): number {
    return this.options.maxListPages ?? MAX_LIST_PAGES;
  }

  /**
   * Pages through the listing, handing each page's entries to `onPage` (`last`: no page follows); `onPage`
   * returning true means enough.
   * Reads at most `maxPages` pages (then `budget`). `shrinkPages: false` fails a page too large to read instead
   * of asking for smaller ones: for a caller that has a faster way than pages of large bodies.
   */
  async list(
    query: ListQuery,
    maxPages: number,
    onPage: (
      entries: readonly EntryInfo[],
      last: boolean,
      records: readonly Record<string, unknown>[],
    ) => boolean | undefined,
    { shrinkPages = true }: { readonly shrinkPages?: boolean } = {},
  ): Promise<ListingEnd> {
    const { ledger, ceiling } = this;
    const cursors = new Set<string>();
    const seen = new Set<string>();
    let cursor: string | undefined;
    let count = PAGE_SIZE;
    let stale = 0;
    let skipped = 0;
    for (let page = 0; ;) {
      if (page >= Math.min(maxPages, ceiling)) {
        if (page < ceiling) return { kind: 'budget' };
        return failed('bad-answer', `the listing did not end within ${ceiling} pages (the most one run reads)`);
      }
      const result = await this.client.listPage(this.dlq, query, cursor, count, ledger.signal);
      if (result.kind === 'failed') {
        ledger.haltOnRefusal(result);
        return failed(result.cause, result.reason);
      }
      if (result.kind === 'too-large') {
        const limit = `${Math.round(result.limitBytes / (1024 * 1024))} MiB`;
        if (!shrinkPages)
          return failed('bad-answer', `listing pages were larger than ${limit}: entries carry large bodies`);
        if (count === 1) {
          return failed('bad-answer', `a single DLQ entry is larger than ${limit}, the most one listing page may hold`);
        }
        count = Math.max(1, Math.floor(count / 10));
        ledger.note(
          `Listing pages were larger than ${limit} (entries carry large bodies); asked for ${count} entries a page instead.`,
        );
        continue;
      }
      page += 1;
      skipped += result.skipped;
      const fresh = result.entries.filter((entry) => !seen.has(entry.dlqId)).length;
      // Checked before the page is handed on: the caller never holds more than the bound.
      if (seen.size + fresh > this.maxEntries) {
        return failed(
          'bad-answer',
          `the listing held more than ${this.maxEntries} entries, the most one run keeps: narrow the selection`,
        );
      }
      for (const entry of result.entries) seen.add(entry.dlqId);
      const enough = onPage(result.entries, result.cursor === undefined, result.records) === true;
      this.options.onListed?.(page, seen.size);
      if (enough && result.cursor !== undefined) return { kind: 'stopped' };
      if (result.cursor === undefined) {
        if (skipped > 0) ledger.note(`${skipped} listed entries had no dlqId and were left out.`);
        return { kind: 'complete' };
      }
      if (cursors.has(result.cursor)) {
        return failed('bad-answer', `the listing returned cursor ${JSON.stringify(result.cursor)} twice`);
      }
      stale = fresh === 0 ? stale + 1 : 0;
      if (stale >= MAX_STALE_PAGES) {
        return failed('bad-answer', `the listing brought nothing new for ${MAX_STALE_PAGES} pages in a row`);
      }
      cursors.add(result.cursor);
      cursor = result.cursor;
    }
  }

  /**
   * Reads the whole listing as several listings of disjoint `createdAt` ranges side by side (up to `concurrency`
   * pages in flight), handing each page to `onPage` from whichever range it comes; `onPage` returning true stops
   * every range (`stopped`). Pages of different ranges may repeat an entry (a range's first page before it was
   * split): callers dedupe by dlqId. The bounds of `list` hold across all ranges together; see WideListing for the
   * ranges, and for what happens with a server that ignores the date filters.
   */
  async listWide(
    query: ListQuery,
    onPage: (entries: readonly EntryInfo[], records: readonly Record<string, unknown>[]) => boolean | undefined,
    { concurrency, now }: { readonly concurrency: number; readonly now: number },
  ): Promise<ListingEnd> {
    const whole = dateBounds(query);
    // Without a usable date range, or without room for a second page in flight, there is nothing to gain.
    if (whole === undefined || concurrency < 2) {
      return this.list(query, this.ceiling, (entries, _last, records) => onPage(entries, records));
    }
    const wide = new WideListing(
      {
        dlq: this.dlq,
        client: this.client,
        ledger: this.ledger,
        ceiling: this.ceiling,
        maxEntries: this.maxEntries,
        ...(this.options.onListed && { onListed: this.options.onListed }),
      },
      { query, whole, concurrency, now, onPage },
    );
    return wide.run();
  }
}

function failed(cause: Cause, reason: string): ListingEnd {
  return { kind: 'failed', cause, reason };
}

/**
 * A span of `createdAt`, Unix ms, both ends inclusive (as the API's `fromDate` / `toDate` are). An infinite end is
 * no bound: that filter is left out of the request, so that the range holds whatever lies beyond every date.
 */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** The newest of the first ranges back from "now"; each older one is twice as wide (1 min, 2, 4, …). */
export const FIRST_RANGE_MS = 60_000;
/** At most this many doubling ranges back from "now" (2^24 minutes: 32 years), then one open-ended range. */
export const MAX_FIRST_RANGES = 24;
/** A large range is split into at most this many. */
export const MAX_SPLIT = 8;
/** Ranges are split while fewer than this many per request in flight are waiting or being read. */
export const RANGES_PER_SLOT = 4;
/** The first split of a large listing: this many ranges per concurrency slot over the span its first page showed. */
export const FIRST_PARTS_PER_SLOT = 2;
/** No range end or width past this (about 35,000 years of ms): the arithmetic stays exact in doubles. */
const MAX_SPAN = 2 ** 50;

/**
 * The query's own date range (the user's `fromDate` / `toDate`, each at most once, a whole number of ms), or
 * undefined when it is not one this code can split exactly.
 */
export function dateBounds(query: ListQuery): TimeRange | undefined {
  const bound = (param: string, none: number): number | undefined => {
    const found = query.filter(([name]) => name === param);
    if (found.length === 0) return none;
    const values = found.flatMap(([, v]) => v);
    if (found.length > 1 || values.length !== 1 || !/^-?\d{1,16}$/u.test(values[0]!)) return undefined;
    const value = Number(values[0]);
    return Math.abs(value) <= MAX_SPAN ? value : undefined;
  };
  const from = bound('fromDate', Number.NEGATIVE_INFINITY);
  const to = bound('toDate', Number.POSITIVE_INFINITY);
  if (from === undefined || to === undefined || from > to) return undefined;
  return { from, to };
}

/** The query for one range: the query without its own dates, with the range's finite ends. */
export function rangeQuery(query: ListQuery, range: TimeRange): ListQuery {
  const rest = query.filter(([param]) => param !== 'fromDate' && param !== 'toDate');
  return [
    ...rest,
    ...(Number.isFinite(range.from) ? [['fromDate', [String(range.from)]] as const] : []),
    ...(Number.isFinite(range.to) ? [['toDate', [String(range.to)]] as const] : []),
  ];
}

export function within(range: TimeRange, createdAt: number | undefined): boolean {
  if (range.from === Number.NEGATIVE_INFINITY && range.to === Number.POSITIVE_INFINITY) return true;
  return createdAt !== undefined && createdAt >= range.from && createdAt <= range.to;
}

/**
 * The first ranges of a large listing of `whole`: entries newer than `now` (a clock behind the server's, entries
 * added since the step started) in one range, then ranges back from `now` doubling in width, 1 minute first, which
 * is where an incident's flood sits, down to the range holding `oldest` (the oldest entry the first page showed,
 * whatever order the server lists in), then one range for everything older. Together they cover every ms of
 * `whole` exactly once.
 */
export function firstRanges(whole: TimeRange, now: number, oldest?: number, parts = 0): TimeRange[] {
  const anchor = Math.min(Math.max(Math.round(now), whole.from), whole.to);
  const ranges: TimeRange[] = [];
  if (anchor < whole.to) ranges.push({ from: anchor + 1, to: whole.to });
  // With room for `parts` chains, the span the first page showed (its oldest entry to now) is cut into equal parts:
  // a listing that is in time order, or spread over its span, then reads in balanced chains from the start (the
  // doubling ranges cost a page each for the thinly filled minutes). Older entries get one range of their own.
  if (parts >= 2 && oldest !== undefined && Number.isFinite(oldest) && oldest >= whole.from && oldest < anchor) {
    const from = Math.round(oldest);
    ranges.push(...splitRange({ from, to: anchor }, parts));
    if (from > whole.from) ranges.push({ from: whole.from, to: from - 1 });
    return ranges;
  }
  let top = anchor;
  let width = FIRST_RANGE_MS;
  for (let i = 0; i < MAX_FIRST_RANGES && top >= whole.from; i += 1) {
    if (oldest !== undefined && top < oldest) break;
    const bottom = Math.max(whole.from, top - width + 1);
    ranges.push({ from: bottom, to: top });
    top = bottom - 1;
    width = Math.min(width * 2, MAX_SPAN);
  }
  if (top >= whole.from) ranges.push({ from: whole.from, to: top });
  return ranges;
}

/**
 * `range` as up to `parts` ranges that cover it exactly, or `[range]` when it cannot split (1 ms holds any number
 * of entries: such a range just pages). A bounded range splits into equal parts; an open-ended one into ranges
 * doubling in width away from its bound, the first as wide as what its first page showed (`seen`: the oldest and
 * newest createdAt on it), then one open-ended rest.
 */
export function splitRange(
  range: TimeRange,
  parts: number,
  seen: { readonly oldest?: number; readonly newest?: number } = {},
): TimeRange[] {
  const { from, to } = range;
  const k = Math.floor(parts);
  if (k < 2) return [range];
  if (Number.isFinite(from) && Number.isFinite(to)) {
    const size = to - from + 1;
    const n = Math.min(k, size);
    if (n < 2) return [range];
    return Array.from({ length: n }, (_, i) => ({
      from: from + Math.floor((i * size) / n),
      to: from + Math.floor(((i + 1) * size) / n) - 1,
    }));
  }
  if (Number.isFinite(to)) return openSplit(to, k, seen.oldest === undefined ? 0 : to - seen.oldest + 1, -1);
  if (Number.isFinite(from)) return openSplit(from, k, seen.newest === undefined ? 0 : seen.newest - from + 1, 1);
  return [range];
}

/** Ranges away from `edge` (`direction` -1: older, 1: newer), doubling from `span`, then the open rest. */
function openSplit(edge: number, parts: number, span: number, direction: -1 | 1): TimeRange[] {
  if (Math.abs(edge) > MAX_SPAN) return [direction < 0 ? { from: -Infinity, to: edge } : { from: edge, to: Infinity }];
  const ranges: TimeRange[] = [];
  let near = edge;
  let width = Math.min(Math.max(FIRST_RANGE_MS, span), MAX_SPAN);
  for (let i = 0; i < parts - 1; i += 1) {
    const far = near + direction * (width - 1);
    ranges.push(direction < 0 ? { from: far, to: near } : { from: near, to: far });
    near = far + direction;
    width = Math.min(width * 2, MAX_SPAN);
  }
  ranges.push(direction < 0 ? { from: -Infinity, to: near } : { from: near, to: Infinity });
  return ranges;
}

interface WideContext {
  readonly dlq: DlqKind;
  readonly client: DlqClient;
  readonly ledger: Ledger;
  readonly ceiling: number;
  readonly maxEntries: number;
  readonly onListed?: (pages: number, entries: number) => void;
}

interface WideRequest {
  readonly query: ListQuery;
  readonly whole: TimeRange;
  readonly concurrency: number;
  readonly now: number;
  readonly onPage: (entries: readonly EntryInfo[], records: readonly Record<string, unknown>[]) => boolean | undefined;
}

/** One range's own listing: its cursor, and the per-listing checks (repeated cursor, stale pages). */
interface Chain {
  readonly range: TimeRange;
  readonly query: ListQuery;
  /** The first page of the whole range, or the sequential listing after a server ignored the dates. */
  role: 'root' | 'range' | 'sequential';
  cursor?: string;
  readonly cursors: Set<string>;
  pages: number;
  stale: number;
  /** The sequential chain's own ids, for its stale rule: it reads again what the ranges read. */
  readonly own?: Set<string>;
}

/**
 * A listing read as ranges side by side. The first page is the whole range, as `list` reads it: a listing without
 * a cursor after it costs one request. Otherwise the range is cut (firstRanges) and the ranges are read as
 * independent listings, pages taken from the ranges not yet started first, so that a large range is found, and
 * split (splitRange), while there is room: fewer than RANGES_PER_SLOT × concurrency ranges waiting or being read.
 * One seen set across all ranges keeps the counts and the entry bound exact; the page ceiling counts every page.
 * A page holding an entry created outside its range (a server that ignores `fromDate` / `toDate`) ends the ranges:
 * the listing is read again as one sequential chain of the original query, the seen set keeping counts exact.
 */
class WideListing {
  private readonly context: WideContext;
  private readonly request: WideRequest;
  private readonly seen = new Set<string>();
  private readonly fresh: Chain[] = [];
  private readonly going: Chain[] = [];
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  /** Pages asked for (in flight or read), and pages read. */
  private asked = 0;
  private read = 0;
  private count = PAGE_SIZE;
  private skipped = 0;
  private end: ListingEnd | undefined;
  /** Why the ranges were given up for one sequential listing. */
  private ignoredDates: string | undefined;
  /** The sequential listing that follows has started. */
  private sequential = false;

  constructor(context: WideContext, request: WideRequest) {
    this.context = context;
    this.request = request;
  }

  async run(): Promise<ListingEnd> {
    const { query, whole, concurrency } = this.request;
    this.fresh.push(chain(whole, query, 'root'));
    await this.drain(concurrency);
    if (this.end === undefined && this.ignoredDates !== undefined) {
      this.context.ledger.note(
        `The server listed ${this.ignoredDates}: the date ranges cannot be relied on (the server ignores the date ` +
          'filters, or entries carry no whole-millisecond createdAt), so the listing was read again as one sequential listing.',
      );
      this.fresh.length = 0;
      this.going.length = 0;
      this.skipped = 0;
      this.going.push(chain(whole, query, 'sequential'));
      this.sequential = true;
      await this.drain(1);
    }
    if (this.end !== undefined) return this.end;
    if (this.skipped > 0) this.context.ledger.note(`${this.skipped} listed entries had no dlqId and were left out.`);
    return { kind: 'complete' };
  }

  /** Ranges waiting or being read. */
  private get live(): number {
    return this.fresh.length + this.going.length + this.active;
  }

  /** Whether pages of the ranges are of no more use: the listing ended, or it is to be read sequentially. */
  private get over(): boolean {
    return this.end !== undefined || (this.ignoredDates !== undefined && !this.sequential);
  }

  /** Reads pages with `workers` in flight until every chain ended, or the listing did. */
  private async drain(workers: number): Promise<void> {
    await Promise.all(Array.from({ length: workers }, () => this.worker()));
  }

  private async worker(): Promise<void> {
    // Each turn reads a page, or waits for a page in flight to end: bounded by the page ceiling and the few
    // page-size shrinks, with room to spare.
    const turns = 4 * this.context.ceiling + 16;
    for (let turn = 0; turn < turns; turn += 1) {
      if (this.over) return;
      const next = this.fresh.shift() ?? this.going.shift();
      if (next === undefined) {
        if (this.active === 0) return;
        await new Promise<void>((resolve) => this.waiting.push(resolve));
        continue;
      }
      this.active += 1;
      try {
        await this.step(next);
      } finally {
        this.active -= 1;
        for (const wake of this.waiting.splice(0)) wake();
      }
    }
    this.finish(failed('bad-answer', `the listing did not end within ${this.context.ceiling} pages`));
  }

  private finish(end: ListingEnd): void {
    this.end ??= end;
  }

  /** One page of one chain, and what it means for the listing. */
  private async step(current: Chain): Promise<void> {
    const { client, ledger, ceiling } = this.context;
    if (this.asked >= ceiling) {
      this.finish(failed('bad-answer', `the listing did not end within ${ceiling} pages (the most one run reads)`));
      return;
    }
    this.asked += 1;
    const count = this.count;
    const result = await client.listPage(this.context.dlq, current.query, current.cursor, count, ledger.signal);
    // A page that arrives after the listing ended (or gave up its ranges) is not handed on.
    if (this.over) return;
    if (result.kind === 'failed') {
      ledger.haltOnRefusal(result);
      this.finish(failed(result.cause, result.reason));
      return;
    }
    if (result.kind === 'too-large') {
      this.asked -= 1;
      this.shrink(result.limitBytes, count);
      if (this.end === undefined) (current.pages === 0 ? this.fresh : this.going).unshift(current);
      return;
    }
    const news = this.take(current, result);
    if (news === undefined) return;
    // An entry without a whole-millisecond createdAt is one no date range can be shown to hold (a range filter would
    // never list it): like a server that ignores the dates, it ends the ranges, so that it is counted.
    const outside =
      current.role === 'sequential'
        ? undefined
        : result.entries.find((e) => !Number.isInteger(e.createdAt) || !within(current.range, e.createdAt));
    if (outside !== undefined && current.role === 'range') {
      // Ranges the server does not keep to prove nothing: one sequential listing instead (run() starts it).
      this.ignoredDates ??= ignoredText(outside, current.range);
      return;
    }
    if (result.cursor === undefined) return;
    if (current.cursors.has(result.cursor)) {
      this.finish(failed('bad-answer', `the listing returned cursor ${JSON.stringify(result.cursor)} twice`));
      return;
    }
    current.stale = news === 0 ? current.stale + 1 : 0;
    if (current.stale >= MAX_STALE_PAGES) {
      this.finish(failed('bad-answer', `the listing brought nothing new for ${MAX_STALE_PAGES} pages in a row`));
      return;
    }
    current.cursors.add(result.cursor);
    current.cursor = result.cursor;
    // The root's page outside the user's dates: the root is the original query, so it goes on as the sequential
    // listing, nothing read twice (the seen set holds only what it read).
    if (outside !== undefined) current.role = 'sequential';
    else if (current.pages === 1 && this.split(current, result)) return;
    this.going.push(current);
  }

  /**
   * Counts a page in and hands it on: the number of entries new to the chain (for its stale rule), or undefined
   * when the listing ended here (the entry bound, or the caller's "enough").
   */
  private take(current: Chain, page: Extract<ListResult, { kind: 'page' }>): number | undefined {
    const { maxEntries } = this.context;
    this.read += 1;
    current.pages += 1;
    this.skipped += page.skipped;
    const fresh = page.entries.filter((entry) => !this.seen.has(entry.dlqId)).length;
    // Checked before the page is handed on: the caller never holds more than the bound.
    if (this.seen.size + fresh > maxEntries) {
      this.finish(
        failed(
          'bad-answer',
          `the listing held more than ${maxEntries} entries, the most one run keeps: narrow the selection`,
        ),
      );
      return undefined;
    }
    const own = current.own;
    const news = own ? page.entries.filter((entry) => !own.has(entry.dlqId)).length : fresh;
    for (const entry of page.entries) {
      this.seen.add(entry.dlqId);
      own?.add(entry.dlqId);
    }
    const enough = this.request.onPage(page.entries, page.records) === true;
    this.context.onListed?.(this.read, this.seen.size);
    if (enough && (page.cursor !== undefined || this.live > 1)) {
      this.finish({ kind: 'stopped' });
      return undefined;
    }
    return news;
  }

  /** Replaces a large range, at its first page, by smaller ones while there is room; whether it did. */
  private split(current: Chain, page: Extract<ListResult, { kind: 'page' }>): boolean {
    if (current.role === 'sequential') return false;
    const times = page.entries.map((entry) => entry.createdAt).filter((t): t is number => t !== undefined);
    const oldest = times.length > 0 ? Math.min(...times) : undefined;
    const newest = times.length > 0 ? Math.max(...times) : undefined;
    const { query, now, concurrency } = this.request;
    let parts: TimeRange[];
    if (current.role === 'root') {
      parts = firstRanges(current.range, now, oldest, FIRST_PARTS_PER_SLOT * concurrency);
    } else {
      const room = RANGES_PER_SLOT * concurrency - this.live + 1;
      parts = splitRange(current.range, Math.min(MAX_SPLIT, room), {
        ...(oldest !== undefined && { oldest }),
        ...(newest !== undefined && { newest }),
      });
    }
    if (parts.length < 2) return false;
    // The root's first page was counted whole; its entries come again from the ranges, and are deduped.
    if (current.role === 'root') this.skipped = 0;
    for (const range of parts) this.fresh.push(chain(range, rangeQuery(query, range), 'range'));
    return true;
  }

  /** Asks for smaller pages after a page too large to read (once for all pages asked for with `count`). */
  private shrink(limitBytes: number, count: number): void {
    const limit = `${Math.round(limitBytes / (1024 * 1024))} MiB`;
    if (this.count < count) return;
    if (count === 1) {
      this.finish(
        failed('bad-answer', `a single DLQ entry is larger than ${limit}, the most one listing page may hold`),
      );
      return;
    }
    this.count = Math.max(1, Math.floor(count / 10));
    this.context.ledger.note(
      `Listing pages were larger than ${limit} (entries carry large bodies); asked for ${this.count} entries a page instead.`,
    );
  }
}

function chain(range: TimeRange, query: ListQuery, role: Chain['role']): Chain {
  return {
    range,
    query,
    role,
    cursors: new Set(),
    pages: 0,
    stale: 0,
    ...(role === 'sequential' && { own: new Set<string>() }),
  };
}

function ignoredText(entry: EntryInfo, range: TimeRange): string {
  const at = entry.createdAt === undefined ? 'no createdAt' : `createdAt ${entry.createdAt}`;
  const bounds = [
    ...(Number.isFinite(range.from) ? [`from ${range.from}`] : []),
    ...(Number.isFinite(range.to) ? [`to ${range.to}`] : []),
  ].join(' ');
  return `an entry with ${at} for the dates ${bounds}`;
}
