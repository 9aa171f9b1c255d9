/**
 * Progress lines for long runs: at most one line every 10 s, none before the first 10 s (a run that finishes within
 * 10 s prints none). Operations report "Resumed 1,200 of 10,000 · 12/s · about 12 min left"; the verify wait reports
 * its counts by state and the time left of the wait. Pure: the clock and the line's destination are injected; the
 * caller reports what happened (`update`) and may `tick` from a timer so that a stall still prints.
 */

import type { SeenState } from './verify.js';

export interface ProgressClock {
  now(): number;
}

/** How often a line may be printed, and how long a run goes before the first. */
export const PROGRESS_INTERVAL_MS = 10_000;

const number = (value: number): string => Math.round(value).toLocaleString('en-US');

/** "12/s", "0.5/s": whole numbers from 10 on, one decimal below. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0/s';
  return perSecond >= 10 ? `${number(perSecond)}/s` : `${(Math.round(perSecond * 10) / 10).toString()}/s`;
}

/** "40 s", "12 min", "1 h 5 min": seconds rounded up (never "0 s" while time is left), minutes to the nearest. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** "Resumed 1,200 of 10,000 · 12/s · about 12 min left" (no time left until something is done). */
export function operationLine(verb: string, done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const parts = [`${verb} ${number(done)} of ${number(total)}`, formatRate(rate)];
  if (rate > 0 && done < total) parts.push(`about ${formatDuration(((total - done) / rate) * 1000)} left`);
  return parts.join(' · ');
}

/** Counts by state, as verify.ts tallies them. */
export type StateCounts = Readonly<Record<SeenState, number>>;

/** "Verifying 1,000 new runs: 600 succeeded, 3 failed again, 0 cancelled, 397 still running · about 4 min left of the wait". */
export function verifyLine(counts: StateCounts, leftMs: number): string {
  const total = counts.RUN_SUCCESS + counts.RUN_FAILED + counts.RUN_CANCELED + counts.RUN_STARTED + counts.unknown;
  const states = [
    `${number(counts.RUN_SUCCESS)} succeeded`,
    `${number(counts.RUN_FAILED)} failed again`,
    `${number(counts.RUN_CANCELED)} cancelled`,
    `${number(counts.RUN_STARTED)} still running`,
    ...(counts.unknown > 0 ? [`${number(counts.unknown)} not yet seen`] : []),
  ];
  const runs = total === 1 ? 'new run' : 'new runs';
  return `Verifying ${number(total)} ${runs}: ${states.join(', ')} · about ${formatDuration(leftMs)} left of the wait`;
}

/** Decides when a line is due: not before `intervalMs` after the start, then at most once per `intervalMs`. */
export class Throttle {
  private readonly clock: ProgressClock;
  private readonly intervalMs: number;
  private readonly start: number;
  private last: number;

  constructor(clock: ProgressClock, intervalMs = PROGRESS_INTERVAL_MS) {
    this.clock = clock;
    this.intervalMs = intervalMs;
    this.start = clock.now();
    this.last = this.start;
  }

  /** Whether a line is due now; when it is, the next one is due `intervalMs` later. */
  due(): boolean {
    const now = this.clock.now();
    if (now - this.last < this.intervalMs) return false;
    this.last = now;
    return true;
  }

  elapsedMs(): number {
    return this.clock.now() - this.start;
  }
}

/** Progress of an operation over `total` ids: `update(done)` as outcomes arrive, `tick()` from a timer. */
export class OperationProgress {
  private readonly verb: string;
  private readonly total: number;
  private readonly emit: (line: string) => void;
  private readonly throttle: Throttle;
  private done = 0;

  constructor(
    verb: string,
    total: number,
    clock: ProgressClock,
    emit: (line: string) => void,
    intervalMs = PROGRESS_INTERVAL_MS,
  ) {
    this.verb = verb;
    this.total = total;
    this.emit = emit;
    this.throttle = new Throttle(clock, intervalMs);
  }

  update(done: number): void {
    this.done = Math.min(this.total, Math.max(this.done, done));
    this.tick();
  }

  tick(): void {
    if (this.done >= this.total || !this.throttle.due()) return;
    this.emit(operationLine(this.verb, this.done, this.total, this.throttle.elapsedMs()));
  }
}

/** Progress of the verify wait: `update(counts, leftMs)` after each round (VerifyOptions.onRound fits). */
export class VerifyProgress {
  private readonly emit: (line: string) => void;
  private readonly throttle: Throttle;

  constructor(clock: ProgressClock, emit: (line: string) => void, intervalMs = PROGRESS_INTERVAL_MS) {
    this.emit = emit;
    this.throttle = new Throttle(clock, intervalMs);
  }

  update(counts: StateCounts, leftMs: number): void {
    // Once every run has ended the wait is over, and its result says so.
    if (counts.RUN_STARTED + counts.unknown === 0 || !this.throttle.due()) return;
    this.emit(verifyLine(counts, leftMs));
  }
}
