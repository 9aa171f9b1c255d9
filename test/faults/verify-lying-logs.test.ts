/**
 * Review of issue 18: logs that lie or fail.
 * - Two pages of one answer (a cursor) giving one run two states: within one page that is "both ignored", across
 *   pages the last page wins silently, and the step fails on a RUN_FAILED contradicted by the page before it.
 * - One new run id holding a comma (custom run ids are the caller's) poisons its whole batch of 50: the server
 *   splits the decoded workflowRuns on ',', answers 400, and every run of the batch stays unknown.
 * - A logs endpoint that fails every request: nothing was confirmed, yet the step passes (a warning only).
 * - Regressions that hold: the old failed run under the same id (resume keeps the run id) and a RUN_FAILED naming
 *   the entry's own DLQ id are not counted as failed again.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

/** The pairs a logs request asked for. */
function asked(url: URL): { id: string; at: number }[] {
  return url.searchParams
    .get('workflowRuns')!
    .split(',')
    .map((pair) => ({ id: pair.slice(0, pair.lastIndexOf('@')), at: Number(pair.slice(pair.lastIndexOf('@') + 1)) }));
}

describe('verify: logs that lie or fail', () => {
  it('two pages giving one run two states: neither is taken (as within one page)', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(1));
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      status: 200,
      body: (url) => {
        const second = url.searchParams.has('cursor');
        const runs = asked(url).map(({ id, at }) => ({
          workflowRunId: id,
          workflowRunCreatedAt: at,
          workflowState: second ? 'RUN_FAILED' : 'RUN_SUCCESS',
          ...(second && { dlqId: 'some-new-dlq-id' }),
          steps: [],
        }));
        return JSON.stringify({ cursor: second ? '' : 'page-2', runs });
      },
    });
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s' } });
    expect(list(run, 're-failed'), 'a contradicted RUN_FAILED is not taken').toEqual([]);
  });

  it('a new run id with a comma does not leave the other runs of its batch unknown', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    e.faults.push({
      method: 'POST',
      id: ids[0],
      times: 1,
      status: 200,
      body: JSON.stringify({ workflowRunId: 'wfr_custom,order-1', workflowCreatedAt: Date.now() }),
    });
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '5s' } });
    const states = JSON.parse(run.outputs['run-states']!) as Record<string, string>;
    expect(states[ids[1]!]).toBe('RUN_SUCCESS');
    expect(states[ids[2]!]).toBe('RUN_SUCCESS');
  });

  it('a logs endpoint that answers 500 to everything: the step does not pass on nothing confirmed', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    e.faults.push({ method: 'GET', pathIncludes: '/v2/workflows/logs', status: 500, body: '{"error":"down"}' });
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s', 'max-retries': '0' },
    });
    expect(run.outputs['succeeded-count']).toBe('0');
    expect(run.exitCode, 'nothing was confirmed').toBe(1);
  });

  it('holds: resume keeps the run id, the old failed run is not counted, the new one is', async () => {
    const e = await start({ resumeKeepsRunId: true, runOutcomes: () => ({ state: 'RUN_SUCCESS', afterMs: 2500 }) });
    const ids = e.seed('workflow', workflowEntries(3));
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '20s' } });
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.outputs['run-states']!)).toEqual(Object.fromEntries(ids.map((id) => [id, 'RUN_SUCCESS'])));
    expect(list(run, 're-failed')).toEqual([]);
  });

  it("holds: a RUN_FAILED naming the entry's own DLQ id is ignored", async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(1));
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      status: 200,
      body: (url) =>
        JSON.stringify({
          cursor: '',
          runs: asked(url).map(({ id, at }) => ({
            workflowRunId: id,
            workflowRunCreatedAt: at,
            workflowState: 'RUN_FAILED',
            dlqId: ids[0],
            steps: [],
          })),
        }),
    });
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s' } });
    expect(list(run, 're-failed')).toEqual([]);
    expect(run.outputs['still-running-count']).toBe('1');
    expect(run.exitCode).toBe(0);
  });

  it('a RUN_FAILED that completed before the re-run (the old failure under the same key, no dlqId) is not a re-failure', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(1));
    const before = Date.now() - 3_600_000;
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      status: 200,
      body: (url) =>
        JSON.stringify({
          cursor: '',
          runs: asked(url).map(({ id, at }) => ({
            workflowRunId: id,
            workflowRunCreatedAt: at,
            workflowState: 'RUN_FAILED',
            workflowRunCompletedAt: before,
            steps: [],
          })),
        }),
    });
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s' } });
    expect(list(run, 're-failed'), 'a failure that ended an hour before the re-run').toEqual([]);
  });

  it('canary: a RUN_SUCCESS on page 2 contradicting a RUN_FAILED on page 1 does not release the rest', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(4));
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      status: 200,
      body: (url) => {
        const second = url.searchParams.has('cursor');
        const runs = asked(url).map(({ id, at }) => ({
          workflowRunId: id,
          workflowRunCreatedAt: at,
          workflowState: second ? 'RUN_SUCCESS' : 'RUN_FAILED',
          ...(!second && { dlqId: 'a-new-dlq-entry' }),
          steps: [],
        }));
        return JSON.stringify({ cursor: second ? '' : 'page-2', runs });
      },
    });
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s', canary: '1' },
    });
    expect(
      e.reruns.map((r) => r.dlqId),
      'only the canary was re-run',
    ).toEqual([ids[0]]);
    expect(run.exitCode).toBe(1);
  });
});
