/**
 * A loopback QStash DLQ emulator: the Workflow DLQ (/v2/workflows/dlq) and the message DLQ (/v2/dlq), per-id GET and
 * DELETE, listing with filters and cursors, bulk delete, the redrive endpoints (restart, resume, failure-callback
 * retry and cancel, message retry; per id and bulk), bearer auth (and a read-only token that may only GET), a burst
 * rate limit with Upstash's Burst-RateLimit-* headers, and scriptable faults. One emulator serves the tests, the demo and the benchmark.
 *
 * This file is the HTTP side: sockets, TLS, keep-alive, faults, the rate limit, auth and the request records. The
 * routes are a table in operations.ts, their behaviours in entries.ts and redrive.ts, the entries, paging and the
 * re-runs log in store.ts, fault rules in faults.ts.
 *
 * It binds 127.0.0.1 only, over HTTP or (with `tls`) HTTPS. Run as a process with `node emulator/cli.ts`.
 *
 * Where Upstash's published API documents leave a behaviour open, the emulator makes it an option (`cursor`,
 * `redriveRemoves`, `redriveMissing`) so that tests can run against each plausible answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { effectAfter, effectBefore, takeFault, type FaultEffect, type FaultRule, type SlowBody } from './faults.ts';
import { methodNotAllowed, noRoute, type Answer } from './answers.ts';
import { route, type World } from './operations.ts';
import type { RedriveMissing } from './redrive.ts';
import type { EmulatedRun, RunOutcomes } from './runs.ts';
import { DlqStore, type CursorMode, type DlqEntry, type DlqKind, type ListOrder, type RerunRecord } from './store.ts';

export type { FaultRule } from './faults.ts';
export { WORKFLOW_BULK_REDRIVE_LIMIT, type RedriveMissing } from './redrive.ts';
export { RUN_STATES, type EmulatedRun, type RunOutcome, type RunOutcomes, type RunState } from './runs.ts';
export { DETAILED_VALUES, detailedMessageEntries, detailedWorkflowEntries } from './entries.ts';
export {
  messageEntries,
  workflowEntries,
  type CursorMode,
  type DlqEntry,
  type DlqKind,
  type ListOrder,
  type RerunOperation,
  type RerunRecord,
} from './store.ts';

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

export interface EmulatorOptions {
  token?: string;
  /** A read-only token: accepted for `GET`s, every other method refused with a 403, as Upstash refuses it. */
  readOnlyToken?: string;
  /** Delay before each request is handled, like network latency. */
  latencyMs?: number;
  rateLimit?: RateLimitOptions;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Default 'id'. */
  cursor?: CursorMode;
  /** The order listings show entries in. Default 'insertion'. */
  listOrder?: ListOrder;
  /**
   * Whether a Workflow DLQ entry leaves the DLQ once restarted or resumed: undocumented, default false (it stays).
   * A message DLQ retry always removes the entry, as Upstash documents.
   */
  redriveRemoves?: { workflow?: boolean };
  /** Default 'reject'. */
  redriveMissing?: RedriveMissing;
  /**
   * What each new run a restart or resume creates does, and when (runs.ts). Default: it succeeds at once. A run that
   * fails lands back in the Workflow DLQ as a new entry; RUN_STARTED never ends.
   */
  runOutcomes?: RunOutcomes;
  /** Whether a resume keeps the failed run's workflowRunId (a new workflowCreatedAt tells the runs apart). */
  resumeKeepsRunId?: boolean;
  /**
   * Which message DLQ retries QStash deduplicates: 201 with the old message id and `deduplicated: true`, nothing
   * delivered, the entry kept. Default: none.
   */
  retryDeduplicates?: (dlqId: string) => boolean;
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
  /** Whether it carried the read-only token instead (then only a `GET` was served). */
  readOnly: boolean;
}

export const DEFAULT_TOKEN = 'emulator-token-3f9c2d7a1b';
export const DEFAULT_READONLY_TOKEN = 'emulator-readonly-token-7c1e5a9d';

/**
 * Upstash refuses every change made with a read-only token with a 403 (its documents say the token "cannot be used
 * to ... modify existing resources"; they do not publish the body's wording, so this error text is ours).
 */
export const READONLY_REFUSAL = { error: 'this is a read-only token: it cannot be used to change anything' };

export class DlqEmulator {
  readonly token: string;
  readonly readOnlyToken: string;
  latencyMs: number;
  rateLimit: RateLimitOptions | undefined;
  /** May be changed between requests. */
  cursorMode: CursorMode;
  /** The order listings show entries in; may be changed between requests. */
  get listOrder(): ListOrder {
    return this.store.listOrder;
  }
  set listOrder(order: ListOrder) {
    this.store.listOrder = order;
  }
  /** May be changed between requests. */
  redriveRemoves: { workflow: boolean };
  /** May be changed between requests. */
  redriveMissing: RedriveMissing;
  /** May be changed between requests. */
  retryDeduplicates: (dlqId: string) => boolean;
  faults: FaultRule[] = [];
  readonly requests: RequestRecord[] = [];
  /** Every re-run performed, in order. */
  readonly reruns: RerunRecord[];
  readonly tls: boolean;
  /** Most requests the emulator was handling at once. */
  maxInFlight = 0;
  /** TCP connections accepted so far (keep-alive reuses them). */
  connectionsOpened = 0;
  /** Connections closed by `idleCloseMs`. */
  idleClosed = 0;
  private readonly store = new DlqStore();
  private window = { start: 0, count: 0 };
  private readonly server: Server | HttpsServer;
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();
  private port = 0;
  private inFlight = 0;

  private constructor(options: EmulatorOptions) {
    this.token = options.token ?? DEFAULT_TOKEN;
    this.readOnlyToken = options.readOnlyToken ?? DEFAULT_READONLY_TOKEN;
    if (this.readOnlyToken === this.token) throw new Error('the read-only token must differ from the token');
    this.latencyMs = options.latencyMs ?? 0;
    this.rateLimit = options.rateLimit;
    this.cursorMode = options.cursor ?? 'id';
    this.store.listOrder = options.listOrder ?? 'insertion';
    this.redriveRemoves = { workflow: options.redriveRemoves?.workflow ?? false };
    this.redriveMissing = options.redriveMissing ?? 'reject';
    this.retryDeduplicates = options.retryDeduplicates ?? (() => false);
    this.reruns = this.store.reruns;
    if (options.runOutcomes) this.store.runs.outcomes = options.runOutcomes;
    this.store.runs.resumeKeepsRunId = options.resumeKeepsRunId ?? false;
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
    if (options.idleCloseMs !== undefined) this.closeIdleAfter(options.idleCloseMs);
  }

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

  /** What new runs do from now on (see `EmulatorOptions.runOutcomes`); runs already created keep theirs. */
  set runOutcomes(outcomes: RunOutcomes) {
    this.store.runs.outcomes = outcomes;
  }

  /** The runs restart and resume created, as they are now. */
  get runs(): readonly EmulatedRun[] {
    return this.settled().runs.runs;
  }

  /** Adds entries; returns their ids in order. */
  seed(dlq: DlqKind, entries: readonly DlqEntry[]): string[] {
    return this.store.seed(dlq, entries);
  }

  has(dlq: DlqKind, id: string): boolean {
    return this.settled().has(dlq, id);
  }

  /** The stored entry (live object), or undefined. */
  get(dlq: DlqKind, id: string): DlqEntry | undefined {
    return this.settled().get(dlq, id);
  }

  /** Removes entries as someone else (or expiry) would; returns how many existed. */
  remove(dlq: DlqKind, ids: readonly string[]): number {
    return ids.filter((id) => this.store.delete(dlq, id)).length;
  }

  ids(dlq: DlqKind): string[] {
    return this.settled().ids(dlq);
  }

  /** The store, with every run whose outcome is due ended (runs settle lazily, see runs.ts). */
  private settled(): DlqStore {
    this.store.runs.settle(this.store, Date.now());
    return this.store;
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

  /** Faults, then the rate limit, then auth, then the operation the table names; faults may also act afterwards. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Drain the request body (none is expected) so keep-alive works.
    req.resume();
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once('close', () => (this.inFlight -= 1));
    if (this.latencyMs > 0) await sleep(this.latencyMs);

    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const found = route(method, url.pathname);
    const fault = takeFault(this.faults, method, req.url ?? '', found.id);
    if (fault?.delayMs) await sleep(fault.delayMs);
    fault?.run?.(this);
    const before = effectBefore(fault, url);
    if (before) return this.apply(req, res, before);

    const limited = this.rateLimited();
    if (limited.over) {
      return this.send(req, res, 429, JSON.stringify({ error: 'Burst rate limit exceeded' }), limited.headers);
    }
    const refused = this.authorize(req);
    if (refused) return this.send(req, res, refused.status, refused.body, limited.headers);

    let answer: Answer;
    if (found.operation) {
      const request = { id: found.id ?? '', query: url.searchParams, headers: req.headers };
      answer = found.operation.behaviour(this.world(), request);
    } else {
      answer = found.known ? methodNotAllowed() : noRoute();
    }
    const after = effectAfter(fault, url);
    if (after) return this.apply(req, res, after);
    return this.send(req, res, answer.status, answer.body, limited.headers);
  }

  /** A 401 unless the request carries the emulator's token, or the read-only one (then a 403 for all but GET). */
  private authorize(req: IncomingMessage): Answer | undefined {
    if (req.headers.authorization === `Bearer ${this.token}`) return undefined;
    if (req.headers.authorization === `Bearer ${this.readOnlyToken}`) {
      return req.method === 'GET' ? undefined : { status: 403, body: JSON.stringify(READONLY_REFUSAL) };
    }
    return { status: 401, body: JSON.stringify({ error: 'unauthorized' }) };
  }

  /** The state operations see, with the settings as they are now (tests change them between requests). */
  private world(): World {
    return {
      store: this.settled(),
      cursorMode: this.cursorMode,
      redriveRemoves: this.redriveRemoves,
      redriveMissing: this.redriveMissing,
      retryDeduplicates: this.retryDeduplicates,
    };
  }

  private closeIdleAfter(idleCloseMs: number): void {
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
      readOnly: req.headers.authorization === `Bearer ${this.readOnlyToken}`,
    });
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

  private apply(req: IncomingMessage, res: ServerResponse, effect: FaultEffect): void {
    if (effect.kind === 'drop') {
      this.record(req, 'dropped');
      res.socket?.destroy();
    } else if (effect.kind === 'hang') {
      this.record(req, 'hung');
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
    } else {
      this.send(req, res, effect.status, effect.body, effect.headers, effect.slowBody);
    }
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string>,
    slow?: SlowBody,
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
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
