/**
 * The plan for explicit ids: one request per id, or (strategy auto, an operation with a bulk form or a dry run,
 * enough ids) a race between per-id requests and one listing whose finds are settled in bulk.
 *
 * Every id is claimed by exactly one path. The listing pages from the start of the DLQ and claims the wanted ids a
 * page shows (bulk deletes; a dry run settles them as existing). While at least half of each page is ids of the
 * list, and more than `concurrency` of them, the listing runs alone (see `listingAlone`). Once a page brings fewer,
 * per-id workers join and take unclaimed ids from the end of the input list. The listing stops once every id is
 * claimed, or when its pages stop paying (see `pagesPay`); per-id then finishes the rest. A listing that completes
 * hands the ids it never showed to bulk calls of their own, whose count confirms them (absence from a listing
 * proves nothing: a cursor may skip entries).
 */
import { PAGE_SIZE } from '../qstash/paths.js';
import { Batcher, type Batch } from './batching.js';
import { inPhases } from './canary.js';
import type { ListingEnd } from './listing.js';
import type { Parts } from './parts.js';
import { Queue, type Source } from './pool.js';
import type { Strategy } from './target.js';

/** `auto` lists only for at least this many ids per concurrency slot: below that, per-id is over in a few rounds. */
export const LIST_FROM_IDS_PER_SLOT = 20;
/** Pages read before the yield rule applies. */
const TRIAL_PAGES = 3;
/**
 * The listing stops when its pages found fewer unclaimed wanted ids than this on average: each page takes a slot
 * a per-id request would have used, so a page must settle more than one id to pay, and the bulk calls cost too.
 */
const MIN_IDS_PER_PAGE = 2;
/** The listing stops after this many pages in a row that found no unclaimed wanted id. */
const MAX_BARREN_PAGES = 3;

/** Whether `auto` lists for this many ids at this concurrency. */
export function listsFor(ids: number, concurrency: number, listFromIds?: number): boolean {
  return ids >= (listFromIds ?? LIST_FROM_IDS_PER_SLOT * Math.max(1, concurrency));
}

/** The listing's stop rule, from what its pages found so far. */
export function pagesPay(found: readonly number[]): boolean {
  const pages = found.length;
  const total = found.reduce((sum, n) => sum + n, 0);
  if (pages >= TRIAL_PAGES && total < MIN_IDS_PER_PAGE * pages) return false;
  return pages < MAX_BARREN_PAGES || found.slice(-MAX_BARREN_PAGES).some((n) => n > 0);
}

/**
 * Whether the listing keeps running alone after a page that brought `fresh` unclaimed ids of `entries`: while at
 * least half of each page is ids of the list (the DLQ holds mostly them), and more than per-id would settle in the
 * same round trip. Per-id joining then would save little time for many more requests.
 */
export function listingAlone(fresh: number, entries: number, concurrency: number): boolean {
  return fresh >= Math.max(concurrency, entries / 2);
}

export async function byIds(ids: readonly string[], strategy: Strategy, parts: Parts): Promise<void> {
  const { ledger, operation, perId, options } = parts;
  ledger.order = ids;
  const sendable = ids.filter((id) => ledger.admit(id));
  // Every entry read before it is changed (the export): per id, since a listing's bulk calls read nothing first.
  const sender = options.readFirst ? perId.reading(options.readFirst) : perId;
  if (options.canary) {
    const send = (some: readonly string[]): Promise<void> => sender.sendAll(some);
    return inPhases(sendable.slice(0, options.canary.size), sendable, options.canary, ledger, send);
  }
  if (options.readFirst) return sender.sendAll(sendable);
  const listingHelps = parts.bulk !== undefined || !operation.changes;
  if (strategy === 'auto' && listingHelps && listsFor(sendable.length, options.concurrency, options.listFromIds)) {
    return race(sendable, parts);
  }
  return perId.sendAll(sendable);
}

/** Which path each id went to: the listing, or per-id. The first claim stands. */
class Claims implements Source<string> {
  private readonly claimed = new Set<string>();
  private head = 0;
  private tail: number;
  /** While the listing runs, per-id takes ids from the end, away from where the listing finds them. */
  listing = true;
  /** An error stopped the run: per-id takes nothing more. */
  abandoned = false;
  private readonly ids: readonly string[];

  constructor(ids: readonly string[]) {
    this.ids = ids;
    this.tail = ids.length - 1;
  }

  get all(): boolean {
    return this.claimed.size === this.ids.length;
  }

  claim(id: string): boolean {
    if (this.claimed.has(id)) return false;
    this.claimed.add(id);
    return true;
  }

  /** The next id per-id claims: from the end while the listing runs, else from the start. */
  take(): string | undefined {
    while (!this.abandoned && this.head <= this.tail) {
      const id = this.listing ? this.ids[this.tail--]! : this.ids[this.head++]!;
      if (this.claim(id)) return id;
    }
    return undefined;
  }

  /** Claims every id not yet claimed. */
  rest(): string[] {
    return this.ids.filter((id) => this.claim(id));
  }
}

async function race(sendable: readonly string[], parts: Parts): Promise<void> {
  const { ledger, lister, pool, perId, bulk, options } = parts;
  const wanted = new Set(sendable);
  const claims = new Claims(sendable);
  let perIdDone: Promise<void> | undefined;
  const startPerId = () => {
    perIdDone ??= pool.run(
      claims,
      (id) => [id],
      (id) => perId.send(id),
    );
  };
  const batches = new Queue<Batch>();
  const deleting = bulk
    ? pool.run(
        batches,
        (batch) => batch.ids,
        (batch) => bulk.send(batch),
      )
    : Promise.resolve();
  const batcher = new Batcher(bulk?.maxIds ?? PAGE_SIZE, (batch) => batches.push({ ids: batch, listed: true }));
  const found: number[] = [];
  let listing: ListingEnd;
  try {
    listing = await lister.list(
      [],
      lister.ceiling,
      (entries, last) => {
        let fresh = 0;
        for (const { dlqId: id } of entries) {
          if (!wanted.has(id) || !claims.claim(id)) continue;
          fresh += 1;
          if (bulk) batcher.add(id);
          else ledger.settle(id, { kind: 'done' });
        }
        found.push(fresh);
        if (claims.all) return true;
        if (!pagesPay(found)) return true;
        if (!last && !listingAlone(fresh, entries.length, options.concurrency)) startPerId();
        return false;
      },
      // Pages of large bodies move megabytes a round trip, one after another; per-id moves none.
      { shrinkPages: false },
    );
  } catch (error) {
    // Let what was started finish before the run reports the error; per-id takes nothing more.
    claims.abandoned = true;
    batcher.flush();
    batches.close();
    await Promise.all([deleting, perIdDone]);
    throw error;
  }
  claims.listing = false;
  batcher.flush();
  if (listing.kind === 'complete' && bulk) {
    const confirm = new Batcher(bulk.maxIds, (batch) => batches.push({ ids: batch, listed: false }));
    for (const id of claims.rest()) confirm.add(id);
    confirm.flush();
  } else if (!claims.all) {
    if (listing.kind === 'failed' && !ledger.signal.aborted) {
      ledger.note(`The listing failed (${listing.reason}); the ids it had not shown were sent one by one.`);
    } else if (listing.kind === 'stopped') {
      const shown = found.reduce((sum, n) => sum + n, 0);
      ledger.note(
        `The listing stopped after ${found.length} pages that showed ${shown} of the ${sendable.length} ids; the rest were sent one by one.`,
      );
    }
    startPerId();
  }
  batches.close();
  await Promise.all([deleting, perIdDone]);
}
