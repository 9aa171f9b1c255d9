/**
 * What a DLQ holds, counted: the `group-by` fields and the entry fields behind them, the census of a listing (count,
 * oldest and newest, ages, arrivals per day, groups), the `groups` output, and the keep-newest rule. Pure: no I/O,
 * no requests, no Actions; every structure it keeps is bounded whatever the server sends.
 */
import { createHash } from 'node:crypto';
import type { EntryInfo } from './outcomes.js';
import { ownCopy } from './qstash/listing.js';
import type { DlqKind } from './qstash/paths.js';

export type GroupField =
  | 'workflow-url'
  | 'url'
  | 'label'
  | 'response-status'
  | 'failure-function-state'
  | 'flow-control-key'
  | 'caller-ip'
  | 'url-group'
  | 'queue-name';

/** The `group-by` (and `keep-per`) fields of each DLQ, the default first. */
export const GROUP_FIELDS: Readonly<Record<DlqKind, readonly GroupField[]>> = {
  workflow: [
    'workflow-url',
    'url',
    'label',
    'response-status',
    'failure-function-state',
    'flow-control-key',
    'caller-ip',
  ],
  qstash: ['url', 'label', 'response-status', 'flow-control-key', 'url-group', 'queue-name', 'caller-ip'],
};

export function defaultGroupField(dlq: DlqKind): GroupField {
  return GROUP_FIELDS[dlq][0]!;
}

export function isGroupField(dlq: DlqKind, name: string): name is GroupField {
  return (GROUP_FIELDS[dlq] as readonly string[]).includes(name);
}

/** The accepted fields of a DLQ, for a refusal: "workflow-url (the default), url, label, …". */
export function acceptedGroupFields(dlq: DlqKind): string {
  return GROUP_FIELDS[dlq].map((field, i) => (i === 0 ? `${field} (the default)` : field)).join(', ');
}

/** The longest group value kept, `…` included: a longer one is cut, so that a group key costs a bounded amount. */
export const MAX_GROUP_VALUE_LENGTH = 128;

/**
 * The raw values behind each field, as the published specs name them. Either spelling of a renamed field is read
 * (`labels` and the deprecated `label`, `callerIP` and `callerIp`): entries of either age may be listed.
 */
const FIELD_VALUES: Readonly<Record<GroupField, (record: Record<string, unknown>) => readonly unknown[]>> = {
  'workflow-url': (r) => [r.workflowUrl],
  url: (r) => [r.url],
  label: (r) => [...(Array.isArray(r.labels) ? (r.labels as unknown[]) : []), r.label],
  'response-status': (r) => [r.responseStatus],
  'failure-function-state': (r) => [r.failureFunctionState ?? callbackState(r.failureCallbackInfo)],
  'flow-control-key': (r) => [r.flowControlKey],
  'caller-ip': (r) => [r.callerIP ?? r.callerIp],
  'url-group': (r) => [r.topicName],
  'queue-name': (r) => [r.queueName],
};

function callbackState(info: unknown): unknown {
  return info !== null && typeof info === 'object' ? (info as { state?: unknown }).state : undefined;
}

/** A value as a group key: strings as they are, finite numbers in decimal; anything else is no value. */
function asKey(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * A key of at most MAX_GROUP_VALUE_LENGTH characters. Secrets are removed before the cut, so that a cut cannot
 * leave part of a token that a later redaction would no longer recognise.
 */
export function cutGroupValue(value: string, redact: (text: string) => string = (t) => t): string {
  if (value.length <= MAX_GROUP_VALUE_LENGTH) return value;
  const clean = redact(value);
  if (clean.length <= MAX_GROUP_VALUE_LENGTH) return ownCopy(clean);
  return ownCopy(`${clean.slice(0, MAX_GROUP_VALUE_LENGTH - 1)}…`);
}

/**
 * An entry's values for a field: `['']` when it has none (absent, empty, or neither a string nor a number), each
 * label once (an entry with several labels counts under each), each value cut to MAX_GROUP_VALUE_LENGTH.
 * `redact`, when given, is applied to values long enough to be cut, before the cut.
 */
export function groupValues(
  dlq: DlqKind,
  field: GroupField,
  record: Record<string, unknown>,
  redact?: (text: string) => string,
): string[] {
  if (!isGroupField(dlq, field)) return [''];
  const values = new Set<string>();
  for (const raw of FIELD_VALUES[field](record)) {
    const key = asKey(raw);
    if (key !== undefined) values.add(cutGroupValue(key, redact));
  }
  return values.size === 0 ? [''] : [...values];
}

/**
 * An entry's keep-per keys: as groupValues, but two values that differ anywhere are never one group. A value longer
 * than MAX_GROUP_VALUE_LENGTH is held as a digest of the whole of it (never shown), so that two long URLs sharing
 * their first 127 characters keep their newest entries apart, at a bounded cost per entry. At most
 * MAX_KEYS_PER_ENTRY keys (labels) per entry are held: an entry with more counts for keep-per in its first 32.
 */
export function groupKeys(dlq: DlqKind, field: GroupField, record: Record<string, unknown>): string[] {
  if (!isGroupField(dlq, field)) return [''];
  const keys = new Set<string>();
  for (const raw of FIELD_VALUES[field](record)) {
    const key = asKey(raw);
    if (key === undefined) continue;
    keys.add(
      key.length <= MAX_GROUP_VALUE_LENGTH ? ownCopy(key) : `#${createHash('sha256').update(key).digest('base64')}`,
    );
  }
  return keys.size === 0 ? [''] : [...keys].slice(0, MAX_KEYS_PER_ENTRY);
}

/** The most keep-per keys held for one entry (see groupKeys). */
export const MAX_KEYS_PER_ENTRY = 32;

/** The most distinct group values a census tracks; a value first seen past them counts under "others". */
export const MAX_GROUP_VALUES = 10_000;

/** Days of the arrivals chart: the 30 UTC days ending with the newest entry's; earlier arrivals are summed. */
export const ARRIVAL_DAYS = 30;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The age buckets, youngest first: an entry falls in the first whose bound its age is under. */
export const AGE_BUCKETS = [
  { name: 'hour', label: '< 1 h', belowMs: HOUR_MS },
  { name: 'day', label: '< 1 d', belowMs: DAY_MS },
  { name: 'week', label: '< 7 d', belowMs: 7 * DAY_MS },
  { name: 'older', label: 'older', belowMs: Infinity },
] as const;

export type AgeBucket = (typeof AGE_BUCKETS)[number]['name'];

/** The range of a JavaScript Date: a createdAt outside it has no date to show, so it counts as undated. */
const MAX_DATE_MS = 8.64e15;

/** One UTC day's arrivals, `day` as `YYYY-MM-DD`. */
export interface DayCount {
  readonly day: string;
  readonly count: number;
}

export interface CensusResult {
  /** Entries counted. */
  readonly count: number;
  /** Entries counted without a (usable) createdAt: in `count`, in no age bucket, in no day. */
  readonly undated: number;
  readonly oldestMs?: number;
  readonly newestMs?: number;
  /** The "now" the ages were measured from. */
  readonly now: number;
  /** Dated entries by age (now - createdAt); a createdAt in the future counts as `hour`. */
  readonly ages: Readonly<Record<AgeBucket, number>>;
  /** Arrivals per UTC day by createdAt, oldest first, zero days included, at most ARRIVAL_DAYS of them. */
  readonly arrivals: readonly DayCount[];
  /** Dated entries created before the first day of `arrivals`. */
  readonly arrivalsBefore: number;
  /** Each group value's count; an entry with several labels counts under each. */
  readonly groups: ReadonlyMap<string, number>;
  /** Counts of values first seen once MAX_GROUP_VALUES were tracked. */
  readonly others: number;
  /** Whether the distinct-value bound was hit (then `others` holds what did not fit). */
  readonly groupsBounded: boolean;
}

/**
 * Counts a listing's entries. The caller adds each entry once (it dedupes by dlqId). Keeps the group counts
 * (bounded), and 8 bytes per dated entry: the ages are measured at `result(now)`, so each createdAt is kept.
 */
export class Census {
  private count = 0;
  private undated = 0;
  private dates = new Float64Array(1024);
  private dated = 0;
  private oldest = Infinity;
  private newest = -Infinity;
  private readonly groups = new Map<string, number>();
  private others = 0;
  private bounded = false;

  add(info: Pick<EntryInfo, 'createdAt'>, groups: readonly string[]): void {
    this.count += 1;
    this.addDate(info.createdAt);
    if (groups.length === 1) this.addGroup(cutGroupValue(groups[0]!));
    else for (const value of new Set(groups.map((g) => cutGroupValue(g)))) this.addGroup(value);
  }

  private addDate(createdAt: number | undefined): void {
    if (createdAt === undefined || !Number.isFinite(createdAt) || Math.abs(createdAt) > MAX_DATE_MS) {
      this.undated += 1;
      return;
    }
    if (this.dated === this.dates.length) {
      const grown = new Float64Array(this.dates.length * 2);
      grown.set(this.dates);
      this.dates = grown;
    }
    this.dates[this.dated++] = createdAt;
    if (createdAt < this.oldest) this.oldest = createdAt;
    if (createdAt > this.newest) this.newest = createdAt;
  }

  private addGroup(value: string): void {
    const seen = this.groups.get(value);
    if (seen !== undefined) this.groups.set(value, seen + 1);
    else if (this.groups.size < MAX_GROUP_VALUES) this.groups.set(value, 1);
    else {
      this.others += 1;
      this.bounded = true;
    }
  }

  result(now: number): CensusResult {
    const ages: Record<AgeBucket, number> = { hour: 0, day: 0, week: 0, older: 0 };
    const lastDay = this.dated === 0 ? 0 : Math.floor(this.newest / DAY_MS);
    const firstDay = this.dated === 0 ? 0 : Math.max(Math.floor(this.oldest / DAY_MS), lastDay - ARRIVAL_DAYS + 1);
    const perDay = new Array<number>(this.dated === 0 ? 0 : lastDay - firstDay + 1).fill(0);
    let arrivalsBefore = 0;
    for (let i = 0; i < this.dated; i += 1) {
      const createdAt = this.dates[i]!;
      const age = now - createdAt;
      ages[AGE_BUCKETS.find((bucket) => age < bucket.belowMs)!.name] += 1;
      const day = Math.floor(createdAt / DAY_MS);
      if (day < firstDay) arrivalsBefore += 1;
      else perDay[day - firstDay]! += 1;
    }
    return {
      count: this.count,
      undated: this.undated,
      ...(this.dated > 0 && { oldestMs: this.oldest, newestMs: this.newest }),
      now,
      ages,
      arrivals: perDay.map((count, i) => ({ day: utcDay((firstDay + i) * DAY_MS), count })),
      arrivalsBefore,
      groups: new Map(this.groups),
      others: this.others,
      groupsBounded: this.bounded,
    };
  }
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Values ordered for showing: the largest count first, ties by value (code unit order, the same on every machine). */
function byCountThenValue(a: readonly [string, number], b: readonly [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

export interface TopGroups {
  /** The largest groups, largest first. */
  readonly top: readonly (readonly [value: string, count: number])[];
  /** The sum of every count not in `top`, the census's own "others" included. */
  readonly rest: number;
}

/** The `limit` largest groups (ties by value) and the sum of the rest. */
export function topGroups(groups: ReadonlyMap<string, number>, limit: number, others = 0): TopGroups {
  const sorted = [...groups].sort(byCountThenValue);
  const top = sorted.slice(0, Math.max(0, limit));
  const rest = sorted.slice(top.length).reduce((sum, [, count]) => sum + count, others);
  return { top, rest };
}

/** The groups with secrets removed from their values; values that become equal are summed. */
export function redactedGroups(
  groups: ReadonlyMap<string, number>,
  redact: (text: string) => string,
): Map<string, number> {
  const merged = new Map<string, number>();
  for (const [value, count] of groups) {
    const clean = redact(value);
    merged.set(clean, (merged.get(clean) ?? 0) + count);
  }
  return merged;
}

/** The most keys of the `groups` output: the largest groups; what is left out is counted apart. */
export const GROUPS_OUTPUT_LIMIT = 100;

/**
 * The `groups` output: a JSON object text from each value (redacted) to its count, the largest `limit` groups,
 * largest first; `others` is the sum of what was left out. Written as text so that any value (`__proto__`,
 * `constructor`, `500`) is an ordinary key, and the order stays largest first.
 */
export function groupsJson(
  result: Pick<CensusResult, 'groups' | 'others'>,
  redact: (text: string) => string,
  limit = GROUPS_OUTPUT_LIMIT,
): { json: string; others: number } {
  const { top, rest } = topGroups(redactedGroups(result.groups, redact), limit, result.others);
  const json = `{${top.map(([value, count]) => `${JSON.stringify(value)}:${count}`).join(',')}}`;
  return { json, others: rest };
}

/** What the keep-newest rule needs of an entry. */
export interface KeepCandidate {
  readonly dlqId: string;
  readonly createdAt?: number;
  /** The entry's group (or groups) under `keep-per`; without it (and without keyOf) every entry is in one group. */
  readonly key?: string | readonly string[];
}

/**
 * Which of two dlqIds counts as newer when their createdAt is the same: ids are compared with digit runs read as
 * numbers (Upstash's ids are stream ids, `<ms>-<seq>`, which grow: `1752829295505-10` is newer than
 * `1752829295505-9`, and `1752829295506-0` newer than both), a digit run before any other character; ids that read
 * the same (`07` and `7`) as plain strings. A total order on any ids. Positive when `a` is newer.
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  return byCodeUnits(idOrderKey(a), idOrderKey(b));
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A string whose plain order is compareIds' order: each digit run as \u0001, its length (leading zeros dropped) and
 * its digits; each other character as \u0002 and itself; then \u0000 and the id, for ids that read the same.
 * Computed once per compared entry, so that a heap's many comparisons are native string comparisons.
 */
export function idOrderKey(id: string): string {
  let key = '';
  let i = 0;
  while (i < id.length) {
    const code = id.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      let end = i;
      while (end < id.length && isDigit(id.charCodeAt(end))) end += 1;
      let start = i;
      while (start < end - 1 && id.charCodeAt(start) === 48) start += 1;
      key += `\u0001${String.fromCharCode(Math.min(end - start, 0xffff))}${id.slice(start, end)}`;
      i = end;
    } else {
      key += `\u0002${id[i]}`;
      i += 1;
    }
  }
  return `${key}\u0000${id}`;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** An entry in a heap: its dlqId's order key is computed at its first createdAt tie, then kept. */
interface HeapItem {
  readonly createdAt: number;
  readonly dlqId: string;
  orderKey?: string;
}

/** Positive when `a` is newer: by createdAt, then by dlqId (compareIds). */
function compareNewer(a: HeapItem, b: HeapItem): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  a.orderKey ??= idOrderKey(a.dlqId);
  b.orderKey ??= idOrderKey(b.dlqId);
  return byCodeUnits(a.orderKey, b.orderKey);
}

/** The n newest entries seen, as a min-heap by newness: the root is the oldest kept, the first to give way. */
class NewestHeap {
  private readonly items: HeapItem[] = [];
  private readonly n: number;

  constructor(n: number) {
    this.n = n;
  }

  offer(entry: HeapItem): void {
    const items = this.items;
    if (items.length < this.n) {
      items.push(entry);
      this.up(items.length - 1);
    } else if (this.n > 0 && compareNewer(entry, items[0]!) > 0) {
      items[0] = entry;
      this.down(0);
    }
  }

  ids(): string[] {
    return this.items.map((entry) => entry.dlqId);
  }

  private up(at: number): void {
    const items = this.items;
    const item = items[at]!;
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareNewer(item, items[parent]!) >= 0) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  private down(at: number): void {
    const items = this.items;
    const item = items[at]!;
    const size = items.length;
    let i = at;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && compareNewer(items[right]!, items[left]!) < 0 ? right : left;
      if (compareNewer(items[child]!, item) >= 0) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = item;
  }
}

/**
 * The dlqIds `keep-newest` keeps: in each group (keyOf, else the entry's `key`, else one group of all), the `n`
 * newest by createdAt, ties going to the newer dlqId (compareIds); entries without createdAt are all kept, on top
 * of the n. An entry in several groups (several labels) is kept when it is among the n newest of any of them:
 * keeping is the side that cannot lose data. One bounded heap per group: O(total log n) time, O(kept) memory.
 */
export function keepNewest(
  entries: Iterable<KeepCandidate>,
  n: number,
  keyOf?: (entry: KeepCandidate) => string | readonly string[],
): Set<string> {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`keepNewest: n must be a whole number >= 0, not ${n}`);
  const kept = new Set<string>();
  const heaps = new Map<string, NewestHeap>();
  const offer = (group: string, item: HeapItem): void => {
    let heap = heaps.get(group);
    if (heap === undefined) heaps.set(group, (heap = new NewestHeap(n)));
    heap.offer(item);
  };
  for (const entry of entries) {
    const createdAt = entry.createdAt;
    if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) {
      kept.add(entry.dlqId);
      continue;
    }
    const item: HeapItem = { createdAt, dlqId: entry.dlqId };
    const key = keyOf ? keyOf(entry) : (entry.key ?? '');
    if (typeof key === 'string') offer(key, item);
    else for (const group of new Set(key.length === 0 ? [''] : key)) offer(group, item);
  }
  for (const heap of heaps.values()) for (const id of heap.ids()) kept.add(id);
  return kept;
}
