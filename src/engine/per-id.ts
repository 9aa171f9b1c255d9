/**
 * One request for one id, and what its answer means. With `readFirst` (the export), an operation that changes reads
 * the entry first and changes it only once the entry has been handed over; a reading operation hands over its own
 * answer.
 */
import { ENTRY_BODY_LIMIT, entryRead, type Operation } from '../operations.js';
import { STOP_CAUSES, StopReason } from '../outcomes.js';
import type { Answered, DlqClient } from '../qstash/client.js';
import type { Failure, Ledger } from './ledger.js';
import { lostRerun } from './lost-answers.js';
import type { WorkerPool } from './pool.js';
import type { EngineOptions } from './target.js';

type ReadFirst = NonNullable<EngineOptions['readFirst']>;

export class PerId {
  private readonly operation: Operation;
  private readonly client: DlqClient;
  private readonly ledger: Ledger;
  private readonly pool: WorkerPool;
  private readonly readFirst: ReadFirst | undefined;

  constructor(operation: Operation, client: DlqClient, ledger: Ledger, pool: WorkerPool, readFirst?: ReadFirst) {
    this.operation = operation;
    this.client = client;
    this.ledger = ledger;
    this.pool = pool;
    this.readFirst = readFirst;
  }

  /** The same sender, handing each entry to `readFirst` before anything is changed (see EngineOptions). */
  reading(readFirst: ReadFirst): PerId {
    return new PerId(this.operation, this.client, this.ledger, this.pool, readFirst);
  }

  /** Every id alone, through the pool. */
  async sendAll(ids: readonly string[]): Promise<void> {
    await this.pool.eachId(ids, (id) => this.send(id));
  }

  async send(id: string): Promise<void> {
    const op = this.operation;
    const { ledger } = this;
    if (this.readFirst && op.changes && !(await this.readBefore(id, this.readFirst))) return;
    const result = await this.client.send(op.request(id), { idempotent: op.idempotent, stop: ledger.signal });
    if (result.kind === 'failed') {
      ledger.fail(id, lostRerun(op, result) ?? result);
      return;
    }
    if (result.status === 404 && result.mayHaveActed && op.changes) {
      // A 404 after an attempt that may have acted. A delete: that attempt most likely did it (the lost-response
      // rule). A re-run (never resent, so this should not happen): only an answer for it counts, so a lost answer.
      const lost = op.redrive
        ? lostRerun(op, { cause: 'answer-lost', reason: 'the answer to a re-run was lost' })
        : undefined;
      if (lost === undefined) ledger.settle(id, { kind: 'done', inferred: true });
      else ledger.fail(id, lost);
      return;
    }
    if (result.status === 404) {
      ledger.settle(id, { kind: 'not-found' });
      return;
    }
    if (this.readFirst && !op.changes) {
      // A dry run or a report: its own GET answer is the entry; one that cannot be handed over is not claimed.
      const failure = await this.handOver(id, result, this.readFirst, 'its entry could not be read');
      if (failure !== undefined) {
        ledger.fail(id, failure);
        return;
      }
    }
    const settled = op.answer(result.status, result.body);
    if (settled.kind === 'failed') {
      // A 2xx that does not confirm the re-run (no new run id: a proxy's page, the wrong host) is not a re-run.
      const lost = lostRerun(op, settled);
      if (lost === undefined) ledger.settle(id, settled);
      else ledger.fail(id, lost);
      return;
    }
    if (settled.kind !== 'done' || op.cleanUp === undefined) {
      ledger.settle(id, settled);
      return;
    }
    const removal = await this.client.send(op.cleanUp(id), { idempotent: true, stop: ledger.signal });
    if (removal.kind === 'answered') {
      // 404: the re-run took the entry out of the DLQ already; 200: it stayed, and is gone now.
      ledger.settle(id, { ...settled, deletedAfter: true });
    } else {
      ledger.settle(id, { ...settled, deleteAfterFailed: removal.reason });
    }
  }

  /**
   * Reads the entry and hands it to `readFirst`. True when the change may be sent; otherwise the id is settled: not
   * found (404), or failed and unchanged (`unread`; a stop of the whole run keeps its own cause, which says why).
   */
  private async readBefore(id: string, readFirst: ReadFirst): Promise<boolean> {
    const { ledger } = this;
    const unchanged = 'nothing was changed';
    const read = await this.client.send(entryRead(this.operation.dlq, id), { idempotent: true, stop: ledger.signal });
    if (read.kind === 'failed') {
      // A GET changes nothing, so nothing may have acted, whatever the attempts met.
      const cause = STOP_CAUSES.has(read.cause) ? read.cause : 'unread';
      ledger.fail(id, { cause, reason: `its entry could not be read first (${read.reason}): ${unchanged}` });
      return false;
    }
    if (read.status === 404) {
      ledger.settle(id, { kind: 'not-found' });
      return false;
    }
    const failure = await this.handOver(id, read, readFirst, 'its entry could not be read first');
    if (failure !== undefined) {
      ledger.fail(id, { ...failure, reason: `${failure.reason}: ${unchanged}` });
      return false;
    }
    if (ledger.signal.aborted) {
      // Stopped while the entry was handed over: the change is not sent.
      const why = ledger.signal.reason;
      const cause = why instanceof StopReason ? why.kind : 'cancelled';
      ledger.fail(id, { cause, reason: `not sent: ${why instanceof Error ? why.message : 'the run stopped'}` });
      return false;
    }
    return true;
  }

  /** Hands a 2xx answer's entry to `readFirst`; the failure (`unread`) when it is no entry or the call throws. */
  private async handOver(
    id: string,
    answer: Answered,
    readFirst: ReadFirst,
    what: string,
  ): Promise<Failure | undefined> {
    const record = entryRecord(id, answer);
    if (typeof record === 'string') return { cause: 'unread', reason: `${what}: ${record}` };
    try {
      await readFirst(id, record);
      return undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { cause: 'unread', reason: `${what}: handing it over failed (${message})` };
    }
  }
}

/** The entry a GET answered, or why the answer is none: cut at the limit, not JSON, not an object, another id. */
function entryRecord(id: string, answer: Answered): Record<string, unknown> | string {
  if (answer.truncated) return `HTTP ${answer.status} with more than ${ENTRY_BODY_LIMIT} bytes`;
  let record: unknown;
  try {
    record = JSON.parse(answer.body);
  } catch {
    return `HTTP ${answer.status} whose body is not JSON (${answer.body.length} bytes)`;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return `HTTP ${answer.status} whose body is not a JSON object`;
  }
  const dlqId = (record as { dlqId?: unknown }).dlqId;
  // A body naming another entry is not this one's (a catch-all host, a proxy's cache).
  if (dlqId !== undefined && dlqId !== id) return `HTTP ${answer.status} for another entry than this id`;
  // A body that is no DLQ entry at all (`{}` from a proxy or a catch-all host) proves nothing about this id. Every
  // entry names its id or its run or message (the QStash schema gives no dlqId on an entry read by id).
  const { messageId, workflowRunId } = record as { messageId?: unknown; workflowRunId?: unknown };
  const named = typeof messageId === 'string' || typeof workflowRunId === 'string';
  if (dlqId === undefined && !named)
    return `HTTP ${answer.status} whose body is no DLQ entry (no dlqId, run or message id)`;
  return record as Record<string, unknown>;
}
