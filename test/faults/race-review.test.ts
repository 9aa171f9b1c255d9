/**
 * Hostile-review checks of strategy auto's race (listing + bulk vs per-id), end to end through dist/index.js.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, expectExactlyOnce, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('auto race under a hostile server', () => {
  for (const cursor of ['id', 'position'] as const) {
    it(`cursor ${cursor}: sparse ids, entries vanishing under the run, a bulk call answered 503 after acting`, async () => {
      const e = await start({ cursor, latencyMs: 3 });
      const all = e.seed('workflow', workflowEntries(3000));
      const present = all.filter((_, i) => i % 10 === 3);
      const missing = Array.from({ length: 100 }, (_, i) => `missing-${i}`);
      // Shown on page 1, deleted by someone else before page 2: before their bulk call (batches fill to 100).
      const vanishing = present.slice(0, 10);
      const input = [...present, ...missing];
      e.faults.push(
        {
          method: 'GET',
          pathIncludes: 'cursor=',
          times: 1,
          run: (em) => void em.remove('workflow', vanishing),
        },
        { method: 'DELETE', pathIncludes: 'dlqIds=', times: 1, statusAfter: 503 },
      );
      const run = await runAgainst(e, { inputs: { 'dlq-ids': input.join('\n'), concurrency: '8' } });
      expect(run.exitCode).toBe(0);
      expectExactlyOnce(run, input);
      const removed = new Set(list(run, 'removed'));
      const inferred = new Set((run.results ?? []).filter((r) => r.inferred).map((r) => r.id));
      // Never "removed" for an entry someone else deleted, unless marked as inferred by the lost-response rule.
      for (const id of vanishing) if (removed.has(id)) expect(inferred.has(id), id).toBe(true);
      for (const id of removed) expect(e.has('workflow', id), id).toBe(false);
      for (const id of missing) expect(removed.has(id), id).toBe(false);
      expect(e.maxInFlight).toBeLessThanOrEqual(8);
      // Each id in at most one per-id DELETE.
      const perIdDeletes = e.requests.filter((r) => r.method === 'DELETE' && !r.path.includes('?')).map((r) => r.path);
      expect(new Set(perIdDeletes).size).toBe(perIdDeletes.length);
    });
  }

  it('dry run, cursor position: every id in exactly one list, nothing changed', async () => {
    const e = await start({ cursor: 'position', latencyMs: 3 });
    const all = e.seed('workflow', workflowEntries(2000));
    const present = all.filter((_, i) => i % 8 === 1);
    const missing = Array.from({ length: 60 }, (_, i) => `missing-${i}`);
    const input = [...missing.slice(0, 30), ...present, ...missing.slice(30)];
    const run = await runAgainst(e, { inputs: { 'dlq-ids': input.join('\n'), 'dry-run': 'true' } });
    expect(run.exitCode).toBe(0);
    expectExactlyOnce(run, input);
    expect(list(run, 'would-remove').sort()).toEqual([...present].sort());
    expect(list(run, 'not-found').sort()).toEqual([...missing].sort());
    expect(e.ids('workflow')).toHaveLength(2000);
  });
});

describe('auto race cancelled mid-run', () => {
  it('SIGTERM while the listing, bulk calls and per-id requests all run: removed is exactly what is gone', async () => {
    const e = await start({ cursor: 'position', latencyMs: 15 });
    const all = e.seed('workflow', workflowEntries(3000));
    const present = all.filter((_, i) => i % 10 === 3);
    const missing = Array.from({ length: 100 }, (_, i) => `missing-${i}`);
    const input = [...present, ...missing];
    const run = await runAgainst(e, {
      inputs: { 'dlq-ids': input.join('\n'), concurrency: '4' },
      signal: { name: 'SIGTERM', afterOutput: 'removed "' },
    });
    expect(run.exitCode).toBe(1);
    expectExactlyOnce(run, input);
    const removed = list(run, 'removed');
    expect(removed.sort()).toEqual(present.filter((id) => !e.has('workflow', id)).sort());
    const requestsAtExit = e.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(e.requests.length).toBe(requestsAtExit);
  });
});
