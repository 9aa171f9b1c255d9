/**
 * A job's RUNNER_TEMP for end-to-end tests: runAction() deletes its own temp dir after each run, so tests that look at
 * the results file afterwards, or run two steps of one job, pass their own directory as `env.RUNNER_TEMP`.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ActionRun } from '../../emulator/run-action.ts';

/** A new directory to use as RUNNER_TEMP across runs; the caller removes it. */
export function runnerTemp(): string {
  return mkdtempSync(join(tmpdir(), 'runner-temp-'));
}

/** The `results-file` output, checked to be set and to exist. */
export function resultsFileOf(run: ActionRun): string {
  const path = run.outputs['results-file'];
  expect(path, 'the results-file output is set').toBeTruthy();
  expect(existsSync(path!), `the results file ${path} exists`).toBe(true);
  return path!;
}

/** The records of a JSON Lines results file; every line must be a JSON object and end with a newline. */
export function readResultsFile(path: string): Record<string, unknown>[] {
  const text = readFileSync(path, 'utf8');
  if (text !== '') expect(text.endsWith('\n'), 'the results file ends with a newline').toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
