/**
 * Review of issue 18: verify.ts cuts server text (shorten, 57 characters) BEFORE the redactor sees it, so a token
 * that the logs answer carries in a run id (a run not asked for) or a state is cut in the middle and its first
 * characters reach the step summary unmasked. runAgainst fails on any 12 characters of the token in a row.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('verify: server text in notes is redacted before it is cut', () => {
  it('a logs answer naming a run not asked for, whose id holds the token', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    const runId = `${'x'.repeat(40)}${e.token}${'y'.repeat(30)}`;
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      times: 1,
      status: 200,
      body: JSON.stringify({
        cursor: '',
        runs: [{ workflowRunId: runId, workflowRunCreatedAt: 1, workflowState: 'RUN_SUCCESS', steps: [] }],
      }),
    });
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '20s' } });
    expect(list(run, 'redriven')).toEqual(ids);
  });

  it('a logs answer giving an asked run a state that holds the token', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(1));
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      times: 1,
      status: 200,
      body: (url: URL) => {
        const [pair] = url.searchParams.get('workflowRuns')!.split(',');
        const at = pair!.lastIndexOf('@');
        return JSON.stringify({
          cursor: '',
          runs: [
            {
              workflowRunId: pair!.slice(0, at),
              workflowRunCreatedAt: Number(pair!.slice(at + 1)),
              workflowState: `${'S'.repeat(39)}${e.token}${'T'.repeat(30)}`,
              steps: [],
            },
          ],
        });
      },
    });
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '20s' } });
    expect(list(run, 'redriven')).toEqual(ids);
  });
});
