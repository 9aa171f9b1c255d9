/**
 * Helpers for the end-to-end tests of `verify` and `canary` (issue 18): the JSON outputs parsed, the logs requests
 * the emulator received read back as the run pairs they asked for, and what a re-run's new run left behind.
 */
import { expect } from 'vitest';
import type { ActionRun } from '../../emulator/run-action.ts';
import type { DlqEmulator, EmulatedRun, RequestRecord } from '../../emulator/server.ts';

export const LOGS_PATH = '/v2/workflows/logs';

/** A JSON-object output, parsed (run-states, re-failed-dlq-ids, new-runs, failed-causes). */
export function object(run: ActionRun, name: string): Record<string, string> {
  const value = run.outputs[name];
  expect(value, `output ${name} is set`).toBeDefined();
  return JSON.parse(value!) as Record<string, string>;
}

/** One logs request as the emulator received it: the `id@createdAt` pairs it asked for, and `count`. */
export interface LogsAsk {
  readonly at: number;
  readonly result: RequestRecord['result'];
  readonly pairs: string[];
  readonly count: number | undefined;
}

/** The requests to the logs endpoint, in order. */
export function logsAsks(e: DlqEmulator): LogsAsk[] {
  return e.requestsTo(LOGS_PATH, 'GET').map((request) => {
    const query = new URL(request.path, 'http://emulator').searchParams;
    const pairs = query.get('workflowRuns');
    const count = query.get('count');
    return {
      at: request.at,
      result: request.result,
      pairs: pairs === null ? [] : pairs.split(','),
      count: count === null ? undefined : Number(count),
    };
  });
}

/** The key the logs endpoint knows a run by. */
export const pairOf = (run: Pick<EmulatedRun, 'workflowRunId' | 'workflowRunCreatedAt'>): string =>
  `${run.workflowRunId}@${run.workflowRunCreatedAt}`;

/** The run the re-run of `dlqId` created (exactly one, or the test fails). */
export function newRunOf(e: DlqEmulator, dlqId: string): EmulatedRun {
  const runs = e.runs.filter((run) => run.fromDlqId === dlqId);
  expect(runs, `new runs of ${dlqId}`).toHaveLength(1);
  return runs[0]!;
}

/** Text as the summary's Markdown cells write it (ids here hold only `_` among the escaped characters). */
export const md = (text: string): string => text.replace(/[\\`*_[\]|~#!]/gu, (c) => `\\${c}`);

/** The summary's lines holding every one of `texts`. */
export function summaryLinesWith(run: ActionRun, ...texts: string[]): string[] {
  return run.summary.split('\n').filter((line) => texts.every((text) => line.includes(text)));
}

/** Runs that leave a new entry only when they fail: the states every id's run ended in, from the emulator. */
export function statesInEmulator(e: DlqEmulator, ids: readonly string[]): Record<string, string> {
  return Object.fromEntries(ids.map((id) => [id, newRunOf(e, id).state]));
}

/** Sleeps; for tests that must let time pass (a run that ends later). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
