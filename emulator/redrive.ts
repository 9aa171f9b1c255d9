/**
 * The re-runs: restart, resume and failure-callback retry (Workflow DLQ), retry (message DLQ), per id and bulk; what
 * each does to the entry, when it refuses one, how each DLQ answers, and the override headers they all accept.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest, json, notFound, someNotFound, withCursor } from './answers.ts';
import type { Behaviour, World } from './operations.ts';
import {
  callbackState,
  idsParam,
  pageCount,
  setCallbackState,
  type DlqEntry,
  type DlqKind,
  type RerunOperation,
} from './store.ts';

/**
 * What a bulk redrive (`POST /v2/workflows/dlq/restart|resume`, `POST /v2/dlq/retry`) does with `dlqIds` that are not
 * in the DLQ. Upstash's API documents list a 404 "Some DLQ messages were not found" for these routes without saying
 * whether the ids that were found are re-run.
 * - 'reject' (default): 404, nothing re-run.
 * - 'partial': the found ones are re-run, then 404 (the caller cannot tell what happened).
 * - 'ignore': unknown ids are skipped, 200/201 with the runs made.
 */
export type RedriveMissing = 'reject' | 'partial' | 'ignore';

/**
 * Workflow bulk restart/resume re-run at most this many runs per request. Upstash documents (bulk restart): "A maximum
 * of 50 workflow runs can be restarted per request. If more runs are available, a cursor is returned". The emulator
 * follows that for more than 50 `dlqIds` too: it processes the first 50 and returns a cursor (no 400), and applies
 * it to bulk resume as well.
 */
export const WORKFLOW_BULK_REDRIVE_LIMIT = 50;

/** The new run (or message) a re-run answers with. */
interface Run {
  newId: string;
  createdAt: number;
  /** Message DLQ only: QStash deduplicated the retry (`newId` is then the old message's id). */
  deduplicated?: boolean;
}

/** How one DLQ answers its re-runs: the same for every operation on it. */
interface RedriveAnswers {
  readonly status: number;
  /** Runs per bulk request: the default and the maximum of `count`. */
  readonly bulkLimit: number;
  /** Whether named ids are also taken `bulkLimit` at a time (the cursor then indexes the list), or all at once. */
  readonly pagesIds: boolean;
  one(run: Run): Record<string, unknown>;
  many(runs: readonly Run[]): Record<string, unknown>;
}

const workflowRun = (run: Run): Record<string, unknown> => ({
  workflowRunId: run.newId,
  workflowCreatedAt: run.createdAt,
});

/** Workflow DLQ: 200 `{workflowRunId, workflowCreatedAt}`; bulk 200 `{workflowRuns: [...], cursor?}`, 50 at most. */
const WORKFLOW_ANSWERS: RedriveAnswers = {
  status: 200,
  bulkLimit: WORKFLOW_BULK_REDRIVE_LIMIT,
  pagesIds: true,
  one: workflowRun,
  many: (runs) => ({ workflowRuns: runs.map(workflowRun) }),
};

/**
 * Message DLQ: 201 `{messageId}`; bulk 201 `{responses: [{messageId}], cursor?}`, every named id at once (the
 * documents give no limit), by filter `count` (default and max 100) per request.
 */
const MESSAGE_ANSWERS: RedriveAnswers = {
  status: 201,
  bulkLimit: 100,
  pagesIds: false,
  one: (run) => publishResponse(run),
  many: (runs) => ({ responses: runs.map(publishResponse) }),
};

/** A PublishResponse: `{messageId}`, with `deduplicated: true` when QStash deduplicated the message. */
function publishResponse(run: Run): Record<string, unknown> {
  return run.deduplicated ? { messageId: run.newId, deduplicated: true } : { messageId: run.newId };
}

/** One kind of re-run: which DLQ, why an entry may be refused, and what re-running does to it. */
export interface Redrive {
  readonly operation: RerunOperation;
  readonly dlq: DlqKind;
  readonly answers: RedriveAnswers;
  /** Why this entry cannot be re-run this way (a 400), or undefined. */
  refusal(entry: DlqEntry): string | undefined;
  /** Re-runs the entry: changes the store as Upstash would, and returns the run to answer with. */
  perform(world: World, entry: DlqEntry, at: number): Run;
}

/**
 * restart/resume: a new run `wfr_rerun_<n>` (a resume keeps the failed run's id with `runs.resumeKeepsRunId`), whose
 * outcome the run log's rule decides (runs.ts); the entry leaves the Workflow DLQ only with `redriveRemoves.workflow`.
 */
function newWorkflowRun(world: World, entry: DlqEntry, at: number, operation: 'restart' | 'resume'): Run {
  const { store } = world;
  if (world.redriveRemoves.workflow) store.delete('workflow', entry.dlqId);
  const keepsId = operation === 'resume' && store.runs.resumeKeepsRunId && typeof entry.workflowRunId === 'string';
  const newId = keepsId ? (entry.workflowRunId as string) : store.newRunId('wfr');
  store.runs.start(entry, operation, newId, at);
  return { newId, createdAt: at };
}

export const RESTART: Redrive = {
  operation: 'restart',
  dlq: 'workflow',
  answers: WORKFLOW_ANSWERS,
  refusal: (entry) => (entry.restartable === false ? "workflow run can't be restarted" : undefined),
  perform: (world, entry, at) => newWorkflowRun(world, entry, at, 'restart'),
};

export const RESUME: Redrive = {
  operation: 'resume',
  dlq: 'workflow',
  answers: WORKFLOW_ANSWERS,
  refusal: (entry) => (entry.resumable === false ? "workflow run can't be resumed" : undefined),
  perform: (world, entry, at) => newWorkflowRun(world, entry, at, 'resume'),
};

/**
 * callback: the documents describe the answer as "the ID of the workflow run" (not a new one), so the run's own id
 * and creation time are returned. The entry stays in the DLQ (the run itself still failed) and its failure callback
 * state becomes CALLBACK_INPROGRESS, as the documents say a retried callback does; a second retry of the same entry
 * is therefore a 400.
 */
export const CALLBACK: Redrive = {
  operation: 'callback',
  dlq: 'workflow',
  answers: WORKFLOW_ANSWERS,
  refusal: (entry) => {
    const state = callbackState(entry);
    return state === 'CALLBACK_FAIL'
      ? undefined
      : `failure callback is not in a failed state (${String(state ?? 'none')})`;
  },
  perform: ({ store }, entry, at) => {
    setCallbackState(entry, 'CALLBACK_INPROGRESS');
    return {
      newId: typeof entry.workflowRunId === 'string' ? entry.workflowRunId : store.newRunId('wfr'),
      createdAt: typeof entry.workflowCreatedAt === 'number' ? entry.workflowCreatedAt : at,
    };
  },
};

/**
 * retry: a new message `msg_rerun_<n>`; the entry always leaves the message DLQ (documented). When the test's
 * `retryDeduplicates` says so, QStash deduplicated it instead: the answer is 201 with the old message id and
 * `deduplicated: true` (nothing delivered, as the QStash document describes a PublishResponse), and the entry stays
 * (the documents do not say; nothing new was created to replace it).
 */
export const RETRY: Redrive = {
  operation: 'retry',
  dlq: 'qstash',
  answers: MESSAGE_ANSWERS,
  refusal: () => undefined,
  perform: ({ store, retryDeduplicates }, entry, at) => {
    if (retryDeduplicates(entry.dlqId)) {
      const old = typeof entry.messageId === 'string' ? entry.messageId : entry.dlqId;
      return { newId: old, createdAt: at, deduplicated: true };
    }
    store.delete('qstash', entry.dlqId);
    return { newId: store.newRunId('msg'), createdAt: at };
  },
};

/** Performs one re-run and logs it. */
function rerun(world: World, redrive: Redrive, entry: DlqEntry, headers: Record<string, string>, bulk: boolean): Run {
  const at = Date.now();
  const run = redrive.perform(world, entry, at);
  world.store.reruns.push({
    dlq: redrive.dlq,
    operation: redrive.operation,
    dlqId: entry.dlqId,
    newId: run.newId,
    headers,
    bulk,
    at,
  });
  return run;
}

/** `POST /v2/workflows/dlq/{restart,resume,callback}/{dlqId}`, `POST /v2/dlq/retry/{dlqId}`. */
export const redriveOne =
  (redrive: Redrive): Behaviour =>
  (world, { id, headers }) => {
    const overrides = redriveHeaders(headers);
    if (typeof overrides === 'string') return badRequest(overrides);
    const entry = world.store.get(redrive.dlq, id);
    if (!entry) return notFound();
    const refusal = redrive.refusal(entry);
    if (refusal) return badRequest(refusal);
    const run = rerun(world, redrive, entry, overrides, false);
    return json(redrive.answers.status, redrive.answers.one(run));
  };

/**
 * `POST /v2/workflows/dlq/{restart,resume}` and `POST /v2/dlq/retry`: `dlqIds` (repeated key or comma-separated; then
 * the filters are ignored) or filters + `cursor` + `count`; no ids and no filter means every entry, as for bulk delete.
 *
 * - At most `bulkLimit` runs per request, fewer with `count`. Where the DLQ pages named ids (the Workflow DLQ), the
 *   batch is the next `bulkLimit` ids of the (de-duplicated) list from the cursor, which is then an index into that
 *   list; with filters, pages as a listing does (per `cursorMode`).
 * - A named id that cannot be re-run this way is a 400 (nothing re-run); by filter, such entries are skipped.
 * - Named ids not in the DLQ: per `redriveMissing`, judged on the current batch.
 * - The message DLQ document lists no `cursor` or `count` parameter for bulk retry (only a `cursor` in the answer);
 *   @upstash/qstash sends both, and the emulator honours them.
 * No entry is re-run twice by one request (repeated ids count once).
 */
export const redriveBulk =
  (redrive: Redrive): Behaviour =>
  (world, { query, headers }) => {
    const overrides = redriveHeaders(headers);
    if (typeof overrides === 'string') return badRequest(overrides);
    const { answers } = redrive;
    const limit = pageCount(query.get('count'), answers.bulkLimit, answers.bulkLimit);

    let batch: DlqEntry[];
    let cursor: string | undefined;
    let missing = false;
    const ids = [...new Set(idsParam(query))];
    if (ids.length > 0) {
      let slice = ids;
      if (answers.pagesIds) {
        const start = Math.max(0, Math.floor(Number(query.get('cursor') ?? 0) || 0));
        slice = ids.slice(start, start + limit);
        if (start + limit < ids.length) cursor = String(start + limit);
      }
      batch = [];
      for (const id of slice) {
        const entry = world.store.get(redrive.dlq, id);
        if (entry) batch.push(entry);
        else missing = true;
      }
      if (missing && world.redriveMissing === 'reject') return someNotFound();
      const refused = batch.find((entry) => redrive.refusal(entry));
      if (refused) return badRequest(`${refused.dlqId}: ${redrive.refusal(refused)}`);
    } else {
      const page = world.store.page(redrive.dlq, query, limit, world.cursorMode);
      batch = page.entries.filter((entry) => !redrive.refusal(entry));
      cursor = page.cursor;
    }

    const runs = batch.map((entry) => rerun(world, redrive, entry, overrides, true));
    if (missing && world.redriveMissing === 'partial') return someNotFound();
    return json(answers.status, withCursor(answers.many(runs), cursor));
  };

/** The override headers the redrive endpoints document. */
const REDRIVE_HEADERS = [
  'upstash-retries',
  'upstash-delay',
  'upstash-retry-delay',
  'upstash-flow-control-key',
  'upstash-flow-control-value',
  'upstash-label',
  'upstash-failure-callback',
];

/**
 * The Upstash-* override headers of a redrive request, names lower-cased, or the reason (a 400) they are invalid.
 * Checked: Upstash-Retries is a non-negative integer; Upstash-Delay is `<n><unit>` (ms, s, m, h, d); the flow control
 * key and value come together and the value is `parallelism=…, rate=…, period=…` (any of them); Upstash-Failure-Callback
 * is an http(s) URL; none is empty.
 */
function redriveHeaders(headers: IncomingHttpHeaders): Record<string, string> | string {
  const found: Record<string, string> = {};
  for (const name of REDRIVE_HEADERS) {
    const value = headers[name];
    if (value === undefined) continue;
    found[name] = (Array.isArray(value) ? value.join(', ') : value).trim();
    if (found[name] === '') return `${name} is empty`;
  }
  const retries = found['upstash-retries'];
  if (retries !== undefined && !/^\d+$/.test(retries)) return 'Upstash-Retries must be a non-negative integer';
  const delay = found['upstash-delay'];
  if (delay !== undefined && !/^\d+(ms|s|m|h|d)$/.test(delay)) return 'Upstash-Delay must look like 10s or 5m';
  const key = found['upstash-flow-control-key'];
  const value = found['upstash-flow-control-value'];
  if ((key === undefined) !== (value === undefined)) {
    return 'Upstash-Flow-Control-Key and Upstash-Flow-Control-Value go together';
  }
  if (value !== undefined && !value.split(',').every((part) => /^(parallelism|rate|period)=\S+$/.test(part.trim()))) {
    return 'Upstash-Flow-Control-Value must be parallelism=<n>, rate=<n>, period=<duration>';
  }
  const callback = found['upstash-failure-callback'];
  if (callback !== undefined && !/^https?:\/\/[^\s/]+/.test(callback)) {
    return 'Upstash-Failure-Callback must be an http(s) URL';
  }
  return found;
}
