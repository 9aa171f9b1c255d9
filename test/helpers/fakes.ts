/**
 * Test doubles for the HTTP client's parts: a clock that advances instantly, a scripted transport, and a small
 * in-memory DLQ server for the engine's tests.
 */
import { DlqClient, type ClientOptions } from '../../src/qstash/client.js';
import type { Clock } from '../../src/qstash/clock.js';
import { RateLimiter } from '../../src/qstash/rate-limit.js';
import type { Exchange, ExchangeResult, Transport } from '../../src/qstash/transport.js';

export class FakeClock implements Clock {
  time = 1_800_000_000_000;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.sleeps.push(ms);
    this.time += Math.max(0, ms);
  }
}

export const ok = (status = 200, headers: Record<string, string> = {}, body = ''): ExchangeResult => ({
  kind: 'response',
  status,
  headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
  body,
});

/** A 200 whose body was cut at the exchange's limit. */
export const truncated = (body: string): ExchangeResult => ({
  kind: 'response',
  status: 200,
  headers: {},
  body,
  truncated: true,
});

/** A response with a JSON body. */
export const json = (status: number, body: unknown): ExchangeResult => ok(status, {}, JSON.stringify(body));

export const net = (code: string, sent: boolean): ExchangeResult => ({
  kind: 'network',
  reason: code,
  code,
  sent,
});

type Script = (exchange: Exchange, attempt: number) => ExchangeResult;

/**
 * Answers each exchange from a script, recording what was sent. `attempt` counts the exchanges with the same method
 * and path so far (1 for the first). A script that throws makes `send` reject, as a broken transport would.
 */
export class ScriptedTransport implements Transport {
  readonly sent: Exchange[] = [];
  readonly script: Script;
  constructor(script: Script) {
    this.script = script;
  }
  async send(exchange: Exchange): Promise<ExchangeResult> {
    this.sent.push(exchange);
    // Yield like a real request would, so that concurrent workers interleave.
    await Promise.resolve();
    const attempt = this.sent.filter((e) => e.path === exchange.path && e.method === exchange.method).length;
    return this.script(exchange, attempt);
  }
  async close(): Promise<void> {}

  /** How many requests went out with this method and path. */
  count(method: string, path: string): number {
    return this.sent.filter((e) => e.method === method && e.path === path).length;
  }

  /** Every request as `METHOD path`, in the order sent. */
  get lines(): string[] {
    return this.sent.map((e) => `${e.method} ${e.path}`);
  }
}

/** A client over a scripted transport and a fake clock; retries without jitter. */
export function scriptedClient(script: Script, options: Partial<ClientOptions> = {}) {
  const clock = new FakeClock();
  const transport = new ScriptedTransport(script);
  const client = new DlqClient(transport, new RateLimiter(clock), clock, {
    maxRetries: 1,
    random: () => 0,
    ...options,
  });
  return { client, transport, clock };
}

/** The last path segment of a request, decoded: the id of a per-id request. */
export function lastSegment(exchange: Exchange): string {
  return decodeURIComponent(new URL(exchange.path, 'http://x').pathname.split('/').pop()!);
}

export interface FakeDlqOptions {
  /** Entries listed per page. */
  readonly pageSize?: number;
  /** Entries the listing never shows (as a cursor that skips entries would), though they exist. */
  readonly hidden?: readonly string[];
  /** How many of a bulk call's existing ids the server really deletes (default: all of them). */
  readonly bulkDeletes?: (existing: readonly string[]) => readonly string[];
}

/**
 * A small Workflow DLQ (`/v2/workflows/dlq`) over a set of ids: listing by offset cursor, bulk delete answering
 * `{"deleted": n}`, per-id DELETE and GET (200 or 404). Deleting removes the entry.
 */
export function fakeWorkflowDlq(ids: readonly string[], options: FakeDlqOptions = {}) {
  const entries = new Set(ids);
  const hidden = new Set(options.hidden ?? []);
  const pageSize = options.pageSize ?? 100;
  const script = (exchange: Exchange): ExchangeResult => {
    const url = new URL(exchange.path, 'http://x');
    if (url.pathname === '/v2/workflows/dlq') {
      if (exchange.method === 'GET') {
        const visible = [...entries].filter((id) => !hidden.has(id));
        const start = Number(url.searchParams.get('cursor') ?? 0);
        const size = Math.min(pageSize, Number(url.searchParams.get('count')));
        const page = visible.slice(start, start + size).map((dlqId) => ({ dlqId }));
        const next = start + size < visible.length ? { cursor: String(start + size) } : {};
        return json(200, { messages: page, ...next });
      }
      if (exchange.method === 'DELETE') {
        const existing = url.searchParams.getAll('dlqIds').filter((id) => entries.has(id));
        const deleted = options.bulkDeletes ? options.bulkDeletes(existing) : existing;
        for (const id of deleted) entries.delete(id);
        return json(200, { deleted: deleted.length });
      }
    }
    const id = lastSegment(exchange);
    if (!entries.has(id)) return ok(404);
    if (exchange.method === 'DELETE') entries.delete(id);
    return ok(200);
  };
  return { entries, script };
}
