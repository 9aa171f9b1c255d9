/**
 * The workflow runs that restart and resume create, and what becomes of them: a test decides each new run's outcome
 * (succeed, fail again, be cancelled, stay running) and when. A run that fails again lands back in the Workflow DLQ
 * as a new entry (a new dlqId, the new run's id and creation time, created at the failure), as Upstash does. The logs
 * endpoint (logs.ts) reads these runs.
 *
 * Runs settle lazily: `settle(now)` is called before every request and every look at the store, so a run whose
 * outcome is due has it by then, with no timers to stop when the emulator closes.
 */
import type { DlqEntry, DlqStore } from './store.ts';

export const RUN_STATES = ['RUN_STARTED', 'RUN_SUCCESS', 'RUN_FAILED', 'RUN_CANCELED'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** What a new run does: end in `state` `afterMs` after it was created (default at once). RUN_STARTED never ends. */
export interface RunOutcome {
  readonly state: RunState;
  readonly afterMs?: number;
}

/** Decides the outcome of the run a re-run of `dlqId` creates. */
export type RunOutcomes = (dlqId: string, operation: 'restart' | 'resume') => RunOutcome;

/** Every new run succeeds at once: what a fixed bug looks like, and what tests that never look at runs expect. */
export const SUCCEED_AT_ONCE: RunOutcomes = () => ({ state: 'RUN_SUCCESS' });

export interface EmulatedRun {
  readonly workflowRunId: string;
  readonly workflowRunCreatedAt: number;
  readonly workflowUrl?: string;
  readonly labels?: readonly string[];
  /** The DLQ entry whose re-run created this run. */
  readonly fromDlqId: string;
  /** The entry as it was when re-run (it may leave the DLQ before the run fails). */
  readonly entry: Readonly<DlqEntry>;
  readonly operation: 'restart' | 'resume';
  readonly outcome: RunOutcome;
  state: RunState;
  workflowRunCompletedAt?: number;
  /** The DLQ entry this run left when it failed. */
  dlqId?: string;
}

export class RunLog {
  /** Every run created by a restart or resume, in order. */
  readonly runs: EmulatedRun[] = [];
  outcomes: RunOutcomes = SUCCEED_AT_ONCE;
  /** Whether a resume keeps the failed run's `workflowRunId` (only `workflowCreatedAt` then tells the runs apart). */
  resumeKeepsRunId = false;
  private failedSeq = 0;

  /** Records the run a re-run of `entry` created at `at`, with the outcome the test's rule decides. */
  start(entry: DlqEntry, operation: 'restart' | 'resume', workflowRunId: string, at: number): EmulatedRun {
    const labels = Array.isArray(entry.labels) ? entry.labels.map(String) : undefined;
    const run: EmulatedRun = {
      workflowRunId,
      workflowRunCreatedAt: at,
      ...(typeof entry.workflowUrl === 'string' && { workflowUrl: entry.workflowUrl }),
      ...(labels && { labels }),
      fromDlqId: entry.dlqId,
      entry: { ...entry },
      operation,
      outcome: this.outcomes(entry.dlqId, operation),
      state: 'RUN_STARTED',
    };
    this.runs.push(run);
    return run;
  }

  /** Ends every run whose outcome is due by `now`; a run that fails adds its new entry to the Workflow DLQ. */
  settle(store: DlqStore, now: number): void {
    for (const run of this.runs) {
      if (run.state !== 'RUN_STARTED' || run.outcome.state === 'RUN_STARTED') continue;
      const endsAt = run.workflowRunCreatedAt + (run.outcome.afterMs ?? 0);
      if (endsAt > now) continue;
      run.state = run.outcome.state;
      run.workflowRunCompletedAt = endsAt;
      if (run.state === 'RUN_FAILED') run.dlqId = this.landInDlq(store, run, endsAt);
    }
  }

  /** The new DLQ entry of a run that failed again: the old entry's fields, the new run's id and times. */
  private landInDlq(store: DlqStore, run: EmulatedRun, at: number): string {
    const dlqId = `${at}-refailed-${++this.failedSeq}`;
    store.seed('workflow', [
      {
        ...run.entry,
        dlqId,
        createdAt: at,
        workflowRunId: run.workflowRunId,
        workflowCreatedAt: run.workflowRunCreatedAt,
      },
    ]);
    return dlqId;
  }
}
