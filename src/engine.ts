/**
 * The core: a target (ids, or a listing query) and an operation in, one outcome per id out. Pacing, cancellation,
 * the failure boundary and the accounting are the same for every operation; what a request is and what its answer
 * means come from the operation's description (operations.ts). Pure given a client: no inputs, no Actions, no
 * printing.
 */
import { idProblem } from './ids.js';
import type { Operation } from './operations.js';
import {
  StopReason,
  type AppliedFilter,
  type Cause,
  type EntryInfo,
  type Failed,
  type FailedId,
  type Outcomes,
  type SelectionReport,
  type Settled,
  type StopKind,
  type Stopped,
} from './outcomes.js';
import type { DlqClient } from './qstash/client.js';
import { entryPath, PAGE_SIZE, queryCost, UnsafeIdError, type ListQuery } from './qstash/paths.js';

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
      /** The inputs the cap and select-all were given under, for messages (max-entries or max-deletes, ...). */
      readonly capInput: string;
      readonly allInput: string;
    };

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
  /** Most listing pages one run reads (a ceiling against listings that never end). */
  readonly maxListPages?: number;
}

/** A listing stops after this many pages: 2,000,000 entries at 100 a page. */
export const MAX_LIST_PAGES = 20_000;
/** A listing stops after this many pages in a row that bring no entry it has not seen. */
export const MAX_STALE_PAGES = 10;
/** Bulk calls keep their query under this many characters, for any server or proxy on the way. */
const MAX_QUERY_CHARS = 6000;

/**
 * Listing pages `auto` may spend before falling back to per-id: listing pays off while its pages (sequential) plus
 * the bulk calls take fewer round trips than the per-id requests (`concurrency` at a time). Half of that break-even
 * point keeps the worst case, a DLQ too large to list, within 1.5x of per-id.
 */
export function listingBudget(ids: number, concurrency: number): number {
  return Math.floor(ids / (2 * Math.max(1, concurrency)));
}

export async function execute(
  target: Target,
  operation: Operation,
  client: DlqClient,
  options: EngineOptions,
): Promise<Outcomes> {
  const run = new Run(operation, client, options);
  try {
    if (target.kind === 'ids') await run.byIds(target.ids, options.strategy);
    else await run.byQuery(target);
  } catch (error) {
    // Outside any item's boundary (a listing, say): stop, and report what was settled.
    run.crash(error);
  } finally {
    await run.settleLostAnswers();
  }
  return run.finish();
}

type Listing =
  | { readonly kind: 'complete' }
  /** The caller asked to stop (a filter run past its cap). */
  | { readonly kind: 'stopped' }
  | { readonly kind: 'budget' }
  | { readonly kind: 'failed'; readonly cause: Cause; readonly reason: string };

interface Batch {
  readonly ids: readonly string[];
  /** Whether the listing showed these ids: a bulk delete of them should count them all. */
  readonly listed: boolean;
}

/** One run: per-id results, the stop signal and the work pool. */
class Run {
  private readonly results = new Map<string, Settled>();
  private readonly stop = new AbortController();
  private stopped: Stopped | undefined;
  private order: readonly string[] = [];
  private selection: SelectionReport | undefined;
  private unattributed = 0;
  /** A filter run's listing did not complete. */
  private incomplete = false;
  private readonly notes: string[] = [];
  /** Re-runs whose answer was lost, resolved once the main pass is over. */
  private readonly lost: { id: string; reason: string }[] = [];
  /** Listed entries whose createdAt lies outside the date filters, left out. */
  private dateOutliers = 0;
  /** A bulk call's count could not be pinned to its ids: the remaining batches go id by id, which is exact. */
  private bulkUnreliable = false;
  /** An id this run re-ran with a confirmed answer: looked up to learn whether re-run entries leave the DLQ. */
  private confirmedRerun: string | undefined;
  /** What deleting a re-run entry found (delete-after-redrive): whether re-run entries leave the DLQ. */
  private removal: 'present' | 'absent' | undefined;
  private readonly started: number;
  private readonly sentBefore: number;
  private readonly onCancel: () => void;
  private readonly operation: Operation;
  private readonly client: DlqClient;
  private readonly options: EngineOptions;

  constructor(operation: Operation, client: DlqClient, options: EngineOptions) {
    this.operation = operation;
    this.client = client;
    this.options = options;
    this.started = (options.now ?? Date.now)();
    this.sentBefore = client.requestsSent;
    this.onCancel = () => {
      const why = options.signal?.reason;
      this.halt('cancelled', why instanceof Error ? why.message : String(why ?? 'cancelled'));
    };
    if (options.signal?.aborted) this.onCancel();
    else options.signal?.addEventListener('abort', this.onCancel, { once: true });
  }

  private get signal(): AbortSignal {
    return this.stop.signal;
  }

  /** Stops the run: no new request starts, and ids not yet settled fail with this cause. The first stop wins. */
  private halt(kind: StopKind, reason: string): void {
    if (this.stopped !== undefined) return;
    this.stopped = { kind, reason };
    const cause: Cause = kind === 'listing-failed' || kind === 'cap-exceeded' ? 'cancelled' : kind;
    this.stop.abort(new StopReason(cause, kind === 'cancelled' || kind === 'internal' ? reason : describeStop(kind)));
  }

  crash(error: unknown): void {
    this.halt('internal', `internal error: ${(error as Error)?.message ?? String(error)}`);
  }

  /** Records an id's outcome; the first outcome of an id stands. */
  private settle(id: string, settled: Settled): void {
    if (this.results.has(id)) return;
    this.results.set(id, settled);
    if (settled.kind === 'failed' && (settled.cause === 'token-refused' || settled.cause === 'proxy-refused')) {
      this.halt(settled.cause, settled.reason);
    }
    this.options.onSettled?.(id, settled);
  }

  private fail(id: string, failure: { cause: Cause; reason: string; mayHaveActed?: boolean }): void {
    this.settle(id, {
      kind: 'failed',
      cause: failure.cause,
      reason: failure.reason,
      ...(failure.mayHaveActed && { mayHaveActed: true }),
    });
  }

  /** Refuses, as failed and never sent, an id that cannot be sent safely. Returns whether it may be sent. */
  private admit(id: string): boolean {
    const problem = idProblem(id);
    if (problem === undefined) return true;
    this.fail(id, { cause: 'invalid-id', reason: `not sent: the id ${problem}` });
    return false;
  }

  /**
   * Runs `work` over the queue's items, `concurrency` at a time. Each item has its own failure boundary: an
   * exception fails that item's unsettled ids and nothing else.
   */
  private async workers<T>(queue: Queue<T>, idsOf: (item: T) => readonly string[], work: (item: T) => Promise<void>) {
    const worker = async (): Promise<void> => {
      for (let item = await queue.take(); item !== undefined; item = await queue.take()) {
        try {
          await work(item);
        } catch (error) {
          const invalid = error instanceof UnsafeIdError;
          for (const id of idsOf(item)) {
            this.fail(id, {
              cause: invalid ? 'invalid-id' : 'internal',
              reason: `${invalid ? 'not sent' : 'internal error'}: ${(error as Error)?.message ?? String(error)}`,
              mayHaveActed: !invalid && this.operation.changes,
            });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency) }, worker));
  }

  async byIds(ids: readonly string[], strategy: Strategy): Promise<void> {
    this.order = ids;
    const sendable = ids.filter((id) => this.admit(id));
    const listingHelps = this.operation.bulk !== undefined || !this.operation.changes;
    const budget = strategy === 'auto' && listingHelps ? listingBudget(sendable.length, this.options.concurrency) : 0;
    if (budget < 1) return this.perId(sendable);

    // List the DLQ while acting on what each page shows: bulk deletes of the ids a page found start while later
    // pages are fetched (a dry run settles them as existing).
    const wanted = new Set(sendable);
    const found = new Set<string>();
    const bulk = this.operation.bulk;
    const batches = new Queue<Batch>();
    const pool = bulk
      ? this.workers(
          batches,
          (b) => b.ids,
          (b) => this.bulkBatch(b),
        )
      : Promise.resolve();
    const batcher = new Batcher(bulk?.maxIds ?? PAGE_SIZE, (ids) => batches.push({ ids, listed: true }));
    let listing: Listing;
    try {
      listing = await this.list([], budget, (entries) => {
        for (const entry of entries) {
          const id = entry.dlqId as string;
          if (!wanted.has(id) || found.has(id)) continue;
          found.add(id);
          if (bulk) batcher.add(id);
          else this.settle(id, { kind: 'done' });
        }
        return false;
      });
    } catch (error) {
      // Let the batches already queued finish before the run reports the error.
      batcher.flush();
      batches.close();
      await pool;
      throw error;
    }
    batcher.flush();
    const rest = sendable.filter((id) => !found.has(id));
    if (listing.kind === 'complete' && bulk) {
      // Absence from a listing proves nothing (a cursor may skip entries): the ids it did not show are deleted in
      // bulk calls of their own, whose count confirms them (0: none was there).
      const confirm = new Batcher(bulk.maxIds, (ids) => batches.push({ ids, listed: false }));
      for (const id of rest) confirm.add(id);
      confirm.flush();
      batches.close();
      await pool;
      return;
    }
    batches.close();
    if (listing.kind === 'failed' && !this.signal.aborted) {
      this.notes.push(`The listing failed (${listing.reason}); the ids it had not shown were sent one by one.`);
    }
    if (listing.kind === 'budget') {
      this.notes.push(
        `The DLQ is large next to the id list (more than ${budget} listing pages); the ids the listing had not shown were sent one by one.`,
      );
    }
    await Promise.all([pool, this.perId(rest)]);
  }

  async byQuery(target: Extract<Target, { kind: 'query' }>): Promise<void> {
    const entries = new Map<string, EntryInfo>();
    // The server does the filtering; dates are checked here too, so that a server that ignores fromDate / toDate
    // cannot widen what is acted on. (Before the cap is counted: the cap is about what the run would act on.)
    const from = Number(target.query.find(([param]) => param === 'fromDate')?.[1][0] ?? Number.NEGATIVE_INFINITY);
    const to = Number(target.query.find(([param]) => param === 'toDate')?.[1][0] ?? Number.POSITIVE_INFINITY);
    const outside = new Set<string>();
    const listing = await this.list(target.query, this.options.maxListPages ?? MAX_LIST_PAGES, (page) => {
      for (const raw of page) {
        const info = entryInfo(raw);
        if (info.createdAt !== undefined && (info.createdAt < from || info.createdAt > to)) outside.add(info.dlqId);
        else if (!entries.has(info.dlqId)) entries.set(info.dlqId, info);
      }
      // Past the cap the run will change nothing: no need to read (and hold) the rest of the listing.
      return target.cap > 0 && entries.size > target.cap;
    });
    if (outside.size > 0) {
      this.dateOutliers = outside.size;
    }
    const ids = [...entries.keys()];
    this.selection = {
      filters: target.filters,
      matched: ids.length,
      entries,
      capInput: target.capInput,
      allInput: target.allInput,
    };
    if (listing.kind !== 'complete' && listing.kind !== 'stopped') {
      this.incomplete = true;
      // Nothing is changed on the strength of a listing that did not finish.
      this.halt('listing-failed', listing.kind === 'failed' ? listing.reason : 'stopped');
      return;
    }
    if (target.cap > 0 && ids.length > target.cap) {
      this.selection = { ...this.selection, cap: target.cap, ...(listing.kind === 'stopped' && { atLeast: true }) };
      this.halt('cap-exceeded', `${ids.length} entries match, more than the cap of ${target.cap}`);
      // A dry run still shows what matched, so that it predicts the real run; a real run changes nothing.
      if (!this.operation.changes) {
        this.order = ids;
        for (const id of ids) if (this.admit(id)) this.settle(id, { kind: 'done' });
      }
      return;
    }
    this.order = ids;
    const sendable = ids.filter((id) => this.admit(id));
    if (!this.operation.changes) {
      // A dry run: the listing is the truth about what exists and matches.
      for (const id of sendable) this.settle(id, { kind: 'done' });
      return;
    }
    const bulk = this.operation.bulk;
    if (!bulk) return this.perId(sendable);
    const batches = new Queue<Batch>();
    const batcher = new Batcher(bulk.maxIds, (batch) => batches.push({ ids: batch, listed: true }));
    for (const id of sendable) batcher.add(id);
    batcher.flush();
    batches.close();
    await this.workers(
      batches,
      (b) => b.ids,
      (b) => this.bulkBatch(b),
    );
  }

  private async perId(ids: readonly string[]): Promise<void> {
    await this.eachId(ids, (id) => this.single(id));
  }

  /** Runs `work` for each id, `concurrency` at a time, each id with its own failure boundary. */
  private async eachId(ids: readonly string[], work: (id: string) => Promise<void>): Promise<void> {
    await this.workers(Queue.of(ids), (id) => [id], work);
  }

  /** One request for one id, and what its answer means. */
  private async single(id: string): Promise<void> {
    const op = this.operation;
    const result = await this.client.send(op.request(id), { idempotent: op.idempotent, stop: this.signal });
    if (result.kind === 'failed') {
      // A re-run that may have reached the server is never resent: what the DLQ shows decides it.
      if (op.redrive && (result.cause === 'answer-lost' || result.mayHaveActed))
        this.lost.push({ id, reason: result.reason });
      else this.fail(id, result);
      return;
    }
    if (result.status === 404) {
      // A 404 after an attempt that may have acted: that attempt most likely did it (the lost-answer rule).
      this.settle(id, result.mayHaveActed && op.changes ? { kind: 'done', inferred: true } : { kind: 'not-found' });
      return;
    }
    const settled = op.answer(result.status, result.body);
    // A 2xx that does not confirm the re-run (no new run id: a proxy's page, the wrong host) is not a re-run.
    if (settled.kind === 'failed' && op.redrive && settled.mayHaveActed) {
      this.lost.push({ id, reason: settled.reason });
      return;
    }
    if (op.redrive && settled.kind === 'done') this.confirmedRerun ??= id;
    if (settled.kind !== 'done' || op.cleanUp === undefined) {
      this.settle(id, settled);
      return;
    }
    const removal = await this.client.send(op.cleanUp(id), { idempotent: true, stop: this.signal });
    if (removal.kind === 'answered') {
      // 404: the re-run took the entry out of the DLQ already; 200: it stayed, and is gone now.
      this.removal ??= removal.status === 404 && !removal.mayHaveActed ? 'absent' : 'present';
      this.settle(id, { ...settled, deletedAfter: true });
    } else {
      this.settle(id, { ...settled, deleteAfterFailed: removal.reason });
    }
  }

  /**
   * Deletes one batch with a counting bulk call and settles each of its ids.
   *
   * - The count equals the batch: every id was removed by this call.
   * - The count is 0 (and no attempt may have acted): none was there; all not found.
   * - Otherwise each id is probed with GET. Ids still present were not deleted: each is sent alone, whose answer is
   *   exact. Ids now absent were deleted by this call or were already gone. When no more are absent than the count,
   *   all of them were ours: removed. When more are absent, the call cannot tell which ones it deleted: they are
   *   not found (gone, not confirmed as ours) and the count is kept as unattributed, so `done` never claims an id
   *   the server did not confirm.
   * - A call that may have acted without its answer arriving counts its absent ids as removed (the lost-answer rule).
   */
  private async bulkBatch(batch: Batch): Promise<void> {
    const bulk = this.operation.bulk!;
    if (this.bulkUnreliable) {
      // Entries are vanishing under the run (or a cursor skipped some): one request per id is exact.
      await this.eachId(batch.ids, (id) => this.single(id));
      return;
    }
    const result = await this.client.send(bulk.request(batch.ids), { idempotent: true, stop: this.signal });
    if (result.kind === 'failed' && result.cause === 'rejected' && !result.mayHaveActed) {
      // The server refused the bulk form (a 400, a 414): nothing was done; each id alone gets an exact answer.
      await this.eachId(batch.ids, (id) => this.single(id));
      return;
    }
    if (result.kind === 'failed' && !result.mayHaveActed) {
      for (const id of batch.ids) this.fail(id, result);
      return;
    }
    const count = result.kind === 'answered' && result.status !== 404 ? bulk.count(result.body) : undefined;
    // Upstash documents the Workflow DLQ's bulk-delete cursor as present only without dlqIds.
    const cursor =
      this.operation.dlq === 'workflow' && result.kind === 'answered' && /"cursor"\s*:\s*"[^"]/u.test(result.body);
    if (result.kind === 'answered' && ((count !== undefined && count > batch.ids.length) || cursor)) {
      // More deleted than named, or a cursor: the server treated the call as "delete what matches", ignoring the
      // ids. Stop before anything else is sent.
      this.halt(
        'internal',
        `the server answered a bulk delete of ${batch.ids.length} named ids with ${count ?? 'a cursor'}${count !== undefined ? ' deletions' : ''}, as if it ignored the ids; stopped so that no unselected entry is deleted`,
      );
      for (const id of batch.ids)
        this.fail(id, {
          cause: 'bad-answer',
          reason: 'the bulk delete answer did not match the ids sent',
          mayHaveActed: true,
        });
      return;
    }
    // An attempt that may have acted without its answer arriving, or a 2xx without a usable count: the call says
    // nothing about which ids it deleted.
    const lostAnswer = result.mayHaveActed || count === undefined;
    // Every id counted by the answer that arrived: exact, whatever an earlier attempt did (it deleted none of them).
    if (count === batch.ids.length) {
      for (const id of batch.ids) this.settle(id, { kind: 'done' });
      return;
    }
    // 0 for ids the listing did not show: none was there. (For listed ids a 0 is checked id by id below.)
    if (!lostAnswer && count === 0 && !batch.listed) {
      for (const id of batch.ids) this.settle(id, { kind: 'not-found' });
      return;
    }

    const absent: string[] = [];
    await this.eachId(batch.ids, async (id) => {
      const probe = await this.client.send(
        { method: 'GET', path: entryPath(this.operation.dlq, id) },
        { idempotent: true, stop: this.signal },
      );
      if (probe.kind === 'failed') this.fail(id, result.kind === 'failed' ? result : probe);
      else if (probe.status === 404) absent.push(id);
      else await this.single(id);
    });

    if (lostAnswer) {
      // Listed ids were there moments before: gone now, this call most likely removed them (the lost-response
      // rule, marked). Ids the listing did not show are not claimed: gone, and not found.
      for (const id of absent) this.settle(id, batch.listed ? { kind: 'done', inferred: true } : { kind: 'not-found' });
    } else if (absent.length <= count!) {
      for (const id of absent) this.settle(id, { kind: 'done' });
    } else {
      for (const id of absent) this.settle(id, { kind: 'not-found' });
      this.unattributed += count!;
      this.bulkUnreliable = true;
    }
  }

  /**
   * Re-runs whose answer was lost are never sent again. What the server shows decides: the step's first confirmed
   * re-run is looked up to learn whether re-run entries leave the DLQ. If they do and this entry is gone, it was
   * re-run (marked, with no new run id); otherwise it failed, and the reason says whether the re-run may have
   * started.
   */
  async settleLostAnswers(): Promise<void> {
    if (this.lost.length === 0) return;
    const lookUp = async (id: string): Promise<'present' | 'absent' | 'unknown'> => {
      if (this.signal.aborted) return 'unknown';
      const probe = await this.client.send(
        { method: 'GET', path: entryPath(this.operation.dlq, id) },
        { idempotent: true, stop: this.signal },
      );
      if (probe.kind === 'failed') return 'unknown';
      return probe.status === 404 ? 'absent' : 'present';
    };
    // With delete-after-redrive the confirmed entries were deleted: their deletion's answer already told.
    // (Not looked up then: the entry may be gone by our own deletion.)
    const leaves =
      this.removal ??
      (this.confirmedRerun === undefined || this.operation.cleanUp !== undefined
        ? 'unknown'
        : await lookUp(this.confirmedRerun));
    const verb = this.operation.words.verb;
    await this.workers(
      Queue.of(this.lost),
      (item) => [item.id],
      async ({ id, reason }) => {
        const mayHave = `${reason.replace(/\.$/u, '')}. The ${verb} may have started: never ${verb} it again blindly`;
        if (leaves !== 'absent') {
          const why =
            leaves === 'present'
              ? 're-run entries stay in this DLQ, so the DLQ cannot tell'
              : 'whether re-run entries leave the DLQ could not be learned in this step';
          this.fail(id, { cause: 'answer-lost', reason: `${mayHave} (${why}).`, mayHaveActed: true });
          return;
        }
        const now = await lookUp(id);
        if (now === 'absent') this.settle(id, { kind: 'done', inferred: true });
        else {
          const why =
            now === 'present'
              ? 'the entry is still in the DLQ, where a re-run entry would have left it, so it most likely did not start'
              : 'looking the entry up failed';
          this.fail(id, { cause: 'answer-lost', reason: `${mayHave} (${why}).`, mayHaveActed: true });
        }
      },
    );
  }

  /**
   * Pages through a listing, handing each page's entries to `onPage`. Shrinks the page size when a page is too
   * large to read. Stops after `maxPages` (budget), on a failed page, on a cursor seen before, on pages that bring
   * nothing new, or at the hard ceiling.
   */
  private async list(
    query: ListQuery,
    maxPages: number,
    onPage: (entries: readonly Record<string, unknown>[]) => boolean | undefined,
  ): Promise<Listing> {
    const cursors = new Set<string>();
    const seen = new Set<string>();
    const ceiling = this.options.maxListPages ?? MAX_LIST_PAGES;
    let cursor: string | undefined;
    let count = PAGE_SIZE;
    let stale = 0;
    let skipped = 0;
    for (let page = 0; ;) {
      if (page >= Math.min(maxPages, ceiling)) {
        if (page < ceiling) return { kind: 'budget' };
        return fail('bad-answer', `the listing did not end within ${ceiling} pages (the most one run reads)`);
      }
      const result = await this.client.listPage(this.operation.dlq, query, cursor, count, this.signal);
      if (result.kind === 'failed') {
        if (result.cause === 'token-refused' || result.cause === 'proxy-refused')
          this.halt(result.cause, result.reason);
        return { kind: 'failed', cause: result.cause, reason: result.reason };
      }
      if (result.kind === 'too-large') {
        const limit = `${Math.round(result.limitBytes / (1024 * 1024))} MiB`;
        if (count === 1) {
          return fail('bad-answer', `a single DLQ entry is larger than ${limit}, the most one listing page may hold`);
        }
        count = Math.max(1, Math.floor(count / 10));
        const note = `Listing pages were larger than ${limit} (entries carry large bodies); asked for ${count} entries a page instead.`;
        if (!this.notes.includes(note)) this.notes.push(note);
        continue;
      }
      page += 1;
      skipped += result.skipped;
      let fresh = 0;
      for (const entry of result.entries) {
        const id = entry.dlqId as string;
        if (!seen.has(id)) {
          seen.add(id);
          fresh += 1;
        }
      }
      const enough = onPage(result.entries) === true;
      this.options.onListed?.(page, seen.size);
      if (enough && result.cursor !== undefined) return { kind: 'stopped' };
      if (result.cursor === undefined) {
        if (skipped > 0) this.notes.push(`${skipped} listed entries had no dlqId and were left out.`);
        return { kind: 'complete' };
      }
      if (cursors.has(result.cursor)) {
        return fail('bad-answer', `the listing returned cursor ${JSON.stringify(result.cursor)} twice`);
      }
      stale = fresh === 0 ? stale + 1 : 0;
      if (stale >= MAX_STALE_PAGES) {
        return fail('bad-answer', `the listing brought nothing new for ${MAX_STALE_PAGES} pages in a row`);
      }
      cursors.add(result.cursor);
      cursor = result.cursor;
    }
  }

  finish(): Outcomes {
    this.options.signal?.removeEventListener('abort', this.onCancel);
    const done: string[] = [];
    const inferred: string[] = [];
    const notFound: string[] = [];
    const failed: FailedId[] = [];
    const newRuns = new Map<string, string>();
    const notDeletedAfter: { id: string; reason: string }[] = [];
    const stopCause: Cause = (this.signal.reason as StopReason | undefined)?.kind ?? 'internal';
    for (const id of this.order) {
      let result = this.results.get(id);
      if (result === undefined) {
        const failure: Failed = {
          kind: 'failed',
          cause: stopCause,
          reason: this.stopped
            ? `not attempted: ${describeStop(this.stopped.kind, this.stopped.reason)}`
            : 'not settled',
        };
        this.results.set(id, failure);
        result = failure;
      }
      if (result.kind === 'done') {
        done.push(id);
        if (result.inferred) inferred.push(id);
        if (result.newRun !== undefined) newRuns.set(id, result.newRun);
        if (result.deleteAfterFailed !== undefined) notDeletedAfter.push({ id, reason: result.deleteAfterFailed });
      } else if (result.kind === 'not-found') notFound.push(id);
      else failed.push({ id, cause: result.cause, reason: result.reason, mayHaveActed: result.mayHaveActed === true });
    }
    let stopped = this.stopped;
    if (stopped === undefined && this.client.unreachable !== undefined) {
      stopped = {
        kind: this.client.stopCause === 'rate-limited' ? 'rate-limited' : 'unreachable',
        reason: this.client.unreachable,
      };
    }
    // A cancellation that came after every id was settled did not stop anything.
    if (stopped?.kind === 'cancelled' && failed.every((f) => f.cause !== 'cancelled') && !this.incomplete) {
      stopped = undefined;
    }
    return {
      ids: this.order,
      results: this.results,
      done,
      inferred,
      notFound,
      failed,
      newRuns,
      notDeletedAfter,
      ...(this.selection !== undefined && { selection: this.selection }),
      ...(stopped !== undefined && { stopped }),
      unattributed: this.unattributed,
      dateOutliers: this.dateOutliers,
      notes: this.notes,
      requests: this.client.requestsSent - this.sentBefore,
      elapsedMs: (this.options.now ?? Date.now)() - this.started,
    };
  }
}

function fail(cause: Cause, reason: string): Listing {
  return { kind: 'failed', cause, reason };
}

function describeStop(kind: StopKind, reason?: string): string {
  switch (kind) {
    case 'token-refused':
      return 'the token was refused';
    case 'proxy-refused':
      return 'the proxy refused the connection';
    case 'unreachable':
      return reason ?? 'the server is unreachable';
    case 'cancelled':
      return reason ?? 'cancelled';
    case 'listing-failed':
      return 'the listing failed';
    case 'cap-exceeded':
      return 'more entries matched than the cap';
    case 'internal':
      return reason ?? 'internal error';
    case 'rate-limited':
      return reason ?? 'the server kept rate limiting';
  }
}

/** Groups ids into bulk calls of at most `maxIds` ids and a query short enough for any server or proxy. */
export class Batcher {
  private current: string[] = [];
  private chars = 0;
  private readonly maxIds: number;
  private readonly emit: (ids: string[]) => void;
  private readonly maxChars: number;

  constructor(maxIds: number, emit: (ids: string[]) => void, maxChars = MAX_QUERY_CHARS) {
    this.maxIds = maxIds;
    this.emit = emit;
    this.maxChars = maxChars;
  }

  add(id: string): void {
    const cost = queryCost(id);
    if (this.current.length > 0 && (this.current.length >= this.maxIds || this.chars + cost > this.maxChars)) {
      this.flush();
    }
    this.current.push(id);
    this.chars += cost;
  }

  flush(): void {
    if (this.current.length === 0) return;
    this.emit(this.current);
    this.current = [];
    this.chars = 0;
  }
}

/** Splits ids into bulk calls (see Batcher). */
export function batches(ids: readonly string[], maxIds = PAGE_SIZE, maxChars = MAX_QUERY_CHARS): string[][] {
  const out: string[][] = [];
  const batcher = new Batcher(maxIds, (batch) => out.push(batch), maxChars);
  for (const id of ids) batcher.add(id);
  batcher.flush();
  return out;
}

/** A work queue shared by several workers; items may be added while they run, until it is closed. */
class Queue<T> {
  /** A queue holding these items, closed. */
  static of<T>(items: readonly T[]): Queue<T> {
    const queue = new Queue<T>();
    for (const item of items) queue.push(item);
    queue.close();
    return queue;
  }

  private readonly items: (T | undefined)[] = [];
  private head = 0;
  private closed = false;
  private readonly waiting: ((item: T | undefined) => void)[] = [];

  push(item: T): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter(undefined);
  }

  take(): Promise<T | undefined> | T | undefined {
    if (this.head < this.items.length) {
      const item = this.items[this.head];
      this.items[this.head] = undefined;
      this.head += 1;
      return item;
    }
    if (this.closed) return undefined;
    return new Promise((resolve) => this.waiting.push(resolve));
  }
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
