/**
 * Re-runs whose answer was lost. An entry can leave the DLQ for many reasons (a concurrent purge, the console,
 * retention), so its absence proves no re-run, and nothing is looked up to infer one: a re-run is `redriven` only
 * when the server answered for it. A re-run whose answer was lost fails as `answer-lost`, may-have-acted, whatever
 * the DLQ shows, and is never sent again.
 */
import type { Operation } from '../operations.js';
import type { Failure } from './ledger.js';

/**
 * The failure a re-run settles with when it may have started (its answer was lost, or a 2xx did not confirm it):
 * `answer-lost`, may-have-acted, with the never-resend reason. Undefined for anything else (deletes included): the
 * caller settles that failure as it is.
 */
export function lostRerun(operation: Operation, failure: Failure): Failure | undefined {
  if (!operation.redrive || (failure.cause !== 'answer-lost' && failure.mayHaveActed !== true)) return undefined;
  return { cause: 'answer-lost', reason: mayHaveStarted(failure.reason, operation), mayHaveActed: true };
}

/** The reason a lost re-run fails with: what was lost, and that it may have started, so never blindly again. */
export function mayHaveStarted(reason: string, operation: Operation): string {
  const verb = operation.words.verb;
  return (
    `${reason.replace(/\.$/u, '')}. The ${verb} may have started: never ${verb} it again blindly ` +
    `(only an answer from the server counts; whether the entry is still in the DLQ proves nothing).`
  );
}
