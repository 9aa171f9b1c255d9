/** One request for one id, and what its answer means. */
import type { Operation } from '../operations.js';
import type { DlqClient } from '../qstash/client.js';
import type { Ledger } from './ledger.js';
import { lostRerun } from './lost-answers.js';
import type { WorkerPool } from './pool.js';

export class PerId {
  private readonly operation: Operation;
  private readonly client: DlqClient;
  private readonly ledger: Ledger;
  private readonly pool: WorkerPool;

  constructor(operation: Operation, client: DlqClient, ledger: Ledger, pool: WorkerPool) {
    this.operation = operation;
    this.client = client;
    this.ledger = ledger;
    this.pool = pool;
  }

  /** Every id alone, through the pool. */
  async sendAll(ids: readonly string[]): Promise<void> {
    await this.pool.eachId(ids, (id) => this.send(id));
  }

  async send(id: string): Promise<void> {
    const op = this.operation;
    const { ledger } = this;
    const result = await this.client.send(op.request(id), { idempotent: op.idempotent, stop: ledger.signal });
    if (result.kind === 'failed') {
      ledger.fail(id, lostRerun(op, result) ?? result);
      return;
    }
    if (result.status === 404 && result.mayHaveActed && op.changes) {
      // A 404 after an attempt that may have acted. A delete: that attempt most likely did it (the lost-response
      // rule). A re-run (never resent, so this should not happen): only an answer for it counts, so a lost answer.
      const lost = op.redrive
        ? lostRerun(op, { cause: 'answer-lost', reason: 'the answer to a re-run was lost' })
        : undefined;
      if (lost === undefined) ledger.settle(id, { kind: 'done', inferred: true });
      else ledger.fail(id, lost);
      return;
    }
    if (result.status === 404) {
      ledger.settle(id, { kind: 'not-found' });
      return;
    }
    const settled = op.answer(result.status, result.body);
    if (settled.kind === 'failed') {
      // A 2xx that does not confirm the re-run (no new run id: a proxy's page, the wrong host) is not a re-run.
      const lost = lostRerun(op, settled);
      if (lost === undefined) ledger.settle(id, settled);
      else ledger.fail(id, lost);
      return;
    }
    if (settled.kind !== 'done' || op.cleanUp === undefined) {
      ledger.settle(id, settled);
      return;
    }
    const removal = await this.client.send(op.cleanUp(id), { idempotent: true, stop: ledger.signal });
    if (removal.kind === 'answered') {
      // 404: the re-run took the entry out of the DLQ already; 200: it stayed, and is gone now.
      ledger.settle(id, { ...settled, deletedAfter: true });
    } else {
      ledger.settle(id, { ...settled, deleteAfterFailed: removal.reason });
    }
  }
}
