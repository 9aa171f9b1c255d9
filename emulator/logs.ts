/**
 * `GET /v2/workflows/logs` as Upstash's Workflow OpenAPI document describes it ("List Workflow Run Logs"): the runs
 * restart and resume created (runs.ts), and the failed runs the Workflow DLQ holds, as `WorkflowRun` objects
 * (`workflowRunId`, `workflowUrl`, `workflowState`, `workflowRunCreatedAt`, `workflowRunCompletedAt`, `dlqId` when
 * failed, `labels`, `steps`), `{cursor, runs}`; `cursor` is empty when there is no next page, as documented.
 *
 * - `workflowRuns=<runId>@<createdAt>,…`: exactly those runs, in the order asked ("when this parameter is provided,
 *   all other filters are ignored"; `count` and `cursor` still page). A pair that is not `<id>@<ms>` is a 400.
 * - Otherwise the filters `workflowRunId`, `workflowCreatedAt`, `workflowUrl`, `state`, `fromDate`/`toDate` (on the
 *   run's creation), `label`; newest first. A `state` outside the documented values is a 400 (the document lists
 *   "invalid … state" among its 400s); the STEP_* states match no run here (the emulator keeps no steps).
 * - `count`: default and maximum 1000 (event mode); `cursor`: an offset into the matching runs.
 */
import { badRequest, json } from './answers.ts';
import type { Behaviour } from './operations.ts';
import { RUN_STATES, type RunState } from './runs.ts';
import { pageCount, type DlqStore } from './store.ts';

const STEP_STATES = ['STEP_SUCCESS', 'STEP_RETRY', 'STEP_FAILED', 'STEP_PROGRESS', 'STEP_CANCELED'];
const LOGS_COUNT_LIMIT = 1000;

/** One run as the logs endpoint answers it. */
interface LoggedRun {
  workflowRunId: string;
  workflowUrl?: string;
  workflowState: RunState;
  workflowRunCreatedAt: number;
  workflowRunCompletedAt?: number;
  dlqId?: string;
  labels?: string[];
  steps: unknown[];
}

export const logs: Behaviour = ({ store }, { query }) => {
  const all = loggedRuns(store);
  let matching: LoggedRun[];
  const pairs = query.get('workflowRuns');
  if (pairs !== null) {
    const wanted = parsePairs(pairs);
    if (typeof wanted === 'string') return badRequest(wanted);
    const byKey = new Map(all.map((run) => [`${run.workflowRunId}@${run.workflowRunCreatedAt}`, run]));
    matching = [...new Set(wanted)].flatMap((key) => byKey.get(key) ?? []);
  } else {
    const state = query.get('state');
    if (state !== null && !(RUN_STATES as readonly string[]).includes(state) && !STEP_STATES.includes(state)) {
      return badRequest(`invalid state: ${state}`);
    }
    matching = all.filter(filters(query)).sort((a, b) => b.workflowRunCreatedAt - a.workflowRunCreatedAt);
  }
  const count = pageCount(query.get('count'), LOGS_COUNT_LIMIT, LOGS_COUNT_LIMIT);
  const start = Math.max(0, Math.floor(Number(query.get('cursor') ?? 0) || 0));
  const runs = matching.slice(start, start + count);
  const cursor = start + count < matching.length ? String(start + count) : '';
  return json(200, { cursor, runs });
};

/** `id@ms` pairs as `id@ms` keys, or why the parameter is invalid. */
function parsePairs(value: string): string[] | string {
  const keys: string[] = [];
  for (const pair of value.split(',')) {
    const at = pair.lastIndexOf('@');
    const id = pair.slice(0, at);
    const ms = pair.slice(at + 1);
    if (at <= 0 || !/^\d+$/.test(ms)) return `workflowRuns: "${pair}" is not <workflowRunId>@<workflowCreatedAt>`;
    keys.push(`${id}@${Number(ms)}`);
  }
  return keys;
}

/** The runs re-runs created, then the DLQ's failed runs that are not among them (the runs that failed first). */
function loggedRuns(store: DlqStore): LoggedRun[] {
  const runs: LoggedRun[] = store.runs.runs.map((run) => ({
    workflowRunId: run.workflowRunId,
    ...(run.workflowUrl !== undefined && { workflowUrl: run.workflowUrl }),
    workflowState: run.state,
    workflowRunCreatedAt: run.workflowRunCreatedAt,
    ...(run.workflowRunCompletedAt !== undefined && { workflowRunCompletedAt: run.workflowRunCompletedAt }),
    ...(run.dlqId !== undefined && { dlqId: run.dlqId }),
    ...(run.labels && { labels: [...run.labels] }),
    steps: [],
  }));
  const known = new Set(runs.map((run) => `${run.workflowRunId}@${run.workflowRunCreatedAt}`));
  for (const id of store.ids('workflow')) {
    const entry = store.get('workflow', id)!;
    const { workflowRunId, workflowCreatedAt } = entry;
    if (typeof workflowRunId !== 'string' || typeof workflowCreatedAt !== 'number') continue;
    if (known.has(`${workflowRunId}@${workflowCreatedAt}`)) continue;
    runs.push({
      workflowRunId,
      ...(typeof entry.workflowUrl === 'string' && { workflowUrl: entry.workflowUrl }),
      workflowState: 'RUN_FAILED',
      workflowRunCreatedAt: workflowCreatedAt,
      workflowRunCompletedAt: entry.createdAt,
      dlqId: entry.dlqId,
      ...(Array.isArray(entry.labels) && { labels: entry.labels.map(String) }),
      steps: [],
    });
  }
  return runs;
}

/** The filters other than `workflowRuns`, ANDed. */
function filters(query: URLSearchParams): (run: LoggedRun) => boolean {
  const checks: ((run: LoggedRun) => boolean)[] = [];
  const equal = (name: string, read: (run: LoggedRun) => unknown): void => {
    const value = query.get(name);
    if (value !== null) checks.push((run) => String(read(run)) === value);
  };
  equal('workflowRunId', (run) => run.workflowRunId);
  equal('workflowCreatedAt', (run) => run.workflowRunCreatedAt);
  equal('workflowUrl', (run) => run.workflowUrl);
  equal('state', (run) => run.workflowState);
  const from = query.get('fromDate');
  const to = query.get('toDate');
  if (from !== null) checks.push((run) => run.workflowRunCreatedAt >= Number(from));
  if (to !== null) checks.push((run) => run.workflowRunCreatedAt <= Number(to));
  const labels = query.getAll('label').flatMap((value) => value.split(','));
  if (labels.length > 0) checks.push((run) => (run.labels ?? []).some((label) => labels.includes(label)));
  return (run) => checks.every((check) => check(run));
}
