/**
 * The plan/execute core: ids or a filtered listing in, one outcome per id out. Pure given a client: no inputs, no
 * Actions, no printing.
 */
import type { AppliedFilter } from './filters.js';
import type { CallFailure, DlqClient, EntryResult } from './qstash/client.js';
import { PAGE_SIZE, type ListQuery } from './qstash/paths.js';

export interface FailedId {
  readonly id: string;
  readonly reason: string;
}

/** What people recognise an entry by, kept from the listing for the summary. */
export interface EntryInfo {
  readonly dlqId: string;
  readonly url?: string;
  readonly runOrMessageId?: string;
  readonly createdAt?: number;
  readonly responseStatus?: number;
}

export interface SelectionReport {
  /** The filters used, or 'all' for delete-all. */
  readonly filters: readonly AppliedFilter[] | 'all';
  /** Entries the listing matched. */
  readonly matched: number;
  readonly entries: ReadonlyMap<string, EntryInfo>;
  /** Set when more entries matched than max-deletes allows: nothing was deleted. */
  readonly capExceeded?: { readonly matched: number; readonly cap: number };
  /** Set when the listing could not be completed: nothing was deleted. */
  readonly listingFailed?: string;
  /** Deletions the server counted in bulk calls that could not be pinned to an id (see reconcileBatch). */
  readonly unattributedDeletions: number;
}

export interface Outcomes {
  readonly dryRun: boolean;
  /** Ids the server confirmed deleted (including the lost-response rule), in selection order. Empty in a dry run. */
  readonly removed: readonly string[];
  /** Of `removed`: those counted by the lost-response rule (404 on a retry after an unanswered attempt). */
  readonly removedAfterLostResponse: readonly string[];
  /** Dry run: ids that exist and would be removed. Empty otherwise. */
  readonly wouldRemove: readonly string[];
  readonly notFound: readonly string[];
  readonly failed: readonly FailedId[];
  /** Filter and delete-all runs: what the listing matched. */
  readonly selection?: SelectionReport;
  /** Set when the server refused the token: the run stopped sending. */
  readonly tokenRefused?: string;
  /** Set when the run was cancelled before every id was settled. */
  readonly cancelled?: string;
  /** Set when the server stopped answering and the run stopped sending: why, naming the host. */
  readonly unreachable?: string;
  readonly requests: number;
  readonly elapsedMs: number;
}

/** Outcomes of a run that selected nothing (or was refused before any request). */
export function noOutcomes(dryRun = false): Outcomes {
  return {
    dryRun,
    removed: [],
    removedAfterLostResponse: [],
    wouldRemove: [],
    notFound: [],
    failed: [],
    requests: 0,
    elapsedMs: 0,
  };
}

export interface CleanupOptions {
  readonly dryRun: boolean;
  readonly concurrency: number;
  /** Aborting stops new requests (cancellation); in-flight ones finish or time out. */
  readonly signal?: AbortSignal;
  /** Called as each id is settled, in completion order. */
  readonly onSettled?: (id: string, result: EntryResult) => void;
  readonly now?: () => number;
}

export type Strategy = 'auto' | 'per-id';

export interface IdOptions extends CleanupOptions {
  /**
   * `per-id`: one request per id. `auto`: when the DLQ is small next to the id list, one listing tells which ids
   * exist, the bulk endpoint deletes those and the rest are not-found; a larger DLQ falls back to per-id.
   */
  readonly strategy: Strategy;
}

export interface SelectionOptions extends CleanupOptions {
  /** 0: no cap. */
  readonly maxDeletes: number;
  readonly filters: readonly AppliedFilter[] | 'all';
  /** Called after each listing page with the number of entries matched so far. */
  readonly onListed?: (matched: number) => void;
}

export class TokenRefusedError extends Error {
  override name = 'TokenRefusedError';
}

/** Per-id results and the run-wide stop signal, shared by both ways of selecting. */
class Run {
  readonly results = new Map<string, EntryResult>();
  readonly stop = new AbortController();
  tokenRefused: string | undefined;
  private readonly options: CleanupOptions;
  private readonly client: DlqClient;
  private readonly started: number;
  private readonly sentBefore: number;
  private readonly onCancel: () => void;

  constructor(options: CleanupOptions, client: DlqClient) {
    this.options = options;
    this.client = client;
    this.started = (options.now ?? Date.now)();
    this.sentBefore = client.requestsSent;
    // One signal stops everything: the caller's cancellation, or the server refusing the token.
    this.onCancel = () => this.stop.abort(options.signal?.reason ?? new Error('cancelled'));
    if (options.signal?.aborted) this.onCancel();
    else options.signal?.addEventListener('abort', this.onCancel, { once: true });
  }

  settle(id: string, result: EntryResult): void {
    this.results.set(id, result);
    if (result.outcome === 'failed' && result.unauthorized) this.refuse(result.reason);
    this.options.onSettled?.(id, result);
  }

  refuse(reason: string): void {
    if (this.tokenRefused !== undefined) return;
    this.tokenRefused = reason;
    this.stop.abort(new TokenRefusedError('the token was refused'));
  }

  /** Runs `work` over the items with at most `concurrency` at once. */
  async each<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) await work(items[next++]!);
    };
    const workers = Math.max(1, Math.min(this.options.concurrency, items.length));
    await Promise.all(Array.from({ length: workers }, worker));
  }

  finish(ids: readonly string[], selection?: SelectionReport): Outcomes {
    const requests = this.client.requestsSent - this.sentBefore;
    const unreachable = this.client.unreachable;
    this.options.signal?.removeEventListener('abort', this.onCancel);
    const removed: string[] = [];
    const removedAfterLostResponse: string[] = [];
    const wouldRemove: string[] = [];
    const notFound: string[] = [];
    const failed: FailedId[] = [];
    for (const id of ids) {
      const result = this.results.get(id) ?? {
        outcome: 'failed',
        reason: 'not attempted',
        attempts: 0,
        unauthorized: false,
      };
      switch (result.outcome) {
        case 'removed':
          removed.push(id);
          if (result.afterLostResponse) removedAfterLostResponse.push(id);
          break;
        case 'exists':
          wouldRemove.push(id);
          break;
        case 'not-found':
          notFound.push(id);
          break;
        case 'failed':
          failed.push({ id, reason: result.reason });
          break;
      }
    }
    const signal = this.options.signal;
    const cancelled =
      signal?.aborted && (failed.length > 0 || selection?.listingFailed !== undefined)
        ? signal.reason instanceof Error
          ? signal.reason.message
          : String(signal.reason ?? 'cancelled')
        : undefined;
    return {
      dryRun: this.options.dryRun,
      removed,
      removedAfterLostResponse,
      wouldRemove,
      notFound,
      failed,
      ...(selection !== undefined && { selection }),
      ...(this.tokenRefused !== undefined && { tokenRefused: this.tokenRefused }),
      ...(cancelled !== undefined && { cancelled }),
      ...(unreachable !== undefined && { unreachable }),
      requests,
      elapsedMs: (this.options.now ?? Date.now)() - this.started,
    };
  }
}

/**
 * Listing pages `auto` may spend before falling back to per-id: listing pays off while its pages (sequential) plus
 * the bulk calls take fewer round trips than the per-id requests (`concurrency` at a time). Half of that break-even
 * point keeps the worst case, a DLQ too large to list, within 1.5x of per-id.
 */
export function listingBudget(ids: number, concurrency: number): number {
  return Math.floor(ids / (2 * Math.max(1, concurrency)));
}

/** Deletes (or, in a dry run, probes) the ids: by listing then bulk where that is faster, else one by one. */
export async function deleteByIds(ids: readonly string[], client: DlqClient, options: IdOptions): Promise<Outcomes> {
  const run = new Run(options, client);
  const budget = options.strategy === 'auto' ? listingBudget(ids.length, options.concurrency) : 0;
  let present: Set<string> | undefined;
  if (budget >= 1) {
    const listed = new Set<string>();
    const listing = await listAll(
      client,
      [],
      run,
      (entries) => entries.forEach((e) => listed.add(e.dlqId as string)),
      budget,
    );
    // A listing that failed or would take too many pages: per-id requests, which report their own failures.
    if (listing.kind === 'complete') present = listed;
  }

  if (present !== undefined) {
    const existing = ids.filter((id) => present.has(id));
    for (const id of ids) if (!present.has(id)) run.settle(id, { outcome: 'not-found', attempts: 0 });
    if (options.dryRun) {
      for (const id of existing) run.settle(id, { outcome: 'exists', attempts: 0 });
    } else {
      await run.each(batches(existing), async (batch) => {
        await reconcileBatch(batch, client, run);
      });
    }
  } else {
    await run.each(ids, async (id) => {
      const result = options.dryRun
        ? await client.probeEntry(id, run.stop.signal)
        : await client.deleteEntry(id, run.stop.signal);
      run.settle(id, result);
    });
  }
  return run.finish(ids);
}

type Listing =
  { readonly kind: 'complete' } | { readonly kind: 'too-large' } | { readonly kind: 'failed'; readonly reason: string };

/**
 * Pages through a listing to the last page (empty or missing cursor), handing each page's entries to `onPage`.
 * Stops after `maxPages` (too-large), on a failed page (a refused token also stops the run), or when the server
 * repeats a cursor, which would otherwise loop forever.
 */
async function listAll(
  client: DlqClient,
  query: ListQuery,
  run: Run,
  onPage: (entries: readonly Record<string, unknown>[]) => void,
  maxPages = Number.POSITIVE_INFINITY,
): Promise<Listing> {
  const cursors = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const result = await client.listPage(query, cursor, run.stop.signal);
    if (result.kind === 'failed') {
      if (result.unauthorized) run.refuse(result.reason);
      return { kind: 'failed', reason: result.reason };
    }
    onPage(result.entries);
    if (result.cursor === undefined) return { kind: 'complete' };
    if (cursors.has(result.cursor)) {
      return {
        kind: 'failed',
        reason: `the listing returned cursor ${JSON.stringify(result.cursor)} twice; stopped to avoid looping`,
      };
    }
    cursors.add(result.cursor);
    cursor = result.cursor;
  }
  return { kind: 'too-large' };
}

/**
 * Lists every entry matching the query (every page), applies the cap, then deletes exactly the listed ids with the
 * bulk endpoint, at most 100 a call, and reconciles each call's `deleted` count. Never deletes without ids: the
 * selection is the listing's, so the dry run, the cap and the outputs all describe the same set.
 */
export async function deleteBySelection(
  query: ListQuery,
  client: DlqClient,
  options: SelectionOptions,
): Promise<Outcomes> {
  const run = new Run(options, client);
  const entries = new Map<string, EntryInfo>();
  const report = (extra: Partial<SelectionReport> = {}, unattributedDeletions = 0): SelectionReport => ({
    filters: options.filters,
    matched: entries.size,
    entries,
    unattributedDeletions,
    ...extra,
  });

  // 1. The selection: every page, no silent cap.
  const listing = await listAll(client, query, run, (page) => {
    for (const raw of page) {
      const info = entryInfo(raw);
      if (!entries.has(info.dlqId)) entries.set(info.dlqId, info);
    }
    options.onListed?.(entries.size);
  });
  if (listing.kind === 'failed') return run.finish([], report({ listingFailed: listing.reason }));
  const ids = [...entries.keys()];

  // 2. The cap: more than allowed matched, so delete nothing (a dry run still shows what matched).
  if (options.maxDeletes > 0 && ids.length > options.maxDeletes) {
    const capExceeded = { matched: ids.length, cap: options.maxDeletes };
    if (options.dryRun) for (const id of ids) run.results.set(id, { outcome: 'exists', attempts: 0 });
    return run.finish(options.dryRun ? ids : [], report({ capExceeded }));
  }

  // 3. A dry run stops here: the listing is the truth about what exists and matches.
  if (options.dryRun) {
    for (const id of ids) run.settle(id, { outcome: 'exists', attempts: 0 });
    return run.finish(ids, report());
  }

  // 4. Bulk delete by ids, reconciling every call.
  let unattributed = 0;
  await run.each(batches(ids), async (batch) => {
    unattributed += await reconcileBatch(batch, client, run);
  });
  return run.finish(ids, report({}, unattributed));
}

/** Splits ids into bulk calls of at most 100 ids and a query string short enough for any server (~6 KB). */
export function batches(ids: readonly string[], maxIds = PAGE_SIZE, maxQueryChars = 6000): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const id of ids) {
    const cost = encodeURIComponent(id).length + 8;
    if (current.length > 0 && (current.length === maxIds || chars + cost > maxQueryChars)) {
      out.push(current);
      current = [];
      chars = 0;
    }
    current.push(id);
    chars += cost;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Deletes one batch with the bulk endpoint and settles each of its ids. Returns how many deletions the server
 * counted that could not be pinned to an id.
 *
 * - `deleted` equals the batch size: every id was removed by this call.
 * - Otherwise each id is probed with GET. Ids still present were not deleted: each is deleted with the per-id
 *   endpoint, whose 200 / 404 is exact. Ids now absent were either deleted by this call or already gone (deleted by
 *   someone else, or expired, since the listing). When no more are absent than `deleted`, all of them were ours:
 *   removed. When more are absent, the call cannot tell which ones it deleted: they are reported as not-found
 *   (gone, not confirmed as ours) and the difference is counted as unattributed in the summary, so `removed` never
 *   claims an id the server did not confirm.
 * - An attempt whose response was lost may have deleted ids; absent ids then count as removed (the lost-response
 *   rule, as for single deletes).
 */
async function reconcileBatch(batch: readonly string[], client: DlqClient, run: Run): Promise<number> {
  const result = await client.bulkDelete(batch, run.stop.signal);
  if (result.kind === 'failed' && (result.unauthorized || !result.responseLost)) {
    if (result.unauthorized) run.refuse(result.reason);
    for (const id of batch) run.settle(id, failedResult(result));
    return 0;
  }
  if (result.kind === 'bulk' && result.deleted === batch.length && !result.responseLost) {
    for (const id of batch) run.settle(id, { outcome: 'removed', afterLostResponse: false, attempts: 0 });
    return 0;
  }

  const absent: string[] = [];
  await run.each(batch, async (id) => {
    const probe = await client.probeEntry(id, run.stop.signal);
    if (probe.outcome === 'not-found') absent.push(id);
    else if (probe.outcome === 'exists') run.settle(id, await client.deleteEntry(id, run.stop.signal));
    else if (result.kind === 'failed') run.settle(id, failedResult(result));
    else run.settle(id, probe);
  });

  if (result.responseLost) {
    for (const id of absent) run.settle(id, { outcome: 'removed', afterLostResponse: true, attempts: 0 });
    return 0;
  }
  const deleted = result.kind === 'bulk' ? (result.deleted ?? 0) : 0;
  if (absent.length <= deleted) {
    for (const id of absent) run.settle(id, { outcome: 'removed', afterLostResponse: false, attempts: 0 });
    return 0;
  }
  for (const id of absent) run.settle(id, { outcome: 'not-found', attempts: 0 });
  return deleted;
}

function failedResult(failure: CallFailure): EntryResult {
  return { outcome: 'failed', reason: failure.reason, attempts: 0, unauthorized: failure.unauthorized };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** Keeps only what the summary shows; every field is optional. */
export function entryInfo(raw: Record<string, unknown>): EntryInfo {
  const url = text(raw.workflowUrl) ?? text(raw.url);
  const runOrMessageId = text(raw.workflowRunId) ?? text(raw.messageId);
  const createdAt = num(raw.createdAt);
  const responseStatus = num(raw.responseStatus);
  return {
    dlqId: raw.dlqId as string,
    ...(url !== undefined && { url }),
    ...(runOrMessageId !== undefined && { runOrMessageId }),
    ...(createdAt !== undefined && { createdAt }),
    ...(responseStatus !== undefined && { responseStatus }),
  };
}
