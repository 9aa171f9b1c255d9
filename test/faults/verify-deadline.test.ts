/**
 * Review of issue 18: the verify wait is not bounded by its duration. A round that starts before the deadline asks
 * every batch in turn, each request with the full request-timeout and max-retries, and nothing cuts it at the
 * deadline: a logs endpoint that hangs turns `verify: 3s` into minutes (defaults: 30 s x 4 attempts per batch).
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('verify: the wait is bounded by its duration', () => {
  it('a hanging logs endpoint does not stretch verify: 3s past a few seconds', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(120));
    e.faults.push({ method: 'GET', pathIncludes: '/v2/workflows/logs', hang: 'before' });
    const run = await runAgainst(e, {
      inputs: {
        operation: 'resume',
        'dlq-ids': ids.join('\n'),
        verify: '3s',
        'request-timeout': '2',
        'max-retries': '1',
      },
      timeoutMs: 120_000,
    });
    expect(list(run, 'redriven')).toHaveLength(120);
    const logsRequests = e.requestsTo('/v2/workflows/logs').length;
    // 120 runs = 3 batches; each hangs 2 s, twice (one retry): ~13 s for a 3 s wait.
    expect(logsRequests, 'logs requests').toBeGreaterThan(0);
    // The whole step, re-runs included, should take little more than the 3 s wait.
    const ms = Math.round(run.durationMs);
    expect(ms, `the step with verify: 3s lasted ${ms} ms (${logsRequests} logs requests)`).toBeLessThan(8_000);
  }, 120_000);

  it('a logs endpoint answering 429 with Retry-After: 30 does not stretch verify: 3s to half a minute', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_STARTED' }) });
    const ids = e.seed('workflow', workflowEntries(2));
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/logs',
      status: 429,
      headers: { 'Retry-After': '30' },
      body: '{"error":"Burst rate limit exceeded"}',
    });
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s' },
      timeoutMs: 180_000,
    });
    expect(list(run, 'redriven')).toEqual(ids);
    const ms = Math.round(run.durationMs);
    // At most the duration, the last round's minimum gap and its grace (verify.ts LAST_ROUND_GRACE_MS), not 30 s.
    expect(ms, `the step with verify: 3s lasted ${ms} ms`).toBeLessThan(3_000 + 2_000 + 5_000 + 2_000);
  }, 180_000);

  it('the wait lasts its duration: a run ending at 2.5 s of a 3 s wait is seen (a last round at the deadline)', async () => {
    const e = await start({ runOutcomes: () => ({ state: 'RUN_SUCCESS', afterMs: 2500 }) });
    const ids = e.seed('workflow', workflowEntries(1));
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s' } });
    expect(JSON.parse(run.outputs['run-states']!)).toEqual({ [ids[0]!]: 'RUN_SUCCESS' });
  });
});
