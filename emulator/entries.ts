/**
 * The behaviours of both DLQs' entries: get, delete, list, bulk delete, and cancelling a failure callback; and
 * entries carrying every documented field, for the report and the export.
 */
import { badRequest, json, notFound, withCursor } from './answers.ts';
import type { Behaviour } from './operations.ts';
import {
  callbackState,
  idsParam,
  messageEntries,
  pageCount,
  setCallbackState,
  workflowEntries,
  type DlqEntry,
  type DlqKind,
} from './store.ts';

/** `GET /…/dlq/{dlqId}`: 200 with the entry, 404 if absent. */
export const getEntry =
  (dlq: DlqKind): Behaviour =>
  ({ store }, { id }) => {
    const entry = store.get(dlq, id);
    return entry ? json(200, entry) : notFound();
  };

/** `DELETE /…/dlq/{dlqId}`: 200 with an empty body once removed, 404 if absent. */
export const deleteEntry =
  (dlq: DlqKind): Behaviour =>
  ({ store }, { id }) =>
    store.delete(dlq, id) ? { status: 200, body: '' } : notFound();

/** `GET /…/dlq`: `{messages, cursor?}`, `count` (default and max 100) at a time, filtered. */
export const list =
  (dlq: DlqKind): Behaviour =>
  ({ store, cursorMode }, { query }) => {
    const page = store.page(dlq, query, pageCount(query.get('count'), 100, 100), cursorMode);
    return json(200, withCursor({ messages: page.entries }, page.cursor));
  };

/**
 * `GET /v2/dlq`: the message DLQ, or with `source=workflow` the Workflow DLQ. @upstash/workflow lists the Workflow
 * DLQ this way (`source` is in no published spec) rather than as the API reference documents, `GET
 * /v2/workflows/dlq`; both are served so that the official client can be checked against us.
 */
export const listMessages: Behaviour = (world, request) =>
  list(request.query.get('source') === 'workflow' ? 'workflow' : 'qstash')(world, request);

/**
 * `DELETE /…/dlq`: with `dlqIds`, those (filters ignored), `{deleted}`; otherwise by filter, `count` at a time,
 * `{deleted, cursor?}`. The hazard: no ids and no filter deletes everything, `count` at a time. Emulated faithfully.
 */
export const bulkDelete =
  (dlq: DlqKind): Behaviour =>
  ({ store, cursorMode }, { query }) => {
    const ids = idsParam(query);
    if (ids.length > 0) return json(200, { deleted: ids.filter((id) => store.delete(dlq, id)).length });
    const page = store.page(dlq, query, pageCount(query.get('count'), 100, Infinity), cursorMode);
    for (const entry of page.entries) store.delete(dlq, entry.dlqId);
    return json(200, withCursor({ deleted: page.entries.length }, page.cursor));
  };

/**
 * `DELETE /v2/workflows/dlq/callback/{dlqId}`: cancels a failure callback in progress. Upstash documents 302 (no
 * body) on success, 400 when none is in progress, 404 when the entry is absent. The callback state becomes
 * CALLBACK_CANCELED; the entry stays.
 */
export const cancelCallback: Behaviour = ({ store }, { id }) => {
  const entry = store.get('workflow', id);
  if (!entry) return notFound();
  const state = callbackState(entry);
  if (state !== 'CALLBACK_INPROGRESS') {
    return badRequest(`no failure callback in progress to cancel (${String(state ?? 'none')})`);
  }
  setCallbackState(entry, 'CALLBACK_CANCELED');
  return { status: 302, body: '' };
};

// --- entries with every field group-by and the export read -------------------------------------------------------

/** What the detailed entries' fields cycle through (entry `i` takes value `i % length`), so tests can count groups. */
export const DETAILED_VALUES = {
  workflowUrl: [
    'https://app.example.com/api/orders',
    'https://app.example.com/api/billing',
    'https://app.example.com/api/mail',
  ],
  url: ['https://api.example.com/webhook', 'https://api.example.com/sync'],
  labels: [['prod'], ['prod', 'eu'], []] as readonly string[][],
  responseStatus: [500, 502, 404],
  failureFunctionState: ['CALLBACK_FAIL', 'CALLBACK_SUCCESS', 'CALLBACK_INPROGRESS', undefined],
  flowControlKey: ['tenant-a', 'tenant-b', undefined],
  callerIP: ['203.0.113.7', '198.51.100.2'],
  topicName: ['orders', undefined],
  queueName: [undefined, 'mail-queue'],
} as const;

function pick<T>(values: readonly T[], index: number): T {
  return values[index % values.length]!;
}

/** The fields both DLQs' entries share (WorkflowDLQMessage and DLQMessage in Upstash's OpenAPI documents). */
function sharedFields(index: number): Partial<DlqEntry> {
  const labels = pick(DETAILED_VALUES.labels, index);
  const flowControlKey = pick(DETAILED_VALUES.flowControlKey, index);
  return {
    header: { 'Content-Type': ['application/json'], Authorization: [`Bearer upstream-secret-${index}`] },
    body: JSON.stringify({ order: index }),
    responseStatus: pick(DETAILED_VALUES.responseStatus, index),
    responseHeader: { 'Content-Type': ['text/plain'], 'Set-Cookie': [`session=${index}`] },
    responseBody: `failed: order ${index}`,
    callerIP: pick(DETAILED_VALUES.callerIP, index),
    maxRetries: 3,
    ...(labels.length > 0 && { labels: [...labels], label: labels[0] }),
    ...(flowControlKey !== undefined && { flowControlKey }),
  };
}

/**
 * Workflow DLQ entries carrying every field the report groups by and the export writes (`workflowUrl`, `labels` and
 * the deprecated `label`, `responseStatus`, `failureFunctionState` with `failureCallbackInfo.state`,
 * `flowControlKey`, `callerIP`, headers and bodies), values cycling as DETAILED_VALUES says; then `fields`.
 */
export function detailedWorkflowEntries(count: number, fields: Partial<DlqEntry> = {}, now = Date.now()): DlqEntry[] {
  return workflowEntries(count, {}, now).map((entry, index) => {
    const state = pick(DETAILED_VALUES.failureFunctionState, index);
    const workflowUrl = pick(DETAILED_VALUES.workflowUrl, index);
    const detailed: DlqEntry = {
      ...entry,
      ...sharedFields(index),
      workflowUrl,
      url: `${workflowUrl}/step-${index % 2}`,
    };
    delete detailed.failureFunctionState;
    if (state !== undefined) {
      detailed.failureFunctionState = state;
      detailed.failureCallbackInfo = {
        state,
        responseStatus: 500,
        responseBody: `callback failed: order ${index}`,
        responseHeaders: { 'Content-Type': ['text/plain'] },
      };
    }
    return { ...detailed, ...fields };
  });
}

/**
 * Message DLQ entries carrying every field the report groups by and the export writes (`url`, `topicName` (the URL
 * group), `queueName`, `labels`/`label`, `responseStatus`, `flowControlKey`, `callerIP`, headers and bodies), values
 * cycling as DETAILED_VALUES says; then `fields`.
 */
export function detailedMessageEntries(count: number, fields: Partial<DlqEntry> = {}, now = Date.now()): DlqEntry[] {
  return messageEntries(count, {}, now).map((entry, index) => {
    const topicName = pick(DETAILED_VALUES.topicName, index);
    const queueName = pick(DETAILED_VALUES.queueName, index);
    return {
      ...entry,
      ...sharedFields(index),
      url: pick(DETAILED_VALUES.url, index),
      ...(topicName !== undefined && { topicName }),
      ...(queueName !== undefined && { queueName }),
      ...fields,
    };
  });
}
