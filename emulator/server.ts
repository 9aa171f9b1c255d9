/**
 * A loopback QStash DLQ emulator: the Workflow DLQ (/v2/workflows/dlq) and the message DLQ (/v2/dlq), per-id GET and
 * DELETE, listing with filters and cursors, bulk delete, bearer auth, a burst rate limit with Upstash's
 * Burst-RateLimit-* headers, and scriptable faults. One emulator serves the tests, the demo and the benchmark.
 *
 * It binds 127.0.0.1 only. Run as a process with `node emulator/cli.ts`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type DlqKind = 'workflow' | 'qstash';

export interface DlqEntry {
  dlqId: string;
  createdAt: number;
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
  /** Matches a per-id request for this (decoded) id. */
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
}

export interface EmulatorOptions {
  token?: string;
  /** Delay before each request is handled, like network latency. */
  latencyMs?: number;
  rateLimit?: RateLimitOptions;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  /** Status sent, or 'dropped' / 'hung'. */
  result: number | 'dropped' | 'hung';
  at: number;
}

export const DEFAULT_TOKEN = 'emulator-token-3f9c2d7a1b';

const COLLECTIONS: Record<string, DlqKind> = { '/v2/workflows/dlq': 'workflow', '/v2/dlq': 'qstash' };

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

export class DlqEmulator {
  readonly token: string;
  latencyMs: number;
  rateLimit: RateLimitOptions | undefined;
  faults: FaultRule[] = [];
  readonly requests: RequestRecord[] = [];
  private readonly store: Record<DlqKind, Map<string, StoredEntry>> = { workflow: new Map(), qstash: new Map() };
  private seq = 0;
  private window = { start: 0, count: 0 };
  private readonly server: Server;
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
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      this.connectionsOpened += 1;
      socket.on('close', () => this.sockets.delete(socket));
    });
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
    return `http://127.0.0.1:${this.port}`;
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

  count(result: RequestRecord['result']): number {
    return this.requests.filter((r) => r.result === result).length;
  }

  private record(req: IncomingMessage, result: RequestRecord['result']): void {
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', result, at: Date.now() });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Drain the request body (none is expected) so keep-alive works.
    req.resume();
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once('close', () => (this.inFlight -= 1));
    if (this.latencyMs > 0) await sleep(this.latencyMs);

    const url = new URL(req.url ?? '/', 'http://emulator');
    const route = this.route(url.pathname);
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

    const answer = this.operate(req.method ?? 'GET', url, route);
    if (fault?.drop === 'after') return this.drop(req, res);
    if (fault?.hang === 'after') return this.hang(req, res);
    return this.send(req, res, answer.status, answer.body, limited.headers);
  }

  private route(pathname: string): { dlq: DlqKind; id?: string } | undefined {
    const trimmed = pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
    for (const [prefix, dlq] of Object.entries(COLLECTIONS)) {
      if (trimmed === prefix) return { dlq };
      if (pathname.startsWith(`${prefix}/`)) {
        const rest = pathname.slice(prefix.length + 1);
        if (rest.includes('/')) return undefined;
        return { dlq, id: decodeURIComponent(rest) };
      }
    }
    return undefined;
  }

  private operate(
    method: string,
    url: URL,
    route: { dlq: DlqKind; id?: string } | undefined,
  ): { status: number; body: string } {
    if (!route) return { status: 404, body: JSON.stringify({ error: 'not found' }) };
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
      return { status: 405, body: JSON.stringify({ error: 'method not allowed' }) };
    }

    const params = url.searchParams;
    if (method === 'GET') {
      const count = Math.min(100, Math.max(1, Number(params.get('count') ?? 100) || 100));
      // @upstash/workflow lists the Workflow DLQ as GET /v2/dlq?source=workflow, not GET /v2/workflows/dlq as the
      // API reference documents; both are served so that the official client can be checked against us.
      const dlq = route.dlq === 'qstash' && params.get('source') === 'workflow' ? 'workflow' : route.dlq;
      const page = this.select(dlq, params, count);
      return {
        status: 200,
        body: JSON.stringify({ messages: page.entries, ...(page.cursor && { cursor: page.cursor }) }),
      };
    }
    if (method === 'DELETE') {
      const ids = params.getAll('dlqIds').flatMap((value) => value.split(','));
      if (ids.length > 0) {
        let deleted = 0;
        for (const id of ids) if (store.delete(id)) deleted += 1;
        return { status: 200, body: JSON.stringify({ deleted }) };
      }
      // The hazard: no ids and no filter deletes everything, `count` at a time. Emulated faithfully.
      const count = Math.max(1, Number(params.get('count') ?? 100) || 100);
      const page = this.select(route.dlq, params, count);
      for (const entry of page.entries) store.delete(entry.dlqId);
      return {
        status: 200,
        body: JSON.stringify({ deleted: page.entries.length, ...(page.cursor && { cursor: page.cursor }) }),
      };
    }
    return { status: 405, body: JSON.stringify({ error: 'method not allowed' }) };
  }

  private select(dlq: DlqKind, params: URLSearchParams, count: number): { entries: DlqEntry[]; cursor?: string } {
    const after = Number(params.get('cursor') ?? 0) || 0;
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

    const entries: DlqEntry[] = [];
    let lastSeq = 0;
    let more = false;
    for (const { seq, entry } of this.store[dlq].values()) {
      if (seq <= after || !checks.every((check) => check(entry))) continue;
      if (entries.length === count) {
        more = true;
        break;
      }
      entries.push(entry);
      lastSeq = seq;
    }
    return more ? { entries, cursor: String(lastSeq) } : { entries };
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

function notFound(): { status: number; body: string } {
  return { status: 404, body: JSON.stringify({ error: 'dlq message not found' }) };
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
