/**
 * Verifying re-runs: the requests and the time spent waiting for 1,000 new runs to end. Three ways, each against a
 * loopback emulator whose new runs end at random within `--spread-ms` (a few fail again and land back in the DLQ;
 * with `--stuck`, one never ends):
 *
 * - section `verify` of `npm run bench` (bench/run.ts) runs dist/index.js as a runner runs it, `operation: resume`
 *   with `verify`, and compares it with `--by-hand` below;
 * - `--by-hand <ids-file>` (run as its own process, QSTASH_URL and QSTASH_TOKEN from the environment, as a user's
 *   script would get them): what a user would do by hand, one resume per id and then one logs request per run
 *   still pending, round after round at the action's pacing (at once, then 2 s, 4 s, 8 s, 16 s, then every 30 s),
 *   8 requests at a time; it prints its figures as JSON;
 * - on its own (`node bench/verify.ts`), the wait of src/verify.ts in process, 50 runs a logs request, with the
 *   request count the run-by-run way would have taken at the same pacing. bench/run.ts falls back to it when the
 *   build it measures has no `verify`.
 *
 *   node bench/verify.ts                       # 1,000 runs ending within 10 s, 25 ms latency
 *   node bench/verify.ts --quick               # 100 runs ending within 3 s
 *   options: --runs 1000 --spread-ms 10000 --fail-rate 0.02 --latency 25 --duration-ms 120000 --stuck
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DlqEmulator, workflowEntries } from '../emulator/server.ts';
import type { RunOutcome } from '../emulator/runs.ts';
import { systemClock } from '../src/qstash/clock.ts';
import {
  roundGap,
  tally,
  verifyRuns,
  type LogsExchange,
  type LogsReply,
  type SeenState,
  type WatchedRun,
} from '../src/verify.ts';

/** What the new runs do. */
export interface RunPlan {
  readonly spreadMs: number;
  readonly failRate: number;
  /** The first run never ends (the wait then lasts its whole duration). */
  readonly stuck?: boolean;
}

/** A deterministic pseudo-random sequence, so that runs compare. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Each id's new run outcome (the same for the same ids and plan: seeded), set as the emulator's `runOutcomes`; the
 * map is returned so that a caller can check what the verifier reported against it.
 */
export function planRuns(emulator: DlqEmulator, ids: readonly string[], plan: RunPlan): Map<string, RunOutcome> {
  const next = random(18);
  const outcomes = new Map<string, RunOutcome>(
    ids.map((id, index) => [
      id,
      plan.stuck && index === 0
        ? { state: 'RUN_STARTED' }
        : { state: next() < plan.failRate ? 'RUN_FAILED' : 'RUN_SUCCESS', afterMs: Math.floor(next() * plan.spreadMs) },
    ]),
  );
  emulator.runOutcomes = (dlqId) => outcomes.get(dlqId) ?? { state: 'RUN_SUCCESS' };
  return outcomes;
}

/** How many planned runs end in each state (a run that never ends: RUN_STARTED). */
export function plannedCounts(outcomes: ReadonlyMap<string, RunOutcome>): Record<SeenState, number> {
  return tally([...outcomes.values()].map((outcome) => outcome.state));
}

/** The emulator's figures of one way of verifying, from what it recorded. */
export interface VerifyTraffic {
  readonly reruns: number;
  readonly logs: number;
  /** Logs rounds: runs of logs requests with less than a second between them (rounds are 2 s or more apart). */
  readonly rounds: number;
  /** Last logs request's answer minus last re-run's answer, in ms (0 without logs requests). */
  readonly verifyMs: number;
}

/** Reads VerifyTraffic from what the emulator recorded. */
export function verifyTraffic(emulator: DlqEmulator): VerifyTraffic {
  const reruns = emulator.requests.filter((r) => r.method === 'POST' && r.path.includes('/dlq/resume'));
  const logs = emulator.requests.filter((r) => r.path.split('?')[0] === '/v2/workflows/logs').map((r) => r.at);
  logs.sort((a, b) => a - b);
  const rounds = logs.filter((at, index) => index === 0 || at - logs[index - 1]! >= 1000).length;
  const lastRerun = Math.max(0, ...reruns.map((r) => r.at));
  const verifyMs = logs.length > 0 ? logs.at(-1)! - lastRerun : 0;
  return { reruns: reruns.length, logs: logs.length, rounds, verifyMs };
}

/** `count` items of `work`, at most `concurrency` at a time. */
async function pool<T>(count: number, concurrency: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      results[index] = await work(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

export interface ByHandResult {
  readonly resumed: number;
  readonly rounds: number;
  readonly requests: number;
  readonly counts: Record<SeenState, number>;
  readonly ms: number;
}

/**
 * The by-hand way: resume each id (one request each, to know which id became which run), then ask the logs for each
 * run still pending, one run a request, at the action's pacing, until all ended or `durationMs` passed.
 */
export async function verifyByHand(
  url: string,
  token: string,
  ids: readonly string[],
  durationMs: number,
  concurrency = 8,
): Promise<ByHandResult> {
  const started = performance.now();
  const headers = { authorization: `Bearer ${token}` };
  const resumed = await pool(ids.length, concurrency, async (index) => {
    const id = ids[index]!;
    const response = await fetch(`${url}/v2/workflows/dlq/resume/${encodeURIComponent(id)}`, {
      method: 'POST',
      headers,
    });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { workflowRunId: string; workflowCreatedAt: number };
    return { id, workflowRunId: body.workflowRunId, workflowCreatedAt: body.workflowCreatedAt } as WatchedRun;
  });
  const runs = resumed.filter((run): run is WatchedRun => run !== undefined);
  const states = new Map<WatchedRun, SeenState>(runs.map((run) => [run, 'unknown']));
  const ended = (state: SeenState | undefined): boolean =>
    state === 'RUN_SUCCESS' || state === 'RUN_FAILED' || state === 'RUN_CANCELED';
  const waitStart = performance.now();
  let requests = 0;
  let rounds = 0;
  // Bounded: the duration over the 2 s minimum gap, plus the first and the last round.
  for (const maxRounds = Math.ceil(durationMs / 2000) + 2; rounds < maxRounds;) {
    const roundStart = performance.now();
    rounds += 1;
    const pending = runs.filter((run) => !ended(states.get(run)));
    await pool(pending.length, concurrency, async (index) => {
      const run = pending[index]!;
      const pair = `${encodeURIComponent(run.workflowRunId)}@${run.workflowCreatedAt}`;
      requests += 1;
      const response = await fetch(`${url}/v2/workflows/logs?workflowRuns=${pair}&count=1`, { headers });
      if (!response.ok) return;
      const body = (await response.json()) as { runs?: { workflowState?: string }[] };
      const state = body.runs?.[0]?.workflowState;
      if (state !== undefined) states.set(run, state as SeenState);
    });
    if (runs.every((run) => ended(states.get(run)))) break;
    const now = performance.now();
    const deadline = waitStart + durationMs;
    if (now >= deadline) break;
    const next = Math.min(roundStart + roundGap(rounds - 1), deadline);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - now)));
  }
  return { resumed: runs.length, rounds, requests, counts: tally(states.values()), ms: performance.now() - started };
}

export interface InProcessResult {
  readonly ended: string;
  readonly elapsedMs: number;
  readonly rounds: number;
  readonly requests: number;
  /** The requests the run-by-run way would have taken at the same pacing (one per pending run per round). */
  readonly runByRun: number;
  readonly bytes: number;
  readonly counts: Readonly<Record<SeenState, number>>;
}

/** The wait of src/verify.ts in process, after a bulk resume of `ids` (50 a request: only the setup). */
export async function verifyInProcess(
  emulator: DlqEmulator,
  ids: readonly string[],
  durationMs: number,
): Promise<InProcessResult> {
  const watched: WatchedRun[] = [];
  const headers = { authorization: `Bearer ${emulator.token}` };
  for (let start = 0; start < ids.length; start += 50) {
    const batch = ids.slice(start, start + 50);
    const query = batch.map((id) => `dlqIds=${encodeURIComponent(id)}`).join('&');
    const response = await fetch(`${emulator.url}/v2/workflows/dlq/resume?${query}`, { method: 'POST', headers });
    const body = (await response.json()) as { workflowRuns: { workflowRunId: string; workflowCreatedAt: number }[] };
    body.workflowRuns.forEach((run, index) => watched.push({ id: batch[index]!, ...run }));
  }
  let bytes = 0;
  const send = async (exchange: LogsExchange, signal: AbortSignal): Promise<LogsReply> => {
    try {
      const response = await fetch(`${emulator.url}${exchange.path}`, { headers, signal });
      const body = await response.text();
      bytes += Buffer.byteLength(body);
      return { kind: 'answered', status: response.status, body };
    } catch (error) {
      return { kind: 'failed', reason: String(error) };
    }
  };
  // Run by run, each round would ask once per run still pending at its start.
  let pending = watched.length;
  let runByRun = 0;
  const result = await verifyRuns(
    watched,
    send,
    systemClock,
    {
      durationMs,
      onRound: (counts) => {
        runByRun += pending;
        pending = counts.RUN_STARTED + counts.unknown;
      },
    },
    new AbortController().signal,
  );
  const { ended, elapsedMs, rounds, requests, counts } = result;
  return { ended, elapsedMs, rounds, requests, runByRun, bytes, counts };
}

/** "600 succeeded, 3 failed again, ..." */
export function describeCounts(counts: Readonly<Record<SeenState, number>>): string {
  return (
    `${counts.RUN_SUCCESS} succeeded, ${counts.RUN_FAILED} failed again, ${counts.RUN_CANCELED} cancelled, ` +
    `${counts.RUN_STARTED} still running, ${counts.unknown} unknown`
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      'by-hand': { type: 'boolean', default: false },
      runs: { type: 'string' },
      'spread-ms': { type: 'string' },
      'fail-rate': { type: 'string', default: '0.02' },
      latency: { type: 'string', default: '25' },
      'duration-ms': { type: 'string', default: '120000' },
      stuck: { type: 'boolean', default: false },
    },
  });
  const DURATION_MS = Number(values['duration-ms']);
  if (!Number.isInteger(DURATION_MS) || DURATION_MS < 0) throw new Error('--duration-ms: a whole number');
  if (values['by-hand']) {
    const [file] = positionals;
    const url = process.env.QSTASH_URL;
    const token = process.env.QSTASH_TOKEN;
    if (file === undefined || !url || !token) {
      throw new Error('--by-hand <ids-file>, with QSTASH_URL and QSTASH_TOKEN set');
    }
    const ids = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    console.log(JSON.stringify(await verifyByHand(url, token, ids, DURATION_MS)));
    return;
  }
  const RUNS = Number(values.runs ?? (values.quick ? 100 : 1000));
  const SPREAD_MS = Number(values['spread-ms'] ?? (values.quick ? 3000 : 10_000));
  const FAIL_RATE = Number(values['fail-rate']);
  const LATENCY = Number(values.latency);
  for (const [name, value] of Object.entries({ runs: RUNS, 'spread-ms': SPREAD_MS, latency: LATENCY })) {
    if (!Number.isInteger(value) || value < (name === 'runs' ? 1 : 0)) throw new Error(`--${name}: a whole number`);
  }
  if (!(FAIL_RATE >= 0 && FAIL_RATE <= 1)) throw new Error('--fail-rate: between 0 and 1');

  const emulator = await DlqEmulator.start({ latencyMs: LATENCY });
  try {
    const ids = emulator.seed('workflow', workflowEntries(RUNS));
    const outcomes = planRuns(emulator, ids, { spreadMs: SPREAD_MS, failRate: FAIL_RATE, stuck: values.stuck });
    const result = await verifyInProcess(emulator, ids, DURATION_MS);
    const number = (value: number): string => value.toLocaleString('en-US');
    console.log(`Verifying ${number(RUNS)} re-runs (ending within ${number(SPREAD_MS)} ms, ${LATENCY} ms latency)`);
    console.log(`  ended:             ${result.ended}`);
    console.log(`  time spent:        ${(result.elapsedMs / 1000).toFixed(1)} s`);
    console.log(`  rounds:            ${result.rounds}`);
    console.log(`  logs requests:     ${number(result.requests)} (${(result.requests / RUNS).toFixed(3)} per run)`);
    console.log(`  run by run:        ${number(result.runByRun)} requests at the same pacing`);
    console.log(`  bytes read:        ${number(result.bytes)}`);
    console.log(`  states:            ${describeCounts(result.counts)}`);
    const expectedFailed = plannedCounts(outcomes).RUN_FAILED;
    if (result.ended === 'all-ended' && result.counts.RUN_FAILED !== expectedFailed) {
      throw new Error(`expected ${expectedFailed} failed again, saw ${result.counts.RUN_FAILED}`);
    }
  } finally {
    await emulator.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
