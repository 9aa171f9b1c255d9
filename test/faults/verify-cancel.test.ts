/**
 * Review of issue 18: cancellation during a wait. The wait itself ends at once (logs requests are abandoned), but a
 * cancellation during the CANARY's wait is reported as a canary that did not pass: the error says the canary
 * "had not ended when the wait of 5m ran out" and that "the other 0 entries were not sent (failed, cause
 * canary-failed)", while the wait was cancelled after a second and the rest failed as cancelled.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, errors, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('verify: cancellation during a wait', () => {
  it('SIGINT during the wait ends the step within about a second, outputs written', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(3));
    // Every logs request hangs: only abandoning it at once ends the step quickly.
    e.faults.push({ method: 'GET', pathIncludes: '/v2/workflows/logs', hang: 'before' });
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '5m' },
      signal: { name: 'SIGINT', afterOutput: 'Waiting up to', then: 'SIGTERM' },
      timeoutMs: 60_000,
    });
    expect(run.durationMs).toBeLessThan(4_000);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(JSON.parse(run.outputs['run-states']!)).toEqual(Object.fromEntries(ids.map((id) => [id, 'unknown'])));
    expect(run.exitCode).toBe(1);
  });

  it("SIGINT during the canary's wait is not reported as a canary that bounced after the wait ran out", async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(3));
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '5m', canary: '1' },
      signal: { name: 'SIGINT', afterOutput: 'Waiting up to', then: 'SIGTERM' },
      timeoutMs: 60_000,
    });
    expect(run.durationMs).toBeLessThan(4_000);
    expect(e.reruns.map((r) => r.dlqId)).toEqual([ids[0]]);
    const causes = JSON.parse(run.outputs['failed-causes']!) as Record<string, string>;
    expect(causes).toEqual({ [ids[1]!]: 'cancelled', [ids[2]!]: 'cancelled' });
    const text = errors(run).join('\n');
    expect(text, 'the errors').not.toMatch(/ran out/u);
    expect(text, 'the errors').not.toMatch(/0 entries were not sent/u);
  });
});
