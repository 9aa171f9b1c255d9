/** verify, on-re-failed and canary as settings: what is accepted, and every refusal naming the input and value. */
import { describe, expect, it } from 'vitest';
import { readSettings, type SettingsSource } from '../../src/settings.js';

const source = (inputs: Record<string, string>): SettingsSource => {
  const all: Record<string, string> = {
    'qstash-token': 'tok_abc123SECRET',
    'dlq-ids': 'a',
    'on-re-failed': 'fail',
    ...inputs,
  };
  return {
    input: (name) => all[name] ?? '',
    // As a runner sends them: INPUT_<NAME> for every input given.
    env: (name) => (name.startsWith('INPUT_') ? all[name.slice('INPUT_'.length).toLowerCase()] : undefined),
    readFile: () => '',
    now: () => 0,
  };
};

function problem(inputs: Record<string, string>): string {
  try {
    readSettings(source(inputs));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('verify settings', () => {
  it('reads s, m and h up to 6h, with on-re-failed and canary', () => {
    expect(readSettings(source({ operation: 'resume', verify: '30s' })).proof).toEqual({
      durationMs: 30_000,
      raw: '30s',
      onReFailed: 'fail',
    });
    expect(
      readSettings(source({ operation: 'restart', verify: '6h', 'on-re-failed': 'WARN', canary: '5' })).proof,
    ).toEqual({
      durationMs: 6 * 3_600_000,
      raw: '6h',
      onReFailed: 'warn',
      canary: 5,
    });
    expect(readSettings(source({ operation: 'resume' })).proof).toBeUndefined();
  });

  it.each([
    [
      { operation: 'resume', verify: '7h' },
      /verify: "7h" is not accepted\. Accepted: how long to wait .* from 1s to 6h/u,
    ],
    [{ operation: 'resume', verify: '0s' }, /verify: "0s" is not accepted/u],
    [{ operation: 'resume', verify: '10x' }, /verify: "10x" is not accepted/u],
    [{ operation: 'delete', verify: '10m' }, /verify: "10m" waits for the workflow runs .* but operation is delete/u],
    [{ operation: 'retry', dlq: 'qstash', verify: '10m' }, /but operation is retry/u],
    [{ operation: 'retry-callback', verify: '10m' }, /but operation is retry-callback/u],
    [{ operation: 'report', verify: '10m' }, /but operation is report/u],
    [
      { operation: 'resume', verify: '10m', 'dry-run': 'true' },
      /verify: "10m" waits for new runs, but dry-run is true/u,
    ],
    [{ operation: 'resume', canary: '3' }, /canary: "3" needs verify/u],
    [
      { operation: 'resume', verify: '1m', canary: '0' },
      /canary: "0" is not accepted\. Accepted: a whole number of entries, 1 or more/u,
    ],
    [{ operation: 'resume', verify: '1m', canary: 'abc' }, /canary: "abc" is not accepted/u],
    [
      { operation: 'resume', verify: '1m', 'on-re-failed': 'maybe' },
      /on-re-failed: "maybe" is not a policy\. Accepted: fail .*, warn .* or pass/u,
    ],
    [{ operation: 'resume', verify: '1m', 'on-re-failed': ' ' }, /on-re-failed: evaluated to an empty value/u],
  ])('refuses %j', (inputs, message) => {
    const text = problem(inputs);
    expect(text).toMatch(message);
    expect(text).toMatch(/no request was sent/u);
  });
});
