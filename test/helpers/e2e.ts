/**
 * End-to-end helpers: run dist/index.js as a runner does against a loopback emulator, and check every byte the
 * action produced for the token on every run.
 */
import { afterEach, expect } from 'vitest';
import { runAction, runnerLines, type ActionRun, type ActionRunOptions } from '../../emulator/run-action.ts';
import { DlqEmulator, type EmulatorOptions } from '../../emulator/server.ts';

export interface CheckedRunOptions extends ActionRunOptions {
  /** The secret to look for; the emulator's token by default. */
  token?: string;
}

/**
 * Runs the action with the emulator's URL and token as inputs (unless overridden) and fails the test if the token
 * appears anywhere but in the runner's `::add-mask::` command.
 */
export async function runAgainst(emulator: DlqEmulator, options: CheckedRunOptions = {}): Promise<ActionRun> {
  const run = await runAction({
    ...options,
    inputs: { 'qstash-url': emulator.url, 'qstash-token': emulator.token, ...options.inputs },
  });
  expectNoTokenLeak(run, options.token ?? emulator.token);
  return run;
}

export function expectNoTokenLeak(run: ActionRun, token: string): void {
  // The runner's own mask commands are the one place a secret may appear (this token's, or another's that shares a
  // stretch of characters with it).
  const stdoutWithoutMask = runnerLines(run.stdout)
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  const places: Record<string, string> = {
    stdout: stdoutWithoutMask,
    stderr: run.stderr,
    outputs: JSON.stringify(run.outputs),
    summary: run.summary,
    results: JSON.stringify(run.results ?? []),
  };
  // The token as Markdown escaping would write it (it renders as the token).
  const escaped = token.replace(/[\\`*_[\]|]/gu, (c) => `\\${c}`);
  // Any 12 characters of it in a row, too: a message cut in the middle of the token must not leave part of it.
  const pieces = token.length > 12 ? Array.from({ length: token.length - 11 }, (_, i) => token.slice(i, i + 12)) : [];
  for (const [place, text] of Object.entries(places)) {
    expect(text.includes(token), `the token leaked into ${place}`).toBe(false);
    expect(text.includes(escaped), `the token leaked, escaped, into ${place}`).toBe(false);
    const piece = pieces.find((p) => text.includes(p));
    expect(piece, `part of the token leaked into ${place}`).toBeUndefined();
  }
}

/** A JSON-array output, parsed. */
export function list(run: ActionRun, name: string): string[] {
  const value = run.outputs[name];
  expect(value, `output ${name} is set`).toBeDefined();
  return JSON.parse(value!) as string[];
}

export function errors(run: ActionRun): string[] {
  return run.annotations.filter((a) => a.level === 'error').map((a) => a.message);
}

export function warnings(run: ActionRun): string[] {
  return run.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
}

/** Every selected id in exactly one output list, and the results file agrees with the lists. */
export function expectExactlyOnce(run: ActionRun, ids: readonly string[]): void {
  const lists = ['removed', 'redriven', 'not-found', 'failed', 'would-remove', 'would-redrive'];
  const all = lists.flatMap((name) => list(run, name));
  expect(all.length, 'ids across the output lists').toBe(ids.length);
  expect([...all].sort()).toEqual([...ids].sort());
  for (const name of lists) expect(run.outputs[`${name}-count`]).toBe(String(list(run, name).length));
  const records = run.results ?? [];
  if (run.results !== undefined)
    expect(
      records.map((r) => r.id),
      'one record per id, in order',
    ).toEqual([...ids]);
  for (const record of records) expect(list(run, String(record.outcome))).toContain(record.id);
}

/** The counts, for one-line assertions. */
export function counts(run: ActionRun): { removed: number; notFound: number; failed: number; wouldRemove: number } {
  return {
    removed: Number(run.outputs['removed-count']),
    notFound: Number(run.outputs['not-found-count']),
    failed: Number(run.outputs['failed-count']),
    wouldRemove: Number(run.outputs['would-remove-count']),
  };
}

/** Call once at the top of a test file: returns `start(options)`, whose emulator is closed after each test. */
export function emulatorPerTest(): (options?: EmulatorOptions) => Promise<DlqEmulator> {
  let current: DlqEmulator | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (options = {}) => {
    current = await DlqEmulator.start(options);
    return current;
  };
}
