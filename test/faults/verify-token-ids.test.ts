/**
 * Review of issue 18: a token the server returns inside a new run id (the re-run's answer) or a new DLQ id (the
 * logs' dlqId) must not reach the log, outputs, summary or results file, whole or cut. runAgainst checks every
 * 12-character piece. (Holds; kept as a regression.)
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('verify: tokens in server-given ids', () => {
  for (const pad of [10, 45, 50, 100, 115]) {
    it(`run id and new DLQ id holding the token after ${pad} characters`, async () => {
      const e = await start();
      const ids = e.seed('workflow', workflowEntries(2));
      const runId = `${'r'.repeat(pad)}${e.token}${'s'.repeat(20)}`;
      const created = Date.now();
      e.faults.push({
        method: 'POST',
        id: ids[0],
        times: 1,
        status: 200,
        body: JSON.stringify({ workflowRunId: runId, workflowCreatedAt: created }),
      });
      e.faults.push({
        method: 'GET',
        pathIncludes: encodeURIComponent(runId),
        status: 200,
        body: JSON.stringify({
          cursor: '',
          runs: [
            {
              workflowRunId: runId,
              workflowRunCreatedAt: created,
              workflowState: 'RUN_FAILED',
              dlqId: `${'d'.repeat(pad)}${e.token}${'e'.repeat(20)}`,
              steps: [],
            },
          ],
        }),
      });
      const run = await runAgainst(e, {
        inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '5s', 'on-re-failed': 'warn' },
      });
      expect(list(run, 're-failed')).toEqual([ids[0]]);
    });
  }
});
