import { describe, expect, it } from 'vitest';
import { workflowEntries, type DlqEntry } from '../../emulator/server.ts';
import { emulatorPerTest, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();
const BASE = Date.parse('2026-11-20T00:00:00Z');

describe('see the DLQ, second read: report side by side, entries without createdAt', () => {
  it('counts every entry, dated or not (300 dated, 300 undated, concurrency 4)', async () => {
    const emulator = await start();
    const dated = workflowEntries(300, {}, BASE);
    const undated = workflowEntries(300, {}, BASE - 10 * 86_400_000).map((e, i) => {
      const copy: Partial<DlqEntry> = { ...e, dlqId: `undated-${i}` };
      delete copy.createdAt;
      return copy as DlqEntry;
    });
    // Interleaved: the first page shows both kinds.
    const mixed: DlqEntry[] = [];
    for (let i = 0; i < 300; i += 1) mixed.push(dated[i]!, undated[i]!);
    emulator.seed('workflow', mixed);
    const run = await runAgainst(emulator, { inputs: { operation: 'report', concurrency: '4' } });
    // A range filter never lists an entry without createdAt: the ranges are given up, and every entry is counted.
    expect(run.outputs['entries-count']).toBe('600');
  });
  it('the same, sequential (concurrency 1): the baseline', async () => {
    const emulator = await start();
    const dated = workflowEntries(300, {}, BASE);
    const undated = workflowEntries(300, {}, BASE - 10 * 86_400_000).map((e, i) => {
      const copy: Partial<DlqEntry> = { ...e, dlqId: `undated-${i}` };
      delete copy.createdAt;
      return copy as DlqEntry;
    });
    const mixed: DlqEntry[] = [];
    for (let i = 0; i < 300; i += 1) mixed.push(dated[i]!, undated[i]!);
    emulator.seed('workflow', mixed);
    const run = await runAgainst(emulator, { inputs: { operation: 'report', concurrency: '1' } });
    expect(run.outputs['entries-count']).toBe('600');
  });
});
