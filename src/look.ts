/**
 * What a run saw of the DLQ, for the outputs and the summary: the census of the entries it selected (a report's, or
 * those a filter run would act on), whether that count is exact, and the thresholds it exceeds. Pure.
 */
import { Census, groupsJson, type CensusResult } from './census.js';
import { formatAge, type ThresholdLine } from './census-summary.js';
import { Inputs, type OnThreshold } from './inputs.js';
import type { Outcomes } from './outcomes.js';
import { exceededThresholds, type Exceeded, type Figures, type Thresholds } from './thresholds.js';

export interface Look {
  /** The census of the selection; undefined when the run counts nothing (a by-id run of an operation that changes). */
  readonly census?: CensusResult;
  /** The census is of every selected entry: its figures may be shown as exact. */
  readonly exact: boolean;
  /** The thresholds the selection exceeds (measured only on an exact census). */
  readonly exceeded: readonly Exceeded[];
  readonly onThreshold: OnThreshold;
  readonly thresholds: Thresholds;
  /** Whether the groups belong in the outputs (a report). */
  readonly report: boolean;
}

export interface LookOptions {
  readonly thresholds: Thresholds;
  readonly onThreshold: OnThreshold;
  /** The step's start. */
  readonly now: number;
  readonly report: boolean;
  /** By-id reports: the census of the entries read, one by one. */
  readonly read?: Census;
}

export function lookAt(outcomes: Outcomes, options: LookOptions): Look {
  const census = censusOf(outcomes, options);
  // A listing's census is exact when the listing finished; a by-id report's, when every id was read (found or not
  // found) and the run was not stopped.
  const exact =
    census !== undefined &&
    (options.read !== undefined
      ? outcomes.failed.length === 0 && outcomes.stopped === undefined
      : outcomes.selection?.incomplete !== true &&
        outcomes.selection?.atLeast !== true &&
        outcomes.stopped?.kind !== 'listing-failed');
  const exceeded =
    census !== undefined && exact ? exceededThresholds(options.thresholds, figuresOf(census), options.now) : [];
  return {
    ...(census && { census }),
    exact,
    exceeded,
    onThreshold: options.onThreshold,
    thresholds: options.thresholds,
    report: options.report,
  };
}

/** What the thresholds measure, by the census's rules (what counts as dated). */
function figuresOf(census: CensusResult): Figures {
  return { count: census.count, ...(census.oldestMs !== undefined && { oldestMs: census.oldestMs }) };
}

/**
 * The thresholds these entries exceed, measured exactly as the outputs measure them: the engine's gate asks this
 * before anything changes, so the gate and threshold-exceeded never disagree.
 */
export function exceededBy(
  entries: readonly { readonly createdAt?: number }[],
  thresholds: Thresholds,
  now: number,
): Exceeded[] {
  const census = new Census();
  for (const info of entries) census.add(info, []);
  return exceededThresholds(thresholds, figuresOf(census.result(now)), now);
}

function censusOf(outcomes: Outcomes, options: LookOptions): CensusResult | undefined {
  if (options.read !== undefined) return options.read.result(options.now);
  const selection = outcomes.selection;
  if (selection === undefined) return undefined;
  const census = new Census();
  for (const [id, info] of selection.entries) {
    if (selection.kept?.has(id)) continue;
    census.add(info, selection.groups?.get(id) ?? ['']);
  }
  return census.result(options.now);
}

/** The outputs of what was seen: entries-count, oldest/newest-created-at, groups, threshold-exceeded. */
export function lookOutputs(look: Look | undefined, redact: (text: string) => string): Record<string, string> {
  const census = look?.exact ? look.census : undefined;
  const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString());
  const groups = look?.report && census !== undefined ? groupsJson(census, redact) : undefined;
  return {
    'entries-count': census !== undefined ? String(census.count) : '',
    'oldest-created-at': iso(census?.oldestMs),
    'newest-created-at': iso(census?.newestMs),
    groups: groups?.json ?? '',
    'groups-others': groups !== undefined ? String(groups.others) : '',
    'threshold-exceeded': String((look?.exceeded.length ?? 0) > 0),
  };
}

/** Each threshold set, with its figure and limit, for the summary. */
export function thresholdLines(look: Look): ThresholdLine[] {
  const { thresholds, census, exact } = look;
  const lines: ThresholdLine[] = [];
  const exceeded = new Set(look.exceeded.map((e) => e.input));
  if (thresholds.countAbove !== undefined) {
    lines.push({
      name: Inputs.failIfCountAbove,
      figure: census !== undefined && exact ? `${census.count} entries` : 'not counted',
      limit: thresholds.countAbove,
      exceeded: exceeded.has(Inputs.failIfCountAbove),
    });
  }
  if (thresholds.olderThanMs !== undefined) {
    const oldest = census !== undefined && exact ? census.oldestMs : undefined;
    lines.push({
      name: Inputs.failIfOlderThan,
      figure: oldest !== undefined ? `oldest ${formatAge(census!.now - oldest)} old` : 'no dated entry',
      limit: thresholds.olderThanRaw ?? `${thresholds.olderThanMs} ms`,
      exceeded: exceeded.has(Inputs.failIfOlderThan),
    });
  }
  return lines;
}
