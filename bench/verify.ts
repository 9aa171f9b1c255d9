/**
 * `node bench/verify.ts`: the requests and the time spent verifying 1,000 re-runs (src/verify.ts) against a loopback
 * emulator, in process. The new runs end at random within `--spread-ms` (a few fail again and land back in the DLQ,
 * with `--stuck`, one never ends); the wait asks the logs endpoint 50 runs per
 * request with its real pacing (2 s, doubling, at most 30 s between rounds). For scale it also prints how many
 * requests asking run by run (one request per pending run per round, at the same pacing) would have taken.
 *
 *   node bench/verify.ts                       # 1,000 runs ending within 10 s, 25 ms latency
 *   node bench/verify.ts --quick               # 100 runs ending within 3 s
 *   options: --runs 1000 --spread-ms 10000 --fail-rate 0.02 --latency 25 --duration-ms 120000 --stuck
 */
import { parseArgs } from 'node:util';
import { DlqEmulator, workflowEntries } from '../emulator/server.ts';
import { systemClock } from '../src/qstash/clock.ts';
import { verifyRuns, type LogsExchange, type LogsReply, type WatchedRun } from '../src/verify.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    'spread-ms': { type: 'string' },
    'fail-rate': { type: 'string', default: '0.02' },
    latency: { type: 'string', default: '25' },
    'duration-ms': { type: 'string', default: '120000' },
    stuck: { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs ?? (values.quick ? 100 : 1000));
const SPREAD_MS = Number(values['spread-ms'] ?? (values.quick ? 3000 : 10_000));
const FAIL_RATE = Number(values['fail-rate']);
const LATENCY = Number(values.latency);
const DURATION_MS = Number(values['duration-ms']);
for (const [name, value] of Object.entries({ runs: RUNS, 'spread-ms': SPREAD_MS, latency: LATENCY })) {
  if (!Number.isInteger(value) || value < (name === 'runs' ? 1 : 0)) throw new Error(`--${name}: a whole number`);
}
if (!(FAIL_RATE >= 0 && FAIL_RATE <= 1)) throw new Error('--fail-rate: between 0 and 1');

/** A deterministic pseudo-random sequence, so that runs compare. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const emulator = await DlqEmulator.start({ latencyMs: LATENCY });
try {
  const next = random(18);
  const ids = emulator.seed('workflow', workflowEntries(RUNS));
  const outcomes = new Map(
    ids.map((id, index) => [
      id,
      values.stuck && index === 0
        ? ({ state: 'RUN_STARTED' } as const)
        : ({
            state: next() < FAIL_RATE ? 'RUN_FAILED' : 'RUN_SUCCESS',
            afterMs: Math.floor(next() * SPREAD_MS),
          } as const),
    ]),
  );
  emulator.runOutcomes = (dlqId) => outcomes.get(dlqId) ?? { state: 'RUN_SUCCESS' };

  // The re-runs: bulk resume, 50 ids per request, as the action sends them.
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
      durationMs: DURATION_MS,
      onRound: (counts) => {
        runByRun += pending;
        pending = counts.RUN_STARTED + counts.unknown;
      },
    },
    new AbortController().signal,
  );

  const number = (value: number): string => value.toLocaleString('en-US');
  console.log(`Verifying ${number(RUNS)} re-runs (ending within ${number(SPREAD_MS)} ms, ${LATENCY} ms latency)`);
  console.log(`  ended:             ${result.ended}`);
  console.log(`  time spent:        ${(result.elapsedMs / 1000).toFixed(1)} s`);
  console.log(`  rounds:            ${result.rounds}`);
  console.log(`  logs requests:     ${number(result.requests)} (${(result.requests / RUNS).toFixed(3)} per run)`);
  console.log(`  run by run:        ${number(runByRun)} requests at the same pacing`);
  console.log(`  bytes read:        ${number(bytes)}`);
  const { counts } = result;
  console.log(
    `  states:            ${counts.RUN_SUCCESS} succeeded, ${counts.RUN_FAILED} failed again, ` +
      `${counts.RUN_CANCELED} cancelled, ${counts.RUN_STARTED} still running, ${counts.unknown} unknown`,
  );
  const expectedFailed = [...outcomes.values()].filter((outcome) => outcome.state === 'RUN_FAILED').length;
  if (result.ended === 'all-ended' && counts.RUN_FAILED !== expectedFailed) {
    throw new Error(`expected ${expectedFailed} failed again, saw ${counts.RUN_FAILED}`);
  }
} finally {
  await emulator.close();
}
