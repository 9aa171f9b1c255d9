/**
 * A loopback QStash DLQ emulator: the Workflow DLQ (/v2/workflows/dlq) and the message DLQ (/v2/dlq), per-id GET and
 * DELETE, listing with filters and cursors, bulk delete, the redrive endpoints (restart, resume, failure-callback
 * retry, message retry; per id and bulk), bearer auth, a burst rate limit with Upstash's Burst-RateLimit-* headers,
 * and scriptable faults. One emulator serves the tests, the demo and the benchmark.
 *
 * It binds 127.0.0.1 only, over HTTP or (with `tls`) HTTPS. Run as a process with `node emulator/cli.ts`.
 *
 * Where Upstash's published API documents leave a behaviour open, the emulator makes it an option (`cursor`,
 * `redriveRemoves`, `redriveMissing`) so that tests can run against each plausible answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type DlqKind = 'workflow' | 'qstash';

export interface DlqEntry {
  dlqId: string;
  createdAt: number;
  /**
   * Workflow DLQ only, emulator-specific: `false` makes `resume` answer 400 ("workflow doesn't support resume"),
   * as Upstash does for a run that cannot be resumed. Default: resumable.
   */
  resumable?: boolean;
  /** Workflow DLQ only, emulator-specific: `false` makes `restart` answer 400. Default: restartable. */
  restartable?: boolean;
  [field: string]: unknown;
}

export interface RateLimitOptions {
  /** Requests allowed per window. */
  limit: number;
  windowMs?: number;
  /** Unit of Burst-RateLimit-Reset: Unix seconds (default) or milliseconds. */
  resetUnit?: 's' | 'ms';
  /** Also send Retry-After (seconds) on a 429. */
  retryAfter?: boolean;
  /** Send the Burst-RateLimit-* headers on every response, not only on 429s. Default true. */
  headersOnSuccess?: boolean;
}

/** One scripted fault. The first rule that matches a request and has uses left applies. */
export interface FaultRule {
  method?: string;
  /** Matches when the request path (with query) contains this text. */
  pathIncludes?: string;
  /** Matches a per-id request (GET/DELETE of an entry, or a per-id restart/resume/callback/retry) for this (decoded) id. */
  id?: string;
  /** How many requests it applies to; default: all. */
  times?: number;
  /** Extra delay before anything else happens. */
  delayMs?: number;
  /** Called when the rule applies, before the request is handled (e.g. to delete entries "concurrently"). */
  run?: (emulator: DlqEmulator) => void;
  /** Answer with this instead of handling the request. */
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Send the answer's body in this many pieces, this far apart (a slow body). */
  slowBody?: { pieces: number; intervalMs: number };
  /** Close the connection without an answer, before or after the request took effect. */
  drop?: 'before' | 'after';
  /** Never answer, before or after the request took effect (until the client gives up). */
  hang?: 'before' | 'after';
  /** Carry the request out, then answer with this status instead (a gateway error after the server acted). */
  statusAfter?: number;
}

/**
 * How a listing / bulk cursor works. Upstash does not document its cursor.
 * - 'id': the cursor names the last entry returned (its insertion sequence); paging is stable under deletions.
 * - 'position': the cursor is the numeric offset into the current matching list, like an offset-based server:
 *   deleting (or retrying away) entries while paging shifts later pages, so entries get skipped.
 */
export type CursorMode = 'id' | 'position';

/**
 * What a bulk redrive (`POST /v2/workflows/dlq/restart|resume`, `POST /v2/dlq/retry`) does with `dlqIds` that are not
 * in the DLQ. Upstash's API documents list a 404 "Some DLQ messages were not found" for these routes without saying
 * whether the ids that were found are re-run.
 * - 'reject' (default): 404, nothing re-run.
 * - 'partial': the found ones are re-run, then 404 (the caller cannot tell what happened).
 * - 'ignore': unknown ids are skipped, 200/201 with the runs made.
 */
export type RedriveMissing = 'reject' | 'partial' | 'ignore';

export interface EmulatorOptions {
  token?: string;
  /** Delay before each request is handled, like network latency. */
  latencyMs?: number;
  rateLimit?: RateLimitOptions;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Default 'id'. */
  cursor?: CursorMode;
  /**
   * Whether a Workflow DLQ entry leaves the DLQ once restarted or resumed: undocumented, default false (it stays).
   * A message DLQ retry always removes the entry, as Upstash documents.
   */
  redriveRemoves?: { workflow?: boolean };
  /** Default 'reject'. */
  redriveMissing?: RedriveMissing;
  /** Serve HTTPS with this key and certificate (PEM). `url` then starts with https://. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** How long an idle keep-alive connection stays open, in ms. Default 60_000 (plus Node's 1 s buffer). */
  keepAliveTimeoutMs?: number;
  /**
   * Close a connection that has been idle this long, while still advertising the long keep-alive timeout: a server
   * (or load balancer) that drops idle sockets without saying so, so that a client reuses a socket closed under it.
   */
  idleCloseMs?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  /** Status sent, or 'dropped' / 'hung'. */
  result: number | 'dropped' | 'hung';
  at: number;
  /** Request headers, names lower-cased, repeated ones joined with ', '; `authorization` is left out. */
  headers: Record<string, string>;
  /** Whether the request carried `Authorization: Bearer <the emulator's token>`. */
  authorized: boolean;
}

export type RerunOperation = 'restart' | 'resume' | 'retry' | 'callback';

/** One re-run the emulator performed (recorded even when a fault then drops or hangs the answer). */
export interface RerunRecord {
  dlq: DlqKind;
  operation: RerunOperation;
  dlqId: string;
  /** The new workflow run id / message id. For 'callback', the run's own id (see `callback`). */
  newId: string;
  /** The Upstash-* override headers sent with the request (names lower-cased). */
  headers: Record<string, string>;
  /** Whether it came from a bulk request. */
  bulk: boolean;
  at: number;
}

export const DEFAULT_TOKEN = 'emulator-token-3f9c2d7a1b';

/**
 * Workflow bulk restart/resume re-run at most this many runs per request. Upstash documents (bulk restart): "A maximum
 * of 50 workflow runs can be restarted per request. If more runs are available, a cursor is returned". The emulator
 * follows that for more than 50 `dlqIds` too: it processes the first 50 and returns a cursor (no 400), and applies
 * it to bulk resume as well.
 */
export const WORKFLOW_BULK_REDRIVE_LIMIT = 50;

const COLLECTIONS: Record<string, DlqKind> = { '/v2/workflows/dlq': 'workflow', '/v2/dlq': 'qstash' };

/** POST sub-routes per DLQ: /<prefix>/<action> (bulk) and /<prefix>/<action>/<dlqId> (one). */
const REDRIVE_ACTIONS: Record<DlqKind, readonly RerunOperation[]> = {
  workflow: ['restart', 'resume', 'callback'],
  qstash: ['retry'],
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

/** Query parameter -> entry field, per DLQ. Values of one filter are ORed, different filters ANDed. */
const FILTERS: Record<DlqKind, Record<string, string>> = {
  workflow: {
    workflowUrl: 'workflowUrl',
    workflowRunId: 'workflowRunId',
    workflowCreatedAt: 'workflowCreatedAt',
    label: 'label',
    failureFunctionState: 'failureFunctionState',
    callerIp: 'callerIp',
    flowControlKey: 'flowControlKey',
  },
  qstash: {
    messageId: 'messageId',
    url: 'url',
    topicName: 'topicName',
    scheduleId: 'scheduleId',
    queueName: 'queueName',
    responseStatus: 'responseStatus',
    label: 'label',
    callerIp: 'callerIp',
    flowControlKey: 'flowControlKey',
  },
};

interface StoredEntry {
  seq: number;
  entry: DlqEntry;
}

interface Route {
  dlq: DlqKind;
  id?: string;
  /** A redrive (POST) route. */
  action?: RerunOperation;
}

interface Answer {
  status: number;
  body: string;
}

export class DlqEmulator {
  readonly token: string;
  latencyMs: number;
  rateLimit: RateLimitOptions | undefined;
  /** May be changed between requests. */
  cursorMode: CursorMode;
  /** May be changed between requests. */
  redriveRemoves: { workflow: boolean };
  /** May be changed between requests. */
  redriveMissing: RedriveMissing;
  faults: FaultRule[] = [];
  readonly requests: RequestRecord[] = [];
  /** Every re-run performed, in order. */
  readonly reruns: RerunRecord[] = [];
  readonly tls: boolean;
  private readonly store: Record<DlqKind, Map<string, StoredEntry>> = { workflow: new Map(), qstash: new Map() };
  private seq = 0;
  private rerunSeq = 0;
  private window = { start: 0, count: 0 };
  private readonly server: Server | HttpsServer;
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();
  private port = 0;
  private inFlight = 0;
  /** Most requests the emulator was handling at once. */
  maxInFlight = 0;
  /** TCP connections accepted so far (keep-alive reuses them). */
  connectionsOpened = 0;

  private constructor(options: EmulatorOptions) {
    this.token = options.token ?? DEFAULT_TOKEN;
    this.latencyMs = options.latencyMs ?? 0;
    this.rateLimit = options.rateLimit;
    this.cursorMode = options.cursor ?? 'id';
    this.redriveRemoves = { workflow: options.redriveRemoves?.workflow ?? false };
    this.redriveMissing = options.redriveMissing ?? 'reject';
    this.tls = options.tls !== undefined;
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    this.server = options.tls
      ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler)
      : createServer(handler);
    this.server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 60_000;
    // Node (24) keeps an idle socket open for keepAliveTimeout + keepAliveTimeoutBuffer (default 1 s); an explicit
    // keepAliveTimeoutMs means exactly that long.
    if (options.keepAliveTimeoutMs !== undefined && 'keepAliveTimeoutBuffer' in this.server) {
      this.server.keepAliveTimeoutBuffer = 0;
    }
    // With TLS, 'connection' is the raw TCP socket (destroying it on close() ends the TLS session too).
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      this.connectionsOpened += 1;
      socket.on('close', () => this.sockets.delete(socket));
    });
    const idleCloseMs = options.idleCloseMs;
    if (idleCloseMs !== undefined) {
      const timers = new Map<Socket, NodeJS.Timeout>();
      this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const socket = req.socket;
        clearTimeout(timers.get(socket));
        res.once('finish', () => {
          timers.set(
            socket,
            setTimeout(() => {
              this.idleClosed += 1;
              socket.destroy();
            }, idleCloseMs),
          );
        });
      });
    }
  }

  /** Connections closed by `idleCloseMs`. */
  idleClosed = 0;

  static async start(options: EmulatorOptions = {}): Promise<DlqEmulator> {
    const emulator = new DlqEmulator(options);
    await new Promise<void>((resolve, reject) => {
      emulator.server.once('error', reject);
      emulator.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    emulator.port = (emulator.server.address() as AddressInfo).port;
    return emulator;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Connections open right now. */
  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Adds entries; returns their ids in order. */
  seed(dlq: DlqKind, entries: readonly DlqEntry[]): string[] {
    for (const entry of entries) this.store[dlq].set(entry.dlqId, { seq: ++this.seq, entry });
    return entries.map((entry) => entry.dlqId);
  }

  has(dlq: DlqKind, id: string): boolean {
    return this.store[dlq].has(id);
  }

  /** The stored entry (live object), or undefined. */
  get(dlq: DlqKind, id: string): DlqEntry | undefined {
    return this.store[dlq].get(id)?.entry;
  }

  /** Removes entries as someone else (or expiry) would; returns how many existed. */
  remove(dlq: DlqKind, ids: readonly string[]): number {
    return ids.filter((id) => this.store[dlq].delete(id)).length;
  }

  ids(dlq: DlqKind): string[] {
    return [...this.store[dlq].keys()];
  }

  /** Requests whose path (without query) is exactly this. */
  requestsTo(path: string, method?: string): RequestRecord[] {
    return this.requests.filter((r) => r.path.split('?')[0] === path && (method === undefined || r.method === method));
  }

  /** How many requests had this method and a path (with query) starting with this prefix. */
  countRequests(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  count(result: RequestRecord['result']): number {
    return this.requests.filter((r) => r.result === result).length;
  }

  /** Re-runs of one DLQ entry (to prove none ran twice). */
  rerunsOf(dlq: DlqKind, dlqId: string): RerunRecord[] {
    return this.reruns.filter((r) => r.dlq === dlq && r.dlqId === dlqId);
  }

  private record(req: IncomingMessage, result: RequestRecord['result']): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name === 'authorization' || value === undefined) continue;
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    this.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      result,
      at: Date.now(),
      headers,
      authorized: req.headers.authorization === `Bearer ${this.token}`,
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Drain the request body (none is expected) so keep-alive works.
    req.resume();
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once('close', () => (this.inFlight -= 1));
    if (this.latencyMs > 0) await sleep(this.latencyMs);

    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const route = this.route(method, url.pathname);
    const fault = this.matchFault(req, route?.id);
    if (fault?.delayMs) await sleep(fault.delayMs);
    fault?.run?.(this);
    if (fault?.drop === 'before') return this.drop(req, res);
    if (fault?.hang === 'before') return this.hang(req, res);
    if (fault?.status !== undefined) {
      return this.send(req, res, fault.status, fault.body ?? '', fault.headers ?? {}, fault.slowBody);
    }

    const limited = this.rateLimited();
    if (limited.over) {
      return this.send(req, res, 429, JSON.stringify({ error: 'Burst rate limit exceeded' }), limited.headers);
    }

    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${this.token}`) {
      return this.send(req, res, 401, JSON.stringify({ error: 'unauthorized' }), limited.headers);
    }

    const answer = this.operate(method, url, route, req.headers);
    if (fault?.drop === 'after') return this.drop(req, res);
    if (fault?.hang === 'after') return this.hang(req, res);
    if (fault?.statusAfter !== undefined) {
      return this.send(req, res, fault.statusAfter, fault.body ?? '', fault.headers ?? {});
    }
    return this.send(req, res, answer.status, answer.body, limited.headers);
  }

  /**
   * GET/DELETE: /<prefix> (collection) and /<prefix>/<id>. POST: /<prefix>/<action> (bulk redrive) and
   * /<prefix>/<action>/<id>; a POST to /<prefix>/<id> is a 405. So `GET /v2/workflows/dlq/restart` reads an entry whose
   * id is "restart", and `POST /v2/workflows/dlq/restart` restarts in bulk.
   */
  private route(method: string, pathname: string): Route | undefined {
    const trimmed = pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
    for (const [prefix, dlq] of Object.entries(COLLECTIONS)) {
      if (trimmed === prefix) return { dlq };
      if (!pathname.startsWith(`${prefix}/`)) continue;
      const segments = pathname.slice(prefix.length + 1).split('/');
      const action = REDRIVE_ACTIONS[dlq].find((name) => name === segments[0]);
      if (method === 'POST' && action) {
        if (segments.length === 1 || (segments.length === 2 && segments[1] === '')) return { dlq, action };
        if (segments.length === 2) return { dlq, action, id: decode(segments[1]!) };
        return undefined;
      }
      if (segments.length !== 1) return undefined;
      return { dlq, id: decode(segments[0]!) };
    }
    return undefined;
  }

  private operate(method: string, url: URL, route: Route | undefined, headers: IncomingMessage['headers']): Answer {
    if (!route) return { status: 404, body: JSON.stringify({ error: 'not found' }) };
    if (route.action) {
      if (method !== 'POST') return methodNotAllowed();
      return route.id !== undefined
        ? this.redriveOne(route.dlq, route.action, route.id, headers)
        : this.redriveBulk(route.dlq, route.action, url.searchParams, headers);
    }
    const store = this.store[route.dlq];
    if (route.id !== undefined) {
      const found = store.get(route.id);
      if (method === 'GET') {
        return found ? { status: 200, body: JSON.stringify(found.entry) } : notFound();
      }
      if (method === 'DELETE') {
        if (!found) return notFound();
        store.delete(route.id);
        return { status: 200, body: '' };
      }
      return methodNotAllowed();
    }

    const params = url.searchParams;
    if (method === 'GET') {
      // @upstash/workflow lists the Workflow DLQ as GET /v2/dlq?source=workflow, not GET /v2/workflows/dlq as the
      // API reference documents; both are served so that the official client can be checked against us.
      const dlq = route.dlq === 'qstash' && params.get('source') === 'workflow' ? 'workflow' : route.dlq;
      const page = this.page(dlq, params, pageCount(params.get('count'), 100, 100));
      return {
        status: 200,
        body: JSON.stringify({ messages: page.entries, ...(page.cursor && { cursor: page.cursor }) }),
      };
    }
    if (method === 'DELETE') {
      const ids = idsParam(params);
      if (ids.length > 0) {
        let deleted = 0;
        for (const id of ids) if (store.delete(id)) deleted += 1;
        return { status: 200, body: JSON.stringify({ deleted }) };
      }
      // The hazard: no ids and no filter deletes everything, `count` at a time. Emulated faithfully.
      const page = this.page(route.dlq, params, pageCount(params.get('count'), 100, Infinity));
      for (const entry of page.entries) store.delete(entry.dlqId);
      return {
        status: 200,
        body: JSON.stringify({ deleted: page.entries.length, ...(page.cursor && { cursor: page.cursor }) }),
      };
    }
    return methodNotAllowed();
  }

  /** POST /v2/workflows/dlq/{restart,resume,callback}/{dlqId}, POST /v2/dlq/retry/{dlqId}. */
  private redriveOne(dlq: DlqKind, operation: RerunOperation, id: string, headers: IncomingMessage['headers']): Answer {
    const overrides = redriveHeaders(headers);
    if (typeof overrides === 'string') return badRequest(overrides);
    const entry = this.store[dlq].get(id)?.entry;
    if (!entry) return notFound();
    const refusal = this.refusal(operation, entry);
    if (refusal) return badRequest(refusal);
    const run = this.rerun(dlq, operation, entry, overrides, false);
    return dlq === 'qstash'
      ? { status: 201, body: JSON.stringify({ messageId: run.newId }) }
      : { status: 200, body: JSON.stringify({ workflowRunId: run.newId, workflowCreatedAt: run.createdAt }) };
  }

  /**
   * POST /v2/workflows/dlq/{restart,resume} and POST /v2/dlq/retry: `dlqIds` (repeated key or comma-separated; then the
   * filters are ignored) or filters + `cursor` + `count`; no ids and no filter means every entry, as for bulk delete.
   *
   * - Workflow: at most WORKFLOW_BULK_REDRIVE_LIMIT (50) runs per request, fewer with `count`. With `dlqIds` the batch is
   *   the next 50 ids of the (de-duplicated) list from the cursor, which is then an index into that list; with
   *   filters, pages as a listing does (per `cursorMode`). 200 `{workflowRuns: [{workflowRunId, workflowCreatedAt}],
   *   cursor?}`. Bulk resume answers 400 (nothing re-run) when a named id cannot be resumed, and skips such entries
   *   when selecting by filter.
   * - Message DLQ: 201 `{responses: [{messageId}], cursor?}`; every named id at once (the documents give no limit);
   *   by filter, `count` (default and max 100) per request.
   * - Named ids not in the DLQ: per `redriveMissing`, judged on the current batch (the next 50 ids for a workflow).
   * - The message DLQ document lists no `cursor` or `count` parameter for bulk retry (only a `cursor` in the answer);
   *   @upstash/qstash sends both, and the emulator honours them.
   * No entry is re-run twice by one request (repeated ids count once).
   */
  private redriveBulk(
    dlq: DlqKind,
    operation: RerunOperation,
    params: URLSearchParams,
    headers: IncomingMessage['headers'],
  ): Answer {
    if (operation === 'callback') return methodNotAllowed(); // only per id
    const overrides = redriveHeaders(headers);
    if (typeof overrides === 'string') return badRequest(overrides);
    const store = this.store[dlq];
    const limit =
      dlq === 'workflow'
        ? pageCount(params.get('count'), WORKFLOW_BULK_REDRIVE_LIMIT, WORKFLOW_BULK_REDRIVE_LIMIT)
        : pageCount(params.get('count'), 100, 100);

    let batch: DlqEntry[];
    let cursor: string | undefined;
    let missing = false;
    const ids = [...new Set(idsParam(params))];
    if (ids.length > 0) {
      let slice = ids;
      if (dlq === 'workflow') {
        const start = Math.max(0, Math.floor(Number(params.get('cursor') ?? 0) || 0));
        slice = ids.slice(start, start + limit);
        if (start + limit < ids.length) cursor = String(start + limit);
      }
      batch = [];
      for (const id of slice) {
        const entry = store.get(id)?.entry;
        if (entry) batch.push(entry);
        else missing = true;
      }
      if (missing && this.redriveMissing === 'reject') {
        return { status: 404, body: JSON.stringify({ error: 'some DLQ messages were not found' }) };
      }
      const refused = batch.find((entry) => this.refusal(operation, entry));
      if (refused) return badRequest(`${refused.dlqId}: ${this.refusal(operation, refused)}`);
    } else {
      const page = this.page(dlq, params, limit);
      batch = page.entries.filter((entry) => !this.refusal(operation, entry));
      cursor = page.cursor;
    }

    const runs = batch.map((entry) => this.rerun(dlq, operation, entry, overrides, true));
    if (missing && this.redriveMissing === 'partial') {
      return { status: 404, body: JSON.stringify({ error: 'some DLQ messages were not found' }) };
    }
    const more = cursor === undefined ? {} : { cursor };
    return dlq === 'qstash'
      ? { status: 201, body: JSON.stringify({ responses: runs.map((run) => ({ messageId: run.newId })), ...more }) }
      : {
          status: 200,
          body: JSON.stringify({
            workflowRuns: runs.map((run) => ({ workflowRunId: run.newId, workflowCreatedAt: run.createdAt })),
            ...more,
          }),
        };
  }

  /** Why this entry cannot be re-run this way (a 400), or undefined. */
  private refusal(operation: RerunOperation, entry: DlqEntry): string | undefined {
    if (operation === 'resume' && entry.resumable === false) return "workflow run can't be resumed";
    if (operation === 'restart' && entry.restartable === false) return "workflow run can't be restarted";
    if (operation === 'callback' && callbackState(entry) !== 'CALLBACK_FAIL') {
      return `failure callback is not in a failed state (${String(callbackState(entry) ?? 'none')})`;
    }
    return undefined;
  }

  /**
   * Performs one re-run and logs it.
   * - restart/resume: a new run `wfr_rerun_<n>`; the entry leaves the Workflow DLQ only with `redriveRemoves.workflow`.
   * - retry: a new message `msg_rerun_<n>`; the entry always leaves the message DLQ (documented).
   * - callback: the documents describe the answer as "the ID of the workflow run" (not a new one), so the run's own
   *   id and creation time are returned. The entry stays in the DLQ (the run itself still failed) and its failure
   *   callback state becomes CALLBACK_INPROGRESS, as the documents say a retried callback does; a second retry of the
   *   same entry is therefore a 400.
   */
  private rerun(
    dlq: DlqKind,
    operation: RerunOperation,
    entry: DlqEntry,
    headers: Record<string, string>,
    bulk: boolean,
  ): { newId: string; createdAt: number } {
    const at = Date.now();
    let newId: string;
    let createdAt = at;
    if (operation === 'callback') {
      newId = typeof entry.workflowRunId === 'string' ? entry.workflowRunId : `wfr_rerun_${++this.rerunSeq}`;
      if (typeof entry.workflowCreatedAt === 'number') createdAt = entry.workflowCreatedAt;
      setCallbackState(entry, 'CALLBACK_INPROGRESS');
    } else {
      newId = `${dlq === 'qstash' ? 'msg' : 'wfr'}_rerun_${++this.rerunSeq}`;
      if (dlq === 'qstash' || this.redriveRemoves.workflow) this.store[dlq].delete(entry.dlqId);
    }
    this.reruns.push({ dlq, operation, dlqId: entry.dlqId, newId, headers, bulk, at });
    return { newId, createdAt };
  }

  /** The entries a listing or a bulk action by filter takes next, and the cursor after them. */
  private page(dlq: DlqKind, params: URLSearchParams, count: number): { entries: DlqEntry[]; cursor?: string } {
    const matches = this.matcher(dlq, params);
    if (this.cursorMode === 'position') {
      const offset = Math.max(0, Math.floor(Number(params.get('cursor') ?? 0) || 0));
      const all = [...this.store[dlq].values()].filter(({ entry }) => matches(entry));
      const entries = all.slice(offset, offset + count).map(({ entry }) => entry);
      return offset + count < all.length ? { entries, cursor: String(offset + count) } : { entries };
    }
    const after = Number(params.get('cursor') ?? 0) || 0;
    const entries: DlqEntry[] = [];
    let lastSeq = 0;
    let more = false;
    for (const { seq, entry } of this.store[dlq].values()) {
      if (seq <= after || !matches(entry)) continue;
      if (entries.length === count) {
        more = true;
        break;
      }
      entries.push(entry);
      lastSeq = seq;
    }
    return more ? { entries, cursor: String(lastSeq) } : { entries };
  }

  private matcher(dlq: DlqKind, params: URLSearchParams): (entry: DlqEntry) => boolean {
    const checks: ((entry: DlqEntry) => boolean)[] = [];
    for (const [param, field] of Object.entries(FILTERS[dlq])) {
      const values = params
        .getAll(param)
        .flatMap((value) => value.split(','))
        .filter((value) => value !== '');
      if (values.length > 0) checks.push((entry) => matches(entry[field], values, entry, field));
    }
    const from = params.get('fromDate');
    const to = params.get('toDate');
    if (from) checks.push((entry) => entry.createdAt >= Number(from));
    if (to) checks.push((entry) => entry.createdAt <= Number(to));
    return (entry) => checks.every((check) => check(entry));
  }

  private matchFault(req: IncomingMessage, id: string | undefined): FaultRule | undefined {
    for (const rule of this.faults) {
      if (rule.times !== undefined && rule.times <= 0) continue;
      if (rule.method && rule.method !== req.method) continue;
      if (rule.pathIncludes && !(req.url ?? '').includes(rule.pathIncludes)) continue;
      if (rule.id !== undefined && rule.id !== id) continue;
      if (rule.times !== undefined) rule.times -= 1;
      return rule;
    }
    return undefined;
  }

  private rateLimited(): { over: boolean; headers: Record<string, string> } {
    const limit = this.rateLimit;
    if (!limit) return { over: false, headers: {} };
    const windowMs = limit.windowMs ?? 1000;
    const now = Date.now();
    const start = now - (now % windowMs);
    if (start !== this.window.start) this.window = { start, count: 0 };
    this.window.count += 1;
    const over = this.window.count > limit.limit;
    const end = start + windowMs;
    const headers: Record<string, string> = {};
    if (over || limit.headersOnSuccess !== false) {
      headers['Burst-RateLimit-Limit'] = String(limit.limit);
      headers['Burst-RateLimit-Remaining'] = String(Math.max(0, limit.limit - this.window.count));
      headers['Burst-RateLimit-Reset'] = String(limit.resetUnit === 'ms' ? end : Math.ceil(end / 1000));
    }
    if (over && limit.retryAfter) headers['Retry-After'] = String(Math.max(1, Math.ceil((end - now) / 1000)));
    return { over, headers };
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string>,
    slow?: { pieces: number; intervalMs: number },
  ): void {
    this.record(req, status);
    res.writeHead(status, {
      ...(body !== '' && { 'content-type': body.startsWith('<') ? 'text/html' : 'application/json' }),
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    if (!slow || body === '') return void res.end(body);
    const bytes = Buffer.from(body);
    const size = Math.ceil(bytes.length / slow.pieces);
    let offset = 0;
    const next = (): void => {
      if (res.destroyed) return;
      const piece = bytes.subarray(offset, offset + size);
      offset += size;
      if (offset >= bytes.length) return void res.end(piece);
      res.write(piece);
      setTimeout(next, slow.intervalMs);
    };
    next();
  }

  private drop(req: IncomingMessage, res: ServerResponse): void {
    this.record(req, 'dropped');
    res.socket?.destroy();
  }

  private hang(req: IncomingMessage, res: ServerResponse): void {
    this.record(req, 'hung');
    this.hung.add(res);
    res.on('close', () => this.hung.delete(res));
  }
}

function notFound(): Answer {
  return { status: 404, body: JSON.stringify({ error: 'dlq message not found' }) };
}

function badRequest(error: string): Answer {
  return { status: 400, body: JSON.stringify({ error }) };
}

function methodNotAllowed(): Answer {
  return { status: 405, body: JSON.stringify({ error: 'method not allowed' }) };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** `dlqIds`, repeated or comma-separated, empty values dropped. */
function idsParam(params: URLSearchParams): string[] {
  return params
    .getAll('dlqIds')
    .flatMap((value) => value.split(','))
    .filter((value) => value !== '');
}

/** A `count` query value clamped to 1..max, `fallback` when absent or not a number. */
function pageCount(value: string | null, fallback: number, max: number): number {
  const wanted = Math.floor(Number(value ?? fallback) || fallback);
  return Math.min(max, Math.max(1, wanted));
}

/**
 * The Upstash-* override headers of a redrive request, names lower-cased, or the reason (a 400) they are invalid.
 * Checked: Upstash-Retries is a non-negative integer; Upstash-Delay is `<n><unit>` (ms, s, m, h, d); the flow control
 * key and value come together and the value is `parallelism=…, rate=…, period=…` (any of them); Upstash-Failure-Callback
 * is an http(s) URL; none is empty.
 */
function redriveHeaders(headers: IncomingMessage['headers']): Record<string, string> | string {
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

/** The failure callback state: `failureFunctionState`, or `failureCallbackInfo.state` as the SDK types show it. */
function callbackState(entry: DlqEntry): unknown {
  const info = entry.failureCallbackInfo as { state?: unknown } | undefined;
  return entry.failureFunctionState ?? info?.state;
}

function setCallbackState(entry: DlqEntry, state: string): void {
  entry.failureFunctionState = state;
  const info = entry.failureCallbackInfo;
  if (info && typeof info === 'object') (info as { state?: string }).state = state;
}

function matches(value: unknown, wanted: readonly string[], entry?: DlqEntry, field?: string): boolean {
  // Entries may carry one `label` or a `labels` array.
  if (field === 'label' && value === undefined && entry) value = entry.labels;
  if (Array.isArray(value)) return value.some((item) => wanted.includes(String(item)));
  return value !== undefined && value !== null && wanted.includes(String(value));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
/** Workflow DLQ entries with ids shaped like Upstash's (`<ms>-<n>`), one second apart, the newest now. */
export function workflowEntries(count: number, fields: Partial<DlqEntry> = {}, now = Date.now()): DlqEntry[] {
  return Array.from({ length: count }, (_, index) => {
    const createdAt = now - (count - index) * 1000;
    return {
      dlqId: `${createdAt}-${index}`,
      createdAt,
      workflowRunId: `wfr_${createdAt.toString(36)}${index}`,
      workflowUrl: 'https://app.example.com/api/workflow',
      workflowCreatedAt: createdAt - 60_000,
      url: 'https://app.example.com/api/workflow',
      method: 'POST',
      responseStatus: 500,
      failureFunctionState: 'CALLBACK_FAIL',
      ...fields,
    };
  });
}

/** QStash message DLQ entries, one second apart, the newest now. */
export function messageEntries(count: number, fields: Partial<DlqEntry> = {}, now = Date.now()): DlqEntry[] {
  return Array.from({ length: count }, (_, index) => {
    const createdAt = now - (count - index) * 1000;
    return {
      dlqId: `${createdAt}-${index}`,
      createdAt,
      messageId: `msg_${createdAt.toString(36)}${index}`,
      url: 'https://api.example.com/webhook',
      method: 'POST',
      responseStatus: 500,
      ...fields,
    };
  });
}
