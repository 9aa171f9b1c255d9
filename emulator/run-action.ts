/**
 * Runs the bundled action (dist/index.js) the way a GitHub runner does: inputs as INPUT_<NAME> environment
 * variables (action.yml defaults included, hyphens kept), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, workflow
 * commands on stdout. Used by the end-to-end tests, the demo and the benchmark.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = new URL('..', import.meta.url).pathname;

export interface ActionRunOptions {
  /** Inputs by their action.yml names; unset ones get action.yml's defaults, as on a runner. */
  inputs?: Record<string, string>;
  /** Extra environment variables (QSTASH_TOKEN, RUNNER_DEBUG, ...). Nothing is inherited but PATH. */
  env?: Record<string, string>;
  /** The script to run; dist/index.js by default. */
  entry?: string;
  /** Node options before the script (e.g. --import for a probe). */
  nodeArgs?: string[];
  /** Kill the action after this long (a test's safety net). */
  timeoutMs?: number;
  /** Send this signal once stdout contains `afterOutput`, and `then` a second one 500 ms later (as a runner does). */
  signal?: { name: NodeJS.Signals; afterOutput: string; then?: NodeJS.Signals };
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
}

export interface ActionRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  annotations: Annotation[];
  /** The records of the results file the action named in its `results-file` output, parsed (JSON Lines). */
  results: Record<string, unknown>[] | undefined;
  durationMs: number;
}

let defaultsCache: Record<string, string> | undefined;

/** Every input's default from action.yml, as a runner would pass it. */
export function actionDefaults(): Record<string, string> {
  if (!defaultsCache) {
    const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string | number | boolean }>;
    };
    defaultsCache = Object.fromEntries(
      Object.entries(action.inputs).map(([name, spec]) => [
        name,
        spec.default === undefined ? '' : String(spec.default),
      ]),
    );
  }
  return defaultsCache;
}

export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /gu, '_').toUpperCase()}`;
}

export async function runAction(options: ActionRunOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'action-run-'));
  const outputFile = join(dir, 'github-output');
  const summaryFile = join(dir, 'step-summary.md');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');

  const inputs = { ...actionDefaults(), ...options.inputs };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: 'octo-org/shop',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [inputEnvName(name), value])),
    ...options.env,
  };

  const started = performance.now();
  // ACTION_ENTRY runs the tests against another build (to show a regression test failing on an older dist/).
  const entry = options.entry ?? process.env.ACTION_ENTRY ?? join(ROOT, 'dist/index.js');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), entry], {
    env,
    cwd: dir,
  });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (options.signal && !signalled && stdout.includes(options.signal.afterOutput)) {
      signalled = true;
      child.kill(options.signal.name);
      const then = options.signal.then;
      if (then) setTimeout(() => child.exitCode === null && child.kill(then), 500);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  const durationMs = performance.now() - started;

  const outputs = parseOutputs(readFileSync(outputFile, 'utf8'));
  const resultsPath = outputs['results-file'];
  const result: ActionRun = {
    exitCode,
    stdout,
    stderr,
    outputs,
    summary: readFileSync(summaryFile, 'utf8'),
    annotations: parseAnnotations(stdout),
    results:
      resultsPath && existsSync(resultsPath)
        ? readFileSync(resultsPath, 'utf8')
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as Record<string, unknown>)
        : undefined,
    durationMs,
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** Reads the `name<<delimiter / value / delimiter` blocks that @actions/core writes to GITHUB_OUTPUT. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const block = /^(.+?)<<(\S+)\n([\s\S]*?)\n?\2$/gmu;
  for (const match of text.matchAll(block)) outputs[match[1]!] = match[3]!;
  return outputs;
}

/** The lines of stdout as a runner reads them: CR, LF and CRLF all end a line. */
export function runnerLines(stdout: string): string[] {
  return stdout.split(/\r\n|\r|\n/u);
}

/** `::error::msg`, `::warning title=x::msg` lines, with the runner's %-escapes undone. */
export function parseAnnotations(stdout: string): Annotation[] {
  const annotations: Annotation[] = [];
  for (const line of runnerLines(stdout)) {
    const match = /^::(error|warning|notice)(?: [^:]*)?::(.*)$/u.exec(line);
    if (!match) continue;
    const message = match[2]!.replace(/%0D/gu, '\r').replace(/%0A/gu, '\n').replace(/%25/gu, '%');
    annotations.push({ level: match[1] as Annotation['level'], message });
  }
  return annotations;
}
