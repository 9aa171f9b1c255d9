/**
 * The plan for a listing query (filters, select-all, a report): list what matches, take out what keep-newest keeps,
 * write the export, ask the thresholds, check the cap, then act on every match, in bulk where the operation has a
 * bulk form. Nothing is changed on the strength of a listing that did not finish, nor before the export is written.
 */
import { groupKeys, keepNewest } from '../census.js';
import type { EntryInfo } from '../outcomes.js';
import { Batcher, type Batch } from './batching.js';
import { inPhases, oldestFirst } from './canary.js';
import type { Parts } from './parts.js';
import { Queue } from './pool.js';
import type { QueryTarget } from './target.js';

type Record_ = Readonly<Record<string, unknown>>;

export async function byQuery(target: QueryTarget, parts: Parts): Promise<void> {
  const { ledger, operation, lister, options } = parts;
  const entries = new Map<string, EntryInfo>();
  // Only what the rules need is held per entry: the groups of a report, the keep-per key.
  const groups = options.groupsOf && new Map<string, readonly string[]>();
  const per = target.keep?.per;
  const keys = per !== undefined ? new Map<string, readonly string[]>() : undefined;
  const exporting = new Exporting(options.sink);
  // The server does the filtering; dates are checked here too, so that a server that ignores fromDate / toDate
  // cannot widen what is acted on. (Before the cap is counted: the cap is about what the run would act on.)
  const from = Number(target.query.find(([param]) => param === 'fromDate')?.[1][0] ?? Number.NEGATIVE_INFINITY);
  const to = Number(target.query.find(([param]) => param === 'toDate')?.[1][0] ?? Number.POSITIVE_INFINITY);
  const outside = new Set<string>();
  const dated = Number.isFinite(from) || Number.isFinite(to);
  // keep-newest and the thresholds need the whole listing: the cap counts what is acted on, the gate exact figures.
  const readAll = target.keep !== undefined || options.gate !== undefined;
  const onPage = (page: readonly EntryInfo[], records: readonly Record_[]): boolean => {
    page.forEach((info, index) => {
      // With dates to keep to, an entry without createdAt cannot be shown to keep to them: it is left out too.
      if (info.createdAt === undefined ? dated : info.createdAt < from || info.createdAt > to) {
        outside.add(info.dlqId);
        return;
      }
      if (entries.has(info.dlqId)) return;
      entries.set(info.dlqId, info);
      const record = records[index];
      if (record === undefined) return;
      if (groups) groups.set(info.dlqId, options.groupsOf!(record));
      if (keys) keys.set(info.dlqId, groupKeys(operation.dlq, per!, record));
      exporting.write(record);
    });
    // Past the cap the run will change nothing: no need to read (and hold) the rest of the listing.
    return !readAll && target.cap > 0 && entries.size > target.cap;
  };
  // A report reads side by side (listing.ts): it changes nothing, and its whole point is the whole listing. Runs that
  // act keep the one page chain, in listing order, whose stopping rules (the cap, the bounds) are proven for it.
  const listing =
    operation.name === 'report'
      ? await lister.listWide(target.query, onPage, {
          concurrency: options.concurrency,
          now: (options.now ?? Date.now)(),
        })
      : await lister.list(target.query, lister.ceiling, (page, _last, records) => onPage(page, records));
  // An id listed outside the dates and also inside them (a page listed it twice, or it moved) is selected, not an
  // outlier: the count is of ids left out, each once.
  for (const id of entries.keys()) outside.delete(id);
  ledger.dateOutliers = outside.size;
  const complete = listing.kind === 'complete' || listing.kind === 'stopped';
  const kept = complete && target.keep ? keptBy(target.keep.newest, entries, keys) : undefined;
  const ids = kept ? [...entries.keys()].filter((id) => !kept.has(id)) : [...entries.keys()];
  ledger.selection = {
    filters: target.filters,
    matched: ids.length,
    entries,
    capInput: target.capInput,
    allInput: target.allInput,
    ...(kept && { kept }),
    ...(groups && { groups }),
    ...(listing.kind !== 'complete' && { incomplete: true }),
  };
  // Whatever happens next, the export holds what was listed before anything is changed.
  const exportProblem = await exporting.finish(kept);
  if (!complete) {
    ledger.incomplete = true;
    ledger.halt('listing-failed', listing.kind === 'failed' ? listing.reason : 'stopped');
    return;
  }
  if (exportProblem !== undefined) {
    ledger.halt('export-failed', exportProblem);
    return;
  }
  const exceeded = options.gate?.(ids.map((id) => entries.get(id)!));
  if (exceeded !== undefined) {
    ledger.halt('threshold-exceeded', exceeded);
    // A dry run or a report still shows what was selected; a real run changes nothing.
    if (!operation.changes) settleAll(ids, parts);
    return;
  }
  if (target.cap > 0 && ids.length > target.cap) {
    ledger.selection = { ...ledger.selection, cap: target.cap, ...(listing.kind === 'stopped' && { atLeast: true }) };
    ledger.halt('cap-exceeded', `${ids.length} entries match, more than the cap of ${target.cap}`);
    // A dry run still shows what matched, so that it predicts the real run; a real run changes nothing.
    if (!operation.changes) settleAll(ids, parts);
    return;
  }
  ledger.order = ids;
  const sendable = ids.filter((id) => ledger.admit(id));
  if (!operation.changes) {
    // A dry run or a report: the listing is the truth about what exists and matches.
    for (const id of sendable) ledger.settle(id, { kind: 'done' });
    return;
  }
  const { bulk } = parts;
  if (options.canary) {
    const first = oldestFirst(sendable, entries, options.canary.size);
    return inPhases(first, sendable, options.canary, ledger, (some) => parts.perId.sendAll(some), entries);
  }
  if (!bulk) return parts.perId.sendAll(sendable);
  const batches = new Queue<Batch>();
  const batcher = new Batcher(bulk.maxIds, (batch) => batches.push({ ids: batch, listed: true }));
  for (const id of sendable) batcher.add(id);
  batcher.flush();
  batches.close();
  await parts.pool.run(
    batches,
    (batch) => batch.ids,
    (batch) => bulk.send(batch),
  );
}

function settleAll(ids: readonly string[], parts: Parts): void {
  parts.ledger.order = ids;
  for (const id of ids) if (parts.ledger.admit(id)) parts.ledger.settle(id, { kind: 'done' });
}

/** The ids keep-newest keeps: the newest `newest` overall, or of each keep-per group (an entry of several, in each). */
function keptBy(
  newest: number,
  entries: ReadonlyMap<string, EntryInfo>,
  keys: ReadonlyMap<string, readonly string[]> | undefined,
): Set<string> {
  function* candidates(): Generator<{ dlqId: string; createdAt?: number; key: string }> {
    for (const info of entries.values()) {
      const dated = info.createdAt !== undefined ? { createdAt: info.createdAt } : {};
      for (const key of keys?.get(info.dlqId) ?? ['']) yield { dlqId: info.dlqId, ...dated, key };
    }
  }
  return keepNewest(candidates(), newest);
}

/**
 * The export's writes, in listing order, one after another while the listing goes on: the first failure is kept
 * and stops further writes, and `finish` waits for every write (and takes out what keep-newest kept).
 */
class Exporting {
  private chain: Promise<void> = Promise.resolve();
  private problem: string | undefined;
  private readonly sink: Parts['options']['sink'];

  constructor(sink: Parts['options']['sink']) {
    this.sink = sink;
  }

  write(record: Record_): void {
    const { sink } = this;
    if (sink === undefined || this.problem !== undefined) return;
    this.chain = this.chain.then(async () => {
      if (this.problem !== undefined) return;
      try {
        await sink.write(record);
      } catch (error) {
        this.problem = (error as Error)?.message ?? String(error);
      }
    });
  }

  async finish(kept: ReadonlySet<string> | undefined): Promise<string | undefined> {
    await this.chain;
    if (this.sink !== undefined && this.problem === undefined && kept !== undefined && kept.size > 0) {
      try {
        await this.sink.drop(kept);
      } catch (error) {
        this.problem = (error as Error)?.message ?? String(error);
      }
    }
    return this.problem;
  }
}
