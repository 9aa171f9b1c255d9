/**
 * The census as the step summary shows it: totals, oldest and newest with their age, the largest groups, the age
 * buckets, the filters, kept counts, thresholds, and a chart of arrivals per day. Pure: the caller writes it.
 * Every value from the DLQ or the inputs is redacted first, then escaped, so no value can break the Markdown.
 */
import {
  AGE_BUCKETS,
  DAY_MS,
  HOUR_MS,
  MAX_GROUP_VALUES,
  redactedGroups,
  topGroups,
  type CensusResult,
} from './census.js';
import { escapeCell } from './text.js';

/** Rows of the groups table; the rest are summed in one "others" row. */
export const SUMMARY_GROUP_ROWS = 20;

/** The longest value shown in a cell (after redaction): a filter value may be long, a summary line should not be. */
const MAX_SHOWN = 128;

export interface ThresholdLine {
  /** The input: `fail-if-count-above`, `fail-if-older-than`. */
  readonly name: string;
  /** What was measured and the limit, as the message shows them (`612 entries`, `3 d 4 h`). */
  readonly figure: string | number;
  readonly limit: string | number;
  readonly exceeded: boolean;
}

export interface CensusMarkdownOptions {
  /** Removes secrets from raw text; applied before any escaping or cut. */
  readonly redact: (text: string) => string;
  /** The `group-by` field the groups are counted by. */
  readonly groupBy: string;
  /** The filters used: empty or absent for the whole DLQ. */
  readonly filters?: readonly { readonly input: string; readonly values: readonly string[] }[];
  /** keep-newest: what the rule kept and what the run acts on; `per` names the keep-per field. */
  readonly kept?: { readonly kept: number; readonly actedOn: number; readonly n?: number; readonly per?: string };
  readonly thresholds?: readonly ThresholdLine[];
  /** The section's heading; `### What the DLQ holds` when absent. */
  readonly heading?: string;
}

/**
 * A duration in its two largest units, for people: `3 d 4 h`, `5 h 2 min`, `4 min 10 s`, `12 s`, `< 1 s`.
 * Negative durations are shown by their size; the caller says which way they point.
 */
export function formatAge(ms: number): string {
  const size = Math.abs(ms);
  if (!Number.isFinite(size)) return 'unknown';
  if (size < 1000) return '< 1 s';
  const units = [
    { unit: 'd', ms: DAY_MS },
    { unit: 'h', ms: HOUR_MS },
    { unit: 'min', ms: 60_000 },
    { unit: 's', ms: 1000 },
  ];
  const first = units.findIndex((u) => size >= u.ms);
  const parts: string[] = [];
  let left = size;
  for (const u of units.slice(first, first + 2)) {
    const whole = Math.floor(left / u.ms);
    left -= whole * u.ms;
    if (whole > 0 || parts.length === 0) parts.push(`${whole} ${u.unit}`);
  }
  return parts.join(' ');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `2026-11-30T10:00:00.000Z (3 d 4 h ago)`, or `(in 2 h: a createdAt in the future)`. */
function dated(ms: number, now: number): string {
  const age = now - ms;
  return age >= 0
    ? `${iso(ms)} (${formatAge(age)} ago)`
    : `${iso(ms)} (${formatAge(age)} from now: a createdAt in the future)`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function censusMarkdown(result: CensusResult, opts: CensusMarkdownOptions): string {
  const show = (text: string): string => {
    const clean = opts.redact(text);
    return escapeCell(clean.length > MAX_SHOWN ? `${clean.slice(0, MAX_SHOWN - 1)}…` : clean);
  };
  const lines: string[] = [opts.heading ?? '### What the DLQ holds', ''];
  lines.push(...totals(result));
  lines.push(`- ${filtersLine(opts.filters, show)}`);
  lines.push(`- Grouped by: \`${show(opts.groupBy)}\``);
  if (opts.kept !== undefined) lines.push(`- ${keptLine(opts.kept, show)}`);
  for (const threshold of opts.thresholds ?? []) lines.push(`- ${thresholdLine(threshold, show)}`);
  lines.push('', ...groupsTable(result, opts, show), '', ...agesTable(result));
  const chart = arrivalsChart(result);
  if (chart.length > 0) lines.push('', ...chart);
  return `${lines.join('\n')}\n`;
}

function totals(result: CensusResult): string[] {
  const lines = [`- Entries: **${result.count}**`];
  if (result.undated > 0) {
    lines.push(`- Without createdAt: ${result.undated} (counted, but in no age bucket and no day)`);
  }
  if (result.oldestMs !== undefined && result.newestMs !== undefined) {
    lines.push(`- Oldest: ${dated(result.oldestMs, result.now)}`, `- Newest: ${dated(result.newestMs, result.now)}`);
    lines.push(
      `- Ages are measured from ${iso(result.now)} by createdAt, the message's creation time (the API gives no time of failure).`,
    );
  }
  return lines;
}

function filtersLine(filters: CensusMarkdownOptions['filters'], show: (text: string) => string): string {
  if (filters === undefined || filters.length === 0) return 'Filters: none: the whole DLQ';
  return `Filters: ${filters.map((f) => `\`${show(f.input)}\` = ${f.values.map(show).join(' or ')}`).join('; ')}`;
}

function keptLine(kept: NonNullable<CensusMarkdownOptions['kept']>, show: (text: string) => string): string {
  const rule = kept.n === undefined ? 'keep-newest' : `keep-newest ${kept.n}`;
  const per = kept.per === undefined ? '' : ` per \`${show(kept.per)}\``;
  return `Kept (${rule}${per}): ${plural(kept.kept, 'entry', 'entries')} left out of the selection; acted on: ${kept.actedOn}`;
}

function thresholdLine(threshold: ThresholdLine, show: (text: string) => string): string {
  const mark = threshold.exceeded ? '❌ exceeded' : '✅ within';
  return `\`${show(threshold.name)}\`: ${mark}: ${show(String(threshold.figure))} (limit ${show(String(threshold.limit))})`;
}

function groupsTable(result: CensusResult, opts: CensusMarkdownOptions, show: (text: string) => string): string[] {
  const { top, rest } = topGroups(redactedGroups(result.groups, opts.redact), SUMMARY_GROUP_ROWS, result.others);
  if (top.length === 0 && rest === 0) return [`No entries to group by \`${show(opts.groupBy)}\`.`];
  const lines = [`| ${show(opts.groupBy)} | entries |`, '|---|---:|'];
  // Values are redacted already: show() redacts again, harmlessly, and escapes.
  for (const [value, count] of top) lines.push(`| ${value === '' ? '*(no value)*' : show(value)} | ${count} |`);
  if (rest > 0) lines.push(`| *others* | ${rest} |`);
  if (result.groupsBounded) {
    lines.push(
      '',
      `More than ${MAX_GROUP_VALUES} distinct values: values first seen after that are counted under others.`,
    );
  }
  return lines;
}

function agesTable(result: CensusResult): string[] {
  const lines = ['| age | entries |', '|---|---:|'];
  for (const bucket of AGE_BUCKETS) lines.push(`| ${bucket.label} | ${result.ages[bucket.name]} |`);
  if (result.undated > 0) lines.push(`| no createdAt | ${result.undated} |`);
  return lines;
}

/**
 * A mermaid bar chart of arrivals per UTC day (GitHub renders mermaid in step summaries), when there are at least
 * two days to compare. Its labels are dates this code made, never DLQ data.
 */
function arrivalsChart(result: CensusResult): string[] {
  const days = result.arrivals;
  if (days.length < 2) return [];
  const first = days[0]!.day;
  const last = days[days.length - 1]!.day;
  const lines = [
    '```mermaid',
    'xychart-beta',
    `    title "Arrivals per day by createdAt (UTC, ${first} to ${last})"`,
    `    x-axis [${days.map((d) => `"${d.day.slice(5)}"`).join(', ')}]`,
    '    y-axis "entries"',
    `    bar [${days.map((d) => d.count).join(', ')}]`,
    '```',
  ];
  if (result.arrivalsBefore > 0) {
    lines.push(
      '',
      `${plural(result.arrivalsBefore, 'entry', 'entries')} created before ${first} are not in the chart.`,
    );
  }
  return lines;
}
