/**
 * The threshold gate (fail-if-count-above, fail-if-older-than): what a selection's figures say against the limits
 * the user set. Pure: the engine asks it before anything is changed, the report after a report's reading.
 */
import { formatAge } from './census-summary.js';
import { Inputs } from './inputs.js';
import { safeDate } from './text.js';

export interface Thresholds {
  /** More selected entries than this exceeds (0: any entry at all). */
  readonly countAbove?: number;
  /** An oldest selected entry older than this many milliseconds exceeds. */
  readonly olderThanMs?: number;
  /** fail-if-older-than as given, for messages. */
  readonly olderThanRaw?: string;
}

/** What is measured against the thresholds: the entries the run would act on. */
export interface Figures {
  readonly count: number;
  /** createdAt of the oldest selected entry that has one. */
  readonly oldestMs?: number;
}

export interface Exceeded {
  readonly input: string;
  /** One sentence: which threshold, the figure and the limit. */
  readonly message: string;
}

export function hasThresholds(thresholds: Thresholds): boolean {
  return thresholds.countAbove !== undefined || thresholds.olderThanMs !== undefined;
}

/** Each threshold the figures exceed, measured at `now` (the step's start, frozen). */
export function exceededThresholds(thresholds: Thresholds, figures: Figures, now: number): Exceeded[] {
  const exceeded: Exceeded[] = [];
  const { countAbove, olderThanMs } = thresholds;
  if (countAbove !== undefined && figures.count > countAbove) {
    exceeded.push({
      input: Inputs.failIfCountAbove,
      message: `${figures.count} ${figures.count === 1 ? 'entry is' : 'entries are'} selected, more than ${Inputs.failIfCountAbove} (${countAbove})`,
    });
  }
  if (olderThanMs !== undefined && figures.oldestMs !== undefined && now - figures.oldestMs > olderThanMs) {
    exceeded.push({
      input: Inputs.failIfOlderThan,
      message:
        `the oldest selected entry was created at ${safeDate(figures.oldestMs)}, ` +
        `${formatAge(now - figures.oldestMs)} before the step started, older than ${Inputs.failIfOlderThan} (${thresholds.olderThanRaw ?? `${olderThanMs} ms`})`,
    });
  }
  return exceeded;
}
