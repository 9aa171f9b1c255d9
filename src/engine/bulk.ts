/**
 * Bulk reconciliation: deletes one batch with a counting bulk call and settles each of its ids exactly.
 *
 * - The count equals the batch: every id was removed by this call.
 * - The count is 0 (and no attempt may have acted) for ids the listing did not show: none was there; not found.
 * - Otherwise each id is probed with GET. Ids still present were not deleted: each is sent alone, whose answer is
 *   exact. Ids now absent were deleted by this call or were already gone. When no more are absent than the count,
 *   all of them were ours: removed (an id whose probe failed counts as possibly absent, and fails as "may have
 *   acted"). When more are absent, the call cannot tell which ones it deleted: they are
 *   not found (gone, not confirmed as ours) and the count is kept as unattributed, so `done` never claims an id
 *   the server did not confirm.
 * - A call that may have acted without its answer arriving counts its absent ids as removed (the lost-answer rule).
 */
import type { CountingBulk, Operation } from '../operations.js';
import type { DlqClient } from '../qstash/client.js';
import { entryPath } from '../qstash/paths.js';
import type { Batch } from './batching.js';
import type { Ledger } from './ledger.js';
import type { PerId } from './per-id.js';
import type { WorkerPool } from './pool.js';

export class BulkReconciler {
  /** A bulk call's count could not be pinned to its ids: the remaining batches go id by id, which is exact. */
  private unreliable = false;
  private readonly bulk: CountingBulk;
  private readonly operation: Operation;
  private readonly client: DlqClient;
  private readonly ledger: Ledger;
  private readonly pool: WorkerPool;
  private readonly perId: PerId;

  constructor(operation: Operation, client: DlqClient, ledger: Ledger, pool: WorkerPool, perId: PerId) {
    this.bulk = operation.bulk!;
    this.operation = operation;
    this.client = client;
    this.ledger = ledger;
    this.pool = pool;
    this.perId = perId;
  }

  get maxIds(): number {
    return this.bulk.maxIds;
  }

  async send(batch: Batch): Promise<void> {
    const { ledger } = this;
    if (this.unreliable) {
      // Entries are vanishing under the run (or a cursor skipped some): one request per id is exact.
      await this.perId.sendAll(batch.ids);
      return;
    }
    const result = await this.client.send(this.bulk.request(batch.ids), { idempotent: true, stop: ledger.signal });
    if (result.kind === 'failed' && result.cause === 'rejected' && !result.mayHaveActed) {
      // The server refused the bulk form (a 400, a 414): nothing was done; each id alone gets an exact answer.
      await this.perId.sendAll(batch.ids);
      return;
    }
    if (result.kind === 'failed' && !result.mayHaveActed) {
      for (const id of batch.ids) ledger.fail(id, result);
      return;
    }
    const answer = result.kind === 'answered' && result.status !== 404 ? this.bulk.read(result.body) : undefined;
    const count = answer?.count;
    if (answer !== undefined && ((count !== undefined && count > batch.ids.length) || answer.ignoredIds)) {
      // More deleted than named, or an answer of "delete what matches": the server ignored the ids. Stop before
      // anything else is sent.
      ledger.halt(
        'internal',
        `the server answered a bulk delete of ${batch.ids.length} named ids with ${count ?? 'a cursor'}${count !== undefined ? ' deletions' : ''}, as if it ignored the ids; stopped so that no unselected entry is deleted`,
      );
      for (const id of batch.ids)
        ledger.fail(id, {
          cause: 'bad-answer',
          reason: 'the bulk delete answer did not match the ids sent',
          mayHaveActed: true,
        });
      return;
    }
    // An attempt that may have acted without its answer arriving, or a 2xx without a usable count: the call says
    // nothing about which ids it deleted.
    const lostAnswer = result.mayHaveActed || count === undefined;
    // Every id counted by the answer that arrived: exact, whatever an earlier attempt did (it deleted none of them).
    if (count === batch.ids.length) {
      for (const id of batch.ids) ledger.settle(id, { kind: 'done' });
      return;
    }
    // 0 for ids the listing did not show: none was there. (For listed ids a 0 is checked id by id below.)
    if (!lostAnswer && count === 0 && !batch.listed) {
      for (const id of batch.ids) ledger.settle(id, { kind: 'not-found' });
      return;
    }

    const absent: string[] = [];
    /** Ids whose probe failed: the call may have deleted them, so they count against the count too. */
    let unknown = 0;
    await this.pool.eachId(batch.ids, async (id) => {
      const probe = await this.client.send(
        { method: 'GET', path: entryPath(this.operation.dlq, id) },
        { idempotent: true, stop: ledger.signal },
      );
      if (probe.kind === 'failed') {
        unknown += 1;
        ledger.fail(id, { ...(result.kind === 'failed' ? result : probe), mayHaveActed: lostAnswer || count! > 0 });
      } else if (probe.status === 404) absent.push(id);
      else await this.perId.send(id);
    });

    if (lostAnswer) {
      // Listed ids were there moments before: gone now, this call most likely removed them (the lost-response
      // rule, marked). Ids the listing did not show are not claimed: gone, and not found.
      for (const id of absent)
        ledger.settle(id, batch.listed ? { kind: 'done', inferred: true } : { kind: 'not-found' });
    } else if (absent.length + unknown <= count!) {
      // The call's deletions are among the absent and the unknown ids; no more of them than it counted: all ours.
      for (const id of absent) ledger.settle(id, { kind: 'done' });
    } else {
      for (const id of absent) ledger.settle(id, { kind: 'not-found' });
      ledger.unattributed += count!;
      this.unreliable = true;
    }
  }
}
