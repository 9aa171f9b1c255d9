/**
 * Filter inputs -> the DLQ listing query. Each filter belongs to one or both DLQs; values of one filter are ORed,
 * different filters ANDed, exactly as Upstash's list endpoint does.
 */
import type { AppliedFilter } from './outcomes.js';
import type { DlqKind, ListQuery } from './qstash/paths.js';

type FilterKind = 'text' | 'state' | 'status';

interface FilterSpec {
  /** The action input. */
  readonly input: string;
  /** The list endpoint's query parameter. */
  readonly param: string;
  readonly dlqs: readonly DlqKind[];
  readonly kind: FilterKind;
}

export const FAILURE_FUNCTION_STATES = [
  'CALLBACK_INPROGRESS',
  'CALLBACK_SUCCESS',
  'CALLBACK_FAIL',
  'CALLBACK_CANCELED',
];

export const FILTERS: readonly FilterSpec[] = [
  { input: 'workflow-url', param: 'workflowUrl', dlqs: ['workflow'], kind: 'text' },
  { input: 'workflow-run-id', param: 'workflowRunId', dlqs: ['workflow'], kind: 'text' },
  { input: 'failure-function-state', param: 'failureFunctionState', dlqs: ['workflow'], kind: 'state' },
  { input: 'url', param: 'url', dlqs: ['qstash'], kind: 'text' },
  { input: 'url-group', param: 'topicName', dlqs: ['qstash'], kind: 'text' },
  { input: 'queue-name', param: 'queueName', dlqs: ['qstash'], kind: 'text' },
  { input: 'schedule-id', param: 'scheduleId', dlqs: ['qstash'], kind: 'text' },
  { input: 'response-status', param: 'responseStatus', dlqs: ['qstash'], kind: 'status' },
  { input: 'label', param: 'label', dlqs: ['workflow', 'qstash'], kind: 'text' },
  { input: 'caller-ip', param: 'callerIp', dlqs: ['workflow', 'qstash'], kind: 'text' },
  { input: 'flow-control-key', param: 'flowControlKey', dlqs: ['workflow', 'qstash'], kind: 'text' },
];

/** Date inputs, for both DLQs. */
export const DATE_INPUTS = { from: 'from-date', to: 'to-date', olderThan: 'older-than' } as const;

export const FILTER_INPUTS: readonly string[] = [...FILTERS.map((f) => f.input), ...Object.values(DATE_INPUTS)];

export function filterInputsFor(dlq: DlqKind): string[] {
  return [...FILTERS.filter((f) => f.dlqs.includes(dlq)).map((f) => f.input), ...Object.values(DATE_INPUTS)];
}

export class FilterError extends Error {
  override name = 'FilterError';
}

export interface FilterSelection {
  readonly query: ListQuery;
  readonly applied: readonly AppliedFilter[];
}

/** Splits a multi-valued input on newlines and commas. */
export function splitValues(raw: string): string[] {
  return raw
    .split(/[\n,]/u)
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

const DURATION_UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90m`, `12h`, `7d`, `2w` -> milliseconds. */
export function parseDuration(input: string, raw: string): number {
  const match = /^(\d+)\s*([mhdw])$/iu.exec(raw.trim());
  const amount = match ? Number(match[1]) : Number.NaN;
  if (!match || !(amount > 0)) {
    throw new FilterError(
      `${input}: ${JSON.stringify(raw)} is not a duration. Accepted: a whole number and a unit, m (minutes), h (hours), d (days) or w (weeks), such as 90m, 12h, 7d, 2w.`,
    );
  }
  const ms = amount * DURATION_UNITS[match[2]!.toLowerCase()]!;
  if (!(ms <= MAX_DURATION_MS)) {
    throw new FilterError(
      `${input}: ${JSON.stringify(raw)} reaches back before the calendar begins. Accepted: a duration up to 100000 weeks, such as 90m, 12h, 7d, 2w.`,
    );
  }
  return ms;
}

/** JavaScript dates end 8.64e15 ms either side of 1970; nothing a DLQ holds is near that. */
const MAX_DATE_MS = 8.64e15;
const MAX_DURATION_MS = 100_000 * 604_800_000;

/** ISO 8601 or Unix milliseconds -> Unix milliseconds. */
export function parseDate(input: string, raw: string): number {
  const value = raw.trim();
  const accepted = 'Accepted: ISO 8601 (2026-11-20 or 2026-11-20T08:00:00Z) or Unix milliseconds (1763625600000).';
  if (/^\d+$/u.test(value)) {
    const ms = Number(value);
    if (ms < 1e11) {
      throw new FilterError(`${input}: ${JSON.stringify(raw)} looks like Unix seconds; give milliseconds. ${accepted}`);
    }
    if (!(ms <= MAX_DATE_MS)) {
      throw new FilterError(
        `${input}: ${JSON.stringify(raw)} is beyond the calendar (after the year 275760). ${accepted}`,
      );
    }
    return ms;
  }
  const day = /^(\d{4})-(\d{2})-(\d{2})/u.exec(value);
  // Date.parse rolls 2026-02-30 over into March: a day the month does not have is refused, not moved.
  const real =
    day !== null &&
    Number(day[3]) >= 1 &&
    Number(day[3]) <= new Date(Date.UTC(Number(day[1]), Number(day[2]), 0)).getUTCDate();
  const parsed = day !== null && real && Number(day[2]) >= 1 && Number(day[2]) <= 12 ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) throw new FilterError(`${input}: ${JSON.stringify(raw)} is not a date. ${accepted}`);
  return parsed;
}

const DLQ_NAME: Readonly<Record<DlqKind, string>> = { workflow: 'the Workflow DLQ', qstash: 'the QStash message DLQ' };

/**
 * Reads every filter input. Throws a FilterError listing each problem: unknown values, filters of the other DLQ,
 * dates that do not parse or select nothing.
 */
export function readFilters(dlq: DlqKind, input: (name: string) => string, now: number): FilterSelection {
  const problems: string[] = [];
  const query: [string, string[]][] = [];
  const applied: AppliedFilter[] = [];

  for (const spec of FILTERS) {
    const values = splitValues(input(spec.input));
    if (values.length === 0) continue;
    if (!spec.dlqs.includes(dlq)) {
      const other = spec.dlqs[0]!;
      problems.push(
        `${spec.input}: is a filter of ${DLQ_NAME[other]} (dlq: ${other}), but dlq is ${dlq}. Filters for dlq: ${dlq}: ${filterInputsFor(dlq).join(', ')}.`,
      );
      continue;
    }
    let normalized = values;
    if (spec.kind === 'state') {
      normalized = values.map((value) => value.toUpperCase());
      const bad = normalized.filter((value) => !FAILURE_FUNCTION_STATES.includes(value));
      if (bad.length > 0) {
        problems.push(
          `${spec.input}: ${bad.map((v) => JSON.stringify(v)).join(', ')} not accepted. Accepted: ${FAILURE_FUNCTION_STATES.join(', ')}.`,
        );
        continue;
      }
    }
    if (spec.kind === 'status') {
      const bad = values.filter((value) => !/^[1-5]\d\d$/u.test(value));
      if (bad.length > 0) {
        problems.push(
          `${spec.input}: ${bad.map((v) => JSON.stringify(v)).join(', ')} not accepted. Accepted: HTTP status codes from 100 to 599, such as 500, 502.`,
        );
        continue;
      }
    }
    query.push([spec.param, normalized]);
    applied.push({ input: spec.input, values: normalized });
  }

  let from: number | undefined;
  let to: number | undefined;
  const attempt = (read: () => void): void => {
    try {
      read();
    } catch (error) {
      if (!(error instanceof FilterError)) throw error;
      problems.push(error.message);
    }
  };
  const fromRaw = input(DATE_INPUTS.from).trim();
  const toRaw = input(DATE_INPUTS.to).trim();
  const olderRaw = input(DATE_INPUTS.olderThan).trim();
  if (fromRaw) attempt(() => (from = parseDate(DATE_INPUTS.from, fromRaw)));
  if (toRaw) attempt(() => (to = parseDate(DATE_INPUTS.to, toRaw)));
  if (olderRaw) {
    attempt(() => {
      // "Created before now minus that": the newest time allowed, ANDed with to-date.
      const cutoff = now - parseDuration(DATE_INPUTS.olderThan, olderRaw) - 1;
      to = to === undefined ? cutoff : Math.min(to, cutoff);
    });
  }
  if (from !== undefined && to !== undefined && from > to) {
    problems.push(
      `${DATE_INPUTS.from} (${new Date(from).toISOString()}) is after the newest time allowed by ${[toRaw && DATE_INPUTS.to, olderRaw && DATE_INPUTS.olderThan].filter(Boolean).join(' and ')} (${new Date(to).toISOString()}): nothing could match.`,
    );
  }
  if (problems.length > 0) throw new FilterError(problems.join('\n- '));

  if (fromRaw) applied.push({ input: DATE_INPUTS.from, values: [`${fromRaw} (${new Date(from!).toISOString()})`] });
  if (toRaw)
    applied.push({
      input: DATE_INPUTS.to,
      values: [`${toRaw} (${new Date(parseDate(DATE_INPUTS.to, toRaw)).toISOString()})`],
    });
  if (olderRaw)
    applied.push({
      input: DATE_INPUTS.olderThan,
      values: [
        `${olderRaw} (created before ${new Date(now - parseDuration(DATE_INPUTS.olderThan, olderRaw)).toISOString()})`,
      ],
    });
  if (from !== undefined) query.push(['fromDate', [String(from)]]);
  if (to !== undefined) query.push(['toDate', [String(to)]]);
  return { query, applied };
}
