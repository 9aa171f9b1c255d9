/**
 * A bounded pool of workers over a queue. Each item is its own failure boundary: an exception fails that item's
 * unsettled ids and nothing else.
 */
import { UnsafeIdError } from '../qstash/paths.js';
import type { Ledger } from './ledger.js';

/** Where workers take their items from: undefined once there are no more. */
export interface Source<T> {
  take(): Promise<T | undefined> | T | undefined;
}

/** A work queue shared by several workers; items may be added while they run, until it is closed. */
export class Queue<T> implements Source<T> {
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

export class WorkerPool {
  private readonly size: number;
  private readonly ledger: Ledger;
  /** Whether the operation changes anything: an unexpected error may then have come after it acted. */
  private readonly changes: boolean;

  constructor(size: number, ledger: Ledger, changes: boolean) {
    this.size = Math.max(1, size);
    this.ledger = ledger;
    this.changes = changes;
  }

  /** Runs `work` over the source's items, `size` at a time, until it has no more. */
  async run<T>(
    queue: Source<T>,
    idsOf: (item: T) => readonly string[],
    work: (item: T) => Promise<void>,
  ): Promise<void> {
    const worker = async (): Promise<void> => {
      for (let item = await queue.take(); item !== undefined; item = await queue.take()) {
        try {
          await work(item);
        } catch (error) {
          this.failThrown(idsOf(item), error);
        }
      }
    };
    await Promise.all(Array.from({ length: this.size }, worker));
  }

  /** Runs `work` for each id, each with its own failure boundary. */
  async eachId(ids: readonly string[], work: (id: string) => Promise<void>): Promise<void> {
    await this.run(Queue.of(ids), (id) => [id], work);
  }

  private failThrown(ids: readonly string[], error: unknown): void {
    const invalid = error instanceof UnsafeIdError;
    for (const id of ids) {
      this.ledger.fail(id, {
        cause: invalid ? 'invalid-id' : 'internal',
        reason: `${invalid ? 'not sent' : 'internal error'}: ${(error as Error)?.message ?? String(error)}`,
        mayHaveActed: !invalid && this.changes,
      });
    }
  }
}
