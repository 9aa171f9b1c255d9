/** What a run is given: its target and its options. */
import type { GroupField } from '../census.js';
import type { AppliedFilter, EntryInfo, Settled } from '../outcomes.js';
import type { ListQuery } from '../qstash/paths.js';

/** What the run acts on. */
export type Target =
  | { readonly kind: 'ids'; readonly ids: readonly string[] }
  | {
      readonly kind: 'query';
      readonly query: ListQuery;
      /** The filters as the user gave them; empty when every entry is selected. */
      readonly filters: readonly AppliedFilter[];
      /** More matches than this: nothing is changed. 0: no cap. */
      readonly cap: number;
      /** The inputs the cap and select-all are given under, for messages (max-entries, select-all). */
      readonly capInput: string;
      readonly allInput: string;
      /** keep-newest: the newest matching entries (of each group) are left out of the selection. */
      readonly keep?: KeepRule;
    };

/** keep-newest / keep-per. */
export interface KeepRule {
  readonly newest: number;
  readonly per?: GroupField;
}

/** Where a filter run writes each selected entry before anything is changed (export). */
export interface RecordSink {
  /** Queues one entry's record; `flush` says when every queued record is written. */
  write(record: Readonly<Record<string, unknown>>): Promise<void>;
  /** Takes entries back out (those keep-newest keeps, which are not selected). */
  drop(ids: ReadonlySet<string>): Promise<void>;
}

export type QueryTarget = Extract<Target, { kind: 'query' }>;

export type Strategy = 'auto' | 'per-id';

export interface EngineOptions {
  readonly concurrency: number;
  /** Explicit ids with an operation that has a bulk form or a dry run: may a listing help (auto)? */
  readonly strategy: Strategy;
  /** Aborting stops new requests (cancellation); in-flight ones finish or time out. */
  readonly signal?: AbortSignal;
  /** Called as each id is settled, in completion order. */
  readonly onSettled?: (id: string, settled: Settled) => void;
  /** Called after each listing page with the pages and entries listed so far. */
  readonly onListed?: (pages: number, entries: number) => void;
  readonly now?: () => number;
  /** `auto` lists only for at least this many ids (default: 20 per concurrency slot). */
  readonly listFromIds?: number;
  /** Most listing pages one run reads (a ceiling against listings that never end). */
  readonly maxListPages?: number;
  /**
   * By-id runs (the export): called with each entry as the server holds it before the entry is changed. An
   * operation that changes reads the entry first (`GET`) and sends the change only once this has resolved: an id
   * whose entry cannot be read, or whose call throws, fails as `unread`, unchanged. A dry run or a report is given
   * its own `GET` answer. Set, it also makes by-id runs go per id (no listing race: every id is read alone).
   */
  readonly readFirst?: (id: string, record: Record<string, unknown>) => Promise<void>;
  /** Filter runs: each selected entry's record is written here before anything is changed. */
  readonly sink?: RecordSink;
  /** Filter runs: an entry's groups (a report's group-by), kept per selected entry for the report. */
  readonly groupsOf?: (record: Readonly<Record<string, unknown>>) => readonly string[];
  /**
   * Filter runs: asked once with the entries the run would act on, before anything is changed (the thresholds). A
   * reason stops the run: nothing is changed (a dry run or a report still shows what was selected).
   */
  readonly gate?: (selected: readonly EntryInfo[]) => string | undefined;
  /** Called once the ids the run acts on are known (for progress lines). */
  readonly onSelected?: (count: number) => void;
  /** Re-runs: the first ids go alone, and the rest only when the canary's check says so (canary.ts). */
  readonly canary?: Canary;
}

/**
 * `canary: N`: the first `size` selected ids (dlq-ids: the input order; a listing: the oldest by createdAt) are sent
 * first, and `check` is asked with their results once every one is settled. A reason holds the rest back: they fail
 * as `canary-failed`, never sent. Undefined lets the rest go.
 */
export interface Canary {
  readonly size: number;
  check(
    canaries: readonly string[],
    results: ReadonlyMap<string, Settled>,
    signal: AbortSignal,
    /** A listing's entries (their createdAt tells an old run's state from a new one's). */
    entries?: ReadonlyMap<string, EntryInfo>,
  ): Promise<string | undefined>;
}
