/** The behaviours of both DLQs' entries: get, delete, list, bulk delete, and cancelling a failure callback. */
import { badRequest, json, notFound, withCursor } from './answers.ts';
import type { Behaviour } from './operations.ts';
import { callbackState, idsParam, pageCount, setCallbackState, type DlqKind } from './store.ts';

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
