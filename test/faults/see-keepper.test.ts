import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();
const BASE = Date.parse('2026-11-20T00:00:00Z');

describe('see the DLQ, second read: keep-per on long values', () => {
  it('two workflow URLs that differ after character 128 are two groups: the newest of EACH is kept', async () => {
    const emulator = await start();
    const stem = `https://preview-feature-branch-with-a-long-name.example.com/api/workflows/${'x'.repeat(60)}`;
    const a = `${stem}/checkout`;
    const b = `${stem}/invoices`;
    expect(a.length).toBeGreaterThan(128);
    const aIds = emulator.seed('workflow', workflowEntries(3, { workflowUrl: a }, BASE));
    const bIds = emulator.seed('workflow', workflowEntries(3, { workflowUrl: b }, BASE - 86_400_000));
    const run = await runAgainst(emulator, {
      inputs: { 'select-all': 'true', 'keep-newest': '1', 'keep-per': 'workflow-url', 'max-entries': '0' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    // The newest of each URL must survive: a's last and b's last.
    expect(emulator.ids('workflow').sort()).toEqual([aIds[2]!, bIds[2]!].sort());
    expect(run.outputs['kept-count']).toBe('2');
  });
});
