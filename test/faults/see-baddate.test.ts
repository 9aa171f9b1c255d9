import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, errors, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();
const BASE = Date.parse('2026-11-20T00:00:00Z');

describe('see the DLQ, second read: a createdAt outside the Date range', () => {
  it('report with fail-if-older-than: the threshold message, not an internal error', async () => {
    const emulator = await start();
    const entries = workflowEntries(3, {}, BASE);
    entries[0]!.createdAt = -1e16;
    emulator.seed('workflow', entries);
    const run = await runAgainst(emulator, { inputs: { operation: 'report', 'fail-if-older-than': '1d' } });
    expect(errors(run).join(' ')).not.toMatch(/Invalid time value|internal error/u);
  });
});
