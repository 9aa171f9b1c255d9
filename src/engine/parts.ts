/** The parts a plan is given: each owns its own state; the plan only decides which to use when. */
import type { Operation } from '../operations.js';
import type { BulkReconciler } from './bulk.js';
import type { Ledger } from './ledger.js';
import type { Lister } from './listing.js';
import type { PerId } from './per-id.js';
import type { WorkerPool } from './pool.js';
import type { EngineOptions } from './target.js';

export interface Parts {
  readonly operation: Operation;
  readonly options: EngineOptions;
  readonly ledger: Ledger;
  readonly pool: WorkerPool;
  readonly perId: PerId;
  /** When the operation has a counting bulk form (delete). */
  readonly bulk: BulkReconciler | undefined;
  readonly lister: Lister;
}
