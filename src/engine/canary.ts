/**
 * `canary: N`: the first ids go alone; once every one is settled the canary's check (the wait for their new runs)
 * decides whether the rest go. Held back, the rest fail as `canary-failed`, never sent, so they stay in the DLQ for
 * a later run. A stop during the check (a cancellation) leaves the rest to fail with the stop's own cause.
 */
import { compareIds } from '../census.js';
import type { EntryInfo } from '../outcomes.js';
import type { Ledger } from './ledger.js';
import type { Canary } from './target.js';

export async function inPhases(
  canaries: readonly string[],
  ids: readonly string[],
  canary: Canary,
  ledger: Ledger,
  send: (ids: readonly string[]) => Promise<void>,
  entries?: ReadonlyMap<string, EntryInfo>,
): Promise<void> {
  const chosen = new Set(canaries);
  const rest = ids.filter((id) => !chosen.has(id));
  await send(canaries);
  // Every selected id a canary: nothing to hold back, but the canary is still judged (and fails the step).
  if (ledger.signal.aborted) return;
  let held: string | undefined;
  try {
    held = await canary.check(canaries, ledger.settled, ledger.signal, entries);
  } catch (error) {
    held = `the canary could not be checked (${(error as Error)?.message ?? String(error)})`;
  }
  if (ledger.signal.aborted) return;
  if (held !== undefined) {
    for (const id of rest) ledger.fail(id, { cause: 'canary-failed', reason: `not sent: ${held}` });
    return;
  }
  await send(rest);
}

/**
 * A listing's canaries: the `size` oldest by createdAt (a listing's order is undefined, and the oldest failures are
 * the ones a fix is most likely meant for), ties and undated entries last, by id.
 */
export function oldestFirst(ids: readonly string[], entries: ReadonlyMap<string, EntryInfo>, size: number): string[] {
  const at = (id: string): number => entries.get(id)?.createdAt ?? Number.POSITIVE_INFINITY;
  return [...ids].sort((a, b) => at(a) - at(b) || compareIds(a, b)).slice(0, size);
}
