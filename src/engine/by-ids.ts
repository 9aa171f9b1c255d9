/**
 * The plan for explicit ids: one request per id, or (strategy auto, an operation with a bulk form or a dry run) a
 * listing that settles the ids it shows in bulk while per-id requests take the rest.
 */
import { Batcher, type Batch } from './batching.js';
import type { ListingEnd } from './listing.js';
import type { Parts } from './parts.js';
import { Queue } from './pool.js';
import type { Strategy } from './target.js';

/**
 * Listing pages `auto` may spend before falling back to per-id: listing pays off while its pages (sequential) plus
 * the bulk calls take fewer round trips than the per-id requests (`concurrency` at a time). Half of that break-even
 * point keeps the worst case, a DLQ too large to list, within 1.5x of per-id.
 */
export function listingBudget(ids: number, concurrency: number): number {
  return Math.floor(ids / (2 * Math.max(1, concurrency)));
}

export async function byIds(ids: readonly string[], strategy: Strategy, parts: Parts): Promise<void> {
  const { ledger, operation, lister, pool, perId, bulk } = parts;
  ledger.order = ids;
  const sendable = ids.filter((id) => ledger.admit(id));
  const listingHelps = bulk !== undefined || !operation.changes;
  const budget = strategy === 'auto' && listingHelps ? listingBudget(sendable.length, parts.options.concurrency) : 0;
  if (budget < 1) return perId.sendAll(sendable);

  // List the DLQ while acting on what each page shows: bulk deletes of the ids a page found start while later
  // pages are fetched (a dry run settles them as existing).
  const wanted = new Set(sendable);
  const found = new Set<string>();
  const batches = new Queue<Batch>();
  const deleting = bulk
    ? pool.run(
        batches,
        (batch) => batch.ids,
        (batch) => bulk.send(batch),
      )
    : Promise.resolve();
  const batcher = new Batcher(bulk?.maxIds ?? 100, (batch) => batches.push({ ids: batch, listed: true }));
  let listing: ListingEnd;
  try {
    listing = await lister.list([], budget, (entries) => {
      for (const { dlqId: id } of entries) {
        if (!wanted.has(id) || found.has(id)) continue;
        found.add(id);
        if (bulk) batcher.add(id);
        else ledger.settle(id, { kind: 'done' });
      }
      return false;
    });
  } catch (error) {
    // Let the batches already queued finish before the run reports the error.
    batcher.flush();
    batches.close();
    await deleting;
    throw error;
  }
  batcher.flush();
  const rest = sendable.filter((id) => !found.has(id));
  if (listing.kind === 'complete' && bulk) {
    // Absence from a listing proves nothing (a cursor may skip entries): the ids it did not show are deleted in
    // bulk calls of their own, whose count confirms them (0: none was there).
    const confirm = new Batcher(bulk.maxIds, (batch) => batches.push({ ids: batch, listed: false }));
    for (const id of rest) confirm.add(id);
    confirm.flush();
    batches.close();
    await deleting;
    return;
  }
  batches.close();
  if (listing.kind === 'failed' && !ledger.signal.aborted) {
    ledger.note(`The listing failed (${listing.reason}); the ids it had not shown were sent one by one.`);
  }
  if (listing.kind === 'budget') {
    ledger.note(
      `The DLQ is large next to the id list (more than ${budget} listing pages); the ids the listing had not shown were sent one by one.`,
    );
  }
  await Promise.all([deleting, perId.sendAll(rest)]);
}
