/**
 * What happened to each id, as data: the core decides with these kinds, the report turns them into words. A failure
 * carries a cause kind (for the verdict, the summary and later steps) beside its human reason (for people only).
 */

/** Why an id failed. The verdict, the summary and the warnings decide on these, never on the reason text. */
export const CAUSES = {
  'token-refused': 'the server refused the token (401/403)',
  unreachable: 'the server stopped answering; the run stopped sending',
  cancelled: 'the run was cancelled',
  'proxy-refused': 'the proxy refused the connection or its credentials',
  rejected: 'the server refused the request (4xx): nothing was done',
  'retries-exhausted': 'no usable answer after every retry',
  'answer-lost': 'the request may have been carried out, but its answer was lost',
  'rate-limited': 'still rate limited after the longest wait',
  redirect: 'the server redirected; redirects are never followed',
  'invalid-id': 'the id cannot be sent safely',
  'bad-answer': 'the server answered with something unusable',
  unread: 'its entry could not be read before the change: nothing was changed',
  deduplicated: 'QStash answered the retry as a duplicate: nothing was delivered, not a redrive',
  'canary-failed': 'not sent: the canary re-runs did not all succeed, so the rest were held back',
  internal: 'an unexpected error in the action',
} as const;

export type Cause = keyof typeof CAUSES;

/** Causes that come from the run stopping as a whole; the run's own error explains them. */
export const STOP_CAUSES: ReadonlySet<Cause> = new Set([
  'token-refused',
  'unreachable',
  'cancelled',
  'proxy-refused',
  'rate-limited',
]);

export type Settled =
  /**
   * The operation was carried out (removed, re-run), or in a dry run the entry exists. `inferred` (deletes only):
   * a delete whose answer was lost, and whose retry found the entry gone. Never for a re-run: an entry can leave the
   * DLQ for many reasons, so a re-run is done only when the server answered for it. `newRun`: the id of the run or
   * message a re-run created.
   */
  | {
      readonly kind: 'done';
      readonly inferred?: boolean;
      readonly newRun?: string;
      /** Workflow re-runs: the new run's `workflowCreatedAt` as the answer gave it (with newRun, what the logs know it by). */
      readonly newRunCreatedAt?: number;
      /** delete-after-redrive: the entry was deleted after its re-run (or had already left the DLQ). */
      readonly deletedAfter?: boolean;
      /** delete-after-redrive: why deleting the entry after its re-run failed (it stays in the DLQ). */
      readonly deleteAfterFailed?: string;
    }
  | { readonly kind: 'not-found' }
  | {
      readonly kind: 'failed';
      readonly cause: Cause;
      readonly reason: string;
      /** The server may have carried the request out before the failure. */
      readonly mayHaveActed?: boolean;
    };

export type Failed = Extract<Settled, { kind: 'failed' }>;

export interface FailedId {
  readonly id: string;
  readonly cause: Cause;
  readonly reason: string;
  readonly mayHaveActed: boolean;
}

/** Why a run stopped before settling everything: exactly one. */
export type StopKind =
  | 'token-refused'
  | 'unreachable'
  | 'cancelled'
  | 'proxy-refused'
  | 'listing-failed'
  | 'cap-exceeded'
  | 'threshold-exceeded'
  | 'export-failed'
  | 'rate-limited'
  | 'internal';

export interface Stopped {
  readonly kind: StopKind;
  readonly reason: string;
}

/** A filter as the user gave it, for the summary: input name and values. */
export interface AppliedFilter {
  readonly input: string;
  readonly values: readonly string[];
}

/** What people recognise an entry by, kept from the listing for the summary. */
export interface EntryInfo {
  readonly dlqId: string;
  readonly url?: string;
  readonly runOrMessageId?: string;
  readonly createdAt?: number;
  readonly responseStatus?: number;
}

/** Filter and select-all runs: what the listing matched. */
export interface SelectionReport {
  /** The filters used; empty for select-all. */
  readonly filters: readonly AppliedFilter[];
  readonly matched: number;
  readonly entries: ReadonlyMap<string, EntryInfo>;
  /** Set when more entries matched than the cap allows: nothing was changed. */
  readonly cap?: number;
  /** The listing stopped once past the cap: `matched` is a lower bound. */
  readonly atLeast?: boolean;
  /** The inputs the cap and select-all are given under, for messages (max-entries, select-all). */
  readonly capInput: string;
  readonly allInput: string;
  /** The listing did not finish (it failed, or stopped once past the cap): `matched` and `entries` are partial. */
  readonly incomplete?: boolean;
  /** keep-newest: the matching entries kept (left out of the selection). */
  readonly kept?: ReadonlySet<string>;
  /** A report's group-by values of each matching entry. */
  readonly groups?: ReadonlyMap<string, readonly string[]>;
}

export interface Outcomes {
  /** Every selected id, in selection order. */
  readonly ids: readonly string[];
  readonly results: ReadonlyMap<string, Settled>;
  /** Carried out (or, in a dry run, would be), in selection order. */
  readonly done: readonly string[];
  /** Of `done`: deletes concluded from a retry's 404 after a lost answer (the lost-response rule), never re-runs. */
  readonly inferred: readonly string[];
  readonly notFound: readonly string[];
  readonly failed: readonly FailedId[];
  /** Re-runs: selected id -> the new run or message id, for every re-run whose answer came back. */
  readonly newRuns: ReadonlyMap<string, string>;
  /** delete-after-redrive: re-run ids whose entry could not be deleted afterwards, with why. */
  readonly notDeletedAfter: readonly { readonly id: string; readonly reason: string }[];
  readonly selection?: SelectionReport;
  readonly stopped?: Stopped;
  /** Deletions the server counted in bulk calls that could not be pinned to an id. */
  readonly unattributed: number;
  /** Filter runs: listed entries whose createdAt lay outside the date filters, left out. */
  readonly dateOutliers: number;
  /** Notes for people about how the run went (a listing that shrank its pages, a fallback). */
  readonly notes: readonly string[];
  readonly requests: number;
  readonly elapsedMs: number;
}

export function noOutcomes(): Outcomes {
  return {
    ids: [],
    results: new Map(),
    done: [],
    inferred: [],
    notFound: [],
    failed: [],
    newRuns: new Map(),
    notDeletedAfter: [],
    unattributed: 0,
    dateOutliers: 0,
    notes: [],
    requests: 0,
    elapsedMs: 0,
  };
}

/**
 * A run that stopped before its first request (the connection could not be set up, say): every selected id failed,
 * never sent, so that even this path leaves each id in exactly one list.
 */
export function nothingSent(ids: readonly string[], reason: string): Outcomes {
  const results = new Map<string, Settled>();
  const failed: FailedId[] = [];
  for (const id of ids) {
    if (results.has(id)) continue;
    results.set(id, { kind: 'failed', cause: 'internal', reason: `not sent: ${reason}` });
    failed.push({ id, cause: 'internal', reason: `not sent: ${reason}`, mayHaveActed: false });
  }
  return { ...noOutcomes(), ids: [...results.keys()], results, failed, stopped: { kind: 'internal', reason } };
}

/** The reason a run's stop signal carries: which cause the ids it leaves unsettled fail with. */
export class StopReason extends Error {
  override name = 'StopReason';
  readonly kind: Cause;
  constructor(kind: Cause, message: string) {
    super(message);
    this.kind = kind;
  }
}
