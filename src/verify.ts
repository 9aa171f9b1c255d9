/**
 * The wait after a redrive (`verify`): asks Upstash's logs endpoint (`GET /v2/workflows/logs?workflowRuns=<runId>@
 * <createdAt>,…`) for the state of each new run, many runs per request, round after round, until every run has ended
 * or the duration has passed. Each new run is watched by its `workflowRunId` AND `workflowCreatedAt` as the re-run's
 * answer gave them: a resume may keep the run id, and the logs then hold the old failed run under the same id.
 *
 * What counts: only a state reported for the exact run asked for (id and creation time) and in the documented enum.
 * An answer that does not parse, a run not asked for, a state outside the enum, or a RUN_FAILED naming the entry's
 * own (old) DLQ id, is ignored for that run and noted: verification claims only what the logs confirmed, and an id
 * whose run the logs never showed stays 'unknown'.
 *
 * Pacing: rounds start at least `minIntervalMs` (2 s) apart, the gap doubling each round up to `maxIntervalMs`
 * (30 s), and a last round at the deadline. Cancellation ends the wait at once: the signal goes to `send` and `sleep`.
 *
 * The pure parts (batches, paths, parsing an answer, the next gap) are exported for tests; `verifyRuns` is the loop.
 * It sends through a `send` it is given, so that it works over DlqClient.send (retries, rate limits, redaction).
 */

import type { Clock } from './qstash/clock.js';

export const RUN_STATES = ['RUN_STARTED', 'RUN_SUCCESS', 'RUN_FAILED', 'RUN_CANCELED'] as const;
export type RunState = (typeof RUN_STATES)[number];
/** A run's last state as the logs showed it, or 'unknown' when they never did. */
export type SeenState = RunState | 'unknown';

/** The longest wait `verify` accepts. */
export const MAX_VERIFY_MS = 6 * 60 * 60 * 1000;
export const LOGS_PATH = '/v2/workflows/logs';

/** One redriven id and the new run its re-run's answer named. */
export interface WatchedRun {
  /** The DLQ id that was redriven. */
  readonly id: string;
  readonly workflowRunId: string;
  readonly workflowCreatedAt: number;
  /**
   * The DLQ entry's createdAt (the server's clock), when the listing gave it: the old run failed by then, so an ended
   * state completed no later is the old run's.
   */
  readonly entryCreatedAt?: number;
}

/** One logs request, shaped like the client's Exchange. */
export interface LogsExchange {
  readonly method: 'GET';
  readonly path: string;
  readonly wantsBody: true;
  readonly maxBodyBytes: number;
}

/** What sending gave: an answer (2xx or 404, as DlqClient.send answers) or a failure with a reason. */
export type LogsReply =
  | { readonly kind: 'answered'; readonly status: number; readonly body: string; readonly truncated?: boolean }
  | { readonly kind: 'failed'; readonly reason: string };

export type LogsSend = (exchange: LogsExchange, signal: AbortSignal) => Promise<LogsReply>;

/** The project's clock (qstash/clock.ts): the wait sleeps on it, and tests pass a fake one. */
export type VerifyClock = Clock;

export interface VerifyOptions {
  /** How long to wait at most, from the start of the wait; at most MAX_VERIFY_MS. */
  readonly durationMs: number;
  /** Runs per request. Default 50. */
  readonly batchSize?: number;
  /** Longest request path (with query) in characters. Default 6 KiB. */
  readonly maxPathChars?: number;
  /** Default 2 s. */
  readonly minIntervalMs?: number;
  /** Default 30 s. */
  readonly maxIntervalMs?: number;
  /** Removes secrets from notes (they quote server text): the settings' redactor. */
  readonly redact?: (text: string) => string;
  /**
   * Unix ms before which no new run can have ended (the step's start): an ended state completed earlier is the old
   * run's (a resume may keep the run id and its creation time), and is ignored.
   */
  readonly notBefore?: number;
  /** Logs requests in flight at once. Default 1. */
  readonly concurrency?: number;
  /** Called after each round with the states so far (for progress lines). */
  readonly onRound?: (tally: Readonly<Record<SeenState, number>>, leftMs: number) => void;
}

export interface RunVerdict extends WatchedRun {
  readonly state: SeenState;
  /** The DLQ entry the run left when it failed again, when the logs named it. */
  readonly newDlqId?: string;
}

export interface VerifyResult {
  /** In the order the runs were given. */
  readonly runs: readonly RunVerdict[];
  readonly counts: Readonly<Record<SeenState, number>>;
  /** Ids whose new run ended RUN_FAILED, in the order given. */
  readonly reFailed: readonly string[];
  /** Re-failed id -> the new DLQ id its run left (where the logs named it). */
  readonly reFailedDlqIds: Readonly<Record<string, string>>;
  readonly requests: number;
  /** Logs answers that could be read (2xx with a runs array): 0 means the logs confirmed nothing at all. */
  readonly answered: number;
  readonly rounds: number;
  readonly elapsedMs: number;
  /** Why the wait ended. */
  readonly ended: 'all-ended' | 'deadline' | 'cancelled';
  /** What was ignored and why (answers that failed, did not parse or lied), at most MAX_NOTES, then a count. */
  readonly notes: readonly string[];
}

const DEFAULTS = { batchSize: 50, maxPathChars: 6 * 1024, minIntervalMs: 2_000, maxIntervalMs: 30_000 };
/** Pages followed per batch when the server answers with a cursor (it should not: `count` covers the batch). */
const MAX_PAGES_PER_BATCH = 5;
const MAX_NOTES = 20;
/** A logs answer for 50 runs with their steps is small; a larger one is cut, and then does not parse. */
const LOGS_BODY_LIMIT = 8 * 1024 * 1024;

export const ENDED: ReadonlySet<SeenState> = new Set(['RUN_SUCCESS', 'RUN_FAILED', 'RUN_CANCELED']);

/**
 * How far the server's clock may be behind the runner's before the step's start stops telling old runs from new
 * ones. Dropping a new run's failure as old would let a step pass that should fail; counting an old one as new only
 * fails a step that a look at the run clears. So the step's start counts only with this margin; the entry's own
 * createdAt (the server's clock) counts as it is.
 */
export const CLOCK_SKEW_MS = 10 * 60 * 1000;

/** The key a run is asked for and answered by. */
export const runKey = (workflowRunId: string, createdAt: number): string => `${workflowRunId}@${createdAt}`;

/**
 * The new run a restart/resume answer names (per id: the body; bulk: one item of `workflowRuns`): both
 * `workflowRunId` and `workflowCreatedAt`, or undefined when either is missing (that run cannot be watched: 'unknown').
 */
export function readNewRun(item: unknown): { workflowRunId: string; workflowCreatedAt: number } | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const { workflowRunId, workflowCreatedAt } = item as { workflowRunId?: unknown; workflowCreatedAt?: unknown };
  if (typeof workflowRunId !== 'string' || workflowRunId === '') return undefined;
  if (typeof workflowCreatedAt !== 'number' || !Number.isSafeInteger(workflowCreatedAt) || workflowCreatedAt < 0) {
    return undefined;
  }
  return { workflowRunId, workflowCreatedAt };
}

/**
 * A run id with a comma or an at sign cannot be one pair of `workflowRuns` (a server that decodes the query before
 * splitting would read it as two runs, or refuse the batch): such a run is asked alone, by the documented
 * `workflowRunId` and `workflowCreatedAt` filters.
 */
export const askedAlone = (run: WatchedRun): boolean => /[,@]/u.test(run.workflowRunId);

/** The request path for one batch: the pairs, and `count` so that one page holds them all. */
export function logsPath(runs: readonly WatchedRun[], cursor?: string): string {
  const page = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
  if (runs.length === 1 && askedAlone(runs[0]!)) {
    const [run] = runs as [WatchedRun];
    return `${LOGS_PATH}?workflowRunId=${encodeURIComponent(run.workflowRunId)}&workflowCreatedAt=${run.workflowCreatedAt}&count=1${page}`;
  }
  const pairs = runs.map((run) => `${encodeURIComponent(run.workflowRunId)}@${run.workflowCreatedAt}`).join(',');
  return `${LOGS_PATH}?workflowRuns=${pairs}&count=${runs.length}${page}`;
}

/** The runs split into requests of at most `batchSize` runs and a path of at most `maxPathChars`. */
export function batches(
  runs: readonly WatchedRun[],
  batchSize = DEFAULTS.batchSize,
  maxPathChars = DEFAULTS.maxPathChars,
): WatchedRun[][] {
  // The path's length is counted as pairs are added (the fixed part with the longest count and a cursor), so that
  // 100,000 runs cost one pass, not a path built per run.
  const fixed = `${LOGS_PATH}?workflowRuns=&count=${batchSize}&cursor=${'c'.repeat(24)}`.length;
  const out: WatchedRun[][] = [];
  let current: WatchedRun[] = [];
  let length = fixed;
  for (const run of runs) {
    if (askedAlone(run)) {
      out.push([run]);
      continue;
    }
    const pair = `${encodeURIComponent(run.workflowRunId)}@${run.workflowCreatedAt}`.length + 1;
    if (current.length > 0 && (current.length >= batchSize || length + pair > maxPathChars)) {
      out.push(current);
      current = [];
      length = fixed;
    }
    current.push(run);
    length += pair;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The gap before round `round + 1` (0-based): doubling from the minimum, never past the maximum. */
export function roundGap(round: number, minMs = DEFAULTS.minIntervalMs, maxMs = DEFAULTS.maxIntervalMs): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(round, 30));
}

/** What one logs answer says about the runs asked for. */
export interface ParsedLogs {
  /** Run key -> state (and new DLQ id) for runs asked for, with an accepted state. */
  readonly states: Map<string, { state: RunState; dlqId?: string }>;
  readonly notes: string[];
  /** Whether the answer was `{runs: [...]}` at all (a body that is not gives no states and says nothing). */
  readonly readable: boolean;
  /** The next page, when the answer gave a non-empty cursor. */
  readonly cursor?: string;
}

/**
 * Reads one logs answer against the runs asked for (key -> run). A body that is not `{runs: [...]}` gives no states
 * and a note; each run object is judged on its own.
 */
export function parseLogs(
  body: string,
  asked: ReadonlyMap<string, WatchedRun>,
  options: { readonly redact?: (text: string) => string; readonly notBefore?: number } = {},
): ParsedLogs {
  // Server text is redacted before it is cut: a cut through a secret would leave its first part unmasked.
  const quote = (text: string): string => shorten((options.redact ?? ((t: string) => t))(text));
  const states = new Map<string, { state: RunState; dlqId?: string }>();
  const notes: string[] = [];
  const conflicted = new Set<string>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { states, notes: ['a logs answer was not JSON: ignored'], readable: false };
  }
  const runs = (parsed as { runs?: unknown } | null)?.runs;
  if (!Array.isArray(runs)) return { states, notes: ['a logs answer had no runs array: ignored'], readable: false };
  for (const item of runs) {
    const run = item as Record<string, unknown> | null;
    const id = run?.workflowRunId;
    const createdAt = run?.workflowRunCreatedAt;
    if (typeof id !== 'string' || typeof createdAt !== 'number') {
      notes.push('a logs answer named a run without workflowRunId and workflowRunCreatedAt: ignored');
      continue;
    }
    const key = runKey(id, createdAt);
    const watched = asked.get(key);
    if (!watched) {
      notes.push(`the logs answered run ${quote(key)}, which was not asked for: ignored`);
      continue;
    }
    const state = run!.workflowState;
    if (typeof state !== 'string' || !(RUN_STATES as readonly string[]).includes(state)) {
      notes.push(
        `the logs gave run ${quote(key)} the state ${quote(JSON.stringify(state) ?? 'none')}, not a run state: ignored`,
      );
      continue;
    }
    const dlqId = typeof run!.dlqId === 'string' && run!.dlqId !== '' ? run!.dlqId : undefined;
    if (state === 'RUN_FAILED' && dlqId === watched.id) {
      notes.push(`the logs gave run ${quote(key)} the old failure (DLQ id ${quote(watched.id)}): ignored`);
      continue;
    }
    const completedAt = run!.workflowRunCompletedAt;
    const oldBy = Math.max(
      watched.entryCreatedAt ?? Number.NEGATIVE_INFINITY,
      options.notBefore !== undefined ? options.notBefore - CLOCK_SKEW_MS : Number.NEGATIVE_INFINITY,
    );
    if (ENDED.has(state as RunState) && typeof completedAt === 'number' && completedAt <= oldBy) {
      notes.push(
        `the logs gave run ${quote(key)} a ${state} that ended before this step started (the old run): ignored`,
      );
      continue;
    }
    if (conflicted.has(key)) continue;
    const seen = states.get(key);
    if (seen && seen.state !== state) {
      notes.push(`the logs gave run ${quote(key)} two states (${seen.state}, ${state}): both ignored`);
      states.delete(key);
      conflicted.add(key);
      continue;
    }
    states.set(key, { state: state as RunState, ...(dlqId !== undefined && { dlqId }) });
  }
  const cursor = (parsed as { cursor?: unknown }).cursor;
  return { states, notes, readable: true, ...(typeof cursor === 'string' && cursor !== '' && { cursor }) };
}

/** Server text in a note, cut to a readable length. */
const shorten = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}...` : text);

/** Counts by state, every state present. */
export function tally(states: Iterable<SeenState>): Record<SeenState, number> {
  const counts: Record<SeenState, number> = {
    RUN_SUCCESS: 0,
    RUN_FAILED: 0,
    RUN_CANCELED: 0,
    RUN_STARTED: 0,
    unknown: 0,
  };
  for (const state of states) counts[state] += 1;
  return counts;
}

/**
 * How long past its deadline a wait may still be reading its last round. Past it, requests in flight are abandoned:
 * a logs endpoint that hangs, or a 429 asking for a long pause, cannot stretch `verify` past its duration.
 */
export const LAST_ROUND_GRACE_MS = 5_000;

/** Waits for the new runs to end, as the module comment says. */
export async function verifyRuns(
  runs: readonly WatchedRun[],
  send: LogsSend,
  clock: VerifyClock,
  options: VerifyOptions,
  signal: AbortSignal,
): Promise<VerifyResult> {
  const durationMs = Math.min(MAX_VERIFY_MS, Math.max(0, options.durationMs));
  const minMs = options.minIntervalMs ?? DEFAULTS.minIntervalMs;
  const maxMs = Math.max(minMs, options.maxIntervalMs ?? DEFAULTS.maxIntervalMs);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const start = clock.now();
  const deadline = start + durationMs;
  // The last round may start up to one minimum gap after the deadline; past that and its grace, nothing waits on.
  const expiry = new AbortController();
  const timer = setTimeout(() => expiry.abort(new Error('the wait is over')), durationMs + minMs + LAST_ROUND_GRACE_MS);
  timer.unref?.();
  const stop = AbortSignal.any([signal, expiry.signal]);
  const seen = new Map<string, { state: SeenState; dlqId?: string }>();
  for (const run of runs) seen.set(runKey(run.workflowRunId, run.workflowCreatedAt), { state: 'unknown' });
  const notes = new Notes(options.redact);
  const parsing = {
    ...(options.redact && { redact: options.redact }),
    ...(options.notBefore !== undefined && { notBefore: options.notBefore }),
  };
  let batchSize = options.batchSize ?? DEFAULTS.batchSize;
  let requests = 0;
  let answered = 0;
  let rounds = 0;
  let ended: VerifyResult['ended'] = 'deadline';

  const pending = (): WatchedRun[] =>
    runs.filter((run) => !ENDED.has(seen.get(runKey(run.workflowRunId, run.workflowCreatedAt))!.state));
  const counts = (): Record<SeenState, number> =>
    tally(runs.map((run) => seen.get(runKey(run.workflowRunId, run.workflowCreatedAt))!.state));

  /**
   * One batch: its pages (bounded). The states of all its pages are taken together: a run given two states by two
   * pages of one answer is given neither, as within one page.
   */
  const ask = async (batch: readonly WatchedRun[]): Promise<void> => {
    const asked = new Map(batch.map((run) => [runKey(run.workflowRunId, run.workflowCreatedAt), run]));
    const found = new Map<string, { state: RunState; dlqId?: string }>();
    const conflicted = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES_PER_BATCH && !stop.aborted; page += 1) {
      requests += 1;
      const exchange: LogsExchange = {
        method: 'GET',
        path: logsPath(batch, cursor),
        wantsBody: true,
        maxBodyBytes: LOGS_BODY_LIMIT,
      };
      const reply = await sendSafely(send, exchange, stop);
      // Abandoned (cancelled, or the wait is over): what it says is not a fault of the logs.
      if (stop.aborted) return;
      if (reply.kind === 'failed') return notes.add(`a logs request failed: ${reply.reason}`);
      if (reply.status < 200 || reply.status > 299) return notes.add(`a logs request was answered ${reply.status}`);
      if (reply.truncated) {
        // Runs with many steps make large answers: ask for fewer runs at a time from now on.
        batchSize = Math.max(1, Math.min(batchSize, Math.floor(batch.length / 2)));
        return notes.add('a logs answer was too large and was cut: ignored, and fewer runs are asked per request');
      }
      const parsed = parseLogs(reply.body, asked, parsing);
      for (const note of parsed.notes) notes.add(note);
      if (!parsed.readable) return;
      answered += 1;
      for (const [key, state] of parsed.states) {
        if (conflicted.has(key)) continue;
        const before = found.get(key);
        if (before !== undefined && before.state !== state.state) {
          notes.add(`the logs gave run ${key} two states (${before.state}, ${state.state}) on two pages: both ignored`);
          found.delete(key);
          conflicted.add(key);
          continue;
        }
        found.set(key, state);
      }
      if (parsed.cursor === undefined || parsed.cursor === cursor) break;
      cursor = parsed.cursor;
    }
    if (stop.aborted) return;
    for (const [key, state] of found) seen.set(key, state);
  };

  /** A round: every pending batch, `concurrency` at a time. */
  const round = async (): Promise<void> => {
    const list = batches(pending(), batchSize, options.maxPathChars);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < list.length && !stop.aborted) await ask(list[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  };

  try {
    // Rounds are bounded by the duration over the minimum gap, plus the first and the last.
    const maxRounds = Math.ceil(durationMs / Math.max(1, minMs)) + 2;
    while (rounds < maxRounds) {
      if (signal.aborted) {
        ended = 'cancelled';
        break;
      }
      const roundStart = clock.now();
      rounds += 1;
      await round();
      if (signal.aborted) {
        ended = 'cancelled';
        break;
      }
      if (expiry.signal.aborted) break;
      const now = clock.now();
      options.onRound?.(counts(), Math.max(0, deadline - now));
      if (pending().length === 0) {
        ended = 'all-ended';
        break;
      }
      if (now >= deadline) break;
      // The next round at the gap after this one's start, or at the deadline, but never closer than the minimum
      // gap: a deadline nearer than that gets its last round one minimum gap after this one.
      const next = Math.max(Math.min(roundStart + roundGap(rounds - 1, minMs, maxMs), deadline), roundStart + minMs);
      await clock.sleep(Math.max(0, next - now), stop);
    }
  } finally {
    clearTimeout(timer);
  }

  const verdicts: RunVerdict[] = runs.map((run) => {
    const found = seen.get(runKey(run.workflowRunId, run.workflowCreatedAt))!;
    return { ...run, state: found.state, ...(found.dlqId !== undefined && { newDlqId: found.dlqId }) };
  });
  const failed = verdicts.filter((run) => run.state === 'RUN_FAILED');
  return {
    runs: verdicts,
    counts: counts(),
    reFailed: failed.map((run) => run.id),
    reFailedDlqIds: Object.fromEntries(failed.flatMap((run) => (run.newDlqId ? [[run.id, run.newDlqId]] : []))),
    requests,
    answered,
    rounds,
    elapsedMs: clock.now() - start,
    ended,
    notes: notes.list(),
  };
}

/** A send that throws is a failed request like any other: the wait goes on, and says so. */
async function sendSafely(send: LogsSend, exchange: LogsExchange, signal: AbortSignal): Promise<LogsReply> {
  try {
    return await send(exchange, signal);
  } catch (error) {
    return { kind: 'failed', reason: error instanceof Error ? error.message : 'the request threw' };
  }
}

/** Notes, each once (after redaction), at most MAX_NOTES, then how many more there were. */
export class Notes {
  private readonly seen = new Set<string>();
  private readonly redact: (text: string) => string;
  private more = 0;

  constructor(redact: (text: string) => string = (text) => text) {
    this.redact = redact;
  }

  add(text: string): void {
    const note = this.redact(text);
    if (this.seen.has(note)) return;
    if (this.seen.size >= MAX_NOTES) this.more += 1;
    else this.seen.add(note);
  }

  list(): string[] {
    return this.more > 0 ? [...this.seen, `and ${this.more} more notes`] : [...this.seen];
  }
}
