/**
 * The export: one JSON line per selected entry, written before anything is changed, so that a cleanup that dies
 * half-way still leaves what it was about to change. What a line may hold is decided here (sanitizeRecord): the
 * fields the server gave, header values replaced by a marker (names kept), bodies only when asked for, and no secret
 * the step knows anywhere. The file (ExportWriter) is private to the job (0600, a fresh name, never overwritten).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DlqKind } from './qstash/paths.js';

/** What every header value becomes: header names say what a request carried, their values may be credentials. */
export const HEADER_MARKER = '[redacted]';
/** What a value nested deeper than MAX_EXPORT_DEPTH becomes. */
export const DEPTH_MARKER = '[cut: nested too deep]';
/**
 * Levels of nesting kept. DLQ entries are two or three levels deep (`failureCallbackInfo.responseHeaders.X[0]`);
 * anything deeper is not an entry field, and a hostile answer nested 10,000 levels must not cost the stack.
 */
export const MAX_EXPORT_DEPTH = 20;

/**
 * Fields holding a request's or a response's body, compared lower-cased at any depth (`body`, `responseBody`,
 * `failureCallbackInfo.responseBody`, and their base64 forms). Both DLQs name them the same.
 */
const BODY_FIELDS: Readonly<Record<DlqKind, ReadonlySet<string>>> = {
  workflow: new Set(['body', 'bodybase64', 'responsebody', 'responsebodybase64']),
  qstash: new Set(['body', 'bodybase64', 'responsebody', 'responsebodybase64']),
};

export interface SanitizeOptions {
  /** Keep bodies (`export: entries-with-bodies`), with every known secret removed from them. */
  readonly bodies: boolean;
  /** Removes every secret the step knows from a text. */
  readonly redact: (text: string) => string;
}

/**
 * The line an entry becomes: every key and string redacted, every header-valued field (any key whose name holds
 * "header", whatever its case) with its names kept and its values replaced by HEADER_MARKER, bodies left out unless
 * `bodies`, nesting cut at MAX_EXPORT_DEPTH. Keys such as `__proto__` stay plain data: the result is built from
 * null-prototype objects with defined properties, never by assignment.
 */
export function sanitizeRecord(
  dlq: DlqKind,
  record: Readonly<Record<string, unknown>>,
  options: SanitizeOptions,
): Record<string, unknown> {
  return sanitizeObject(record, 1, { ...options, bodyFields: BODY_FIELDS[dlq] });
}

interface Rules extends SanitizeOptions {
  readonly bodyFields: ReadonlySet<string>;
}

function sanitizeValue(value: unknown, depth: number, rules: Rules): unknown {
  if (typeof value === 'string') return rules.redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_EXPORT_DEPTH) return DEPTH_MARKER;
  if (Array.isArray(value)) return value.map((item) => sanitizeValue(item, depth + 1, rules));
  return sanitizeObject(value as Record<string, unknown>, depth, rules);
}

function sanitizeObject(
  record: Readonly<Record<string, unknown>>,
  depth: number,
  rules: Rules,
): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    const name = key.toLowerCase();
    let kept: unknown;
    if (name.includes('header')) kept = markHeaders(value, rules);
    else if (rules.bodyFields.has(name)) {
      if (!rules.bodies) continue;
      kept = name.endsWith('base64') ? redactBase64(value, rules.redact) : sanitizeValue(value, depth + 1, rules);
    } else kept = sanitizeValue(value, depth + 1, rules);
    define(out, rules.redact(key), kept);
  }
  return out;
}

/** A header field: each name (redacted) kept, each value the marker. A field that is not an object is the marker. */
function markHeaders(value: unknown, rules: Rules): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value !== 'object' || Array.isArray(value)) return HEADER_MARKER;
  const out = Object.create(null) as Record<string, unknown>;
  for (const name of Object.keys(value)) define(out, rules.redact(name), HEADER_MARKER);
  return out;
}

/**
 * A base64 body with every secret removed from the bytes it encodes (read as Latin-1, so that each byte is one
 * character and the bytes survive the round trip; tokens are ASCII), and from the base64 text itself.
 */
function redactBase64(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value !== 'string') return typeof value === 'object' && value !== null ? DEPTH_MARKER : value;
  const bytes = Buffer.from(value, 'base64').toString('latin1');
  const clean = redact(bytes);
  return redact(clean === bytes ? value : Buffer.from(clean, 'latin1').toString('base64'));
}

/** An own, enumerable property whatever the key (`__proto__` included): never a prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The name the export file gets: unique per run, so that no file is ever overwritten or shared. */
export function exportFileName(): string {
  return `upstash-dlq-export-${randomUUID()}.jsonl`;
}

/**
 * The export file, one JSON line per entry, appended in the order `write` is called. `write` resolves once its line
 * is handed to the operating system (it survives the process dying; no fsync per line: that would cost a disk
 * flush per entry, thousands in a large run, against a crash of the machine itself). `close` flushes to disk.
 */
export class ExportWriter {
  readonly path: string;
  private handle: FileHandle | undefined;
  private readonly redact: (text: string) => string;
  /** Writes and rewrites, one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(path: string, handle: FileHandle, redact: (text: string) => string) {
    this.path = path;
    this.handle = handle;
    this.redact = redact;
  }

  /**
   * Creates the file in `dir` (RUNNER_TEMP), or in a private directory of its own when `dir` is empty: mode 0600,
   * created exclusively (`wx`), so that no other file, link or job's export is written through.
   */
  static async open(dir: string | undefined, redact: (text: string) => string): Promise<ExportWriter> {
    const base = dir !== undefined && dir !== '' ? dir : await mkdtemp(join(tmpdir(), 'upstash-dlq-export-'));
    const path = join(base, exportFileName());
    const handle = await open(path, 'wx', 0o600);
    return new ExportWriter(path, handle, redact);
  }

  /**
   * Appends one record (already sanitized) as a JSON line. The line is redacted once more as text: a secret that
   * JSON escapes differently than it reads (quotes, backslashes) must not reach the file either.
   */
  write(record: Readonly<Record<string, unknown>>): Promise<void> {
    const line = `${this.redact(JSON.stringify(record))}\n`;
    return this.enqueue(async () => {
      const handle = this.open();
      await writeAll(handle, Buffer.from(line, 'utf8'));
    });
  }

  /**
   * Rewrites the file without the lines of these dlqIds (entries that turned out not to be selected), one line at a
   * time through a temporary file in the same directory, which then replaces it: never the whole file in memory.
   */
  drop(ids: ReadonlySet<string>): Promise<void> {
    return this.enqueue(async () => {
      if (ids.size === 0) return;
      const old = this.open();
      await old.sync();
      await old.close();
      this.handle = undefined;
      const temporary = `${this.path}.${randomUUID()}.tmp`;
      const out = await open(temporary, 'wx', 0o600);
      try {
        const lines = createInterface({ input: createReadStream(this.path, 'utf8'), crlfDelay: Infinity });
        for await (const line of lines) {
          if (line === '' || ids.has(lineId(line) ?? '')) continue;
          await writeAll(out, Buffer.from(`${line}\n`, 'utf8'));
        }
        await out.sync();
      } catch (error) {
        await out.close();
        await rm(temporary, { force: true });
        this.handle = await open(this.path, 'a', 0o600);
        throw error;
      }
      await out.close();
      await rename(temporary, this.path);
      this.handle = await open(this.path, 'a', 0o600);
    });
  }

  /** Flushes and closes the file; later calls do nothing. */
  async close(): Promise<void> {
    if (this.closed) return this.queue.then(() => undefined);
    this.closed = true;
    const done = this.queue.then(async () => {
      const handle = this.handle;
      this.handle = undefined;
      if (!handle) return;
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    this.queue = done.catch(() => undefined);
    return done;
  }

  private open(): FileHandle {
    // Jobs queued before close() still run: only the handle says whether the file is open.
    if (!this.handle) throw new Error(`the export file ${this.path} is closed`);
    return this.handle;
  }

  /** Runs `job` after every earlier one; one failure does not stop the jobs after it. */
  private enqueue(job: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`the export file ${this.path} is closed`));
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The dlqId of a written line, undefined when the line is not one of ours. */
function lineId(line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as { dlqId?: unknown } | null)?.dlqId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Writes every byte: a file write may take fewer than it was given. */
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  // Each round writes at least one byte or throws, so this ends after at most bytes.length rounds.
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw new Error('the export file took no bytes');
    offset += bytesWritten;
  }
}
