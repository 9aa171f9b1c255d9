/**
 * End to end: re-running DLQ entries (restart, resume, retry, retry-callback) through dist/index.js against the
 * loopback emulator. Every id ends in exactly one list, and no entry is ever re-run twice in one step, whether or
 * not re-run entries leave the DLQ (Upstash does not document it: both are tested).
 */
import { describe, expect, it } from 'vitest';
import { messageEntries, workflowEntries, type DlqEmulator } from '../../emulator/server.ts';
import { counts, emulatorPerTest, errors, expectExactlyOnce, list, runAgainst, warnings } from '../helpers/e2e.ts';

const start = emulatorPerTest();

const json = (run: { outputs: Record<string, string> }, name: string): Record<string, string> =>
  JSON.parse(run.outputs[name]!) as Record<string, string>;

/** No entry was re-run more than once by the emulator. */
function expectNeverTwice(e: DlqEmulator): void {
  const seen = new Map<string, number>();
  for (const rerun of e.reruns)
    seen.set(`${rerun.dlq}/${rerun.dlqId}`, (seen.get(`${rerun.dlq}/${rerun.dlqId}`) ?? 0) + 1);
  expect(
    [...seen.values()].every((n) => n === 1),
    'an entry was re-run twice',
  ).toBe(true);
}

describe('restart, resume and retry by id', () => {
  it('restart: one POST per id, redriven in input order, new-runs maps each id to its new run', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(5));
    const input = [ids[3]!, 'gone-1', ids[0]!, ids[1]!];
    const run = await runAgainst(e, { inputs: { 'dlq-ids': input.join('\n'), operation: 'restart' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'redriven')).toEqual([ids[3], ids[0], ids[1]]);
    expect(list(run, 'removed')).toEqual([]);
    expect(list(run, 'not-found')).toEqual(['gone-1']);
    expect(run.outputs['redriven-count']).toBe('3');
    const newRuns = json(run, 'new-runs');
    for (const id of [ids[3]!, ids[0]!, ids[1]!]) {
      expect(newRuns[id]).toBe(e.reruns.find((r) => r.dlqId === id)!.newId);
    }
    expect(Object.keys(newRuns)).toHaveLength(3);
    expect(e.countRequests('POST', '/v2/workflows/dlq/restart/')).toBe(4);
    expect(e.requests.every((r) => r.method === 'POST')).toBe(true);
    expectExactlyOnce(run, input);
    expectNeverTwice(e);
    expect(run.stdout).toMatch(/Restarted 3, not found 1, failed 0/);
    expect(run.summary).toContain(newRuns[ids[3]!]!.replace(/_/g, '\\_'));
    expect(run.results).toEqual([
      { id: ids[3], outcome: 'redriven', newRun: newRuns[ids[3]!] },
      { id: 'gone-1', outcome: 'not-found' },
      { id: ids[0], outcome: 'redriven', newRun: newRuns[ids[0]!] },
      { id: ids[1], outcome: 'redriven', newRun: newRuns[ids[1]!] },
    ]);
  });

  it('resume: an entry that cannot be resumed (400) fails with its cause, the others proceed, the step fails', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    e.seed('workflow', [{ dlqId: 'stuck-1', createdAt: Date.now(), resumable: false }]);
    const run = await runAgainst(e, { inputs: { 'dlq-ids': [...ids, 'stuck-1'].join(' '), operation: 'resume' } });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(list(run, 'failed')).toEqual(['stuck-1']);
    expect(json(run, 'failed-causes')).toEqual({ 'stuck-1': 'rejected' });
    expect(errors(run)[0]).toMatch(/1 id was not resumed: "stuck-1"\. First reason: HTTP 400/);
    expect(run.results?.find((r) => r.id === 'stuck-1')).toMatchObject({ outcome: 'failed', cause: 'rejected' });
    expectNeverTwice(e);
  });

  it('retry (message DLQ): 201 with the new message id; the entry leaves the DLQ', async () => {
    const e = await start();
    const ids = e.seed('qstash', messageEntries(3));
    const run = await runAgainst(e, { inputs: { dlq: 'qstash', operation: 'retry', 'dlq-ids': ids.join(',') } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(Object.values(json(run, 'new-runs'))).toEqual(e.reruns.map((r) => r.newId));
    expect(e.ids('qstash')).toEqual([]);
    expect(e.countRequests('POST', '/v2/dlq/retry/')).toBe(3);
  });

  it('retry-callback: re-runs failed failure callbacks; one not in a failed state is refused', async () => {
    const e = await start();
    const [failedCallback] = e.seed('workflow', workflowEntries(1, { failureFunctionState: 'CALLBACK_FAIL' }));
    const [fine] = e.seed('workflow', [
      { dlqId: 'ok-1', createdAt: Date.now(), failureFunctionState: 'CALLBACK_SUCCESS' },
    ]);
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': `${failedCallback} ${fine}`, operation: 'retry-callback' },
    });
    expect(list(run, 'redriven')).toEqual([failedCallback]);
    expect(list(run, 'failed')).toEqual([fine]);
    expect(json(run, 'failed-causes')).toEqual({ [fine!]: 'rejected' });
  });

  it('an id such as __proto__ is just a key in new-runs and failed-causes', async () => {
    const e = await start();
    e.seed('workflow', [
      { dlqId: '__proto__', createdAt: Date.now() },
      { dlqId: 'constructor', createdAt: Date.now(), resumable: false },
    ]);
    const run = await runAgainst(e, { inputs: { 'dlq-ids': '__proto__ constructor', operation: 'resume' } });
    expect(run.outputs['new-runs']).toMatch(/^\{"__proto__":"wfr_rerun_\d+"\}$/);
    expect(Object.keys(json(run, 'new-runs'))).toEqual(['__proto__']);
    expect(run.outputs['failed-causes']).toBe('{"constructor":"rejected"}');
  });
});

describe('selection for re-runs: filters, select-all, the cap, the dry run', () => {
  it('resume by filter re-runs exactly what the listing matched, one by one', async () => {
    const e = await start();
    const matching = e.seed('workflow', workflowEntries(120, { workflowUrl: 'https://shop.example/api/checkout' }));
    const other = e.seed(
      'workflow',
      workflowEntries(5, { workflowUrl: 'https://shop.example/api/other' }, Date.now() + 1e6),
    );
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'workflow-url': 'https://shop.example/api/checkout' },
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'redriven')).toEqual(matching);
    expect(e.reruns.map((r) => r.dlqId).sort()).toEqual([...matching].sort());
    for (const id of other) expect(e.rerunsOf('workflow', id)).toHaveLength(0);
    expectNeverTwice(e);
  });

  it('the cap applies to every operation: more matches than max-entries re-runs nothing', async () => {
    const e = await start();
    e.seed('workflow', workflowEntries(30));
    const run = await runAgainst(e, { inputs: { operation: 'restart', 'select-all': 'true', 'max-entries': '20' } });
    expect(run.exitCode).toBe(1);
    expect(e.reruns).toEqual([]);
    expect(errors(run)[0]).toMatch(/30 entries match, more than max-entries \(20\)\. Nothing was restarted\./);
    expect(list(run, 'redriven')).toEqual([]);
    expect(run.results).toEqual([]);
  });

  it('select-all under the default cap of 1000', async () => {
    const e = await start();
    const ids = e.seed('qstash', messageEntries(7));
    const run = await runAgainst(e, { inputs: { dlq: 'qstash', operation: 'retry', 'select-all': 'true' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
  });

  it('dry run: no re-run is sent; would-redrive lists what exists', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    const run = await runAgainst(e, {
      inputs: { operation: 'restart', 'dry-run': 'true', 'dlq-ids': `${ids.join(' ')} missing-1` },
    });
    expect(run.exitCode).toBe(0);
    expect(e.reruns).toEqual([]);
    expect(e.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(list(run, 'would-redrive')).toEqual(ids);
    expect(run.outputs['would-redrive-count']).toBe('3');
    expect(list(run, 'would-remove')).toEqual([]);
    expect(list(run, 'not-found')).toEqual(['missing-1']);
    expect(run.stdout).toMatch(/Dry run: would restart 3, not found 1/);
    expect(run.summary).toContain('dry run: nothing re-run');
  });
});

describe('overrides', () => {
  it('redrive-* inputs become the Upstash-* headers of every re-run request', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    const run = await runAgainst(e, {
      inputs: {
        'dlq-ids': ids.join(' '),
        operation: 'restart',
        'redrive-retries': '2',
        'redrive-delay': '10s',
        'redrive-flow-control-key': 'checkout',
        'redrive-flow-control-value': 'parallelism=2, rate=10, period=1m',
        'redrive-label': 'after-deploy',
      },
    });
    expect(run.exitCode).toBe(0);
    expect(e.reruns).toHaveLength(3);
    for (const rerun of e.reruns) {
      expect(rerun.headers).toMatchObject({
        'upstash-retries': '2',
        'upstash-delay': '10s',
        'upstash-flow-control-key': 'checkout',
        'upstash-flow-control-value': 'parallelism=2, rate=10, period=1m',
        'upstash-label': 'after-deploy',
      });
    }
  });

  it.each([
    [{ 'redrive-retries': 'many' }, /redrive-retries: "many" is not accepted\. Accepted: a whole number/],
    [{ 'redrive-delay': '10 seconds' }, /redrive-delay: "10 seconds" is not accepted/],
    [{ 'redrive-flow-control-key': 'k' }, /redrive-flow-control-key and redrive-flow-control-value go together/],
    [
      { 'redrive-flow-control-value': 'speed=fast', 'redrive-flow-control-key': 'k' },
      /redrive-flow-control-value: "speed=fast"/,
    ],
    [{ operation: 'delete', 'redrive-retries': '1' }, /redrive-retries: re-run settings, but operation is delete/],
    [
      { operation: 'resume', dlq: 'qstash' },
      /operation: "resume" is an operation of the workflow DLQ, but dlq is qstash/,
    ],
    [{ operation: 'retry' }, /operation: "retry" is an operation of the qstash DLQ, but dlq is workflow/],
    [{ operation: 'replay' }, /operation: "replay" is not an operation\. Accepted: delete; restart/],
  ])('refuses %j before any request', async (inputs, message) => {
    const e = await start();
    e.seed('workflow', workflowEntries(2));
    const run = await runAgainst(e, { inputs: { 'dlq-ids': 'a b', operation: 'restart', ...inputs } });
    expect(run.exitCode).toBe(1);
    expect(e.requests).toEqual([]);
    expect(errors(run)[0]).toMatch(message);
    expect(counts(run).failed).toBe(0);
  });
});

describe('at most once: lost answers, 429, 5xx, cancellation', () => {
  for (const removes of [true, false]) {
    it(`a lost answer is never resent (re-run entries ${removes ? 'leave' : 'stay in'} the DLQ)`, async () => {
      const e = await start({ redriveRemoves: { workflow: removes } });
      const ids = e.seed('workflow', workflowEntries(8));
      // The re-run happened, but the answer never arrived: dropped, hung past the timeout, or a gateway's 502.
      e.faults.push(
        { id: ids[1], method: 'POST', times: 1, drop: 'after' },
        { id: ids[2], method: 'POST', times: 1, hang: 'after' },
        { id: ids[3], method: 'POST', times: 1, statusAfter: 502 },
        // Nothing ran: dropped before the server acted.
        { id: ids[4], method: 'POST', times: 1, drop: 'before' },
      );
      const run = await runAgainst(e, {
        inputs: { 'dlq-ids': ids.join('\n'), operation: 'restart', 'request-timeout': '1', concurrency: '4' },
      });
      expectExactlyOnce(run, ids);
      expectNeverTwice(e);
      // Exactly one POST per id: never sent again after a lost answer, not even ids[4] (it may have reached it).
      for (const id of ids) expect(e.countRequests('POST', `/v2/workflows/dlq/restart/${id}`)).toBe(1);
      const redriven = list(run, 'redriven');
      const failed = list(run, 'failed');
      const causes = json(run, 'failed-causes');
      const newRuns = json(run, 'new-runs');
      for (const id of [ids[0], ids[5], ids[6], ids[7]]) expect(redriven).toContain(id);
      // Claimed only where the server confirmed it or shows it: a redriven id without a new run was re-run.
      for (const id of redriven) expect(e.rerunsOf('workflow', id)).toHaveLength(1);
      // Whatever the DLQ shows afterwards, an id is redriven only when the server answered for it.
      for (const id of [ids[1]!, ids[2]!, ids[3]!]) {
        expect(newRuns[id]).toBeUndefined();
        expect(redriven).not.toContain(id);
        expect(failed).toContain(id);
        expect(causes[id]).toBe('answer-lost');
        expect(run.results?.find((r) => r.id === id)).toMatchObject({ cause: 'answer-lost', mayHaveActed: true });
        expect(run.results?.find((r) => r.id === id)?.reason).toMatch(/may have started/);
      }
      // ids[4] did not run: with entries leaving the DLQ it is still there, so it is failed (never guessed done).
      expect(failed).toContain(ids[4]);
      expect(causes[ids[4]!]).toBe('answer-lost');
      expect(e.rerunsOf('workflow', ids[4]!)).toHaveLength(0);
      expect(run.exitCode).toBe(1);
      expect(errors(run)[0]).toMatch(/may have been restarted without the answer arriving/);
    });
  }

  it('429 is waited out and retried: nothing ran, so it is safe; the id is re-run once', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    e.faults.push({ id: ids[0], method: 'POST', times: 2, status: 429, headers: { 'Retry-After': '0' } });
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join(' '), operation: 'restart' } });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(e.countRequests('POST', `/v2/workflows/dlq/restart/${ids[0]}`)).toBe(3);
    expect(e.rerunsOf('workflow', ids[0]!)).toHaveLength(1);
  });

  it('a 503 is not retried for a re-run (it may have come after the re-run started)', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    e.faults.push({ id: ids[0], method: 'POST', times: 1, status: 503 });
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join(' '), operation: 'resume', 'max-retries': '5' } });
    expect(e.countRequests('POST', `/v2/workflows/dlq/resume/${ids[0]}`)).toBe(1);
    expect(list(run, 'failed')).toEqual([ids[0]]);
    expect(json(run, 'failed-causes')[ids[0]!]).toBe('answer-lost');
    expect(list(run, 'redriven')).toEqual([ids[1]]);
  });

  it('a server-closed idle keep-alive socket is not a spurious "may have started"', async () => {
    // The server advertises a long keep-alive but drops sockets idle for 300 ms, as some load balancers do.
    const e = await start({ idleCloseMs: 300 });
    const ids = e.seed('workflow', workflowEntries(6));
    // Every other id waits out a 429 for a second first, leaving the kept-alive sockets idle past 300 ms.
    for (const id of ids.filter((_, i) => i % 2 === 1)) {
      e.faults.push({ id, method: 'POST', times: 1, status: 429, headers: { 'Retry-After': '1' } });
    }
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join(' '), operation: 'restart', concurrency: '2' } });
    expect(e.idleClosed, 'the server closed idle sockets under the client').toBeGreaterThan(0);
    expect(run.exitCode).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(list(run, 'failed')).toEqual([]);
    expectNeverTwice(e);
  });

  it('cancellation mid-redrive: no new re-run starts, every id in one list, none re-run twice', async () => {
    const e = await start({ latencyMs: 30 });
    const ids = e.seed('workflow', workflowEntries(200));
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join('\n'), operation: 'restart', concurrency: '2' },
      signal: { name: 'SIGINT', afterOutput: 'restarted as', then: 'SIGTERM' },
    });
    const rerunsAtExit = e.reruns.length;
    expect(run.exitCode).toBe(1);
    expectExactlyOnce(run, ids);
    expectNeverTwice(e);
    const redriven = list(run, 'redriven');
    expect(redriven.length).toBeGreaterThan(0);
    expect(redriven.length).toBeLessThan(200);
    for (const id of redriven) expect(e.rerunsOf('workflow', id)).toHaveLength(1);
    expect(errors(run)[0]).toMatch(/cancelled \(received SIGINT\)/);
    // Never sent: cancelled. Abandoned in flight: the re-run may have started, so answer-lost (never retry blindly).
    const causes = json(run, 'failed-causes');
    expect(Object.values(causes).every((cause) => cause === 'cancelled' || cause === 'answer-lost')).toBe(true);
    for (const [id, cause] of Object.entries(causes)) {
      if (cause === 'cancelled')
        expect(e.rerunsOf('workflow', id), `${id} was re-run but reported as never sent`).toHaveLength(0);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(e.reruns.length).toBe(rerunsAtExit);
  });
});

describe('delete-after-redrive', () => {
  for (const removes of [true, false]) {
    it(`deletes each entry once its re-run is confirmed (re-run entries ${removes ? 'leave' : 'stay in'} the DLQ); a second run re-runs nothing`, async () => {
      const e = await start({ redriveRemoves: { workflow: removes } });
      const ids = e.seed('workflow', workflowEntries(5));
      const inputs = { 'dlq-ids': ids.join(' '), operation: 'restart', 'delete-after-redrive': 'true' };
      const run = await runAgainst(e, { inputs });
      expect(run.exitCode).toBe(0);
      expect(list(run, 'redriven')).toEqual(ids);
      expect(list(run, 'removed')).toEqual([]);
      expect(e.ids('workflow')).toEqual([]);
      expect(run.results?.every((r) => r.deletedAfter === true)).toBe(true);
      expect(run.summary).toContain('Deleted after their re-run: 5; not deleted: 0');
      // The job is re-run: nothing is left to re-run twice.
      const again = await runAgainst(e, { inputs });
      expect(list(again, 'redriven')).toEqual([]);
      expect(list(again, 'not-found')).toEqual(ids);
      expectNeverTwice(e);
    });
  }

  it('an entry whose re-run answer was lost is never deleted; when entries stay, it is failed answer-lost', async () => {
    const e = await start({ redriveRemoves: { workflow: false } });
    const ids = e.seed('workflow', workflowEntries(4));
    e.faults.push({ id: ids[2], method: 'POST', times: 1, drop: 'after' });
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join(' '), operation: 'resume', 'delete-after-redrive': 'true' },
    });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'redriven')).toEqual([ids[0], ids[1], ids[3]]);
    expect(JSON.parse(run.outputs['failed-causes']!)).toEqual({ [ids[2]!]: 'answer-lost' });
    expect(e.ids('workflow')).toEqual([ids[2]]);
    expect(e.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(ids[2]!))).toEqual([]);
    expectNeverTwice(e);
  });

  it('a delete that fails after a confirmed re-run: still redriven, with a warning that a second run would re-run it', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    e.faults.push({ id: ids[1], method: 'DELETE', status: 500 });
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join(' '), operation: 'restart', 'delete-after-redrive': 'true', 'max-retries': '1' },
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(warnings(run).join()).toMatch(
      /1 entry was re-run but could not be deleted afterwards: ".*-1".*running this job again would re-run them again/,
    );
    expect(run.results?.find((r) => r.id === ids[1])).toMatchObject({
      outcome: 'redriven',
      deleteAfterFailed: expect.stringMatching(/HTTP 500/),
    });
  });

  it('a 2xx that does not confirm the re-run (no run id: a proxy page) is not redriven, and the entry is never deleted', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    e.faults.push({ method: 'POST', status: 200, body: '<html>blocked by policy</html>' });
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': ids.join(' '), operation: 'resume', 'delete-after-redrive': 'true' },
    });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'redriven')).toEqual([]);
    expect(Object.values(json(run, 'failed-causes'))).toEqual(['answer-lost', 'answer-lost', 'answer-lost']);
    expect(e.ids('workflow')).toEqual(ids);
    expect(e.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it('is refused with retry-callback (only the callback is re-run, not the run)', async () => {
    const e = await start();
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': 'a', operation: 'retry-callback', 'delete-after-redrive': 'true' },
    });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(/delete-after-redrive: .* but operation is retry-callback/);
    expect(e.requests).toEqual([]);
  });

  it('is refused with operation delete', async () => {
    const e = await start();
    const run = await runAgainst(e, { inputs: { 'dlq-ids': 'a', 'delete-after-redrive': 'true' } });
    expect(run.exitCode).toBe(1);
    expect(errors(run)[0]).toMatch(
      /delete-after-redrive: "true" deletes each entry after its re-run, but operation is delete/,
    );
    expect(e.requests).toEqual([]);
  });
});
