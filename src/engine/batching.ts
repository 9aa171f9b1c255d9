/** Groups ids into bulk calls: at most so many ids, and a query short enough for any server or proxy. */
import { PAGE_SIZE, queryCost } from '../qstash/paths.js';

/** Bulk calls keep their query under this many characters, for any server or proxy on the way. */
const MAX_QUERY_CHARS = 6000;

/** The ids of one bulk call. */
export interface Batch {
  readonly ids: readonly string[];
  /** Whether the listing showed these ids: a bulk delete of them should count them all. */
  readonly listed: boolean;
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
