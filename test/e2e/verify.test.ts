/**
 * End to end, through dist/index.js: `verify` after a resume or restart (issue 18). The step waits for the new runs
 * over the logs endpoint and reports, for each redriven id, its new run's last state; ids stay in `redriven` whatever
 * their run did. Each test checks what a user relies on: the outputs, the exit code, the summary line, and what the
 * emulator received (one re-run per id, the new DLQ entries, the logs requests and the run pairs they asked for).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { workflowEntries, type DlqEmulator, type RunState } from '../../emulator/server.ts';
import { emulatorPerTest, errors, expectExactlyOnce, list, runAgainst, warnings } from '../helpers/e2e.ts';
import { LOGS_PATH, logsAsks, md, newRunOf, object, pairOf, summaryLinesWith } from '../helpers/verify.ts';

const start = emulatorPerTest();

const resume = (ids: readonly string[], extra: Record<string, string> = {}): Record<string, string> => ({
  operation: 'resume',
  'dlq-ids': ids.join('\n'),
  verify: '30s',
  ...extra,
});

/** Every id's new run decided by a table (ids not in it succeed at once). */
function outcomes(e: DlqEmulator, table: Record<string, { state: RunState; afterMs?: number }>): void {
  e.runOutcomes = (dlqId) => table[dlqId] ?? { state: 'RUN_SUCCESS' };
}

/** Each id re-run exactly once, by the emulator's log. */
function expectOneRerunEach(e: DlqEmulator, ids: readonly string[]): void {
  for (const id of ids) expect(e.rerunsOf('workflow', id), `re-runs of ${id}`).toHaveLength(1);
  expect(e.reruns).toHaveLength(ids.length);
}

const allAre = (ids: readonly string[], state: string): Record<string, string> =>
  Object.fromEntries(ids.map((id) => [id, state]));

describe('verify: the new runs all succeed', () => {
  it('by id: run-states all RUN_SUCCESS, counted, one logs request naming each new run, the step passes', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(4));
    const run = await runAgainst(e, { inputs: resume(ids) });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expectExactlyOnce(run, ids);
    expectOneRerunEach(e, ids);
    expect(object(run, 'run-states')).toEqual(allAre(ids, 'RUN_SUCCESS'));
    expect(run.outputs['succeeded-count']).toBe('4');
    expect(list(run, 're-failed')).toEqual([]);
    expect(run.outputs['re-failed-count']).toBe('0');
    expect(run.outputs['still-running-count']).toBe('0');
    expect(object(run, 're-failed-dlq-ids')).toEqual({});
    // new-runs is what it was before verify existed.
    const newRuns = object(run, 'new-runs');
    for (const id of ids) expect(newRuns[id]).toBe(newRunOf(e, id).workflowRunId);
    expect(run.summary).toMatch(/Resumed 4: 4 succeeded, 0 failed again, 0 still running(?!,)/u);
    expect(errors(run)).toEqual([]);
    expect(warnings(run)).toEqual([]);
    // Each new run asked for by the id and the creation time the re-run's answer gave; all ended at the first look,
    // so there was no second round.
    const asks = logsAsks(e);
    expect(asks).toHaveLength(1);
    expect([...asks[0]!.pairs].sort()).toEqual(e.runs.map(pairOf).sort());
    expect(asks[0]!.count).toBeGreaterThanOrEqual(4);
    // The results file records each id's new run state.
    expect(run.results!.map((r) => [r.id, r.outcome, r.runState, r.newRunCreatedAt])).toEqual(
      ids.map((id) => [id, 'redriven', 'RUN_SUCCESS', newRunOf(e, id).workflowRunCreatedAt]),
    );
  });

  it('restart by filter, 120 entries: logs asked 50 runs a request at most, each new run once; "Restarted 120"', async () => {
    const e = await start();
    const url = 'https://shop.example/api/checkout';
    const ids = e.seed('workflow', workflowEntries(120, { workflowUrl: url }));
    const run = await runAgainst(e, { inputs: { operation: 'restart', 'workflow-url': url, verify: '30s' } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expectOneRerunEach(e, ids);
    expect(object(run, 'run-states')).toEqual(allAre(ids, 'RUN_SUCCESS'));
    expect(run.outputs['succeeded-count']).toBe('120');
    expect(run.summary).toMatch(/Restarted 120: 120 succeeded, 0 failed again, 0 still running/u);
    const asks = logsAsks(e);
    expect(asks.length).toBeGreaterThanOrEqual(3);
    expect(asks.length).toBeLessThanOrEqual(4);
    for (const ask of asks) {
      expect(ask.pairs.length).toBeLessThanOrEqual(50);
      expect(ask.count).toBeGreaterThanOrEqual(ask.pairs.length);
      expect(ask.result).toBe(200);
    }
    const asked = asks.flatMap((ask) => ask.pairs);
    expect(new Set(asked).size).toBe(asked.length);
    expect([...asked].sort()).toEqual(e.runs.map(pairOf).sort());
  });

  it('without verify, the verify outputs are empty and the logs are never asked', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n') } });
    expect(run.exitCode).toBe(0);
    for (const name of [
      'run-states',
      'succeeded-count',
      're-failed',
      're-failed-count',
      'still-running-count',
      're-failed-dlq-ids',
    ]) {
      expect(run.outputs[name], name).toBe('');
    }
    expect(logsAsks(e)).toEqual([]);
  });
});

describe('verify: some new runs fail again', () => {
  it.each([
    ['fail', 1],
    ['warn', 0],
    ['pass', 0],
  ] as const)(
    'on-re-failed: %s: re-failed in selection order, their new DLQ entries named, ids still redriven (exit %i)',
    async (mode, exitCode) => {
      const e = await start();
      const ids = e.seed('workflow', workflowEntries(5));
      outcomes(e, { [ids[1]!]: { state: 'RUN_FAILED' }, [ids[3]!]: { state: 'RUN_FAILED' } });
      const input = [ids[3]!, ids[0]!, ids[1]!, ids[2]!, ids[4]!];
      const run = await runAgainst(e, { inputs: resume(input, { 'on-re-failed': mode }) });
      expect(run.exitCode, run.stdout).toBe(exitCode);
      expect(list(run, 'redriven')).toEqual(input);
      expectExactlyOnce(run, input);
      expectOneRerunEach(e, input);
      const refailed = [ids[3]!, ids[1]!];
      expect(list(run, 're-failed')).toEqual(refailed);
      expect(run.outputs['re-failed-count']).toBe('2');
      expect(run.outputs['succeeded-count']).toBe('3');
      expect(run.outputs['still-running-count']).toBe('0');
      expect(object(run, 'run-states')).toEqual({
        ...allAre(input, 'RUN_SUCCESS'),
        ...allAre(refailed, 'RUN_FAILED'),
      });
      // re-failed-dlq-ids points at the entries the new runs left, which are really in the DLQ, untouched.
      const newDlqIds = object(run, 're-failed-dlq-ids');
      expect(Object.keys(newDlqIds).sort()).toEqual([...refailed].sort());
      for (const id of refailed) {
        const newRun = newRunOf(e, id);
        expect(newRun.state).toBe('RUN_FAILED');
        expect(newDlqIds[id]).toBe(newRun.dlqId);
        expect(newDlqIds[id]).not.toBe(id);
        expect(e.get('workflow', newDlqIds[id]!)).toMatchObject({
          workflowRunId: newRun.workflowRunId,
          workflowCreatedAt: newRun.workflowRunCreatedAt,
        });
        expect(e.rerunsOf('workflow', newDlqIds[id]!)).toHaveLength(0);
        expect(object(run, 'new-runs')[id]).toBe(newRun.workflowRunId);
        // The summary's table: the id, its new run and its new DLQ entry on one row.
        expect(summaryLinesWith(run, id, md(newRun.workflowRunId), newRun.dlqId!), run.summary).not.toEqual([]);
      }
      expect(run.summary).toMatch(/Resumed 5: 3 succeeded, 2 failed again, 0 still running/u);
      // The results file: every record keeps its outcome and gains the run's state.
      for (const record of run.results!) {
        expect(record.outcome).toBe('redriven');
        const id = String(record.id);
        expect(record.runState).toBe(refailed.includes(id) ? 'RUN_FAILED' : 'RUN_SUCCESS');
        if (refailed.includes(id)) expect(record.newDlqId).toBe(newRunOf(e, id).dlqId);
      }
      // The message names each id that failed again.
      const failedAgain = (text: string): boolean =>
        /failed again/iu.test(text) && refailed.every((id) => text.includes(id));
      if (mode === 'fail') {
        expect(errors(run).some(failedAgain), run.stdout).toBe(true);
      } else if (mode === 'warn') {
        expect(errors(run)).toEqual([]);
        expect(warnings(run).some(failedAgain), run.stdout).toBe(true);
      } else {
        expect(errors(run)).toEqual([]);
        expect(warnings(run).some(failedAgain), 'pass: no warning for the runs that failed again').toBe(false);
        const notices = run.annotations.filter((a) => a.level === 'notice').map((a) => a.message);
        expect(notices.some(failedAgain), run.stdout).toBe(true);
      }
    },
  );
});

describe('verify: runs still running when the wait ends', () => {
  it('verify 5s: the ones not ended are counted and warned about, the step passes; the wait is paced', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(4));
    outcomes(e, {
      [ids[1]!]: { state: 'RUN_STARTED' },
      [ids[2]!]: { state: 'RUN_SUCCESS', afterMs: 3_000 },
      [ids[3]!]: { state: 'RUN_CANCELED' },
    });
    const run = await runAgainst(e, { inputs: resume(ids, { verify: '5s' }) });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expectOneRerunEach(e, ids);
    // ids[2] ended 3 s in: a later round saw it.
    expect(object(run, 'run-states')).toEqual({
      [ids[0]!]: 'RUN_SUCCESS',
      [ids[1]!]: 'RUN_STARTED',
      [ids[2]!]: 'RUN_SUCCESS',
      [ids[3]!]: 'RUN_CANCELED',
    });
    expect(run.outputs['succeeded-count']).toBe('2');
    expect(run.outputs['still-running-count']).toBe('1');
    expect(list(run, 're-failed')).toEqual([]);
    expect(run.outputs['re-failed-count']).toBe('0');
    expect(run.summary).toMatch(/Resumed 4: 2 succeeded, 0 failed again, 1 still running, 1 cancelled/u);
    expect(errors(run)).toEqual([]);
    expect(
      warnings(run).some((w) => /still running/iu.test(w)),
      run.stdout,
    ).toBe(true);
    expect(
      warnings(run).some((w) => /cancel/iu.test(w)),
      run.stdout,
    ).toBe(true);
    // Rounds at least 2 s apart, and the wait stopped at its 5 s (it did not go on for the run that never ends).
    const asks = logsAsks(e);
    expect(asks.length).toBeGreaterThanOrEqual(2);
    expect(asks.length).toBeLessThanOrEqual(4);
    for (let i = 1; i < asks.length; i += 1) expect(asks[i]!.at - asks[i - 1]!.at).toBeGreaterThanOrEqual(1_900);
    expect(asks.at(-1)!.at - asks[0]!.at).toBeLessThanOrEqual(5_500);
    expect(run.durationMs).toBeLessThan(12_000);
  });
});

describe('verify: a resume that keeps the run id', () => {
  it('the old failed run under the same id does not count: only the new run (same id, new createdAt) does', async () => {
    const e = await start({ resumeKeepsRunId: true });
    const ids = e.seed('workflow', workflowEntries(3));
    const oldRuns = ids.map((id) => e.get('workflow', id)!);
    const run = await runAgainst(e, { inputs: resume(ids) });
    expect(run.exitCode, run.stdout).toBe(0);
    // The resume kept each run's id, and the old failure is still in the DLQ under it.
    const newRuns = object(run, 'new-runs');
    for (const old of oldRuns) {
      expect(newRuns[old.dlqId]).toBe(old.workflowRunId);
      expect(e.has('workflow', old.dlqId)).toBe(true);
    }
    expect(object(run, 'run-states')).toEqual(allAre(ids, 'RUN_SUCCESS'));
    expect(list(run, 're-failed')).toEqual([]);
    expect(object(run, 're-failed-dlq-ids')).toEqual({});
    // Asked by the new creation time, never by the old one.
    const asked = logsAsks(e).flatMap((ask) => ask.pairs);
    expect([...new Set(asked)].sort()).toEqual(e.runs.map(pairOf).sort());
    for (const old of oldRuns)
      expect(asked).not.toContain(`${String(old.workflowRunId)}@${String(old.workflowCreatedAt)}`);
  });

  it('a logs answer that matches by run id only (old failure first) still leaves the new run as it is', async () => {
    const e = await start({ resumeKeepsRunId: true, runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(3));
    // Every run with an asked id: the old failure (from the DLQ entry), then the new run.
    e.faults.push({
      pathIncludes: LOGS_PATH,
      status: 200,
      body: (url) => {
        const askedIds = (url.searchParams.get('workflowRuns') ?? '').split(',').map((p) => p.split('@')[0]);
        const runs = askedIds.flatMap((runId) => {
          const old = ids.map((id) => e.get('workflow', id)!).find((entry) => entry.workflowRunId === runId);
          const fresh = e.runs.filter((r) => r.workflowRunId === runId);
          return [
            ...(old
              ? [
                  {
                    workflowRunId: runId,
                    workflowRunCreatedAt: old.workflowCreatedAt,
                    workflowState: 'RUN_FAILED',
                    dlqId: old.dlqId,
                    steps: [],
                  },
                ]
              : []),
            ...fresh.map((r) => ({
              workflowRunId: r.workflowRunId,
              workflowRunCreatedAt: r.workflowRunCreatedAt,
              workflowState: r.state,
              steps: [],
            })),
          ];
        });
        return JSON.stringify({ cursor: '', runs });
      },
    });
    const run = await runAgainst(e, { inputs: resume(ids, { verify: '3s' }) });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(object(run, 'run-states')).toEqual(allAre(ids, 'RUN_STARTED'));
    expect(list(run, 're-failed')).toEqual([]);
    expect(run.outputs['still-running-count']).toBe('3');
    expect(logsAsks(e).length).toBeGreaterThan(0);
  });
});

describe('verify: logs that fail or lie', () => {
  it('logs answering 500 (quoting the token): every state unknown, nothing claimed succeeded or failed again', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    e.faults.push({ pathIncludes: LOGS_PATH, status: 500, body: JSON.stringify({ error: `boom for ${e.token}` }) });
    const run = await runAgainst(e, { inputs: resume(ids, { verify: '3s', 'max-retries': '1' }) });
    // The new runs did succeed, but the logs never said so.
    expect(e.runs.every((r) => r.state === 'RUN_SUCCESS')).toBe(true);
    expect(logsAsks(e).length).toBeGreaterThan(0);
    expect(logsAsks(e).every((ask) => ask.result === 500)).toBe(true);
    expect(list(run, 'redriven')).toEqual(ids);
    expectExactlyOnce(run, ids);
    expect(object(run, 'run-states')).toEqual(allAre(ids, 'unknown'));
    expect(run.outputs['succeeded-count']).toBe('0');
    expect(list(run, 're-failed')).toEqual([]);
    expect(run.outputs['re-failed-count']).toBe('0');
    expect(object(run, 're-failed-dlq-ids')).toEqual({});
    expect(run.outputs['still-running-count']).toBe('3');
    expect(run.summary).toMatch(/Resumed 3: 0 succeeded, 0 failed again, .*3 not seen in the logs/u);
    expect(run.summary).not.toMatch(/[1-9]\d* succeeded/u);
    for (const record of run.results!) expect(record.runState).toBe('unknown');
    // Not a success: logs that never answered confirmed nothing, and the step fails saying so (runs the logs did
    // show as still running would only warn).
    expect(errors(run).join('\n')).toMatch(
      /The logs could not be read: none of \d+ logs requests? got an answer with runs/u,
    );
    expect(run.exitCode, run.stdout).toBe(1);
    expect(run.annotations.some((a) => a.level === 'notice' && /3 succeeded|all succeeded/iu.test(a.message))).toBe(
      false,
    );
  });

  it('logs answering 500 once, then answering: the states are the ones the logs then gave', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    outcomes(e, { [ids[2]!]: { state: 'RUN_FAILED' } });
    e.faults.push({ pathIncludes: LOGS_PATH, status: 500, times: 1 });
    const run = await runAgainst(e, { inputs: resume(ids, { 'on-re-failed': 'warn' }) });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(object(run, 'run-states')).toEqual({
      [ids[0]!]: 'RUN_SUCCESS',
      [ids[1]!]: 'RUN_SUCCESS',
      [ids[2]!]: 'RUN_FAILED',
    });
    expect(object(run, 're-failed-dlq-ids')).toEqual({ [ids[2]!]: newRunOf(e, ids[2]!).dlqId });
  });

  it('logs that lie (other runs, the old run, the old failure, a made-up state) are ignored; the true answer counts', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    e.faults.push({
      pathIncludes: LOGS_PATH,
      status: 200,
      body: (url) => {
        const pairs = (url.searchParams.get('workflowRuns') ?? '').split(',');
        const runs = pairs.flatMap((pair) => {
          const at = pair.lastIndexOf('@');
          const runId = decodeURIComponent(pair.slice(0, at));
          const createdAt = Number(pair.slice(at + 1));
          const fresh = e.runs.find((r) => r.workflowRunId === runId && r.workflowRunCreatedAt === createdAt);
          const own = fresh?.fromDlqId;
          const lies = [
            // A run nobody asked for, failed.
            {
              workflowRunId: `wfr_other_${runId}`,
              workflowRunCreatedAt: createdAt,
              workflowState: 'RUN_FAILED',
              dlqId: 'x-1',
            },
            // The asked id at another creation time (the old run), failed.
            {
              workflowRunId: runId,
              workflowRunCreatedAt: createdAt - 60_000,
              workflowState: 'RUN_FAILED',
              dlqId: 'x-2',
            },
            // The asked run, with the entry's own (old) failure.
            { workflowRunId: runId, workflowRunCreatedAt: createdAt, workflowState: 'RUN_FAILED', dlqId: own },
            // The asked run, in a state Upstash does not have.
            { workflowRunId: runId, workflowRunCreatedAt: createdAt, workflowState: 'RUN_DONE' },
          ];
          // The truth, for the first id only.
          const truth =
            own === ids[0]
              ? [{ workflowRunId: runId, workflowRunCreatedAt: createdAt, workflowState: fresh!.state }]
              : [];
          return [...lies, ...truth].map((r) => ({ ...r, steps: [] }));
        });
        return JSON.stringify({ cursor: '', runs });
      },
    });
    const run = await runAgainst(e, { inputs: resume(ids, { verify: '3s' }) });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(object(run, 'run-states')).toEqual({
      [ids[0]!]: 'RUN_SUCCESS',
      [ids[1]!]: 'unknown',
      [ids[2]!]: 'unknown',
    });
    expect(list(run, 're-failed')).toEqual([]);
    expect(object(run, 're-failed-dlq-ids')).toEqual({});
    expect(run.outputs['succeeded-count']).toBe('1');
    expect(run.outputs['still-running-count']).toBe('2');
    expect(run.stdout).not.toMatch(/x-1|x-2|wfr_other/u);
  });
});

describe('verify: a re-run answer that does not say when its run was created', () => {
  it('that run cannot be watched: unknown, never asked for by its id alone; the others are verified', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    // The resume of ids[1] is carried out, but its answer names the run without workflowCreatedAt.
    e.faults.push({ id: ids[1]!, statusAfter: 200, body: JSON.stringify({ workflowRunId: 'wfr_without_time' }) });
    const run = await runAgainst(e, { inputs: resume(ids) });
    expect(list(run, 'redriven')).toEqual(ids);
    expectOneRerunEach(e, ids);
    expect(object(run, 'run-states')).toEqual({
      [ids[0]!]: 'RUN_SUCCESS',
      [ids[1]!]: 'unknown',
      [ids[2]!]: 'RUN_SUCCESS',
    });
    expect(run.outputs['succeeded-count']).toBe('2');
    expect(run.outputs['still-running-count']).toBe('1');
    expect(list(run, 're-failed')).toEqual([]);
    // Not claimed: a warning names it; an unseen run does not fail the step by itself.
    expect(
      warnings(run).some((w) => w.includes(ids[1]!)),
      run.stdout,
    ).toBe(true);
    expect(run.exitCode, run.stdout).toBe(0);
    const asked = logsAsks(e).flatMap((ask) => ask.pairs);
    expect(asked.some((pair) => pair.startsWith('wfr_without_time'))).toBe(false);
    expect(asked.every((pair) => /@\d+$/u.test(pair))).toBe(true);
  });
});

describe('verify: cancelled during the wait', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A preload that writes the action's pid to PID_FILE, so that the test can signal the process it started. */
  function pidPreload(): { preload: string; pidFile: string } {
    dir = mkdtempSync(join(tmpdir(), 'verify-cancel-'));
    const preload = join(dir, 'pid.mjs');
    const pidFile = join(dir, 'pid');
    writeFileSync(
      preload,
      "import { writeFileSync } from 'node:fs';\nwriteFileSync(process.env.PID_FILE, String(process.pid));\n",
    );
    return { preload, pidFile };
  }

  it('SIGINT while a logs request hangs: exits within 2 s, outputs written with the states as seen, step fails', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    outcomes(e, { [ids[1]!]: { state: 'RUN_FAILED' }, [ids[2]!]: { state: 'RUN_STARTED' } });
    const { preload, pidFile } = pidPreload();
    let signalledAt: number | undefined;
    // The first round is answered; the second hangs, and the test sends SIGINT to the action once it is in flight.
    e.faults.push(
      { pathIncludes: LOGS_PATH, times: 1 },
      {
        pathIncludes: LOGS_PATH,
        hang: 'before',
        run: () => {
          if (signalledAt !== undefined) return;
          signalledAt = Date.now();
          process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGINT');
        },
      },
    );
    const run = await runAgainst(e, {
      inputs: resume(ids, { verify: '60s' }),
      env: { PID_FILE: pidFile },
      nodeArgs: ['--import', preload],
      timeoutMs: 30_000,
    });
    const exitedAt = Date.now();
    expect(signalledAt, 'the second logs round was reached').toBeDefined();
    expect(exitedAt - signalledAt!, 'exit after SIGINT (no grace for logs requests)').toBeLessThan(2_000);
    expect(run.exitCode).toBe(1);
    expect(
      errors(run).some((m) => /cancel/iu.test(m)),
      run.stdout,
    ).toBe(true);
    expect(list(run, 'redriven')).toEqual(ids);
    expectExactlyOnce(run, ids);
    expectOneRerunEach(e, ids);
    expect(object(run, 'run-states')).toEqual({
      [ids[0]!]: 'RUN_SUCCESS',
      [ids[1]!]: 'RUN_FAILED',
      [ids[2]!]: 'RUN_STARTED',
    });
    expect(list(run, 're-failed')).toEqual([ids[1]]);
    expect(run.outputs['still-running-count']).toBe('1');
    expect(run.results!.map((r) => r.runState)).toEqual(['RUN_SUCCESS', 'RUN_FAILED', 'RUN_STARTED']);
    // Nothing more was sent once it exited.
    const requestsAtExit = e.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(e.requests.length).toBe(requestsAtExit);
  });

  it('SIGINT as soon as the log says it is waiting: the 60 s wait ends at once, states as last seen', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(3));
    const run = await runAgainst(e, {
      inputs: resume(ids, { verify: '60s' }),
      signal: { name: 'SIGINT', afterOutput: 'Waiting up to 60s' },
      timeoutMs: 30_000,
    });
    const exitedAt = Date.now();
    expect(run.exitCode).toBe(1);
    expect(run.durationMs, 'the wait did not run its 60 s').toBeLessThan(10_000);
    const asks = logsAsks(e);
    if (asks.length > 0) expect(exitedAt - asks[0]!.at).toBeLessThan(2_500);
    expect(
      errors(run).some((m) => /cancel/iu.test(m)),
      run.stdout,
    ).toBe(true);
    expect(list(run, 'redriven')).toEqual(ids);
    expectOneRerunEach(e, ids);
    const states = object(run, 'run-states');
    expect(Object.keys(states)).toEqual(ids);
    for (const state of Object.values(states)) expect(['RUN_STARTED', 'unknown']).toContain(state);
    expect(run.outputs['still-running-count']).toBe('3');
  });
});
