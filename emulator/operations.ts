/**
 * Every route the emulator serves, as a table: a method, a path pattern and a behaviour (what it does to the store
 * and what it answers, with the status codes and bodies Upstash documents). Adding an operation is one entry in
 * OPERATIONS and, when no existing behaviour fits, one behaviour function. The server (server.ts) knows nothing of
 * what an operation does; it resolves the request here, after faults, the rate limit and auth.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { methodNotAllowed, type Answer } from './answers.ts';
import { bulkDelete, cancelCallback, deleteEntry, getEntry, list, listMessages } from './entries.ts';
import { logs } from './logs.ts';
import { CALLBACK, RESTART, RESUME, RETRY, redriveBulk, redriveOne, type RedriveMissing } from './redrive.ts';
import type { CursorMode, DlqStore } from './store.ts';

/** What a behaviour reads and changes: the store, and the emulator's settings as they are for this request. */
export interface World {
  readonly store: DlqStore;
  readonly cursorMode: CursorMode;
  readonly redriveRemoves: { readonly workflow: boolean };
  readonly redriveMissing: RedriveMissing;
  /** Which message DLQ retries QStash answers `deduplicated: true` (see redrive.ts RETRY). */
  readonly retryDeduplicates: (dlqId: string) => boolean;
}

export interface OperationRequest {
  /** The decoded `:dlqId` path segment; '' on routes without one. */
  readonly id: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

export type Behaviour = (world: World, request: OperationRequest) => Answer;

export interface Operation {
  /** For people and records: 'get', 'list', 'restart', 'bulk-restart', ... */
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /**
   * The path, segment by segment; `:dlqId` stands for one non-empty, percent-decoded segment. A trailing `/` is
   * accepted after a fixed last segment (so `DELETE /v2/workflows/dlq/` is the collection), never after an id.
   */
  readonly path: string;
  readonly behaviour: Behaviour;
}

// --- the table ------------------------------------------------------------------------------------------------------

const WORKFLOW = '/v2/workflows/dlq';
const MESSAGE = '/v2/dlq';

/**
 * Every route. A request runs the first entry whose method and path match. A path that some GET serves answers
 * other methods with 405 (so `POST /v2/workflows/dlq/{dlqId}` is a 405, while `GET /v2/workflows/dlq/restart/{id}`
 * is no route, a 404); `GET /v2/workflows/dlq/restart` reads an entry whose id is "restart".
 */
export const OPERATIONS: readonly Operation[] = [
  // The Workflow DLQ.
  { name: 'get', method: 'GET', path: `${WORKFLOW}/:dlqId`, behaviour: getEntry('workflow') },
  { name: 'delete', method: 'DELETE', path: `${WORKFLOW}/:dlqId`, behaviour: deleteEntry('workflow') },
  { name: 'list', method: 'GET', path: WORKFLOW, behaviour: list('workflow') },
  { name: 'bulk-delete', method: 'DELETE', path: WORKFLOW, behaviour: bulkDelete('workflow') },
  { name: 'restart', method: 'POST', path: `${WORKFLOW}/restart/:dlqId`, behaviour: redriveOne(RESTART) },
  { name: 'bulk-restart', method: 'POST', path: `${WORKFLOW}/restart`, behaviour: redriveBulk(RESTART) },
  { name: 'resume', method: 'POST', path: `${WORKFLOW}/resume/:dlqId`, behaviour: redriveOne(RESUME) },
  { name: 'bulk-resume', method: 'POST', path: `${WORKFLOW}/resume`, behaviour: redriveBulk(RESUME) },
  { name: 'callback', method: 'POST', path: `${WORKFLOW}/callback/:dlqId`, behaviour: redriveOne(CALLBACK) },
  // The failure callback is re-run per id only: there is no bulk form.
  { name: 'bulk-callback', method: 'POST', path: `${WORKFLOW}/callback`, behaviour: methodNotAllowed },
  { name: 'cancel-callback', method: 'DELETE', path: `${WORKFLOW}/callback/:dlqId`, behaviour: cancelCallback },
  { name: 'logs', method: 'GET', path: '/v2/workflows/logs', behaviour: logs },

  // The message DLQ.
  { name: 'get', method: 'GET', path: `${MESSAGE}/:dlqId`, behaviour: getEntry('qstash') },
  { name: 'delete', method: 'DELETE', path: `${MESSAGE}/:dlqId`, behaviour: deleteEntry('qstash') },
  { name: 'list', method: 'GET', path: MESSAGE, behaviour: listMessages }, // with source=workflow, the Workflow DLQ
  { name: 'bulk-delete', method: 'DELETE', path: MESSAGE, behaviour: bulkDelete('qstash') },
  { name: 'retry', method: 'POST', path: `${MESSAGE}/retry/:dlqId`, behaviour: redriveOne(RETRY) },
  { name: 'bulk-retry', method: 'POST', path: `${MESSAGE}/retry`, behaviour: redriveBulk(RETRY) },
];

// --- routing --------------------------------------------------------------------------------------------------------

/**
 * A request matched against the table: the operation to run (none: a 405 when `known`, else a 404), and the decoded
 * id in its path, for fault rules.
 */
export interface Route {
  operation?: Operation;
  known: boolean;
  id?: string;
}

const ID = ':dlqId';

const PATTERNS = OPERATIONS.map((operation) => ({ operation, pattern: operation.path.split('/') }));

/** Finds the operation for a request, or whether its path is one some GET serves (a 405) or unknown (a 404). */
export function route(method: string, pathname: string): Route {
  const segments = pathname.split('/');
  let known: { id?: string } | undefined;
  for (const { operation, pattern } of PATTERNS) {
    const match = matchPath(pattern, segments);
    if (!match) continue;
    if (operation.method === method) return { operation, known: true, ...match };
    if (operation.method === 'GET') known ??= match;
  }
  return known ? { known: true, ...known } : { known: false };
}

/** Whether the path fits `pattern`, and the decoded id it gives (when the pattern has one). */
function matchPath(pattern: readonly string[], segments: readonly string[]): { id?: string } | undefined {
  // A trailing `/` after a fixed segment is the same path; after an id it would be an empty segment.
  const trailing = pattern.at(-1) !== ID && segments.length === pattern.length + 1 && segments.at(-1) === '';
  if (segments.length !== pattern.length && !trailing) return undefined;
  const match: { id?: string } = {};
  for (const [index, part] of pattern.entries()) {
    const segment = segments[index]!;
    if (part === ID) {
      if (segment === '') return undefined;
      match.id = decode(segment);
    } else if (part !== segment) {
      return undefined;
    }
  }
  return match;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
