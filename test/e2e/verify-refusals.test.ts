/**
 * End to end, through dist/index.js: the inputs of issue 18 (`verify`, `canary`, `on-re-failed`) refused where they
 * cannot apply or hold no valid value. Each refusal fails the step with an error naming the input and the value,
 * before any request: the emulator received nothing and every entry is still there. The bounds of `verify` are
 * accepted.
 */
import { describe, expect, it } from 'vitest';
import { messageEntries, workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, errors, list, runAgainst } from '../helpers/e2e.ts';
import { object } from '../helpers/verify.ts';

const start = emulatorPerTest();

const LISTS = ['removed', 'redriven', 'not-found', 'failed', 'would-remove', 'would-redrive'];

/** [what, inputs, the input the error must name, the value it must name, another text it must name]. */
const REFUSED: [string, Record<string, string>, string, string, string?][] = [
  ['verify with delete', { operation: 'delete', verify: '30s' }, 'verify', '30s', 'delete'],
  ['verify with report', { operation: 'report', verify: '30s' }, 'verify', '30s', 'report'],
  ['verify with retry (message DLQ)', { dlq: 'qstash', operation: 'retry', verify: '30s' }, 'verify', '30s', 'retry'],
  ['verify with retry-callback', { operation: 'retry-callback', verify: '30s' }, 'verify', '30s', 'retry-callback'],
  ['verify with dry-run', { operation: 'resume', verify: '30s', 'dry-run': 'true' }, 'verify', '30s', 'dry-run'],
  ['verify over 6 h', { operation: 'resume', verify: '7h' }, 'verify', '7h'],
  ['verify one second over 6 h', { operation: 'restart', verify: '21601s' }, 'verify', '21601s'],
  ['verify with an unknown unit', { operation: 'resume', verify: '10x' }, 'verify', '10x'],
  ['verify of zero', { operation: 'resume', verify: '0s' }, 'verify', '0s'],
  ['verify without a unit', { operation: 'resume', verify: '30' }, 'verify', '30'],
  ['verify with a fraction', { operation: 'resume', verify: '1.5m' }, 'verify', '1.5m'],
  ['verify negative', { operation: 'resume', verify: '-5s' }, 'verify', '-5s'],
  ['canary 0', { operation: 'resume', verify: '30s', canary: '0' }, 'canary', '0'],
  ['canary abc', { operation: 'resume', verify: '30s', canary: 'abc' }, 'canary', 'abc'],
  ['canary 1.5', { operation: 'resume', verify: '30s', canary: '1.5' }, 'canary', '1.5'],
  ['canary without verify', { operation: 'resume', canary: '2' }, 'canary', '2', 'verify'],
  ['on-re-failed blank', { operation: 'resume', verify: '30s', 'on-re-failed': '' }, 'on-re-failed', '""'],
  ['on-re-failed maybe', { operation: 'resume', verify: '30s', 'on-re-failed': 'maybe' }, 'on-re-failed', 'maybe'],
];

describe('refused before any request', () => {
  it.each(REFUSED)('%s', async (_what, inputs, input, value, also) => {
    const e = await start();
    const qstash = inputs.dlq === 'qstash';
    const ids = qstash ? e.seed('qstash', messageEntries(3)) : e.seed('workflow', workflowEntries(3));
    const run = await runAgainst(e, { inputs: { 'dlq-ids': ids.join('\n'), ...inputs } });
    expect(run.exitCode, run.stdout).toBe(1);
    expect(e.requests, 'requests sent').toEqual([]);
    expect(e.ids(qstash ? 'qstash' : 'workflow')).toEqual(ids);
    for (const name of LISTS) expect(list(run, name), name).toEqual([]);
    const all = errors(run);
    expect(all, run.stdout).toHaveLength(1);
    const error = all[0]!;
    expect(error).toContain(input);
    expect(error).toContain(value);
    if (also !== undefined) expect(error).toContain(also);
    expect(error).toMatch(/accepted/iu);
  });
});

describe('the bounds of verify are accepted', () => {
  it.each(['1s', '6h', '360m', '21600s'])('verify: %s', async (verify) => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(2));
    const run = await runAgainst(e, { inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'redriven')).toEqual(ids);
    expect(object(run, 'run-states')).toEqual({ [ids[0]!]: 'RUN_SUCCESS', [ids[1]!]: 'RUN_SUCCESS' });
  });

  it('on-re-failed is read case-insensitively like the other choices (WARN)', async () => {
    const e = await start();
    const ids = e.seed('workflow', workflowEntries(1));
    e.runOutcomes = () => ({ state: 'RUN_FAILED' });
    const run = await runAgainst(e, {
      inputs: { operation: 'resume', 'dlq-ids': ids.join('\n'), verify: '30s', 'on-re-failed': 'WARN' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 're-failed')).toEqual(ids);
  });
});
