/**
 * Paging through a listing, and when to stop: the caller's budget or its "enough", a failed page (a bad answer
 * among them: a page past the bounds), a cursor seen before, pages that bring nothing new, the hard ceilings of pages
 * and of entries kept. Shrinks the page size while a page is too large to read.
 */
import type { Cause, EntryInfo } from '../outcomes.js';
import type { DlqClient } from '../qstash/client.js';
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
      records: readonly Readonly<Record<string, unknown>>[],
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
}

function failed(cause: Cause, reason: string): ListingEnd {
  return { kind: 'failed', cause, reason };
}
