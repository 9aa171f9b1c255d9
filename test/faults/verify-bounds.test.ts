/**
 * Review of issue 18: bounds that hold (regressions): a logs answer past the body limit is ignored and the next
 * round still counts; a server whose every page names a fresh cursor costs at most 5 pages per batch per round.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('verify: bounded answers', () => {
  it('a 9 MiB logs answer is cut and ignored; the next round counts', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      times: 1,
      status: 200,
      body: JSON.stringify({ cursor: '', runs: [], pad: 'x'.repeat(9 * 1024 * 1024) }),
    });
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '10s' } });
    expect(JSON.parse(run.outputs['run-states']!)).toEqual(Object.fromEntries(ids.map((id) => [id, 'RUN_SUCCESS'])));
    expect(run.summary).toMatch(/too large/u);
  });

  it('a fresh cursor on every page: at most 5 pages per batch per round', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    let n = 0;
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      status: 200,
      body: () => JSON.stringify({ cursor: `c${++n}`, runs: [] }),
    });
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s' } });
    const rounds = 3; // at 0 s and 2 s of a 3 s wait, and the last one 2 s later, past the deadline
    expect(e.requestsTo('/v2/workflows/logs').length).toBeLessThanOrEqual(5 * rounds);
    expect(run.outputs['still-running-count']).toBe('2');
  });

  it('answers too large for a batch of 50 (runs with many steps): the batch is split, not left unknown every round', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(60));
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      status: 200,
      body: (url) => {
        const pairs = url.searchParams.get('workflowRuns')!.split(',');
        // Each run's steps weigh 200 KiB: 50 runs are 10 MiB, past the 8 MiB the action reads.
        const runs = pairs.map((pair) => ({
          workflowRunId: pair.slice(0, pair.lastIndexOf('@')),
          workflowRunCreatedAt: Number(pair.slice(pair.lastIndexOf('@') + 1)),
          workflowState: 'RUN_SUCCESS',
          steps: [{ steps: [{ out: 'x'.repeat(200 * 1024) }] }],
        }));
        return JSON.stringify({ cursor: '', runs });
      },
    });
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '10s' } });
    expect(run.outputs['succeeded-count']).toBe('60');
  });
});
