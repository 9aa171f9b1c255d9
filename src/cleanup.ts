/**
 * The plan/execute core: ids in, one outcome per id out. Pure given a client: no inputs, no Actions, no printing.
 */
import type { DlqClient, EntryResult } from './qstash/client.js';

export interface FailedId {
  readonly id: string;
  readonly reason: string;
}

export interface Outcomes {
  readonly dryRun: boolean;
  /** Ids the server confirmed deleted (including the lost-response rule), in input order. Empty in a dry run. */
  readonly removed: readonly string[];
  /** Of `removed`: those counted by the lost-response rule (404 on a retry after an unanswered attempt). */
  readonly removedAfterLostResponse: readonly string[];
  /** Dry run: ids that exist and would be removed. Empty otherwise. */
  readonly wouldRemove: readonly string[];
  readonly notFound: readonly string[];
  readonly failed: readonly FailedId[];
  /** Set when the server refused the token: the run stopped sending. */
  readonly tokenRefused?: string;
  /** Set when the run was cancelled before every id was settled. */
  readonly cancelled?: string;
  readonly requests: number;
  readonly elapsedMs: number;
}

/** Outcomes of a run that selected nothing (or was refused before any request). */
export function noOutcomes(dryRun = false): Outcomes {
  return {
    dryRun,
    removed: [],
    removedAfterLostResponse: [],
    wouldRemove: [],
    notFound: [],
    failed: [],
    requests: 0,
    elapsedMs: 0,
  };
}

export interface CleanupOptions {
  readonly dryRun: boolean;
  readonly concurrency: number;
  /** Aborting stops new requests (cancellation); in-flight ones finish or time out. */
  readonly signal?: AbortSignal;
  /** Called as each id is settled, in completion order. */
  readonly onSettled?: (id: string, result: EntryResult) => void;
  readonly now?: () => number;
}

export class TokenRefusedError extends Error {
  override name = 'TokenRefusedError';
}

export async function deleteByIds(
  ids: readonly string[],
  client: DlqClient,
  options: CleanupOptions,
): Promise<Outcomes> {
  const now = options.now ?? Date.now;
  const started = now();
  const results: (EntryResult | undefined)[] = new Array<EntryResult | undefined>(ids.length);
  // One signal stops everything: the caller's cancellation, or the server refusing the token.
  const stop = new AbortController();
  const onCancel = (): void => stop.abort(options.signal?.reason ?? new Error('cancelled'));
  if (options.signal?.aborted) onCancel();
  else options.signal?.addEventListener('abort', onCancel, { once: true });

  let next = 0;
  let tokenRefused: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const index = next++;
      const id = ids[index]!;
      const result = options.dryRun
        ? await client.probeEntry(id, stop.signal)
        : await client.deleteEntry(id, stop.signal);
      results[index] = result;
      if (result.outcome === 'failed' && result.unauthorized && tokenRefused === undefined) {
        tokenRefused = result.reason;
        stop.abort(new TokenRefusedError('the token was refused'));
      }
      options.onSettled?.(id, result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, ids.length)) }, worker));
  } finally {
    options.signal?.removeEventListener('abort', onCancel);
  }

  const removed: string[] = [];
  const removedAfterLostResponse: string[] = [];
  const wouldRemove: string[] = [];
  const notFound: string[] = [];
  const failed: FailedId[] = [];
  let requests = 0;
  ids.forEach((id, index) => {
    const result = results[index]!;
    requests += result.attempts;
    switch (result.outcome) {
      case 'removed':
        removed.push(id);
        if (result.afterLostResponse) removedAfterLostResponse.push(id);
        break;
      case 'exists':
        wouldRemove.push(id);
        break;
      case 'not-found':
        notFound.push(id);
        break;
      case 'failed':
        failed.push({ id, reason: result.reason });
        break;
    }
  });
  const cancelled =
    options.signal?.aborted && failed.length > 0 ? String(options.signal.reason ?? 'cancelled') : undefined;
  return {
    dryRun: options.dryRun,
    removed,
    removedAfterLostResponse,
    wouldRemove,
    notFound,
    failed,
    ...(tokenRefused !== undefined && { tokenRefused }),
    ...(cancelled !== undefined && { cancelled }),
    requests,
    elapsedMs: now() - started,
  };
}
