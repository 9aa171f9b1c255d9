/** Test doubles for the HTTP client's parts: a clock that advances instantly, and a scripted transport. */
import type { Clock } from '../../src/qstash/clock.js';
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

export const net = (code: string, mayHaveReachedServer: boolean): ExchangeResult => ({
  kind: 'network',
  reason: code,
  code,
  mayHaveReachedServer,
});

/** Answers each exchange from a per-path script (last answer repeats), recording what was sent. */
export class ScriptedTransport implements Transport {
  readonly sent: Exchange[] = [];
  readonly script: (exchange: Exchange, attempt: number) => ExchangeResult;
  constructor(script: (exchange: Exchange, attempt: number) => ExchangeResult) {
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
}
