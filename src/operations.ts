/**
 * Every DLQ operation, described once: its requests, how each answer maps to an outcome, whether an attempt whose
 * answer was lost may be sent again, and its words. The core (engine/), the client and the report know nothing
 * else about what an operation does. Adding one means a description here, its choice in action.yml, the emulator
 * and tests.
 */
import { deduplicatedReason, readRetryItem } from './dedup.js';
import type { Settled } from './outcomes.js';
import { bulkDeletePath, entryPath, PAGE_SIZE, type DlqKind } from './qstash/paths.js';
import type { Exchange } from './qstash/transport.js';
import { readNewRun } from './verify.js';

export const OPERATION_NAMES = ['delete', 'restart', 'resume', 'retry', 'retry-callback', 'report'] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

/** What a counting bulk call's 2xx answer says. */
export interface BulkAnswer {
  /** How many entries the call acted on; undefined when the answer has no usable count. */
  readonly count?: number;
  /** The answer shows the server ignored the ids sent and acted on "whatever matches" instead. */
  readonly ignoredIds: boolean;
}

/** A bulk form whose answer is a count only (`{deleted: n}`): reconciled id by id when the count is not exact. */
export interface CountingBulk {
  readonly maxIds: number;
  request(ids: readonly string[]): Exchange;
  read(body: string): BulkAnswer;
}

export interface Words {
  /** "remove", "resume": for "would remove". */
  readonly verb: string;
  /** "Removed", "Resumed", "Would remove". */
  readonly past: string;
  /** "Deleting", "Resuming", "Probing". */
  readonly doing: string;
  /** The output holding the ids carried out: removed, redriven, would-remove, would-redrive. */
  readonly output: DoneOutput;
  /** "removed", "resumed", "would be removed": the summary's name for the ids carried out. */
  readonly outcome: string;
  /** "deleted", "resumed", "probed": for "3 ids were not deleted". */
  readonly participle: string;
}

/** 'found': a report's entries that exist, which no list output holds (entries-count counts them). */
export type DoneOutput = 'removed' | 'redriven' | 'would-remove' | 'would-redrive' | 'found';

export interface Operation {
  readonly name: OperationName | 'probe' | 'report';
  readonly dlq: DlqKind;
  /** Whether an attempt that may have reached the server may be sent again (a delete may; a re-run never). */
  readonly idempotent: boolean;
  /** Whether it re-runs entries (redrive): new-runs, at-most-once, and the lost-answer look-up apply. */
  readonly redrive: boolean;
  /** Whether it changes anything at all (a probe does not). */
  readonly changes: boolean;
  request(id: string): Exchange;
  /** What a 2xx answer means for the id (404 always means not found). */
  answer(status: number, body: string): Settled;
  readonly bulk?: CountingBulk;
  /**
   * A request sent after each confirmed success (delete-after-redrive: the entry, once re-run). Its answer also
   * tells whether re-run entries leave the DLQ (404) or stay (200).
   */
  readonly cleanUp?: (id: string) => Exchange;
  readonly words: Words;
}

/** Re-run settings sent as headers with every re-run request. */
export type RedriveHeaders = Readonly<Record<string, string>>;

/** The answer's JSON, or undefined when it is none: parsed once, and every field read from it. */
function parsed(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** A non-empty string field of a parsed answer. */
function textField(data: unknown, field: string): string | undefined {
  const value = data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const deleteWords: Words = {
  verb: 'delete',
  past: 'Removed',
  doing: 'Deleting',
  output: 'removed',
  outcome: 'removed',
  participle: 'deleted',
};

/** `DELETE /v2/.../dlq/{id}`: 200 removed; bulk `DELETE ?dlqIds=` answers a count. */
function deleteOperation(dlq: DlqKind): Operation {
  return {
    name: 'delete',
    dlq,
    idempotent: true,
    redrive: false,
    changes: true,
    request: (id) => ({ method: 'DELETE', path: entryPath(dlq, id) }),
    answer: () => ({ kind: 'done' }),
    bulk: {
      maxIds: PAGE_SIZE,
      request: (ids) => ({ method: 'DELETE', path: bulkDeletePath(dlq, ids), wantsBody: true }),
      read: (body) => {
        let count: number | undefined;
        try {
          const deleted = (JSON.parse(body) as { deleted?: unknown } | null)?.deleted;
          if (typeof deleted === 'number' && Number.isInteger(deleted) && deleted >= 0) count = deleted;
        } catch {
          count = undefined;
        }
        // Upstash documents the Workflow DLQ's bulk-delete cursor as present only without dlqIds: an answer with
        // one means the server took the call as "delete what matches".
        const ignoredIds = dlq === 'workflow' && /"cursor"\s*:\s*"[^"]/u.test(body);
        return { ...(count !== undefined && { count }), ignoredIds };
      },
    },
    words: deleteWords,
  };
}

interface RedriveSpec {
  readonly name: Exclude<OperationName, 'delete'>;
  readonly dlq: DlqKind;
  /** The path segment before the id: restart, resume, callback, retry. */
  readonly action: string;
  /** The answer's field holding the new run or message id. */
  readonly newIdField: string;
  readonly verb: string;
  readonly past: string;
  readonly doing: string;
  readonly participle: string;
}

const REDRIVES: readonly RedriveSpec[] = [
  {
    name: 'restart',
    dlq: 'workflow',
    action: 'restart',
    newIdField: 'workflowRunId',
    verb: 'restart',
    past: 'Restarted',
    doing: 'Restarting',
    participle: 'restarted',
  },
  {
    name: 'resume',
    dlq: 'workflow',
    action: 'resume',
    newIdField: 'workflowRunId',
    verb: 'resume',
    past: 'Resumed',
    doing: 'Resuming',
    participle: 'resumed',
  },
  {
    name: 'retry-callback',
    dlq: 'workflow',
    action: 'callback',
    newIdField: 'workflowRunId',
    verb: 're-run the failure callback of',
    past: 'Callbacks re-run',
    doing: 'Re-running failure callbacks',
    participle: 'callback re-run',
  },
  {
    name: 'retry',
    dlq: 'qstash',
    action: 'retry',
    newIdField: 'messageId',
    verb: 'retry',
    past: 'Retried',
    doing: 'Retrying',
    participle: 'retried',
  },
];

/**
 * `POST /v2/.../dlq/{action}/{id}`: 2xx with the new run's (or message's) id. Never idempotent: a re-run that may
 * have started is never sent again. The bulk forms are not used: their answers do not say which entry became
 * which run.
 */
function redriveOperation(spec: RedriveSpec, headers: RedriveHeaders, deleteAfter: boolean): Operation {
  return {
    ...(deleteAfter && { cleanUp: (id: string): Exchange => ({ method: 'DELETE', path: entryPath(spec.dlq, id) }) }),
    name: spec.name,
    dlq: spec.dlq,
    idempotent: false,
    redrive: true,
    changes: true,
    request: (id) => ({
      method: 'POST',
      path: entryPath(spec.dlq, id, spec.action),
      headers,
      wantsBody: true,
    }),
    answer: (status, body) => {
      const data = parsed(body);
      if (spec.name === 'retry') {
        // A retry answered as a duplicate delivered nothing: not a redrive, and never resent (dedup.ts).
        const retried = readRetryItem(data);
        if (retried.kind === 'deduplicated') {
          return { kind: 'failed', cause: 'deduplicated', reason: deduplicatedReason(retried.messageId) };
        }
        if (retried.kind === 'unreadable') {
          // Neither a new message nor a duplicate for sure: the retry may have been delivered, and is never resent.
          return {
            kind: 'failed',
            cause: 'answer-lost',
            reason: `HTTP ${status}, but ${retried.reason}: the answer does not confirm the retry`,
            mayHaveActed: true,
          };
        }
      }
      const newRun = textField(data, spec.newIdField);
      if (newRun !== undefined) {
        // What the logs know the new run by: its id and creation time (a resume may keep the run id).
        const created = spec.dlq === 'workflow' ? readNewRun(data)?.workflowCreatedAt : undefined;
        return { kind: 'done', newRun, ...(created !== undefined && { newRunCreatedAt: created }) };
      }
      // A 2xx without the documented id (a proxy's page, a catch-all host): it does not confirm a re-run.
      return {
        kind: 'failed',
        cause: 'answer-lost',
        reason: `HTTP ${status} without a ${spec.newIdField}: the answer does not confirm the ${spec.verb}`,
        mayHaveActed: true,
      };
    },
    words: {
      verb: spec.verb,
      past: spec.past,
      doing: spec.doing,
      output: 'redriven',
      outcome: spec.participle,
      participle: spec.participle,
    },
  };
}

/** The DLQs an operation works on. */
export function dlqsOf(name: OperationName): readonly DlqKind[] {
  if (name === 'delete' || name === 'report') return ['workflow', 'qstash'];
  return REDRIVES.filter((spec) => spec.name === name).map((spec) => spec.dlq);
}

export interface RedriveOptions {
  readonly headers?: RedriveHeaders;
  /** Delete each entry once its re-run is confirmed (so that re-running the job cannot re-run it again). */
  readonly deleteAfter?: boolean;
}

export function operationFor(name: OperationName, dlq: DlqKind, options: RedriveOptions = {}): Operation {
  if (name === 'delete') return deleteOperation(dlq);
  if (name === 'report') return reportFor(dlq);
  const spec = REDRIVES.find((candidate) => candidate.name === name && candidate.dlq === dlq);
  if (!spec) throw new Error(`operation ${name} does not exist for the ${dlq} DLQ`);
  return redriveOperation(spec, options.headers ?? {}, options.deleteAfter === true);
}

/**
 * The most of an entry read by a `GET` of it (dry runs, reports, the read before a change). An entry holds the
 * failed request's body and the response's (a message may be several megabytes on paid plans, and base64 adds a
 * third); past this the entry cannot be exported, and an id that must be read first fails, unchanged.
 */
export const ENTRY_BODY_LIMIT = 4 * 1024 * 1024;

/** `GET /v2/.../dlq/{id}`, its body read (up to ENTRY_BODY_LIMIT): the entry as the server holds it. */
export function entryRead(dlq: DlqKind, id: string): Exchange {
  return { method: 'GET', path: entryPath(dlq, id), wantsBody: true, maxBodyBytes: ENTRY_BODY_LIMIT };
}

/**
 * The dry run of an operation: `GET /v2/.../dlq/{id}`, 200 exists (would be carried out), 404 not found. Changes
 * nothing, so it may always be retried. The body is read (bounded), so that the answer can be exported.
 */
export function probeFor(real: Operation): Operation {
  // A dry run of a report is the report.
  if (real.name === 'report') return real;
  const verb = real.words.verb === 'delete' ? 'remove' : real.words.verb;
  const output: DoneOutput = real.redrive ? 'would-redrive' : 'would-remove';
  return {
    ...reading(real.dlq),
    name: 'probe',
    words: {
      verb: real.words.verb,
      past: `Dry run: would ${verb}`,
      doing: 'Probing',
      output,
      outcome: `would ${verb}`,
      participle: 'probed',
    },
  };
}

/**
 * `operation: report`: reads each entry and changes nothing (`GET` only, so a read-only token works), 200 found,
 * 404 not found. Its found ids are counted (entries-count), not listed in an output: a whole DLQ does not fit in one.
 */
export function reportFor(dlq: DlqKind): Operation {
  return {
    ...reading(dlq),
    name: 'report',
    words: {
      verb: 'report',
      past: 'Found',
      doing: 'Reading',
      output: 'found',
      outcome: 'found',
      participle: 'read',
    },
  };
}

/** What every reading operation shares: one bounded `GET` per id, never a change, always safe to retry. */
function reading(dlq: DlqKind): Omit<Operation, 'name' | 'words'> {
  return {
    dlq,
    idempotent: true,
    redrive: false,
    changes: false,
    request: (id) => entryRead(dlq, id),
    answer: () => ({ kind: 'done' }),
  };
}

export class OverrideError extends Error {
  override name = 'OverrideError';
}

/** A re-run setting given as an input and sent as a header of every re-run request. */
export interface Override {
  readonly input: string;
  readonly header: string;
  /** Returns the header value, or throws an OverrideError naming the input, the value and what is accepted. */
  parse(raw: string): string;
}

// Header values travel as they are: printable ASCII only, so that nothing can split or smuggle a header.
const PRINTABLE = /^[\x20-\x7e]+$/u;

function text(input: string, what: string, max = 256): (raw: string) => string {
  return (raw) => {
    const value = raw.trim();
    if (!PRINTABLE.test(value) || value.length > max) {
      throw new OverrideError(
        `${input}: ${JSON.stringify(raw)} is not accepted. Accepted: ${what}, printable ASCII, at most ${max} characters.`,
      );
    }
    return value;
  };
}

/** Upstash's documented re-run overrides (see the redrive section of the README). */
export const REDRIVE_OVERRIDES: readonly Override[] = [
  {
    input: 'redrive-retries',
    header: 'Upstash-Retries',
    parse: (raw) => {
      const value = raw.trim();
      if (!/^\d{1,3}$/u.test(value) || Number(value) > 100) {
        throw new OverrideError(
          `redrive-retries: ${JSON.stringify(raw)} is not accepted. Accepted: a whole number from 0 to 100 (your plan may allow fewer).`,
        );
      }
      return String(Number(value));
    },
  },
  {
    input: 'redrive-delay',
    header: 'Upstash-Delay',
    parse: (raw) => {
      const value = raw.trim();
      if (!/^\d{1,9}[smhd]$/u.test(value)) {
        throw new OverrideError(
          `redrive-delay: ${JSON.stringify(raw)} is not accepted. Accepted: a whole number and s, m, h or d, such as 10s, 5m, 2h, 1d.`,
        );
      }
      return value;
    },
  },
  {
    input: 'redrive-retry-delay',
    header: 'Upstash-Retry-Delay',
    parse: text('redrive-retry-delay', 'an expression in milliseconds such as pow(2, retried) * 1000'),
  },
  {
    input: 'redrive-flow-control-key',
    header: 'Upstash-Flow-Control-Key',
    parse: text('redrive-flow-control-key', 'a flow control key'),
  },
  {
    input: 'redrive-flow-control-value',
    header: 'Upstash-Flow-Control-Value',
    parse: (raw) => {
      const value = raw.trim();
      const parts = value.split(',').map((part) => part.trim());
      if (!PRINTABLE.test(value) || !parts.every((part) => /^(?:parallelism|rate|period)=[\w.]+$/u.test(part))) {
        throw new OverrideError(
          `redrive-flow-control-value: ${JSON.stringify(raw)} is not accepted. Accepted: comma-separated parallelism=N, rate=N, period=D, such as "parallelism=2, rate=10, period=1m".`,
        );
      }
      return parts.join(', ');
    },
  },
  { input: 'redrive-label', header: 'Upstash-Label', parse: text('redrive-label', 'a label') },
  {
    input: 'redrive-failure-callback',
    header: 'Upstash-Failure-Callback',
    parse: (raw) => {
      const value = raw.trim();
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
      if (!url || !/^https?:$/u.test(url.protocol) || !PRINTABLE.test(value) || value.length > 2048) {
        throw new OverrideError(
          `redrive-failure-callback: ${JSON.stringify(raw)} is not accepted. Accepted: an http(s) URL.`,
        );
      }
      return value;
    },
  },
];

/**
 * Reads the override inputs into headers. They apply to re-runs only; with delete, giving one is refused. With no
 * operation (it was refused), the values are still checked, so that every problem is reported at once.
 */
export function readRedriveHeaders(
  input: (name: string) => string,
  operation: OperationName | undefined,
): RedriveHeaders {
  const headers: Record<string, string> = {};
  const problems: string[] = [];
  const given = REDRIVE_OVERRIDES.filter((override) => input(override.input).trim() !== '');
  if (given.length > 0 && (operation === 'delete' || operation === 'report')) {
    throw new OverrideError(
      `${given.map((o) => o.input).join(', ')}: re-run settings, but operation is ${operation}. Accepted: with operation restart, resume, retry or retry-callback.`,
    );
  }
  for (const override of given) {
    try {
      headers[override.header] = override.parse(input(override.input));
    } catch (error) {
      if (!(error instanceof OverrideError)) throw error;
      problems.push(error.message);
    }
  }
  const key = 'Upstash-Flow-Control-Key' in headers;
  const value = 'Upstash-Flow-Control-Value' in headers;
  if (problems.length === 0 && key !== value) {
    problems.push(
      `redrive-flow-control-key and redrive-flow-control-value go together: ${key ? 'the value' : 'the key'} is missing. Accepted: both, or neither.`,
    );
  }
  if (problems.length > 0) throw new OverrideError(problems.join('\n- '));
  return headers;
}
