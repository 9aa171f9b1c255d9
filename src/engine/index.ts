/**
 * The core: a target (ids, or a listing query) and an operation in, one outcome per id out. Pacing, cancellation,
 * the failure boundary and the accounting are the same for every operation; what a request is and what its answer
 * means come from the operation's description (operations.ts). Pure given a client: no inputs, no Actions, no
 * printing. Each job lives in its own file; this one only puts them together.
 */
import type { Operation } from '../operations.js';
import type { Outcomes } from '../outcomes.js';
import type { DlqClient } from '../qstash/client.js';
import { BulkReconciler } from './bulk.js';
import { byIds } from './by-ids.js';
import { byQuery } from './by-query.js';
import { Ledger } from './ledger.js';
import { Lister } from './listing.js';
import type { Parts } from './parts.js';
import { PerId } from './per-id.js';
import { WorkerPool } from './pool.js';
import type { EngineOptions, Target } from './target.js';

export { batches, Batcher } from './batching.js';
export { LIST_FROM_IDS_PER_SLOT, listingAlone, listsFor, pagesPay } from './by-ids.js';
export { MAX_LIST_PAGES, MAX_STALE_PAGES } from './listing.js';
export type { Canary, EngineOptions, KeepRule, RecordSink, Strategy, Target } from './target.js';

export async function execute(
  target: Target,
  operation: Operation,
  client: DlqClient,
  options: EngineOptions,
): Promise<Outcomes> {
  const ledger = new Ledger(client, options);
  const pool = new WorkerPool(options.concurrency, ledger, operation.changes);
  const perId = new PerId(operation, client, ledger, pool);
  const parts: Parts = {
    operation,
    options,
    ledger,
    pool,
    perId,
    bulk: operation.bulk && new BulkReconciler(operation, client, ledger, pool, perId),
    lister: new Lister(operation.dlq, client, ledger, options),
  };
  try {
    if (target.kind === 'ids') await byIds(target.ids, options.strategy, parts);
    else await byQuery(target, parts);
  } catch (error) {
    // Outside any item's boundary (a listing, say): stop, and report what was settled.
    ledger.crash(error);
  }
  return ledger.finish();
}
