/**
 * Re-runs whose answer was lost: which failures count as one, what this run learns along the way about whether
 * re-run entries leave the DLQ, and how each is resolved once the main pass is over. A re-run that may have started
 * is never sent again: what the server shows decides.
 */
import type { Operation } from '../operations.js';
import type { DlqClient } from '../qstash/client.js';
import { entryPath } from '../qstash/paths.js';
import type { Failure, Ledger } from './ledger.js';
import { Queue, type WorkerPool } from './pool.js';

type Presence = 'present' | 'absent' | 'unknown';

export class LostAnswers {
  private readonly lost: { id: string; reason: string }[] = [];
  /** An id this run re-ran with a confirmed answer: looked up to learn whether re-run entries leave the DLQ. */
  private confirmedRerun: string | undefined;
  /** What deleting a re-run entry found (delete-after-redrive): whether re-run entries leave the DLQ. */
  private removal: 'present' | 'absent' | undefined;
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

  /**
   * Keeps a re-run's failure for later when the re-run may have started (its answer was lost, or a 2xx did not
   * confirm it). Returns whether it was kept; otherwise the caller settles the failure.
   */
  keep(id: string, failure: Failure): boolean {
    if (!this.operation.redrive || (failure.cause !== 'answer-lost' && failure.mayHaveActed !== true)) return false;
    this.lost.push({ id, reason: failure.reason });
    return true;
  }

  /** A re-run whose answer confirmed it. */
  confirmed(id: string): void {
    this.confirmedRerun ??= id;
  }

  /** delete-after-redrive answered for a confirmed re-run: 404 (not after a lost attempt) means it had left. */
  cleanedUp(status: number, mayHaveActed: boolean): void {
    this.removal ??= status === 404 && !mayHaveActed ? 'absent' : 'present';
  }

  /**
   * The step's first confirmed re-run is looked up to learn whether re-run entries leave the DLQ. If they do and
   * this entry is gone, it was re-run (marked, with no new run id); otherwise it failed, and the reason says
   * whether the re-run may have started.
   */
  async resolve(): Promise<void> {
    if (this.lost.length === 0) return;
    // With delete-after-redrive the confirmed entries were deleted: their deletion's answer already told.
    // (Not looked up then: the entry may be gone by our own deletion.)
    const leaves =
      this.removal ??
      (this.confirmedRerun === undefined || this.operation.cleanUp !== undefined
        ? 'unknown'
        : await this.lookUp(this.confirmedRerun));
    const verb = this.operation.words.verb;
    await this.pool.run(
      Queue.of(this.lost),
      (item) => [item.id],
      async ({ id, reason }) => {
        const mayHave = `${reason.replace(/\.$/u, '')}. The ${verb} may have started: never ${verb} it again blindly`;
        const fail = (why: string) =>
          this.ledger.fail(id, { cause: 'answer-lost', reason: `${mayHave} (${why}).`, mayHaveActed: true });
        if (leaves !== 'absent') {
          fail(
            leaves === 'present'
              ? 're-run entries stay in this DLQ, so the DLQ cannot tell'
              : 'whether re-run entries leave the DLQ could not be learned in this step',
          );
          return;
        }
        const now = await this.lookUp(id);
        if (now === 'absent') this.ledger.settle(id, { kind: 'done', inferred: true });
        else {
          fail(
            now === 'present'
              ? 'the entry is still in the DLQ, where a re-run entry would have left it, so it most likely did not start'
              : 'looking the entry up failed',
          );
        }
      },
    );
  }

  private async lookUp(id: string): Promise<Presence> {
    if (this.ledger.signal.aborted) return 'unknown';
    const probe = await this.client.send(
      { method: 'GET', path: entryPath(this.operation.dlq, id) },
      { idempotent: true, stop: this.ledger.signal },
    );
    if (probe.kind === 'failed') return 'unknown';
    return probe.status === 404 ? 'absent' : 'present';
  }
}
