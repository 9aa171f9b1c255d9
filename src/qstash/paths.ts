/** The DLQ endpoints, and the one place an id becomes part of a URL. */
import { idProblem } from '../ids.js';

export type DlqKind = 'workflow' | 'qstash';

export const DLQ_COLLECTION: Readonly<Record<DlqKind, string>> = {
  workflow: '/v2/workflows/dlq',
  qstash: '/v2/dlq',
};

export const DLQ_NAMES: Readonly<Record<DlqKind, string>> = {
  workflow: 'Upstash Workflow DLQ',
  qstash: 'QStash message DLQ',
};

/** Thrown when a request for an unsafe id is about to be built: a last line of defence behind `idProblem`. */
export class UnsafeIdError extends Error {
  override name = 'UnsafeIdError';
}

function segment(id: string): string {
  const problem = idProblem(id);
  if (problem !== undefined)
    throw new UnsafeIdError(`refusing to build a request for id ${JSON.stringify(id)}: it ${problem}`);
  return encodeURIComponent(id);
}

/** `/v2/workflows/dlq/{id}`, or `/v2/workflows/dlq/{action}/{id}` for a re-run. */
export function entryPath(dlq: DlqKind, id: string, action?: string): string {
  return `${DLQ_COLLECTION[dlq]}/${action === undefined ? '' : `${action}/`}${segment(id)}`;
}

/** API filter parameters and their values (values of one parameter are ORed, parameters ANDed). */
export type ListQuery = readonly (readonly [param: string, values: readonly string[]])[];

/** The API's largest listing page, and the most ids a bulk delete takes at once. */
export const PAGE_SIZE = 100;

/** `GET` path for one listing page of `count` entries. */
export function listPath(dlq: DlqKind, query: ListQuery, cursor: string | undefined, count = PAGE_SIZE): string {
  const params = new URLSearchParams();
  for (const [param, values] of query) for (const value of values) params.append(param, value);
  params.set('count', String(count));
  if (cursor !== undefined) params.set('cursor', cursor);
  return `${DLQ_COLLECTION[dlq]}?${params.toString()}`;
}

/**
 * `DELETE` path that deletes exactly these ids. Without ids the same endpoint deletes every entry, so an empty or
 * oversized list is refused here, where the request is built.
 */
export function bulkDeletePath(dlq: DlqKind, ids: readonly string[]): string {
  if (ids.length === 0 || ids.length > PAGE_SIZE) {
    throw new UnsafeIdError(`refusing a bulk delete of ${ids.length} ids: it takes 1 to ${PAGE_SIZE}`);
  }
  const params = new URLSearchParams();
  for (const id of ids) {
    segment(id);
    params.append('dlqIds', id);
  }
  return `${DLQ_COLLECTION[dlq]}?${params.toString()}`;
}

/** What `dlqIds=<id>&` adds to a query, exactly as URLSearchParams encodes it. */
export function queryCost(id: string): number {
  return new URLSearchParams({ dlqIds: id }).toString().length + 1;
}
