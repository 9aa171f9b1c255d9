import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();
const BASE = Date.parse('2026-11-20T00:00:00Z');

describe('see the DLQ, second read: group values', () => {
  it('a token straddling the 128-character cut of a group value is removed before the cut', async () => {
    const emulator = await start();
    // The token starts at character 110: the cut at 127 keeps its first 17 characters, which no redaction knows.
    const prefix = 'https://hooks.example.com/?q=';
    const leaky = `${prefix}${'a'.repeat(110 - prefix.length)}${emulator.token}&x=1`;
    emulator.seed('workflow', workflowEntries(2, { workflowUrl: leaky }, BASE));
    const run = await runAgainst(emulator, { inputs: { operation: 'report' } });
    expect(run.exitCode, run.stdout).toBe(0);
  });
});

describe('see the DLQ, second read: group values, by-id report and the summary', () => {
  it('by-id report: the same straddling token reaches neither the groups output nor the summary', async () => {
    const emulator = await start();
    const prefix = 'https://hooks.example.com/?q=';
    const leaky = `${prefix}${'a'.repeat(110 - prefix.length)}${emulator.token}&x=1`;
    const ids = emulator.seed('workflow', workflowEntries(2, { workflowUrl: leaky }, BASE));
    const { runAction } = await import('../../emulator/run-action.ts');
    const run = await runAction({
      inputs: {
        'qstash-url': emulator.url,
        'qstash-token': emulator.token,
        operation: 'report',
        'dlq-ids': ids.join('\n'),
      },
    });
    const piece = emulator.token.slice(0, 12);
    expect(run.summary, 'summary').not.toContain(piece);
    expect(run.outputs.groups ?? '', 'groups').not.toContain(piece);
  });
});
