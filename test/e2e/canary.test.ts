/**
 * End to end, through dist/index.js: `canary: N` with `verify` (issue 18). The first N selected entries are re-run
 * and waited for; the rest are sent only when every canary's new run ended RUN_SUCCESS, and are then verified too.
 * When a canary bounces, the rest are not sent: they are `failed` with the cause `canary-failed`, stay in the DLQ,
 * and the step fails naming the canary. The emulator's re-run log and request log show the order things happened in.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries, type DlqEmulator, type RunState } from '../../emulator/server.ts';
import { emulatorPerTest, errors, expectExactlyOnce, list, runAgainst } from '../helpers/e2e.ts';
import { logsAsks, newRunOf, object, pairOf } from '../helpers/verify.ts';

const start = emulatorPerTest();

function outcomes(e: DlqEmulator, table: Record<string, { state: RunState; afterMs?: number }>): void {
  e.runOutcomes = (dlqId) => table[dlqId] ?? { state: 'RUN_SUCCESS' };
}

const allAre = (ids: readonly string[], state: string): Record<string, string> =>
  Object.fromEntries(ids.map((id) => [id, state]));

/** The rest were never sent: no re-run, still in the DLQ, failed with canary-failed in outputs and results. */
function expectRestNotSent(e: DlqEmulator, run: Awaited<ReturnType<typeof runAgainst>>, rest: readonly string[]): void {
  const causes = object(run, 'failed-causes');
  for (const id of rest) {
    expect(e.rerunsOf('workflow', id), `re-runs of ${id}`).toHaveLength(0);
    expect(e.has('workflow', id), `${id} is still in the DLQ`).toBe(true);
    expect(causes[id], `cause of ${id}`).toBe('canary-failed');
    expect(run.results!.find((r) => r.id === id)).toMatchObject({ outcome: 'failed', cause: 'canary-failed' });
  }
  expect(list(run, 'failed')).toEqual(rest);
  // No request named a rest id (no re-run, no delete, nothing).
  for (const id of rest) expect(e.requests.filter((r) => r.path.includes(id))).toEqual([]);
}

describe('canary passes', () => {
  it('canary 2 of 6: the canaries are re-run and verified first, then the rest, all verified', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(6));
    const input = [ids[4]!, ids[1]!, ids[0]!, ids[2]!, ids[5]!, ids[3]!];
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': input.join('\n'), verify: '30s', canary: '2' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'redriven')).toEqual(input);
    expectExactlyOnce(run, input);
    for (const id of input) expect(e.rerunsOf('workflow', id)).toHaveLength(1);
    const canaries = input.slice(0, 2);
    const rest = input.slice(2);
    // The first two re-runs are the canaries (input order); a logs request for exactly their runs came before
    // any of the rest was re-run.
    expect(e.reruns.slice(0, 2).map((r) => r.dlqId)).toEqual(canaries);
    const asks = logsAsks(e);
    const canaryPairs = canaries.map((id) => pairOf(newRunOf(e, id))).sort();
    const firstRestAt = Math.min(...e.reruns.slice(2).map((r) => r.at));
    const canaryAsk = asks.find((ask) => [...ask.pairs].sort().join() === canaryPairs.join());
    expect(canaryAsk, 'a logs request for the canaries').toBeDefined();
    expect(canaryAsk!.at).toBeGreaterThanOrEqual(Math.max(...e.reruns.slice(0, 2).map((r) => r.at)));
    expect(canaryAsk!.at).toBeLessThanOrEqual(firstRestAt);
    // The rest were verified too: asked for after their re-runs.
    const restPairs = rest.map((id) => pairOf(newRunOf(e, id)));
    const askedAfter = asks.filter((ask) => ask.at >= firstRestAt).flatMap((ask) => ask.pairs);
    for (const pair of restPairs) expect(askedAfter).toContain(pair);
    expect(object(run, 'run-states')).toEqual(allAre(input, 'RUN_SUCCESS'));
    expect(run.outputs['succeeded-count']).toBe('6');
    expect(list(run, 're-failed')).toEqual([]);
    expect(run.outputs['still-running-count']).toBe('0');
    // The summary names the canaries and says they passed (every new run succeeded, the rest were sent).
    const canaryLine = run.summary
      .split('\n')
      .find((line) => /canar/iu.test(line) && canaries.every((id) => line.includes(id)));
    expect(canaryLine, run.summary).toBeDefined();
    expect(canaryLine).toMatch(/succeeded|passed/iu);
    expect(canaryLine).not.toMatch(/failed|not sent/iu);
  });

  it('by filter: the canaries are the oldest by createdAt, whatever order the listing gives', async () => {
    const e = await start({ listOrder: 'newest-first' });
    const url = 'https://shop.example/api/checkout';
    const entries = workflowEntries(6, { workflowUrl: url });
    // Seeded out of order, listed newest first: neither the first seeded nor the first listed are the oldest.
    const ids = e.seed(
      'workflow',
      [3, 0, 5, 1, 4, 2].map((i) => entries[i]!),
    );
    const oldest = [entries[0]!.dlqId, entries[1]!.dlqId];
    const run = await runAgainst(e, {
      inputs: { operation: 'restart', 'workflow-url': url, verify: '30s', canary: '2' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(
      e.reruns
        .slice(0, 2)
        .map((r) => r.dlqId)
        .sort(),
    ).toEqual([...oldest].sort());
    expect(e.reruns.map((r) => r.dlqId).sort()).toEqual([...ids].sort());
    expect(list(run, 'redriven').sort()).toEqual([...ids].sort());
    expect(object(run, 'run-states')).toEqual(allAre(ids, 'RUN_SUCCESS'));
  });

  it('by filter: max-entries applies to the whole selection, not to the canary: over the cap, nothing is re-run', async () => {
    const e = await start();
    const url = 'https://shop.example/api/checkout';
    const ids = e.seed('workflow', workflowEntries(6, { workflowUrl: url }));
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'workflow-url': url, verify: '30s', canary: '2', 'max-entries': '5' },
    });
    expect(run.exitCode).toBe(1);
    expect(e.reruns).toEqual([]);
    expect(e.ids('workflow')).toEqual(ids);
    expect(errors(run).join('\n')).toMatch(/max-entries/u);
  });
});

describe('canary passes, the rest are verified too', () => {
  it('a run of the rest that fails again is reported like any other: re-failed, and on-re-failed fail fails the step', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(5));
    outcomes(e, { [ids[3]!]: { state: 'RUN_FAILED' } });
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '30s', canary: '2' },
    });
    expect(run.exitCode, run.stdout).toBe(1);
    expect(list(run, 'redriven')).toEqual(ids);
    expectExactlyOnce(run, ids);
    for (const id of ids) expect(e.rerunsOf('workflow', id)).toHaveLength(1);
    expect(list(run, 'failed')).toEqual([]);
    expect(list(run, 're-failed')).toEqual([ids[3]]);
    expect(object(run, 're-failed-dlq-ids')).toEqual({ [ids[3]!]: newRunOf(e, ids[3]!).dlqId });
    expect(object(run, 'run-states')).toEqual({ ...allAre(ids, 'RUN_SUCCESS'), [ids[3]!]: 'RUN_FAILED' });
    expect(
      errors(run).some((m) => m.includes(ids[3]!) && /failed again/iu.test(m)),
      run.stdout,
    ).toBe(true);
  });

  it('a canary as large as the selection: every entry is a canary, nothing is held back', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    const run = await runAgainst(e, {
      inputs: { operation: 'restart', 'dlq-ids': ids.join('\n'), verify: '30s', canary: '10' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(object(run, 'run-states')).toEqual(allAre(ids, 'RUN_SUCCESS'));
  });
});

describe('canary bounces', () => {
  it.each(['RUN_FAILED', 'RUN_CANCELED'] as const)(
    'a canary %s: the rest have zero re-runs, are failed canary-failed, the step fails naming the canary',
    async (state) => {
      const e = await start();
      const ids = e.seed('workflow', workflowEntries(6));
      outcomes(e, { [ids[1]!]: { state } });
      // on-re-failed: pass does not let a bounced canary through.
      const run = await runAgainst(e, {
        inputs: {
          operation: 'resume',
          'dlq-ids': ids.join('\n'),
          verify: '30s',
          canary: '2',
          'on-re-failed': 'pass',
        },
      });
      expect(run.exitCode, run.stdout).toBe(1);
      expectExactlyOnce(run, ids);
      const rest = ids.slice(2);
      expect(list(run, 'redriven')).toEqual(ids.slice(0, 2));
      expect(e.reruns.map((r) => r.dlqId)).toEqual(ids.slice(0, 2));
      expectRestNotSent(e, run, rest);
      expect(object(run, 'run-states')).toEqual({ [ids[0]!]: 'RUN_SUCCESS', [ids[1]!]: state });
      if (state === 'RUN_FAILED') {
        expect(list(run, 're-failed')).toEqual([ids[1]]);
        expect(object(run, 're-failed-dlq-ids')).toEqual({ [ids[1]!]: newRunOf(e, ids[1]!).dlqId });
        expect(e.has('workflow', newRunOf(e, ids[1]!).dlqId!)).toBe(true);
      }
      const error = errors(run).find((m) => m.includes(ids[1]!));
      expect(error, run.stdout).toBeDefined();
      expect(error).toContain(state);
    },
  );

  it('a canary still running when the wait ends (verify 3s): the rest are not sent', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(4));
    outcomes(e, { [ids[0]!]: { state: 'RUN_STARTED' } });
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '3s', canary: '1' },
    });
    expect(run.exitCode, run.stdout).toBe(1);
    expectExactlyOnce(run, ids);
    expect(list(run, 'redriven')).toEqual([ids[0]]);
    expectRestNotSent(e, run, ids.slice(1));
    expect(object(run, 'run-states')).toEqual({ [ids[0]!]: 'RUN_STARTED' });
    const error = errors(run).find((m) => m.includes(ids[0]!));
    expect(error, run.stdout).toBeDefined();
    expect(error).toContain('RUN_STARTED');
  });

  it('a canary that is not in the DLQ proves nothing: the rest are not sent', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(3));
    const input = ['gone-1', ...ids];
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': input.join('\n'), verify: '30s', canary: '1' },
    });
    expect(run.exitCode, run.stdout).toBe(1);
    expectExactlyOnce(run, input);
    expect(list(run, 'not-found')).toEqual(['gone-1']);
    expect(e.reruns).toEqual([]);
    expectRestNotSent(e, run, ids);
    expect(
      errors(run).some((m) => m.includes('gone-1')),
      run.stdout,
    ).toBe(true);
  });
});

describe('canary with delete-after-redrive', () => {
  it('bounced: each canary deleted after its own confirmed re-run, the rest untouched', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(5));
    outcomes(e, { [ids[1]!]: { state: 'RUN_FAILED' } });
    const run = await runAgainst(e, {
      inputs: {
        operation: 'resume',
        'dlq-ids': ids.join('\n'),
        verify: '30s',
        canary: '2',
        'delete-after-redrive': 'true',
      },
    });
    expect(run.exitCode, run.stdout).toBe(1);
    expectExactlyOnce(run, ids);
    const canaries = ids.slice(0, 2);
    for (const id of canaries) {
      expect(e.has('workflow', id), `${id} was deleted`).toBe(false);
      const deletes = e.requests.filter((r) => r.method === 'DELETE' && r.path.includes(id));
      expect(deletes.length, `deletes of ${id}`).toBeGreaterThan(0);
      expect(deletes[0]!.at).toBeGreaterThanOrEqual(e.rerunsOf('workflow', id)[0]!.at);
    }
    expectRestNotSent(e, run, ids.slice(2));
    // The entry the failed canary's new run left is a new one, not deleted.
    expect(e.has('workflow', newRunOf(e, ids[1]!).dlqId!)).toBe(true);
    expect(list(run, 're-failed')).toEqual([ids[1]]);
  });

  it('passed: every entry re-run once and deleted after its re-run', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(4));
    const run = await runAgainst(e, {
      inputs: {
        operation: 'resume',
        'dlq-ids': ids.join('\n'),
        verify: '30s',
        canary: '1',
        'delete-after-redrive': 'true',
      },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expectExactlyOnce(run, ids);
    for (const id of ids) expect(e.rerunsOf('workflow', id)).toHaveLength(1);
    expect(e.ids('workflow')).toEqual([]);
    expect(e.reruns[0]!.dlqId).toBe(ids[0]);
    expect(object(run, 'run-states')).toEqual(allAre(ids, 'RUN_SUCCESS'));
  });
});
