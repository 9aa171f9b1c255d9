/**
 * Second review: notBefore (an ended state completed before the step started is "the old run's") compares the
 * server's workflowRunCompletedAt with the RUNNER's clock. A server clock a few seconds behind the runner's makes a
 * genuine new failure (dlqId a NEW entry, run created by this step's re-run) look old: it is dropped, the run stays
 * "still running", and on-re-failed: fail lets the step pass. The same drops a genuine canary RUN_SUCCESS.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';
import { object } from '../helpers/verify.ts';

const start = emulatorPerTest();
const SKEW_MS = 5_000; // the server's clock 5 s behind the runner's

function asked(url: URL): { id: string; at: number }[] {
  return url.searchParams
    .get('workflowRuns')!
    .split(',')
    .map((pair) => ({ id: pair.slice(0, pair.lastIndexOf('@')), at: Number(pair.slice(pair.lastIndexOf('@') + 1)) }));
}

const skewedLogs = (state: string) => ({
  method: 'GET',
  pathIncludes: '/v2/workflows/logs',
  status: 200,
  body: (url: URL) =>
    JSON.stringify({
      cursor: '',
      runs: asked(url).map(({ id, at }) => ({
        workflowRunId: id,
        workflowRunCreatedAt: at,
        workflowState: state,
        workflowRunCompletedAt: Date.now() - SKEW_MS,
        ...(state === 'RUN_FAILED' && { dlqId: `new-entry-of-${id}` }),
        steps: [],
      })),
    }),
});

describe('verify: a server clock behind the runner', () => {
  it('a genuine re-failure reported with a completion time 5 s behind the runner clock is still a re-failure', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(1));
    e.faults.push(skewedLogs('RUN_FAILED') as never);
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s' } });
    expect(object(run, 'run-states'), run.stdout).toEqual({ [ids[0]!]: 'RUN_FAILED' });
    expect(list(run, 're-failed')).toEqual(ids);
    expect(run.exitCode).not.toBe(0);
  });

  it('a canary RUN_SUCCESS reported 5 s behind the runner clock releases the rest', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(3));
    e.faults.push(skewedLogs('RUN_SUCCESS') as never);
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s', canary: '1' },
    });
    expect(list(run, 'redriven'), run.stdout).toEqual(ids);
  });
});
