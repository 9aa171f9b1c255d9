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
