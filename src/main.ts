/**
 * run(): read settings -> select -> execute -> report. The only module that touches @actions/core.
 */
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execute } from './engine/index.js';
import { readIdsFile } from './files.js';
import { showId } from './ids.js';
import { Inputs } from './inputs.js';
import { oneLine } from './log.js';
import { collectTokens } from './endpoint.js';
import { operationFor, probeFor, type Operation } from './operations.js';
import { noOutcomes, type Outcomes, type Settled } from './outcomes.js';
import { outputsFor, resultRecords, summaryMarkdown, tally, verdict } from './report.js';
import { readSettings, type Settings, type SettingsSource } from './settings.js';
import { DlqClient } from './qstash/client.js';
import { systemClock } from './qstash/clock.js';
import { DLQ_NAMES } from './qstash/paths.js';
import { createDispatcher } from './qstash/proxy.js';
import { RateLimiter } from './qstash/rate-limit.js';
import { UndiciTransport } from './qstash/transport.js';

/** Per-id lines in the log; past this, ids are only counted (the outputs, summary and results file have them). */
const LOGGED_IDS = 1000;

/** After SIGINT/SIGTERM, requests already in flight get this long to finish before they are abandoned. */
const CANCEL_GRACE_MS = 4000;

const runnerSource: SettingsSource = {
  input: (name) => core.getInput(name, { trimWhitespace: false }),
  env: (name) => process.env[name],
  readFile: readIdsFile,
};

/** Log lines that cannot break a line (the runner ends a line at CR as well as LF) and hold no secret. */
class Log {
  redact: (text: string) => string = (text) => text;
  info(text: string): void {
    core.info(oneLine(this.redact(text)));
  }
  debug(text: string): void {
    core.debug(oneLine(this.redact(text)));
  }
  warning(text: string): void {
    core.warning(this.redact(text));
  }
  notice(text: string): void {
    core.notice(this.redact(text));
  }
  group(name: string): void {
    core.startGroup(oneLine(this.redact(name)));
  }
}

export async function run(source: SettingsSource = runnerSource): Promise<void> {
  const log = new Log();
  // Mask first: nothing may print before the runner knows every secret.
  // A secret of several lines is masked line by line too, as the runner masks secrets; pieces shorter than 8
  // characters are not (masking "0" would mangle every count).
  const secrets = [
    ...new Set(
      collectTokens(source).flatMap((token) => [
        token,
        ...token
          .split(/\r?\n/u)
          .map((line) => line.trim())
          .filter((line) => line.length >= 8),
      ]),
    ),
  ].filter((secret) => secret !== '');
  for (const secret of secrets) core.setSecret(secret);
  log.redact = redactor(secrets);

  let settings: Settings;
  try {
    settings = readSettings(source);
  } catch (error) {
    await writeOutputs(log, noOutcomes(), operationFor('delete', 'workflow'));
    core.setFailed(log.redact(error instanceof Error ? error.message : String(error)));
    return;
  }

  // Signals are handled only once the inputs (and any ids file) were read: until then the default (exit) is right.
  const cancel = new AbortController();
  // The runner sends SIGINT, then SIGTERM a few seconds later: the first one cancels, later ones are ignored so
  // that the outputs and the summary still get written.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (cancel.signal.aborted) return;
    log.warning(`Received ${signal}: starting no new requests; reporting what was done so far.`);
    cancel.abort(new Error(`received ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const state = { reported: false };
  try {
    await act(settings, cancel.signal, log, state);
  } catch (error) {
    // Outputs are set on every run that read its inputs, whatever failed before the report.
    if (!state.reported) await writeOutputs(log, noOutcomes(), operationFor('delete', 'workflow'));
    core.setFailed(log.redact(error instanceof Error ? error.message : String(error)));
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

function redactor(secrets: readonly string[]): (text: string) => string {
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  return (text) => sorted.reduce((out, secret) => out.split(secret).join('***'), text);
}

async function act(settings: Settings, signal: AbortSignal, log: Log, state: { reported: boolean }): Promise<void> {
  const real = operationFor(settings.operation, settings.dlq, {
    headers: settings.redriveHeaders,
    deleteAfter: settings.deleteAfterRedrive,
  });
  const operation = settings.dryRun ? probeFor(real) : real;
  const { endpoint, target } = settings;
  const connection = createDispatcher(endpoint.url, (name) => process.env[name], {
    connections: settings.concurrency,
    connectTimeoutMs: Math.min(settings.requestTimeoutMs, 10_000),
    headersTimeoutMs: settings.requestTimeoutMs,
    bodyTimeoutMs: settings.requestTimeoutMs,
  });
  for (const secret of connection.secrets) core.setSecret(secret);
  logSettings(log, settings, operation, connection.proxy);
  for (const warning of endpoint.warnings) log.warning(warning);

  let outcomes: Outcomes = noOutcomes();
  if (target === undefined) {
    log.warning(
      `Nothing selected: no ids (${Inputs.dlqIds}, ${Inputs.dlqIdsFile}), no filter and no ${Inputs.selectAll}: true. No request was sent.`,
    );
    await connection.dispatcher.close();
    state.reported = true;
    await writeOutputs(log, outcomes, operation, settings);
    return;
  }

  const transport = new UndiciTransport({
    baseUrl: endpoint.url,
    token: endpoint.token,
    timeoutMs: settings.requestTimeoutMs,
    dispatcher: connection.dispatcher,
    ...(connection.proxyFailure !== undefined && { proxyFailure: connection.proxyFailure }),
  });
  const debug = core.isDebug();
  const client = new DlqClient(transport, new RateLimiter(systemClock), systemClock, {
    maxRetries: settings.maxRetries,
    maxInFlight: settings.concurrency,
    origin: new URL(endpoint.url).host,
    // Nothing decided for this long (only 429s, 5xx, network errors): stop, rather than retry for hours.
    noProgressMs: Math.max(120_000, 3 * settings.requestTimeoutMs),
    redact: log.redact,
    ...(debug && {
      onExchange: (exchange, result, attempt) =>
        log.debug(
          `${exchange.method} ${exchange.path} attempt ${attempt}: ` +
            (result.kind === 'response' ? `HTTP ${result.status}` : `${result.reason} (${result.code})`),
        ),
    }),
  });
  const abandon = (): void => {
    setTimeout(() => client.abortInFlight(new Error('cancelled')), CANCEL_GRACE_MS).unref();
  };
  if (signal.aborted) abandon();
  else signal.addEventListener('abort', abandon, { once: true });

  let logged = 0;
  const onSettled = (id: string, settled: Settled): void => {
    if (logged >= LOGGED_IDS) return;
    logged += 1;
    log.info(`${describe(settled, operation)} ${showId(log.redact(id), 200)}`);
    if (logged === LOGGED_IDS)
      log.info('(further ids are not logged one by one; see the outputs and the results file)');
  };
  log.group(
    target.kind === 'ids'
      ? `${operation.words.doing} ${target.ids.length} id${target.ids.length === 1 ? '' : 's'} in the ${DLQ_NAMES[settings.dlq]}`
      : `Listing ${target.filters.length === 0 ? 'every entry' : 'the matching entries'} of the ${DLQ_NAMES[settings.dlq]}, then ${operation.words.doing.toLowerCase()}`,
  );
  preloadRunUrl();
  try {
    outcomes = await execute(target, operation, client, {
      concurrency: settings.concurrency,
      strategy: settings.strategy,
      signal,
      onSettled,
      onListed: (pages, entries) => {
        if (pages % 10 === 1 || debug) log.info(`listed page ${pages}: ${entries} entries so far`);
      },
    });
  } finally {
    core.endGroup();
    await transport.close();
  }
  state.reported = true;
  await writeOutputs(log, outcomes, operation, settings);
}

/**
 * Outputs and the results file, on every run; with the settings (the inputs were read), the summary, annotations and
 * the tally too.
 */
async function writeOutputs(log: Log, outcomes: Outcomes, operation: Operation, settings?: Settings): Promise<void> {
  const resultsFile = await writeResults(log, outcomes, operation);
  for (const [name, value] of Object.entries(outputsFor(outcomes, operation, resultsFile))) {
    core.setOutput(name, log.redact(value));
  }
  if (settings === undefined) return;
  const context = {
    onNotFound: settings.onNotFound,
    baseUrl: settings.endpoint.url,
    operation,
    redact: log.redact,
  };
  const result = verdict(outcomes, context);
  try {
    if (process.env.GITHUB_STEP_SUMMARY) {
      const url = await runUrl();
      const markdown = summaryMarkdown(outcomes, {
        ...context,
        title: settings.operation,
        dlqName: DLQ_NAMES[settings.dlq],
        endpointSources: `URL from ${settings.endpoint.urlSource}; token from ${settings.endpoint.tokenSource}`,
        verdict: result,
        redact: log.redact,
        ...(resultsFile !== '' && { resultsFile }),
        ...(url !== undefined && { runUrl: url }),
      });
      await core.summary.addRaw(markdown).write();
    }
  } catch (error) {
    log.warning(`Could not write the step summary: ${(error as Error).message}`);
  }
  for (const note of outcomes.notes) log.info(note);
  for (const warning of result.warnings) log.warning(warning);
  for (const notice of result.notices) log.notice(notice);
  log.info(tally(outcomes, operation));
  if (result.error) core.setFailed(log.redact(result.error));
}

/** The per-id results as JSON Lines under RUNNER_TEMP, one file per step. Returns its path ('' when it failed). */
async function writeResults(log: Log, outcomes: Outcomes, operation: Operation): Promise<string> {
  const dir = process.env.RUNNER_TEMP || tmpdir();
  const path = join(dir, `upstash-dlq-results-${randomUUID()}.jsonl`);
  let file: FileHandle | undefined;
  try {
    file = await open(path, 'wx');
    // Written in blocks of about 1 MiB, so that 100,000 records take a few writes and little memory.
    let block = '';
    for (const record of resultRecords(outcomes, operation)) {
      block += log.redact(record);
      if (block.length >= 1024 * 1024) {
        await file.write(block);
        block = '';
      }
    }
    if (block !== '') await file.write(block);
    return path;
  } catch (error) {
    log.warning(`Could not write the results file ${path}: ${(error as Error).message}`);
    return '';
  } finally {
    await file?.close().catch(() => undefined);
  }
}

function describe(settled: Settled, operation: Operation): string {
  switch (settled.kind) {
    case 'done': {
      const detail =
        settled.newRun !== undefined ? ` as ${settled.newRun}` : settled.inferred ? ' (answer lost; entry gone)' : '';
      return `${operation.words.outcome}${detail}`;
    }
    case 'not-found':
      return 'not found';
    case 'failed':
      return `failed (${settled.cause}: ${settled.reason})`;
  }
}

function logSettings(log: Log, settings: Settings, operation: Operation, proxy: string | undefined): void {
  log.group('Settings');
  const { target, endpoint } = settings;
  log.info(`operation: ${settings.operation}${settings.dryRun ? ' (dry run: probing only)' : ''}`);
  log.info(`dlq: ${settings.dlq} (${DLQ_NAMES[settings.dlq]})`);
  if (target?.kind === 'ids') {
    log.info(`ids: ${target.ids.length} (after dropping duplicates); strategy: ${settings.strategy}`);
  }
  if (target?.kind === 'query') {
    if (target.filters.length === 0) log.info(`${Inputs.selectAll}: true (every entry)`);
    for (const filter of target.filters) log.info(`${filter.input}: ${filter.values.join(' or ')}`);
    log.info(`${Inputs.maxEntries}: ${target.cap || 'no cap'}`);
  }
  for (const [header, value] of Object.entries(settings.redriveHeaders)) log.info(`${header}: ${value}`);
  if (settings.deleteAfterRedrive)
    log.info(`${Inputs.deleteAfterRedrive}: true (each entry is deleted once its re-run is confirmed)`);
  log.info(`qstash-url: ${endpoint.url} (from ${endpoint.urlSource}); token from ${endpoint.tokenSource}`);
  log.info(proxy ? `proxy: ${proxy}` : 'proxy: none');
  log.info(`on-not-found: ${settings.onNotFound}; changes entries: ${operation.changes}`);
  log.info(
    `concurrency: ${settings.concurrency}; max-retries: ${settings.maxRetries}; request-timeout: ${settings.requestTimeoutMs / 1000} s`,
  );
  core.endGroup();
}

/**
 * The link to this workflow run, for the summary. @actions/github (and Octokit with it) is only needed for that,
 * so it is loaded apart; `preloadRunUrl` starts loading it while the first requests are in flight, so that its
 * parsing overlaps the network waits instead of adding to the step's time.
 */
let runUrlPromise: Promise<string | undefined> | undefined;

function preloadRunUrl(): void {
  if (!process.env.GITHUB_STEP_SUMMARY || !process.env.GITHUB_REPOSITORY || !process.env.GITHUB_RUN_ID) return;
  runUrlPromise ??= import('@actions/github').then(
    ({ context }) =>
      Number.isFinite(context.runId)
        ? `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`
        : undefined,
    () => undefined,
  );
}

async function runUrl(): Promise<string | undefined> {
  preloadRunUrl();
  return runUrlPromise;
}
