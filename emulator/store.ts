/**
 * What the emulator holds: the entries of both DLQs in insertion order, the log of re-runs, and how a listing or a
 * bulk request by filter picks its page (filters, `count`, cursors). No HTTP here.
 */

import { RunLog } from './runs.ts';

export type DlqKind = 'workflow' | 'qstash';

export interface DlqEntry {
  dlqId: string;
  createdAt: number;
  /**
   * Workflow DLQ only, emulator-specific: `false` makes `resume` answer 400 ("workflow doesn't support resume"),
   * as Upstash does for a run that cannot be resumed. Default: resumable.
   */
  resumable?: boolean;
  /** Workflow DLQ only, emulator-specific: `false` makes `restart` answer 400. Default: restartable. */
  restartable?: boolean;
  [field: string]: unknown;
}

/**
 * How a listing / bulk cursor works. Upstash does not document its cursor.
 * - 'id': the cursor names the last entry returned (its insertion sequence); paging is stable under deletions.
 * - 'position': the cursor is the numeric offset into the current matching list, like an offset-based server:
 *   deleting (or retrying away) entries while paging shifts later pages, so entries get skipped.
 */
export type CursorMode = 'id' | 'position';

/**
 * The order a listing shows entries in (Upstash documents none, and its listing takes no order parameter):
 * - 'insertion' (default): oldest inserted first.
 * - 'newest-first': by createdAt, newest first (ties: the later inserted first).
 * - 'shuffled': an order that looks random but is fixed for a seed (`DlqStore.listSeed`), so that paging works.
 * In 'id' cursor mode the cursor names the last entry's place in the order, so paging stays stable under deletions
 * in every order.
 */
export type ListOrder = 'insertion' | 'newest-first' | 'shuffled';

export type RerunOperation = 'restart' | 'resume' | 'retry' | 'callback';

/** One re-run the emulator performed (recorded even when a fault then drops or hangs the answer). */
export interface RerunRecord {
  dlq: DlqKind;
  operation: RerunOperation;
  dlqId: string;
  /** The new workflow run id / message id. For 'callback', the run's own id (see `callback`). */
  newId: string;
  /** The Upstash-* override headers sent with the request (names lower-cased). */
  headers: Record<string, string>;
  /** Whether it came from a bulk request. */
  bulk: boolean;
  at: number;
}

/** One page of a listing or of a bulk request by filter, and the cursor after it (none on the last page). */
export interface Page {
  entries: DlqEntry[];
  cursor?: string;
}

/** Query parameter -> entry field, per DLQ. Values of one filter are ORed, different filters ANDed. */
const FILTERS: Record<DlqKind, Record<string, string>> = {
  workflow: {
    workflowUrl: 'workflowUrl',
    workflowRunId: 'workflowRunId',
    workflowCreatedAt: 'workflowCreatedAt',
    label: 'label',
    failureFunctionState: 'failureFunctionState',
    // The filter is `callerIp`; the entry's field is `callerIP` (Upstash's OpenAPI documents).
    callerIp: 'callerIP',
    flowControlKey: 'flowControlKey',
  },
  qstash: {
    messageId: 'messageId',
    url: 'url',
    topicName: 'topicName',
    scheduleId: 'scheduleId',
    queueName: 'queueName',
    responseStatus: 'responseStatus',
    label: 'label',
    callerIp: 'callerIP',
    flowControlKey: 'flowControlKey',
  },
};

interface StoredEntry {
  seq: number;
  entry: DlqEntry;
}

export class DlqStore {
  /** Every re-run performed, in order. */
  readonly reruns: RerunRecord[] = [];
  /** The runs restart and resume created, and their outcomes (runs.ts). */
  readonly runs = new RunLog();
  /** The order listings use unless a page is asked for in another; may be changed between requests. */
  listOrder: ListOrder = 'insertion';
  /** The seed of the 'shuffled' order. */
  listSeed = 1;
  private readonly entries: Record<DlqKind, Map<string, StoredEntry>> = { workflow: new Map(), qstash: new Map() };
  private seq = 0;
  private rerunSeq = 0;

  seed(dlq: DlqKind, entries: readonly DlqEntry[]): string[] {
    for (const entry of entries) this.entries[dlq].set(entry.dlqId, { seq: ++this.seq, entry });
    return entries.map((entry) => entry.dlqId);
  }

  has(dlq: DlqKind, id: string): boolean {
    return this.entries[dlq].has(id);
  }

  /** The stored entry (live object), or undefined. */
  get(dlq: DlqKind, id: string): DlqEntry | undefined {
    return this.entries[dlq].get(id)?.entry;
  }

  /** Whether it was there. */
  delete(dlq: DlqKind, id: string): boolean {
    return this.entries[dlq].delete(id);
  }

  ids(dlq: DlqKind): string[] {
    return [...this.entries[dlq].keys()];
  }

  /** A fresh id for a re-run's new workflow run ('wfr') or message ('msg'). */
  newRunId(kind: 'wfr' | 'msg'): string {
    return `${kind}_rerun_${++this.rerunSeq}`;
  }

  /** The next `count` entries matching the query's filters after its `cursor`, read as `mode` says, in `order`. */
  page(dlq: DlqKind, query: URLSearchParams, count: number, mode: CursorMode, order = this.listOrder): Page {
    const wanted = matcher(dlq, query);
    if (mode === 'position') {
      const offset = Math.max(0, Math.floor(Number(query.get('cursor') ?? 0) || 0));
      const all = this.ordered(dlq, order, wanted, undefined);
      const entries = all.slice(offset, offset + count).map(({ entry }) => entry);
      return offset + count < all.length ? { entries, cursor: String(offset + count) } : { entries };
    }
    if (order !== 'insertion') {
      const after = parseRank(query.get('cursor'));
      const rest = this.ordered(dlq, order, wanted, after);
      const entries = rest.slice(0, count);
      const last = entries[entries.length - 1];
      const more = rest.length > count && last !== undefined;
      return more
        ? { entries: entries.map(({ entry }) => entry), cursor: last.rank.join(':') }
        : { entries: entries.map(({ entry }) => entry) };
    }
    const after = Number(query.get('cursor') ?? 0) || 0;
    const entries: DlqEntry[] = [];
    let lastSeq = 0;
    let more = false;
    for (const { seq, entry } of this.entries[dlq].values()) {
      if (seq <= after || !wanted(entry)) continue;
      if (entries.length === count) {
        more = true;
        break;
      }
      entries.push(entry);
      lastSeq = seq;
    }
    return more ? { entries, cursor: String(lastSeq) } : { entries };
  }

  /** The matching entries in `order`, each with its place in it; only those after `after` when given. */
  private ordered(
    dlq: DlqKind,
    order: ListOrder,
    wanted: (entry: DlqEntry) => boolean,
    after: readonly number[] | undefined,
  ): { entry: DlqEntry; rank: number[] }[] {
    const ranked: { entry: DlqEntry; rank: number[] }[] = [];
    for (const { seq, entry } of this.entries[dlq].values()) {
      if (!wanted(entry)) continue;
      const rank = rankOf(order, seq, entry, this.listSeed);
      if (after === undefined || compareRanks(rank, after) > 0) ranked.push({ entry, rank });
    }
    return ranked.sort((a, b) => compareRanks(a.rank, b.rank));
  }
}

/** An entry's place in a listing order: compared element by element, smaller first. */
function rankOf(order: ListOrder, seq: number, entry: DlqEntry, seed: number): number[] {
  if (order === 'newest-first') return [-Number(entry.createdAt), -seq];
  if (order === 'shuffled') return [mix(seq, seed), seq];
  return [seq];
}

/** A fixed 32-bit hash of (seq, seed): the shuffled order. */
function mix(seq: number, seed: number): number {
  let h = Math.imul(seq ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(seed, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A non-insertion 'id' cursor: the last entry's rank, `:`-separated; undefined (from the start) when absent. */
function parseRank(cursor: string | null): number[] | undefined {
  if (cursor === null || cursor === '') return undefined;
  const rank = cursor.split(':').map(Number);
  return rank.every(Number.isFinite) ? rank : undefined;
}

/** `dlqIds`, repeated or comma-separated, empty values dropped. */
export function idsParam(query: URLSearchParams): string[] {
  return listParam(query, 'dlqIds');
}

/** A `count` query value clamped to 1..max, `fallback` when absent or not a number. */
export function pageCount(value: string | null, fallback: number, max: number): number {
  const wanted = Math.floor(Number(value ?? fallback) || fallback);
  return Math.min(max, Math.max(1, wanted));
}

/** The failure callback state: `failureFunctionState`, or `failureCallbackInfo.state` as the SDK types show it. */
export function callbackState(entry: DlqEntry): unknown {
  const info = entry.failureCallbackInfo as { state?: unknown } | undefined;
  return entry.failureFunctionState ?? info?.state;
}

export function setCallbackState(entry: DlqEntry, state: string): void {
  entry.failureFunctionState = state;
  const info = entry.failureCallbackInfo;
  if (info && typeof info === 'object') (info as { state?: string }).state = state;
}

function listParam(query: URLSearchParams, name: string): string[] {
  return query
    .getAll(name)
    .flatMap((value) => value.split(','))
    .filter((value) => value !== '');
}

function matcher(dlq: DlqKind, query: URLSearchParams): (entry: DlqEntry) => boolean {
  const checks: ((entry: DlqEntry) => boolean)[] = [];
  for (const [param, field] of Object.entries(FILTERS[dlq])) {
    const values = listParam(query, param);
    if (values.length > 0) checks.push((entry) => fieldMatches(entry, field, values));
  }
  const from = query.get('fromDate');
  const to = query.get('toDate');
  if (from) checks.push((entry) => entry.createdAt >= Number(from));
  if (to) checks.push((entry) => entry.createdAt <= Number(to));
  return (entry) => checks.every((check) => check(entry));
}

function fieldMatches(entry: DlqEntry, field: string, wanted: readonly string[]): boolean {
  // Entries may carry the deprecated `label`, a `labels` array, or both: the filter matches any of them.
  const values = field === 'label' ? [entry.label, entry.labels] : [entry[field]];
  return values.some((value) => {
    if (Array.isArray(value)) return value.some((item) => wanted.includes(String(item)));
    return value !== undefined && value !== null && wanted.includes(String(value));
  });
}

/** Workflow DLQ entries with ids shaped like Upstash's (`<ms>-<n>`), one second apart, the newest now. */
export function workflowEntries(count: number, fields: Partial<DlqEntry> = {}, now = Date.now()): DlqEntry[] {
  return Array.from({ length: count }, (_, index) => {
    const createdAt = now - (count - index) * 1000;
    return {
      dlqId: `${createdAt}-${index}`,
      createdAt,
      workflowRunId: `wfr_${createdAt.toString(36)}${index}`,
      workflowUrl: 'https://app.example.com/api/workflow',
      workflowCreatedAt: createdAt - 60_000,
      url: 'https://app.example.com/api/workflow',
      method: 'POST',
      responseStatus: 500,
      failureFunctionState: 'CALLBACK_FAIL',
      ...fields,
    };
  });
}

/** QStash message DLQ entries, one second apart, the newest now. */
export function messageEntries(count: number, fields: Partial<DlqEntry> = {}, now = Date.now()): DlqEntry[] {
  return Array.from({ length: count }, (_, index) => {
    const createdAt = now - (count - index) * 1000;
    return {
      dlqId: `${createdAt}-${index}`,
      createdAt,
      messageId: `msg_${createdAt.toString(36)}${index}`,
      url: 'https://api.example.com/webhook',
      method: 'POST',
      responseStatus: 500,
      ...fields,
    };
  });
}
