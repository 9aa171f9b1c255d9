/**
 * The plan for a listing query (filters, select-all): list what matches, check the cap, then act on every match,
 * in bulk where the operation has a bulk form. Nothing is changed on the strength of a listing that did not finish.
 */
import type { EntryInfo } from '../outcomes.js';
import { Batcher, type Batch } from './batching.js';
import type { Parts } from './parts.js';
import { Queue } from './pool.js';
import type { QueryTarget } from './target.js';

export async function byQuery(target: QueryTarget, parts: Parts): Promise<void> {
  const { ledger, operation, lister } = parts;
  const entries = new Map<string, EntryInfo>();
  // The server does the filtering; dates are checked here too, so that a server that ignores fromDate / toDate
  // cannot widen what is acted on. (Before the cap is counted: the cap is about what the run would act on.)
  const from = Number(target.query.find(([param]) => param === 'fromDate')?.[1][0] ?? Number.NEGATIVE_INFINITY);
  const to = Number(target.query.find(([param]) => param === 'toDate')?.[1][0] ?? Number.POSITIVE_INFINITY);
  const outside = new Set<string>();
  const listing = await lister.list(target.query, lister.ceiling, (page) => {
    for (const info of page) {
      if (info.createdAt !== undefined && (info.createdAt < from || info.createdAt > to)) outside.add(info.dlqId);
      else if (!entries.has(info.dlqId)) entries.set(info.dlqId, info);
    }
    // Past the cap the run will change nothing: no need to read (and hold) the rest of the listing.
    return target.cap > 0 && entries.size > target.cap;
  });
  // An id listed outside the dates and also inside them (a page listed it twice, or it moved) is selected, not an
  // outlier: the count is of ids left out, each once.
  for (const id of entries.keys()) outside.delete(id);
  ledger.dateOutliers = outside.size;
  const ids = [...entries.keys()];
  ledger.selection = {
    filters: target.filters,
    matched: ids.length,
    entries,
    capInput: target.capInput,
    allInput: target.allInput,
  };
  if (listing.kind !== 'complete' && listing.kind !== 'stopped') {
    ledger.incomplete = true;
    ledger.halt('listing-failed', listing.kind === 'failed' ? listing.reason : 'stopped');
    return;
  }
  if (target.cap > 0 && ids.length > target.cap) {
    ledger.selection = { ...ledger.selection, cap: target.cap, ...(listing.kind === 'stopped' && { atLeast: true }) };
    ledger.halt('cap-exceeded', `${ids.length} entries match, more than the cap of ${target.cap}`);
    // A dry run still shows what matched, so that it predicts the real run; a real run changes nothing.
    if (!operation.changes) {
      ledger.order = ids;
      for (const id of ids) if (ledger.admit(id)) ledger.settle(id, { kind: 'done' });
    }
    return;
  }
  ledger.order = ids;
  const sendable = ids.filter((id) => ledger.admit(id));
  if (!operation.changes) {
    // A dry run: the listing is the truth about what exists and matches.
    for (const id of sendable) ledger.settle(id, { kind: 'done' });
    return;
  }
  const { bulk } = parts;
  if (!bulk) return parts.perId.sendAll(sendable);
  const batches = new Queue<Batch>();
  const batcher = new Batcher(bulk.maxIds, (batch) => batches.push({ ids: batch, listed: true }));
  for (const id of sendable) batcher.add(id);
  batcher.flush();
  batches.close();
  await parts.pool.run(
    batches,
    (batch) => batch.ids,
    (batch) => bulk.send(batch),
  );
}
