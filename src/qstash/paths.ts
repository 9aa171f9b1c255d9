/** The DLQ endpoints, and the one place an id becomes part of a URL path. */
export type DlqKind = 'workflow' | 'qstash';

export const DLQ_COLLECTION: Readonly<Record<DlqKind, string>> = {
  workflow: '/v2/workflows/dlq',
  qstash: '/v2/dlq',
};

export const DLQ_NAMES: Readonly<Record<DlqKind, string>> = {
  workflow: 'Upstash Workflow DLQ',
  qstash: 'QStash message DLQ',
};

/**
 * `/v2/workflows/dlq/{id}` with the id as exactly one percent-encoded segment. Refuses ids that would address the
 * collection instead (empty, or dots that URL parsing removes): a DELETE there deletes every entry.
 */
export function entryPath(dlq: DlqKind, id: string): string {
  if (id === '' || /^\.+$/u.test(id)) {
    throw new Error(`refusing to build a request for id ${JSON.stringify(id)}: it would address the whole DLQ`);
  }
  // encodeURIComponent leaves . ! ~ * ' ( ) as they are; only all-dot ids are special to URL parsing (refused above).
  return `${DLQ_COLLECTION[dlq]}/${encodeURIComponent(id)}`;
}

/** API filter parameters and their values (values of one parameter are ORed, parameters ANDed). */
export type ListQuery = readonly (readonly [param: string, values: readonly string[]])[];

/** Most entries a listing page or a bulk delete takes at once (the API's maximum page size). */
export const PAGE_SIZE = 100;

function appendQuery(params: URLSearchParams, query: ListQuery): void {
  for (const [param, values] of query) for (const value of values) params.append(param, value);
}

/** `GET` path for one listing page. */
export function listPath(dlq: DlqKind, query: ListQuery, cursor: string | undefined): string {
  const params = new URLSearchParams();
  appendQuery(params, query);
  params.set('count', String(PAGE_SIZE));
  if (cursor !== undefined) params.set('cursor', cursor);
  return `${DLQ_COLLECTION[dlq]}?${params.toString()}`;
}

/**
 * `DELETE` path that deletes exactly these ids. Without ids the same endpoint deletes every entry, so an empty or
 * oversized list is refused here, where the request is built.
 */
export function bulkDeletePath(dlq: DlqKind, ids: readonly string[]): string {
  if (ids.length === 0 || ids.length > PAGE_SIZE) {
    throw new Error(`refusing a bulk delete of ${ids.length} ids: it takes 1 to ${PAGE_SIZE}`);
  }
  for (const id of ids) {
    if (id === '' || /^\.+$/u.test(id)) throw new Error(`refusing a bulk delete with id ${JSON.stringify(id)}`);
  }
  const params = new URLSearchParams();
  for (const id of ids) params.append('dlqIds', id);
  return `${DLQ_COLLECTION[dlq]}?${params.toString()}`;
}
