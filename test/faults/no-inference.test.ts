/**
 * No inference from absence, end to end through dist/index.js: an entry can leave the DLQ for many reasons (a
 * concurrent purge, the console, retention), so a re-run whose answer was lost is `failed` with `answer-lost` and
 * "may have started", whatever the DLQ shows; an id is `redriven` only when the server answered for it. Also: a
 * redrive on a job re-run (GITHUB_RUN_ATTEMPT > 1) warns that entries an earlier attempt re-ran would be re-run again.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, errors, expectExactlyOnce, list, runAgainst, warnings } from '../helpers/e2e.ts';

const start = emulatorPerTest();

const causes = (run: { outputs: Record<string, string> }): Record<string, string> =>
  JSON.parse(run.outputs['failed-causes']!) as Record<string, string>;

describe('no inference from absence', () => {
  for (const removes of [true, false]) {
    it(`a re-run answered 503 before anything ran, its entry purged meanwhile, is failed, never redriven (re-run entries ${removes ? 'leave' : 'stay in'} the DLQ)`, async () => {
      const e = await start({ redriveRemoves: { workflow: removes } });
      const ids = e.seed('workflow', workflowEntries(4));
      const purged = ids[1]!;
      // Someone purges the entry while its re-run is in flight; the server answers 503 and runs nothing.
      e.faults.push({
        id: purged,
        method: 'POST',
        times: 1,
        run: (em) => em.remove('workflow', [purged]),
        status: 503,
      });
      const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join('\n'), operation: 'restart' } });

      expectExactlyOnce(run, ids);
      expect(e.rerunsOf('workflow', purged)).toHaveLength(0);
      expect(list(run, 'redriven')).not.toContain(purged);
      expect(list(run, 'failed')).toEqual([purged]);
      expect(causes(run)[purged]).toBe('answer-lost');
      const record = run.results?.find((r) => r.id === purged);
      expect(record).toMatchObject({ outcome: 'failed', cause: 'answer-lost', mayHaveActed: true });
      expect(record).not.toHaveProperty('inferred');
      expect(String(record?.reason)).toMatch(/may have started: never restart it again blindly/);
      // Only what the server answered for is claimed; the rest were re-run once each.
      for (const id of list(run, 'redriven')) expect(e.rerunsOf('workflow', id)).toHaveLength(1);
      expect(list(run, 'redriven')).toEqual([ids[0], ids[2], ids[3]]);
      // Sent once, and nothing looked up to infer it.
      expect(e.countRequests('POST', `/v2/workflows/dlq/restart/${purged}`)).toBe(1);
      expect(e.requests.filter((r) => r.method === 'GET')).toEqual([]);
      expect(run.exitCode).toBe(1);
      expect(errors(run)[0]).toMatch(/may have been restarted without the answer arriving/);
      expect(run.summary).not.toContain('lost-response rule');
    });
  }

  it('a re-run whose answer was lost after it ran is failed too (the DLQ showing it gone proves nothing)', async () => {
    const e = await start({ redriveRemoves: { workflow: true } });
    const ids = e.seed('workflow', workflowEntries(3));
    e.faults.push({ id: ids[0], method: 'POST', times: 1, statusAfter: 502 });
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join(' '), operation: 'resume' } });
    expectExactlyOnce(run, ids);
    expect(list(run, 'failed')).toEqual([ids[0]]);
    expect(causes(run)[ids[0]!]).toBe('answer-lost');
    expect(list(run, 'redriven')).toEqual([ids[1], ids[2]]);
    expect(e.countRequests('POST', `/v2/workflows/dlq/resume/${ids[0]}`)).toBe(1);
    expect(run.exitCode).toBe(1);
  });
});

describe('a redrive on a job re-run (GITHUB_RUN_ATTEMPT > 1)', () => {
  const attemptWarning =
    /This is attempt 2 of the workflow run \(GITHUB_RUN_ATTEMPT=2\) and delete-after-redrive is off/;

  it('warns in the log, before any re-run is sent, and in the summary', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join(' '), operation: 'restart' },
      env: { GITHUB_RUN_ATTEMPT: '2' },
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(warnings(run).filter((w) => attemptWarning.test(w))).toHaveLength(1);
    const warned = run.stdout.indexOf('::warning::This is attempt 2');
    const firstSettled = run.stdout.indexOf('restarted as ');
    expect(warned).toBeGreaterThan(-1);
    expect(warned).toBeLessThan(firstSettled);
    expect(run.summary).toContain('⚠️ passed with warnings');
    expect(run.summary).toMatch(/> This is attempt 2 of the workflow run/);
  });

  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['a first attempt', { operation: 'restart' }, { GITHUB_RUN_ATTEMPT: '1' }],
    ['delete-after-redrive', { operation: 'restart', 'delete-after-redrive': 'true' }, { GITHUB_RUN_ATTEMPT: '2' }],
    ['a dry run', { operation: 'restart', 'dry-run': 'true' }, { GITHUB_RUN_ATTEMPT: '2' }],
    ['a delete', { operation: 'delete' }, { GITHUB_RUN_ATTEMPT: '2' }],
  ])('says nothing for %s', async (_name, inputs, env) => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join(' '), ...inputs }, env });
    expect(run.exitCode).toBe(0);
    expect(warnings(run)).toEqual([]);
    expect(run.stdout).not.toContain('This is attempt');
    expect(run.summary).not.toContain('This is attempt');
  });
});
