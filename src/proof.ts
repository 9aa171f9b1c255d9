/**
 * A redrive that proves itself (`verify`, `canary`): the waits for the new runs (verify.ts does one wait), what they
 * add to the outputs, the verdict, the summary and the results file. Verification adds facts about redriven ids; it
 * never moves an id between the outcome lists. Only `canary` changes what is sent: its check holds the rest back.
 *
 * Pure apart from the waits, whose requests go through the `send` it is given (the client: retries, rate limits,
 * redaction) on the clock it is given.
 */
import type { OnReFailed, OutputName } from './inputs.js';
import { showId } from './ids.js';
import type { Operation } from './operations.js';
import type { EntryInfo, Outcomes, Settled } from './outcomes.js';
import { plural, shortCell } from './text.js';
import {
  Notes,
  verifyRuns,
  tally,
  type LogsSend,
  type SeenState,
  type VerifyClock,
  type VerifyResult,
  type WatchedRun,
} from './verify.js';

export interface ProofSettings {
  /** How long each wait lasts at most. */
  readonly durationMs: number;
  /** The duration as the user wrote it, for messages. */
  readonly raw: string;
  readonly onReFailed: OnReFailed;
  /** canary: N; undefined without one. */
  readonly canary?: number;
}

/** What one id's new run came to. */
export interface RunSeen {
  readonly state: SeenState;
  readonly workflowRunId?: string;
  readonly workflowCreatedAt?: number;
  /** The DLQ entry the run left when it failed again. */
  readonly newDlqId?: string;
}

/** One wait, as it went. */
export interface Wait {
  readonly what: 'canary' | 'rest' | 'all';
  readonly runs: number;
  readonly ended: VerifyResult['ended'];
  readonly requests: number;
  /** Logs answers that could be read: 0 means this wait confirmed nothing. */
  readonly answered: number;
  readonly elapsedMs: number;
}

/** The canary, as its check judged it. */
export interface CanaryVerdict {
  readonly ids: readonly string[];
  /** Why the rest were held back; undefined: they were sent. */
  readonly held?: string;
}

export interface Proof {
  readonly settings: ProofSettings;
  /** Redriven id -> what its new run came to, for every redriven id. */
  readonly runs: ReadonlyMap<string, RunSeen>;
  readonly waits: readonly Wait[];
  readonly canary?: CanaryVerdict;
  /** Why the new runs were not waited for (the run stopped); undefined when they were. */
  readonly skipped?: string;
  readonly notes: readonly string[];
}

export interface ProverHooks {
  readonly redact: (text: string) => string;
  /** The step's start: an ended state the logs give from before it is the old run's. */
  readonly notBefore?: number;
  /** Logs requests in flight at once. */
  readonly concurrency?: number;
  /** A wait starts and ends (so that a cancellation abandons logs requests at once, and progress pauses). */
  readonly onWait?: (waiting: boolean) => void;
  /** After each round of a wait: the counts so far and the time left. */
  readonly onRound?: (counts: Readonly<Record<SeenState, number>>, leftMs: number) => void;
}

/** Waits for new runs and keeps what each wait saw; `proof(outcomes)` gives the whole. */
export class Prover {
  private readonly seen = new Map<string, RunSeen>();
  private readonly waits: Wait[] = [];
  private readonly notes: Notes;
  private canary: CanaryVerdict | undefined;
  private skipped: string | undefined;
  private readonly settings: ProofSettings;
  private readonly send: LogsSend;
  private readonly clock: VerifyClock;
  private readonly hooks: ProverHooks;

  constructor(settings: ProofSettings, send: LogsSend, clock: VerifyClock, hooks: ProverHooks) {
    this.settings = settings;
    this.send = send;
    this.clock = clock;
    this.hooks = hooks;
    this.notes = new Notes(hooks.redact);
  }

  /**
   * Waits for the new runs of the given ids that were redriven and not yet watched. A redriven id whose answer gave no
   * `workflowCreatedAt` cannot be looked up: its state stays unknown, and a note says why.
   */
  async watch(
    ids: readonly string[],
    results: ReadonlyMap<string, Settled>,
    what: Wait['what'],
    signal: AbortSignal,
    entries?: ReadonlyMap<string, EntryInfo>,
  ): Promise<void> {
    const runs: WatchedRun[] = [];
    let unwatchable = 0;
    for (const id of ids) {
      const settled = results.get(id);
      if (settled?.kind !== 'done' || settled.newRun === undefined || this.seen.has(id)) continue;
      if (settled.newRunCreatedAt === undefined) {
        this.seen.set(id, { state: 'unknown', workflowRunId: settled.newRun });
        unwatchable += 1;
        continue;
      }
      const entryCreatedAt = entries?.get(id)?.createdAt;
      runs.push({
        id,
        workflowRunId: settled.newRun,
        workflowCreatedAt: settled.newRunCreatedAt,
        ...(entryCreatedAt !== undefined && { entryCreatedAt }),
      });
    }
    if (unwatchable > 0) {
      this.notes.add(
        `${unwatchable} re-run answer${unwatchable === 1 ? '' : 's'} gave no workflowCreatedAt: those runs cannot be looked up in the logs, and their state is unknown.`,
      );
    }
    if (runs.length === 0) return;
    this.hooks.onWait?.(true);
    let result: VerifyResult;
    try {
      result = await verifyRuns(
        runs,
        this.send,
        this.clock,
        {
          durationMs: this.settings.durationMs,
          redact: this.hooks.redact,
          ...(this.hooks.notBefore !== undefined && { notBefore: this.hooks.notBefore }),
          ...(this.hooks.concurrency !== undefined && { concurrency: this.hooks.concurrency }),
          ...(this.hooks.onRound && { onRound: this.hooks.onRound }),
        },
        signal,
      );
    } finally {
      this.hooks.onWait?.(false);
    }
    for (const run of result.runs) {
      this.seen.set(run.id, {
        state: run.state,
        workflowRunId: run.workflowRunId,
        workflowCreatedAt: run.workflowCreatedAt,
        ...(run.newDlqId !== undefined && { newDlqId: run.newDlqId }),
      });
    }
    this.waits.push({
      what,
      runs: runs.length,
      ended: result.ended,
      requests: result.requests,
      answered: result.answered,
      elapsedMs: result.elapsedMs,
    });
    for (const note of result.notes) this.notes.add(note);
  }

  /**
   * The canary's check (EngineOptions.canary): waits for the canaries' runs, and holds the rest back unless every
   * canary was redriven and its new run ended RUN_SUCCESS. A canary not found, not sent, or whose run failed again,
   * was cancelled, or had not ended, proves nothing about the fix.
   */
  readonly check = async (
    canaries: readonly string[],
    results: ReadonlyMap<string, Settled>,
    signal: AbortSignal,
    entries?: ReadonlyMap<string, EntryInfo>,
  ): Promise<string | undefined> => {
    await this.watch(canaries, results, 'canary', signal, entries);
    // Cancelled during the wait: the canary was not judged, and the rest fail with the cancellation's own cause.
    if (signal.aborted) return undefined;
    const bad: string[] = [];
    const good: string[] = [];
    for (const id of canaries) {
      const settled = results.get(id);
      const state = this.seen.get(id)?.state;
      if (settled?.kind === 'done' && state === 'RUN_SUCCESS') {
        good.push(`${showId(this.hooks.redact(id), 60)}: RUN_SUCCESS`);
        continue;
      }
      const seen = this.seen.get(id);
      const what =
        settled?.kind === 'not-found'
          ? 'not found'
          : settled?.kind === 'failed'
            ? `not re-run (${settled.cause})`
            : seen !== undefined && seen.workflowCreatedAt === undefined
              ? "unknown (its re-run's answer gave no workflowCreatedAt, so the logs could not be asked)"
              : state === 'RUN_FAILED'
                ? 'RUN_FAILED (failed again)'
                : state === 'RUN_STARTED' || state === 'unknown'
                  ? `${state} (had not ended when the wait of ${this.settings.raw} ran out)`
                  : (state ?? 'unknown');
      bad.push(`${showId(this.hooks.redact(id), 60)}: ${what}`);
    }
    // Every canary with its state, those that did not succeed first (at most 10 named).
    const all = [...bad, ...good];
    const held =
      bad.length === 0
        ? undefined
        : `${bad.length} of ${plural(canaries.length, 'canary', 'canaries')} did not succeed: ${all.slice(0, 10).join('; ')}${all.length > 10 ? `; and ${all.length - 10} more` : ''}`;
    this.canary = { ids: canaries, ...(held !== undefined && { held }) };
    return held;
  };

  /** The new runs are not waited for, for this reason: their states stay unknown, and the verdict says why. */
  skip(reason: string): void {
    this.skipped ??= reason;
  }

  proof(): Proof {
    return {
      settings: this.settings,
      runs: this.seen,
      waits: this.waits,
      ...(this.canary !== undefined && { canary: this.canary }),
      ...(this.skipped !== undefined && { skipped: this.skipped }),
      notes: this.notes.list(),
    };
  }
}

/** What an id's new run came to: unknown when no wait saw it. */
export function proofState(proof: Proof, id: string): SeenState {
  return proof.runs.get(id)?.state ?? 'unknown';
}

/** Counts by state over every redriven id. */
export function proofCounts(proof: Proof, outcomes: Outcomes): Record<SeenState, number> {
  return tally(redriven(outcomes).map((id) => proofState(proof, id)));
}

function redriven(outcomes: Outcomes): readonly string[] {
  return outcomes.done.filter((id) => outcomes.newRuns.has(id));
}

/** The ids whose new run ended RUN_FAILED, in selection order. */
export function reFailed(proof: Proof, outcomes: Outcomes): string[] {
  return redriven(outcomes).filter((id) => proofState(proof, id) === 'RUN_FAILED');
}

/** The outputs verification adds. */
export function proofOutputs(proof: Proof, outcomes: Outcomes): Partial<Record<OutputName, string>> {
  const ids = redriven(outcomes);
  const counts = proofCounts(proof, outcomes);
  const failed = reFailed(proof, outcomes);
  const newDlqIds = failed.flatMap((id) => {
    const dlqId = proof.runs.get(id)?.newDlqId;
    return dlqId !== undefined ? [[id, dlqId] as const] : [];
  });
  return {
    'run-states': JSON.stringify(Object.fromEntries(ids.map((id) => [id, proofState(proof, id)]))),
    'succeeded-count': String(counts.RUN_SUCCESS),
    're-failed': JSON.stringify(failed),
    're-failed-count': String(failed.length),
    'still-running-count': String(counts.RUN_STARTED + counts.unknown),
    're-failed-dlq-ids': JSON.stringify(Object.fromEntries(newDlqIds)),
  };
}

/** What the results file records about an id's new run. */
export function proofRecord(proof: Proof | undefined, id: string): Record<string, unknown> {
  const run = proof?.runs.get(id);
  if (proof === undefined) return {};
  return {
    runState: run?.state ?? 'unknown',
    ...(run?.workflowCreatedAt !== undefined && { newRunCreatedAt: run.workflowCreatedAt }),
    ...(run?.newDlqId !== undefined && { newDlqId: run.newDlqId }),
  };
}

export interface ProofVerdict {
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  readonly notices: readonly string[];
}

function listed(ids: readonly string[], proof: Proof, redact: (text: string) => string): string {
  const shown = ids.slice(0, 10).map((id) => {
    const run = proof.runs.get(id);
    const dlq = run?.newDlqId !== undefined ? `, new DLQ entry ${showId(redact(run.newDlqId), 60)}` : '';
    return `${showId(redact(id), 60)} (run ${showId(redact(run?.workflowRunId ?? '?'), 60)}${dlq})`;
  });
  return ids.length > 10 ? `${shown.join(', ')} and ${ids.length - 10} more` : shown.join(', ');
}

/** What the waits say about the step: re-failed runs by on-re-failed, the rest as warnings; a held canary fails. */
export function proofVerdict(
  proof: Proof,
  outcomes: Outcomes,
  operation: Operation,
  redact: (text: string) => string,
): ProofVerdict {
  const errors: string[] = [];
  const warnings: string[] = [];
  const notices: string[] = [];
  const { settings } = proof;
  if (proof.canary?.held !== undefined) {
    const rest = outcomes.failed.filter((entry) => entry.cause === 'canary-failed').length;
    errors.push(
      `The canary did not pass: ${redact(proof.canary.held)}.` +
        (rest > 0
          ? ` The other ${plural(rest, 'entry was', 'entries were')} not sent (failed, cause canary-failed) and stay in the DLQ.`
          : ' Every selected entry was a canary, so none was held back.'),
    );
  }
  const failed = reFailed(proof, outcomes);
  if (failed.length > 0) {
    const text =
      `${plural(failed.length, 'new run')} failed again: ${listed(failed, proof, redact)}. ` +
      `They are in redriven (the ${operation.words.verb} was done) and in re-failed; re-failed-dlq-ids names the new DLQ entries.`;
    if (settings.onReFailed === 'fail') errors.push(`${text} (on-re-failed: fail; warn or pass lets the step pass.)`);
    else if (settings.onReFailed === 'warn') warnings.push(text);
    else notices.push(text);
  }
  const counts = proofCounts(proof, outcomes);
  const cancelledWait = proof.waits.some((wait) => wait.ended === 'cancelled');
  const blind = proof.waits.filter((wait) => wait.ended !== 'cancelled' && wait.answered === 0);
  if (blind.length > 0) {
    const asked = blind.reduce((sum, wait) => sum + wait.requests, 0);
    errors.push(
      `The logs could not be read: none of ${plural(asked, 'logs request')} got an answer with runs` +
        `${proof.notes.length > 0 ? ` (${redact(proof.notes[0]!)})` : ''}, so nothing about ${plural(
          blind.reduce((sum, wait) => sum + wait.runs, 0),
          'new run',
        )} was confirmed.`,
    );
  }
  const open = counts.RUN_STARTED + counts.unknown;
  if (cancelledWait) {
    errors.push(
      `The wait for the new runs was cancelled: the states are as last seen (${plural(open, 'run')} not seen to end).`,
    );
  } else if (proof.skipped !== undefined && open > 0) {
    warnings.push(
      `${plural(open, 'new run was', 'new runs were')} not waited for: ${redact(proof.skipped)}. Their states are unknown (run-states).`,
    );
  } else if (open > 0) {
    const ids = redriven(outcomes).filter((id) => {
      const state = proofState(proof, id);
      return state === 'RUN_STARTED' || state === 'unknown';
    });
    warnings.push(
      `${plural(open, 'new run')} had not been seen to end when the wait of ${settings.raw} was over ` +
        `(${counts.RUN_STARTED} still running, ${counts.unknown} not seen in the logs): ${listed(ids, proof, redact)}. ` +
        `They may still fail; still-running-count says how many.`,
    );
  }
  if (counts.RUN_CANCELED > 0) {
    const ids = redriven(outcomes).filter((id) => proofState(proof, id) === 'RUN_CANCELED');
    warnings.push(
      `${plural(counts.RUN_CANCELED, 'new run was', 'new runs were')} cancelled: ${listed(ids, proof, redact)}.`,
    );
  }
  return { errors, warnings, notices };
}

/** "Resumed 42: 40 succeeded, 2 failed again, 0 still running" (and cancelled / not seen when there are any). */
export function proofLine(proof: Proof, outcomes: Outcomes, operation: Operation): string {
  const counts = proofCounts(proof, outcomes);
  const parts = [
    `${counts.RUN_SUCCESS} succeeded`,
    `${counts.RUN_FAILED} failed again`,
    `${counts.RUN_STARTED} still running`,
    ...(counts.RUN_CANCELED > 0 ? [`${counts.RUN_CANCELED} cancelled`] : []),
    ...(counts.unknown > 0 ? [`${counts.unknown} not seen in the logs`] : []),
  ];
  return `${operation.words.past} ${redriven(outcomes).length}: ${parts.join(', ')}`;
}

/** The summary's lines about the waits: the count line, the canary, the cost, and a table of what failed again. */
export function proofMarkdown(
  proof: Proof,
  outcomes: Outcomes,
  operation: Operation,
  redact: (text: string) => string,
): string[] {
  if (redriven(outcomes).length === 0 && proof.canary === undefined) return [];
  const cell = (text: string): string => shortCell(text, redact);
  const lines = ['', `### Verified: ${proofLine(proof, outcomes, operation)}`, ''];
  if (proof.canary !== undefined) {
    const ids = proof.canary.ids.slice(0, 20).map(cell).join(', ');
    const more = proof.canary.ids.length > 20 ? ` and ${proof.canary.ids.length - 20} more` : '';
    lines.push(
      proof.canary.held === undefined
        ? `- Canary (${proof.canary.ids.length}): ${ids}${more}: every new run succeeded, so the rest were sent`
        : `- Canary (${proof.canary.ids.length}): ${ids}${more}: **did not pass** (${cell(proof.canary.held)}); the rest were not sent`,
    );
  }
  const requests = proof.waits.reduce((sum, wait) => sum + wait.requests, 0);
  const seconds = proof.waits.reduce((sum, wait) => sum + wait.elapsedMs, 0) / 1000;
  const each =
    proof.waits.length > 1
      ? ` (${proof.waits.map((w) => `${w.what} ${(w.elapsedMs / 1000).toFixed(1)} s`).join(', ')})`
      : '';
  lines.push(
    `- Waited ${seconds.toFixed(1)} s${each}, at most ${cell(proof.settings.raw)} a wait; ${plural(requests, 'logs request')}; on-re-failed: \`${proof.settings.onReFailed}\``,
  );
  for (const note of proof.notes) lines.push(`- ${cell(note)}`);
  const failed = reFailed(proof, outcomes);
  if (failed.length > 0) {
    lines.push('', '| failed again | new run | new DLQ entry |', '|---|---|---|');
    for (const id of failed.slice(0, 200)) {
      const run = proof.runs.get(id);
      lines.push(`| ${cell(id)} | ${cell(run?.workflowRunId ?? '')} | ${cell(run?.newDlqId ?? '')} |`);
    }
    if (failed.length > 200) lines.push('', `${failed.length - 200} more not shown; re-failed lists them all.`);
  }
  return lines;
}
