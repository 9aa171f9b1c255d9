/**
 * Review of issue 18: refusals through dist/index.js. Those that hold: nothing is sent, and the message names the
 * input, the value and what is accepted. The nits (failing here): on-re-failed without verify is silently ignored
 * (canary without verify is refused); "10 m" (a space) is accepted though the message says "a whole number and s,
 * m or h".
 */
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, errors, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('verify refusals', () => {
  const refused: [Record<string, string>, RegExp][] = [
    [{ operation: 'delete', verify: '10m' }, /verify: "10m" .*operation is delete.*Accepted/u],
    [{ operation: 'resume', verify: '10m', 'dry-run': 'true' }, /verify: "10m" .*dry-run is true.*Accepted/u],
    [{ operation: 'resume', canary: '2' }, /canary: "2" needs verify.*Accepted/u],
    [{ operation: 'resume', verify: '1.5m' }, /verify: "1\.5m" is not accepted\. Accepted/u],
    [{ operation: 'resume', verify: '21601s' }, /verify: "21601s" is not accepted\. Accepted/u],
    [{ operation: 'resume', verify: '10m', canary: '0' }, /canary: "0" is not accepted\. Accepted/u],
    [{ operation: 'resume', verify: '10m', 'on-re-failed': 'retry' }, /on-re-failed: "retry" .*Accepted/u],
  ];
  for (const [inputs, message] of refused) {
    it(`refuses ${JSON.stringify(inputs)}, sending nothing`, async () => {
      const e = await start();
      const ids = e.seed('workflow', workflowEntries(2));
      const run = await runAgainst(e, { inputs: { ...inputs, 'dlq-ids': ids.join('\n') } });
      expect(run.exitCode).toBe(1);
      expect(e.requests).toEqual([]);
      expect(errors(run).join('\n')).toMatch(message);
    });
  }

  it('nit: on-re-failed without verify is refused like canary without verify', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(1));
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'on-re-failed': 'warn', 'dlq-ids': ids[0]! } });
    expect(run.exitCode).toBe(1);
    expect(errors(run).join('\n')).toMatch(/on-re-failed: "warn" needs verify/u);
  });

  it('nit: verify "10 m" is refused (the message asks for a whole number and s, m or h)', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(1));
    const run = await runAgainst(e, { inputs: { operation: 'resume', verify: '10 m', 'dlq-ids': ids[0]! } });
    expect(run.exitCode).toBe(1);
  });
});
