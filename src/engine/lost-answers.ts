/**
 * Re-runs whose answer was lost: which failures count as one, and how each is settled. An entry can leave the DLQ for
 * many reasons (a concurrent purge, the console, retention), so its absence proves no re-run, and nothing is looked up
 * to infer one: a re-run is `redriven` only when the server answered for it. A re-run whose answer was lost fails as
 * `answer-lost`, may-have-acted, whatever the DLQ shows, and is never sent again.
 */
import type { Operation } from '../operations.js';
import type { DlqClient } from '../qstash/client.js';
import type { Failure, Ledger } from './ledger.js';
import type { WorkerPool } from './pool.js';

export class LostAnswers {
  private readonly operation: Operation;
  private readonly ledger: Ledger;

  // The client and the pool are taken as before, so the engine builds this as it did; nothing is sent from here.
  constructor(operation: Operation, _client: DlqClient, ledger: Ledger, _pool: WorkerPool) {
    this.operation = operation;
    this.ledger = ledger;
  }

  /**
   * Settles a re-run's failure as a lost answer when the re-run may have started (its answer was lost, or a 2xx did
   * not confirm it): `answer-lost`, may-have-acted, with the never-resend reason. Returns whether it did; otherwise
   * the caller settles the failure.
   */
  keep(id: string, failure: Failure): boolean {
    if (!this.operation.redrive || (failure.cause !== 'answer-lost' && failure.mayHaveActed !== true)) return false;
    this.ledger.fail(id, {
      cause: 'answer-lost',
      reason: mayHaveStarted(failure.reason, this.operation),
      mayHaveActed: true,
    });
    return true;
  }

  /** A re-run whose answer confirmed it. Nothing is learned from it: one entry says nothing of another. */
  confirmed(_id: string): void {}

  /** delete-after-redrive answered for a confirmed re-run. Nothing is learned from it either. */
  cleanedUp(_status: number, _mayHaveActed: boolean): void {}

  /** Nothing is left to resolve: every lost answer was settled when it was lost. */
  async resolve(): Promise<void> {}
}

/** The reason a lost re-run fails with: what was lost, and that it may have started, so never blindly again. */
export function mayHaveStarted(reason: string, operation: Operation): string {
  const verb = operation.words.verb;
  return (
    `${reason.replace(/\.$/u, '')}. The ${verb} may have started: never ${verb} it again blindly ` +
    `(only an answer from the server counts; whether the entry is still in the DLQ proves nothing).`
  );
}
