/**
 * Review of issue 18: canary with a filter (listing order newest-first: the canaries are still the oldest), with
 * undated entries (last), and the rest sent and verified once the canary passed. These hold; kept as regressions.
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries, type DlqEntry } from '../../emulator/server.ts';
import { emulatorPerTest, expectExactlyOnce, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('canary with a filter', () => {
  it('the oldest go first, undated last; the rest follow once they succeed, and are verified', async () => {
    const e = await start({ listOrder: 'newest-first' });
    const url = 'https://shop.example/api/checkout';
    const dated = e.seed('workflow', workflowEntries(6, { workflowUrl: url }));
    const undated = e.seed(
      'workflow',
      workflowEntries(2, { workflowUrl: url }, Date.now() - 3_600_000).map(
        ({ createdAt: _c, ...rest }) => ({ ...rest, dlqId: `undated-${rest.dlqId}` }) as unknown as DlqEntry,
      ),
    );
    const all = [...dated, ...undated];
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'workflow-url': url, verify: '20s', canary: '2', 'max-entries': '8' },
    });
    expect(run.exitCode).toBe(0);
    expect(e.reruns.slice(0, 2).map((r) => r.dlqId)).toEqual(dated.slice(0, 2));
    expect(e.reruns.map((r) => r.dlqId).sort()).toEqual([...all].sort());
    expect(list(run, 'redriven').sort()).toEqual([...all].sort());
    expect(Object.values(JSON.parse(run.outputs['run-states']!) as Record<string, string>)).toEqual(
      all.map(() => 'RUN_SUCCESS'),
    );
    expectExactlyOnce(run, list(run, 'redriven'));
    expect(run.summary).toMatch(/Canary \(2\).*every new run succeeded, so the rest were sent/u);
    expect(run.summary).toMatch(/\(canary \d+\.\d s, rest \d+\.\d s\)/u);
  });
});
