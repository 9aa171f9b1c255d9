/**
 * The verify wait (src/verify.ts) with a fake clock and a fake logs endpoint: what a redrive's new runs did, as the
 * logs confirmed it, and how often the wait asked.
 */
import { describe, expect, it } from 'vitest';
import {
  batches,
  CLOCK_SKEW_MS,
  logsPath,
  parseLogs,
  readNewRun,
  roundGap,
  runKey,
  verifyRuns,
  type LogsExchange,
  type LogsReply,
  type RunState,
  type VerifyClock,
  type VerifyOptions,
  type WatchedRun,
} from '../../src/verify.ts';

/** Time that passes only when the wait sleeps (or a request takes `requestMs`). */
class FakeClock implements VerifyClock {
  t = 1_000_000;
  sleeps: number[] = [];
  onSleep?: () => void;
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (!signal.aborted) this.t += ms;
    this.onSleep?.();
    return Promise.resolve();
  }
}

const START = 1_000_000;

function watched(count: number, prefix = 'd'): WatchedRun[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    workflowRunId: `wfr_new_${prefix}${i}`,
    workflowCreatedAt: START + i,
  }));
}

/** The state each run has at a time: a function of the run and the clock. */
type Timeline = (run: WatchedRun, at: number) => { state: RunState; dlqId?: string } | undefined;

interface FakeLogs {
  send: (exchange: LogsExchange, signal: AbortSignal) => Promise<LogsReply>;
  paths: string[];
  times: number[];
}

/** A logs endpoint that answers `workflowRuns` as Upstash documents it, from a timeline. */
function fakeLogs(clock: FakeClock, runs: readonly WatchedRun[], timeline: Timeline, requestMs = 0): FakeLogs {
  const byKey = new Map(runs.map((run) => [runKey(run.workflowRunId, run.workflowCreatedAt), run]));
  const paths: string[] = [];
  const times: number[] = [];
  const send = (exchange: LogsExchange): Promise<LogsReply> => {
    paths.push(exchange.path);
    times.push(clock.t);
    clock.t += requestMs;
    const query = new URL(exchange.path, 'http://x').searchParams;
    const asked = (query.get('workflowRuns') ?? '').split(',');
    const out = asked.flatMap((key) => {
      const run = byKey.get(key);
      const found = run && timeline(run, clock.t);
      if (!run || !found) return [];
      return [
        {
          workflowRunId: run.workflowRunId,
          workflowRunCreatedAt: run.workflowCreatedAt,
          workflowState: found.state,
          ...(found.dlqId && { dlqId: found.dlqId }),
          steps: [],
        },
      ];
    });
    return Promise.resolve({ kind: 'answered', status: 200, body: JSON.stringify({ cursor: '', runs: out }) });
  };
  return { send, paths, times };
}

const run = (
  runs: readonly WatchedRun[],
  logs: FakeLogs,
  clock: FakeClock,
  options: Partial<VerifyOptions> = {},
  signal = new AbortController().signal,
) => verifyRuns(runs, logs.send, clock, { durationMs: 10 * 60_000, ...options }, signal);

describe('verify: outcomes', () => {
  it('all succeed: every id RUN_SUCCESS, one round, one request per 50 runs', async () => {
    const clock = new FakeClock();
    const runs = watched(120);
    const logs = fakeLogs(clock, runs, () => ({ state: 'RUN_SUCCESS' }));
    const result = await run(runs, logs, clock);
    expect(result.ended).toBe('all-ended');
    expect(result.counts).toMatchObject({ RUN_SUCCESS: 120, RUN_FAILED: 0, RUN_STARTED: 0, unknown: 0 });
    expect(result.reFailed).toEqual([]);
    expect(result.requests).toBe(3);
    expect(result.rounds).toBe(1);
    expect(result.runs.map((r) => r.id)).toEqual(runs.map((r) => r.id));
  });

  it('some fail again: re-failed ids in the order given, with the new DLQ ids the logs named', async () => {
    const clock = new FakeClock();
    const runs = watched(6);
    const logs = fakeLogs(clock, runs, (r, at) => {
      if (at < START + 5_000) return { state: 'RUN_STARTED' };
      if (r.id === 'd4') return { state: 'RUN_FAILED', dlqId: 'new-dlq-4' };
      if (r.id === 'd1') return { state: 'RUN_FAILED' }; // the logs name no DLQ entry
      return { state: 'RUN_SUCCESS' };
    });
    const result = await run(runs, logs, clock);
    expect(result.ended).toBe('all-ended');
    expect(result.reFailed).toEqual(['d1', 'd4']);
    expect(result.reFailedDlqIds).toEqual({ d4: 'new-dlq-4' });
    expect(result.counts).toMatchObject({ RUN_SUCCESS: 4, RUN_FAILED: 2 });
    expect(result.runs.find((r) => r.id === 'd4')).toMatchObject({ state: 'RUN_FAILED', newDlqId: 'new-dlq-4' });
  });

  it('some still running at the deadline: RUN_STARTED, never failed; unseen runs are unknown', async () => {
    const clock = new FakeClock();
    const runs = watched(4);
    const logs = fakeLogs(clock, runs, (r) => {
      if (r.id === 'd0') return { state: 'RUN_SUCCESS' };
      if (r.id === 'd3') return undefined; // the logs never show it
      return { state: 'RUN_STARTED' };
    });
    const result = await run(runs, logs, clock, { durationMs: 60_000 });
    expect(result.ended).toBe('deadline');
    expect(result.counts).toMatchObject({ RUN_SUCCESS: 1, RUN_STARTED: 2, unknown: 1, RUN_FAILED: 0 });
    expect(result.runs.find((r) => r.id === 'd3')!.state).toBe('unknown');
    expect(result.reFailed).toEqual([]);
    // The wait asked up to the deadline and not past it; the last round at the deadline itself.
    expect(Math.max(...logs.times)).toBe(START + 60_000);
    expect(result.elapsedMs).toBe(60_000);
  });

  it('a RUN_CANCELED run ends the watch for it and is not a failure', async () => {
    const clock = new FakeClock();
    const runs = watched(2);
    const logs = fakeLogs(clock, runs, (r) => ({ state: r.id === 'd0' ? 'RUN_CANCELED' : 'RUN_SUCCESS' }));
    const result = await run(runs, logs, clock);
    expect(result.counts).toMatchObject({ RUN_CANCELED: 1, RUN_SUCCESS: 1 });
    expect(result.reFailed).toEqual([]);
  });

  it('asks again only for runs that have not ended', async () => {
    const clock = new FakeClock();
    const runs = watched(3);
    const logs = fakeLogs(clock, runs, (r, at) =>
      r.id === 'd2' && at < START + 10_000 ? { state: 'RUN_STARTED' } : { state: 'RUN_SUCCESS' },
    );
    await run(runs, logs, clock);
    expect(logs.paths[0]).toContain('wfr_new_d0@');
    for (const path of logs.paths.slice(1)) {
      expect(path).not.toContain('wfr_new_d0@');
      expect(path).toContain('wfr_new_d2@');
    }
  });
});

describe('verify: logs that fail or lie', () => {
  const answers = (bodies: (LogsReply | ((path: string) => LogsReply))[]) => {
    let i = 0;
    const paths: string[] = [];
    const send = (exchange: LogsExchange): Promise<LogsReply> => {
      paths.push(exchange.path);
      const next = bodies[Math.min(i++, bodies.length - 1)]!;
      return Promise.resolve(typeof next === 'function' ? next(exchange.path) : next);
    };
    return { send, paths, times: [] };
  };
  const ok = (runs: unknown[]): LogsReply => ({ kind: 'answered', status: 200, body: JSON.stringify({ runs }) });
  const one = watched(1);
  const mine = { workflowRunId: one[0]!.workflowRunId, workflowRunCreatedAt: one[0]!.workflowCreatedAt };

  it('5xx, failures and bad JSON are noted and change nothing; a later good answer counts', async () => {
    const clock = new FakeClock();
    const logs = answers([
      { kind: 'answered', status: 503, body: 'busy' },
      { kind: 'failed', reason: 'connection refused' },
      { kind: 'answered', status: 200, body: '{"runs": [' },
      ok([{ ...mine, workflowState: 'RUN_SUCCESS' }]),
    ]);
    const result = await run(one, logs, clock);
    expect(result.runs[0]!.state).toBe('RUN_SUCCESS');
    expect(result.requests).toBe(4);
    expect(result.notes.join('\n')).toMatch(/503/);
    expect(result.notes.join('\n')).toMatch(/connection refused/);
    expect(result.notes.join('\n')).toMatch(/not JSON/);
  });

  it('a send that throws is a failed request: noted, and the wait goes on', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const send = (): Promise<LogsReply> => {
      calls += 1;
      if (calls === 1) return Promise.reject(new Error('socket hang up'));
      return Promise.resolve(ok([{ ...mine, workflowState: 'RUN_SUCCESS' }]));
    };
    const result = await verifyRuns(one, send, clock, { durationMs: 60_000 }, new AbortController().signal);
    expect(result.runs[0]!.state).toBe('RUN_SUCCESS');
    expect(result.notes).toEqual(['a logs request failed: socket hang up']);
  });

  it('logs that always fail leave every id unknown at the deadline', async () => {
    const clock = new FakeClock();
    const logs = answers([{ kind: 'answered', status: 500, body: '' }]);
    const result = await run(watched(3), logs, clock, { durationMs: 30_000 });
    expect(result.ended).toBe('deadline');
    expect(result.counts.unknown).toBe(3);
    expect(result.reFailed).toEqual([]);
  });

  it('a run not asked for, the same id at another createdAt, or a state outside the enum is ignored', async () => {
    const clock = new FakeClock();
    const logs = answers([
      ok([
        { workflowRunId: 'wfr_someone_else', workflowRunCreatedAt: 5, workflowState: 'RUN_FAILED', dlqId: 'x' },
        // The old run that failed, under the same run id (a resume may keep it): another createdAt.
        { workflowRunId: mine.workflowRunId, workflowRunCreatedAt: 123, workflowState: 'RUN_FAILED', dlqId: 'x' },
        { ...mine, workflowState: 'RUN_EXPLODED' },
        { ...mine, workflowState: 'STEP_FAILED' },
      ]),
    ]);
    const result = await run(one, logs, clock, { durationMs: 10_000 });
    expect(result.runs[0]!.state).toBe('unknown');
    expect(result.reFailed).toEqual([]);
    const notes = result.notes.join('\n');
    expect(notes).toMatch(/wfr_someone_else@5, which was not asked for/);
    expect(notes).toMatch(/@123, which was not asked for/);
    expect(notes).toMatch(/RUN_EXPLODED/);
  });

  it('RUN_FAILED naming the entry its own old DLQ id is the old failure, not a new one', async () => {
    const clock = new FakeClock();
    const logs = answers([ok([{ ...mine, workflowState: 'RUN_FAILED', dlqId: one[0]!.id }])]);
    const result = await run(one, logs, clock, { durationMs: 10_000 });
    expect(result.reFailed).toEqual([]);
    expect(result.runs[0]!.state).toBe('unknown');
    expect(result.notes.join('\n')).toMatch(/old failure/);
  });

  it('two different states for one run in one answer: neither counts', async () => {
    const clock = new FakeClock();
    const logs = answers([
      ok([
        { ...mine, workflowState: 'RUN_SUCCESS' },
        { ...mine, workflowState: 'RUN_FAILED', dlqId: 'new' },
      ]),
    ]);
    const result = await run(one, logs, clock, { durationMs: 5_000 });
    expect(result.runs[0]!.state).toBe('unknown');
  });

  it('a cursor that never ends is followed a bounded number of times', async () => {
    const clock = new FakeClock();
    let n = 0;
    const logs = answers([
      () => ({ kind: 'answered', status: 200, body: JSON.stringify({ runs: [], cursor: `c${++n}` }) }),
    ]);
    const result = await run(one, logs, clock, { durationMs: 1_000 });
    // At most 5 pages a batch a round; a 1 s wait has its first round and a last one a minimum gap later.
    expect(result.rounds).toBe(2);
    expect(result.requests).toBeLessThanOrEqual(5 * result.rounds);
    expect(logs.paths[1]).toContain('cursor=c1');
  });

  it('notes pass through the redactor (they quote server text)', async () => {
    const clock = new FakeClock();
    const logs = answers([ok([{ ...mine, workflowState: 'token-s3cret' }])]);
    const result = await run(one, logs, clock, {
      durationMs: 1_000,
      redact: (text) => text.replaceAll('s3cret', '***'),
    });
    expect(result.notes.join('\n')).toContain('token-***');
    expect(result.notes.join('\n')).not.toContain('s3cret');
  });

  it('notes are bounded', async () => {
    const clock = new FakeClock();
    const many = Array.from({ length: 500 }, (_, i) => ({
      workflowRunId: `other${i}`,
      workflowRunCreatedAt: i,
      workflowState: 'RUN_SUCCESS',
    }));
    const logs = answers([ok(many)]);
    const result = await run(one, logs, clock, { durationMs: 1_000 });
    expect(result.notes.length).toBeLessThanOrEqual(21);
    expect(result.notes.at(-1)).toMatch(/more notes/);
  });
});

describe('verify: cancellation', () => {
  it('ends the wait at once during a sleep, and reports what was seen', async () => {
    const clock = new FakeClock();
    const runs = watched(2);
    const logs = fakeLogs(clock, runs, (r) => ({ state: r.id === 'd0' ? 'RUN_SUCCESS' : 'RUN_STARTED' }));
    const controller = new AbortController();
    clock.onSleep = () => controller.abort();
    const result = await run(runs, logs, clock, { durationMs: 6 * 3600_000 }, controller.signal);
    expect(result.ended).toBe('cancelled');
    expect(result.requests).toBe(1);
    expect(result.runs.map((r) => r.state)).toEqual(['RUN_SUCCESS', 'RUN_STARTED']);
  });

  it('during a request: its answer is not used and no other request is sent', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    let sent = 0;
    const send = (_exchange: LogsExchange, signal: AbortSignal): Promise<LogsReply> => {
      sent += 1;
      controller.abort();
      expect(signal.aborted).toBe(true);
      return Promise.resolve({ kind: 'failed', reason: 'aborted' });
    };
    const result = await verifyRuns(watched(120), send, clock, { durationMs: 60_000 }, controller.signal);
    expect(sent).toBe(1);
    expect(result.ended).toBe('cancelled');
    expect(result.counts.unknown).toBe(120);
  });

  it('an already aborted signal sends nothing', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    controller.abort();
    const logs = fakeLogs(clock, watched(1), () => ({ state: 'RUN_SUCCESS' }));
    const result = await run(watched(1), logs, clock, {}, controller.signal);
    expect(logs.paths).toEqual([]);
    expect(result.ended).toBe('cancelled');
  });
});

describe('verify: pacing', () => {
  it('rounds start 2 s apart at first, backing off to every 30 s, never closer, never further', async () => {
    const clock = new FakeClock();
    const runs = watched(1);
    const logs = fakeLogs(clock, runs, () => ({ state: 'RUN_STARTED' }), 300);
    await run(runs, logs, clock, { durationMs: 5 * 60_000 });
    const gaps = logs.times.slice(1).map((t, i) => t - logs.times[i]!);
    expect(gaps.slice(0, 4)).toEqual([2_000, 4_000, 8_000, 16_000]);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(2_000);
      expect(gap).toBeLessThanOrEqual(30_000);
    }
    expect(gaps.filter((gap) => gap === 30_000).length).toBeGreaterThan(3);
    expect(logs.times.at(-1)).toBe(START + 5 * 60_000);
  });

  it('a deadline closer than the minimum gap gets its last round one minimum gap later, never a rushed one', async () => {
    const clock = new FakeClock();
    const runs = watched(1);
    const logs = fakeLogs(clock, runs, () => ({ state: 'RUN_STARTED' }));
    const result = await run(runs, logs, clock, { durationMs: 3_000 });
    // Rounds at 0 and 2 s; the deadline is 1 s after the second: the last round at 4 s, so a run ending at 2.5 s
    // is still seen, and no two rounds are closer than 2 s.
    expect(logs.times).toEqual([START, START + 2_000, START + 4_000]);
    expect(result.ended).toBe('deadline');
  });

  it('the duration is capped at 6 h', async () => {
    const clock = new FakeClock();
    const runs = watched(1);
    const logs = fakeLogs(clock, runs, () => ({ state: 'RUN_STARTED' }));
    const result = await run(runs, logs, clock, { durationMs: 24 * 3600_000 });
    expect(result.elapsedMs).toBe(6 * 3600_000);
  });

  it('roundGap doubles from 2 s and stops at 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((round) => roundGap(round))).toEqual([
      2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe('verify: batching and the request', () => {
  it('at most 50 runs per request', () => {
    expect(batches(watched(120)).map((batch) => batch.length)).toEqual([50, 50, 20]);
  });

  it('long run ids: the path stays under the limit', () => {
    const runs = watched(50).map((r) => ({ ...r, workflowRunId: `wfr_${'x'.repeat(300)}_${r.id}` }));
    const split = batches(runs);
    expect(split.length).toBeGreaterThan(1);
    for (const batch of split) expect(logsPath(batch).length).toBeLessThanOrEqual(6 * 1024);
    expect(split.flat()).toEqual(runs);
  });

  it('one run whose id alone is over the limit still gets its own request', () => {
    const runs = [{ id: 'a', workflowRunId: 'y'.repeat(7000), workflowCreatedAt: 1 }];
    expect(batches(runs)).toEqual([runs]);
  });

  it('the path names each run by id and createdAt, as the logs endpoint documents', () => {
    const path = logsPath([
      { id: 'a', workflowRunId: 'wfr_1', workflowCreatedAt: 17 },
      { id: 'b', workflowRunId: 'wfr 2,@', workflowCreatedAt: 18 },
    ]);
    expect(path).toBe('/v2/workflows/logs?workflowRuns=wfr_1@17,wfr%202%2C%40@18&count=2');
    const query = new URL(path, 'http://x').searchParams;
    expect(query.get('workflowRuns')).toBe('wfr_1@17,wfr 2,@@18');
  });

  it('readNewRun keeps both the run id and its createdAt from a re-run answer, or nothing', () => {
    expect(readNewRun({ workflowRunId: 'wfr_1', workflowCreatedAt: 17 })).toEqual({
      workflowRunId: 'wfr_1',
      workflowCreatedAt: 17,
    });
    for (const item of [null, 'x', {}, { workflowRunId: 'wfr_1' }, { workflowRunId: 'w', workflowCreatedAt: '17' }]) {
      expect(readNewRun(item)).toBeUndefined();
    }
    expect(readNewRun({ workflowRunId: '', workflowCreatedAt: 1 })).toBeUndefined();
    expect(readNewRun({ workflowRunId: 'w', workflowCreatedAt: 1.5 })).toBeUndefined();
  });

  it('parseLogs reads the documented shape', () => {
    const asked = new Map([[runKey('wfr_1', 17), { id: 'a', workflowRunId: 'wfr_1', workflowCreatedAt: 17 }]]);
    const parsed = parseLogs(
      JSON.stringify({
        cursor: '',
        runs: [{ workflowRunId: 'wfr_1', workflowRunCreatedAt: 17, workflowState: 'RUN_FAILED', dlqId: 'n' }],
      }),
      asked,
    );
    expect([...parsed.states]).toEqual([['wfr_1@17', { state: 'RUN_FAILED', dlqId: 'n' }]]);
    expect(parsed.cursor).toBeUndefined();
    expect(parsed.notes).toEqual([]);
  });

  it('reports each round to onRound with the counts and the time left', async () => {
    const clock = new FakeClock();
    const runs = watched(2);
    const logs = fakeLogs(clock, runs, (r, at) =>
      r.id === 'd0' || at >= START + 2_000 ? { state: 'RUN_SUCCESS' } : { state: 'RUN_STARTED' },
    );
    const rounds: [number, number][] = [];
    await run(runs, logs, clock, {
      durationMs: 60_000,
      onRound: (counts, left) => rounds.push([counts.RUN_SUCCESS, left]),
    });
    expect(rounds).toEqual([
      [1, 60_000],
      [2, 58_000],
    ]);
  });
});

describe('runs the pairs cannot carry, and old runs under the same key', () => {
  it('a run id with a comma or an at sign is asked alone, by the workflowRunId and workflowCreatedAt filters', () => {
    const runs: WatchedRun[] = [
      { id: 'a', workflowRunId: 'wfr_a', workflowCreatedAt: 1 },
      { id: 'b', workflowRunId: 'wfr_b,c', workflowCreatedAt: 2 },
      { id: 'c', workflowRunId: 'wfr_c', workflowCreatedAt: 3 },
      { id: 'd', workflowRunId: 'x@y', workflowCreatedAt: 4 },
    ];
    const split = batches(runs);
    expect(split.map((batch) => batch.map((run) => run.id))).toEqual([['b'], ['d'], ['a', 'c']]);
    expect(logsPath([runs[1]!])).toBe('/v2/workflows/logs?workflowRunId=wfr_b%2Cc&workflowCreatedAt=2&count=1');
    expect(logsPath([runs[0]!, runs[2]!])).toBe('/v2/workflows/logs?workflowRuns=wfr_a@1,wfr_c@3&count=2');
  });

  it("an ended state completed by the entry's own createdAt, or well before the step, is the old run: ignored", () => {
    const run: WatchedRun = { id: 'd1', workflowRunId: 'wfr_same', workflowCreatedAt: 500, entryCreatedAt: 2_000 };
    const asked = new Map([[runKey(run.workflowRunId, run.workflowCreatedAt), run]]);
    const body = (completedAt: number): string =>
      JSON.stringify({
        runs: [
          {
            workflowRunId: 'wfr_same',
            workflowRunCreatedAt: 500,
            workflowState: 'RUN_FAILED',
            workflowRunCompletedAt: completedAt,
          },
        ],
      });
    const step = 10_000_000;
    // By the entry's createdAt (the server's clock): the old failure.
    const old = parseLogs(body(2_000), asked, { notBefore: step });
    expect(old.states.size).toBe(0);
    expect(old.notes.join()).toMatch(/ended before this step started/u);
    // More than the clock-skew margin before the step's start (the runner's clock): old too.
    const unlisted = new Map([[runKey('wfr_same', 500), { ...run, entryCreatedAt: undefined }]]);
    expect(parseLogs(body(step - CLOCK_SKEW_MS - 1), unlisted, { notBefore: step }).states.size).toBe(0);
    // Within the margin (a server clock a few seconds behind): a new failure, which must not be dropped.
    expect(parseLogs(body(step - 5_000), unlisted, { notBefore: step }).states.get('wfr_same@500')?.state).toBe(
      'RUN_FAILED',
    );
  });

  it('notes redact server text before cutting it', () => {
    const secret = 'SECRET-TOKEN-abcdefghijklmnop';
    const asked = new Map<string, WatchedRun>();
    const id = `${'x'.repeat(50)}${secret}`;
    const parsed = parseLogs(JSON.stringify({ runs: [{ workflowRunId: id, workflowRunCreatedAt: 1 }] }), asked, {
      redact: (text) => text.replaceAll(secret, '***'),
    });
    expect(parsed.notes.join()).not.toContain('SECRET');
  });
});
