/**
 * The run's books: one result per id (the first stands), the run's stop (a refused token, a cancellation, a crash)
 * and what the report needs beside the results. Builds the Outcomes at the end.
 */
import { idProblem } from '../ids.js';
import {
  StopReason,
  type Cause,
  type Failed,
  type FailedId,
  type Outcomes,
  type SelectionReport,
  type Settled,
  type StopKind,
  type Stopped,
} from '../outcomes.js';
import type { DlqClient } from '../qstash/client.js';
import type { EngineOptions } from './target.js';

export interface Failure {
  readonly cause: Cause;
  readonly reason: string;
  readonly mayHaveActed?: boolean;
}

export class Ledger {
  private readonly results = new Map<string, Settled>();
  private readonly stop = new AbortController();
  private stopped: Stopped | undefined;
  private selected: readonly string[] = [];
  selection: SelectionReport | undefined;
  /** Deletions counted by bulk calls that could not be pinned to an id. */
  unattributed = 0;
  /** A filter run's listing did not complete. */
  incomplete = false;
  /** Listed entries whose createdAt lies outside the date filters, left out. */
  dateOutliers = 0;
  private readonly notes: string[] = [];
  private readonly started: number;
  private readonly sentBefore: number;
  private readonly onCancel: () => void;
  private readonly client: DlqClient;
  private readonly options: EngineOptions;

  constructor(client: DlqClient, options: EngineOptions) {
    this.client = client;
    this.options = options;
    this.started = (options.now ?? Date.now)();
    this.sentBefore = client.requestsSent;
    this.onCancel = () => {
      const why = options.signal?.reason;
      this.halt('cancelled', why instanceof Error ? why.message : String(why ?? 'cancelled'));
    };
    if (options.signal?.aborted) this.onCancel();
    else options.signal?.addEventListener('abort', this.onCancel, { once: true });
  }

  /** Every selected id, in selection order. Set once the selection is known (onSelected is told). */
  get order(): readonly string[] {
    return this.selected;
  }

  set order(ids: readonly string[]) {
    this.selected = ids;
    this.options.onSelected?.(ids.length);
  }

  /** The results so far: an id's first outcome. */
  get settled(): ReadonlyMap<string, Settled> {
    return this.results;
  }

  /** Aborted once the run stops; its reason (a StopReason) is what unsettled ids fail with. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  /** Stops the run: no new request starts, and ids not yet settled fail with this cause. The first stop wins. */
  halt(kind: StopKind, reason: string): void {
    if (this.stopped !== undefined) return;
    this.stopped = { kind, reason };
    const cause: Cause =
      kind === 'listing-failed' || kind === 'cap-exceeded' || kind === 'threshold-exceeded' || kind === 'export-failed'
        ? 'cancelled'
        : kind;
    this.stop.abort(new StopReason(cause, kind === 'cancelled' || kind === 'internal' ? reason : describeStop(kind)));
  }

  /** An error outside any item's failure boundary (a listing, say): the run stops. */
  crash(error: unknown): void {
    this.halt('internal', `internal error: ${(error as Error)?.message ?? String(error)}`);
  }

  /** A failure that stops every request: the token or the proxy was refused. */
  haltOnRefusal(failure: Failure): void {
    if (failure.cause === 'token-refused' || failure.cause === 'proxy-refused')
      this.halt(failure.cause, failure.reason);
  }

  has(id: string): boolean {
    return this.results.has(id);
  }

  /** Records an id's outcome; the first outcome of an id stands. */
  settle(id: string, settled: Settled): void {
    if (this.results.has(id)) return;
    this.results.set(id, settled);
    if (settled.kind === 'failed') this.haltOnRefusal(settled);
    this.options.onSettled?.(id, settled);
  }

  fail(id: string, failure: Failure): void {
    this.settle(id, {
      kind: 'failed',
      cause: failure.cause,
      reason: failure.reason,
      ...(failure.mayHaveActed && { mayHaveActed: true }),
    });
  }

  /** Refuses, as failed and never sent, an id that cannot be sent safely. Returns whether it may be sent. */
  admit(id: string): boolean {
    const problem = idProblem(id);
    if (problem === undefined) return true;
    this.fail(id, { cause: 'invalid-id', reason: `not sent: the id ${problem}` });
    return false;
  }

  /** A note for people about how the run went; each note once. */
  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  finish(): Outcomes {
    this.options.signal?.removeEventListener('abort', this.onCancel);
    const done: string[] = [];
    const inferred: string[] = [];
    const notFound: string[] = [];
    const failed: FailedId[] = [];
    const newRuns = new Map<string, string>();
    const notDeletedAfter: { id: string; reason: string }[] = [];
    const stopCause: Cause = (this.signal.reason as StopReason | undefined)?.kind ?? 'internal';
    for (const id of this.order) {
      let result = this.results.get(id);
      if (result === undefined) {
        const failure: Failed = {
          kind: 'failed',
          cause: stopCause,
          reason: this.stopped
            ? `not attempted: ${describeStop(this.stopped.kind, this.stopped.reason)}`
            : 'not settled',
        };
        this.results.set(id, failure);
        result = failure;
      }
      if (result.kind === 'done') {
        done.push(id);
        if (result.inferred) inferred.push(id);
        if (result.newRun !== undefined) newRuns.set(id, result.newRun);
        if (result.deleteAfterFailed !== undefined) notDeletedAfter.push({ id, reason: result.deleteAfterFailed });
      } else if (result.kind === 'not-found') notFound.push(id);
      else failed.push({ id, cause: result.cause, reason: result.reason, mayHaveActed: result.mayHaveActed === true });
    }
    let stopped = this.stopped;
    if (stopped === undefined && this.client.unreachable !== undefined) {
      stopped = {
        kind: this.client.stopCause === 'rate-limited' ? 'rate-limited' : 'unreachable',
        reason: this.client.unreachable,
      };
    }
    // A cancellation that came after every id was settled did not stop anything.
    if (stopped?.kind === 'cancelled' && failed.every((f) => f.cause !== 'cancelled') && !this.incomplete) {
      stopped = undefined;
    }
    return {
      ids: this.order,
      results: this.results,
      done,
      inferred,
      notFound,
      failed,
      newRuns,
      notDeletedAfter,
      ...(this.selection !== undefined && { selection: this.selection }),
      ...(stopped !== undefined && { stopped }),
      unattributed: this.unattributed,
      dateOutliers: this.dateOutliers,
      notes: this.notes,
      requests: this.client.requestsSent - this.sentBefore,
      elapsedMs: (this.options.now ?? Date.now)() - this.started,
    };
  }
}

function describeStop(kind: StopKind, reason?: string): string {
  switch (kind) {
    case 'token-refused':
      return 'the token was refused';
    case 'proxy-refused':
      return 'the proxy refused the connection';
    case 'unreachable':
      return reason ?? 'the server is unreachable';
    case 'cancelled':
      return reason ?? 'cancelled';
    case 'listing-failed':
      return 'the listing failed';
    case 'cap-exceeded':
      return 'more entries matched than the cap';
    case 'threshold-exceeded':
      return 'a threshold was exceeded';
    case 'export-failed':
      return 'the export could not be written';
    case 'internal':
      return reason ?? 'internal error';
    case 'rate-limited':
      return reason ?? 'the server kept rate limiting';
  }
}
