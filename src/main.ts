/**
 * run(): mask the secrets, read the settings, connect, carry the operation out, report. The only module that touches
 * @actions/core.
 */
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { mkdtemp, open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Connection } from './connection.js';
import { Census, groupValues } from './census.js';
import { collectTokens } from './endpoint.js';
import { execute, type EngineOptions, type RecordSink } from './engine/index.js';
import { ExportWriter, sanitizeRecord } from './export.js';
import { entryInfo } from './qstash/listing.js';
import { exceededBy, lookAt, lookOutputs, type Look } from './look.js';
import { hasThresholds } from './thresholds.js';
import { readIdsFile } from './files.js';
import { showId } from './ids.js';
import { Inputs, INPUTS, type OutputName } from './inputs.js';
import { oneLine, secretPieces } from './log.js';
import { OPERATION_NAMES, operationFor, probeFor, type Operation, type OperationName } from './operations.js';
import { noOutcomes, nothingSent, type Outcomes, type Settled } from './outcomes.js';
import {
  outputsFor,
  refusedMarkdown,
  resultRecords,
  runAttemptWarning,
  summaryMarkdown,
  tally,
  verdict,
} from './report.js';
import { readSettings, type Settings, type SettingsSource } from './settings.js';
import { Prover, proofOutputs, type Proof } from './proof.js';
import type { SeenState } from './verify.js';
import { OperationProgress, VerifyProgress } from './progress.js';
import { systemClock } from './qstash/clock.js';
import { DLQ_NAMES, type DlqKind } from './qstash/paths.js';

/** Per-id lines in the log; past this, ids are only counted (the outputs, summary and results file have them). */
const LOGGED_IDS = 1000;

/** After SIGINT/SIGTERM, requests already in flight get this long to finish before they are abandoned. */
const CANCEL_GRACE_MS = 4000;

const runnerSource: SettingsSource = {
  input: (name) => core.getInput(name, { trimWhitespace: false }),
  env: (name) => process.env[name],
  readFile: readIdsFile,
};

export async function run(source: SettingsSource = runnerSource): Promise<void> {
  // Mask first: nothing may print before the runner knows every secret.
  const log = new Log();
  log.mask(collectTokens(source));

  let settings: Settings;
  try {
    settings = readSettings(source);
  } catch (error) {
    await refuse(log, requestedOperation(source), messageOf(error));
    return;
  }

  try {
    await carryOutAndReport(settings, log);
  } catch (error) {
    // The last line of defence (the engine settles every id itself, and report() catches what it can): whatever
    // failed, the step fails with a clean annotation.
    core.setFailed(log.redact(`internal error: ${messageOf(error)}`));
  }
}

/** Connect, carry the operation out, report. */
async function carryOutAndReport(settings: Settings, log: Log): Promise<void> {
  const operation = operationOf(settings);
  let connection: Connection;
  try {
    connection = connect(settings, process.env, {
      redact: log.redact,
      ...(core.isDebug() && { onExchange: (exchange, result, attempt) => log.exchange(exchange, result, attempt) }),
    });
  } catch (error) {
    // Settings were checked, so this should not happen; if it does, nothing was sent and every id says so.
    const ids = settings.target?.kind === 'ids' ? settings.target.ids : [];
    const why = `the connection could not be set up: ${messageOf(error)}`;
    await report(log, nothingSent(ids, why), operation, settings, undefined);
    return;
  }
  log.mask(connection.secrets);
  logSettings(log, settings, operation, connection.proxy);
  // Before any re-run is sent, so that whoever re-ran the job sees it while it can still be cancelled.
  const attemptWarning = runAttemptWarning(operation, process.env.GITHUB_RUN_ATTEMPT);
  if (attemptWarning !== undefined) log.warning(attemptWarning);

  // The export file exists before the first request: a run that cannot write it changes nothing.
  let exporter: ExportWriter | undefined;
  if (settings.exportKind !== undefined && settings.target !== undefined) {
    try {
      exporter = await ExportWriter.open(process.env.RUNNER_TEMP, log.redact);
    } catch (error) {
      await connection.close();
      const ids = settings.target.kind === 'ids' ? settings.target.ids : [];
      const why = `the export file could not be created: ${messageOf(error)}`;
      const outcomes = {
        ...nothingSent(ids, why),
        stopped: { kind: 'export-failed', reason: messageOf(error) },
      } as const;
      await report(log, outcomes, operation, settings, attemptWarning, { exportFile: '' });
      return;
    }
  }
  // By-id reports count what they read, entry by entry.
  const read = settings.operation === 'report' && settings.target?.kind === 'ids' ? new Census() : undefined;

  // While the step waits for new runs nothing that changes a DLQ entry is in flight: a cancellation then abandons
  // the logs requests at once, instead of giving them the grace re-runs get.
  const waits = new Waits();
  const prover = proverFor(settings, operation, connection, log, (now) => waits.set(now));
  // Signals are handled only once the inputs (and any ids file) were read: until then the default (exit) is right.
  const cancellation = listenForCancellation(log, connection, () => (waits.waiting ? 0 : CANCEL_GRACE_MS));
  let outcomes: Outcomes;
  let exportFile = '';
  const sentBefore = connection.client.requestsSent;
  const started = Date.now();
  try {
    outcomes = await carryOut(
      settings,
      operation,
      connection,
      cancellation,
      log,
      {
        ...seeing(settings, log, exporter, read),
        ...(prover !== undefined &&
          settings.proof?.canary !== undefined && { canary: { size: settings.proof.canary, check: prover.check } }),
      },
      waits,
    );
    if (prover !== undefined) {
      await proveTheRest(prover, outcomes, settings, cancellation.signal);
      // The tally counts the whole step: the re-runs, and every logs request and second of the waits.
      outcomes = {
        ...outcomes,
        requests: connection.client.requestsSent - sentBefore,
        elapsedMs: Date.now() - started,
      };
    }
  } finally {
    cancellation.dispose();
    await connection.close();
    if (exporter !== undefined) {
      try {
        await exporter.close();
        exportFile = exporter.path;
      } catch (error) {
        log.warning(`Could not finish the export file ${exporter.path}: ${messageOf(error)}`);
      }
    }
  }
  const look = lookAt(outcomes, {
    thresholds: settings.thresholds,
    onThreshold: settings.onThreshold,
    now: settings.now,
    report: settings.operation === 'report',
    ...(read !== undefined && { read }),
  });
  const proof = prover?.proof();
  await report(log, outcomes, operation, settings, attemptWarning, {
    look,
    exportFile,
    ...(proof !== undefined && { proof }),
  });
}

/** verify: the prover whose waits go through the client, with progress lines; undefined without verify. */
function proverFor(
  settings: Settings,
  operation: Operation,
  connection: Connection,
  log: Log,
  onWait: (waiting: boolean) => void,
): Prover | undefined {
  if (settings.proof === undefined || !operation.redrive || !operation.changes) return undefined;
  let progress: VerifyProgress | undefined;
  let last: { counts: Readonly<Record<SeenState, number>>; deadline: number } | undefined;
  let ticker: NodeJS.Timeout | undefined;
  return new Prover(
    settings.proof,
    // Aborting a wait (cancelled, or its time is over) abandons its logs request in flight too: nothing it waits
    // for changes an entry.
    (exchange, stop) => connection.client.send(exchange, { idempotent: true, stop, abandon: stop }),
    systemClock,
    {
      redact: log.redact,
      notBefore: settings.now,
      concurrency: settings.concurrency,
      onWait: (now) => {
        onWait(now);
        clearInterval(ticker);
        last = undefined;
        progress = now ? new VerifyProgress(systemClock, (line) => log.info(line)) : undefined;
        if (!now) return;
        log.info(`Waiting up to ${settings.proof!.raw} for the new runs to end (Upstash's logs, 50 runs per request).`);
        // Rounds come up to 30 s apart: between them a timer prints the last counts and the time left, every 10 s.
        ticker = setInterval(() => {
          if (last) progress?.update(last.counts, Math.max(0, last.deadline - Date.now()));
        }, 1000);
        ticker.unref();
      },
      onRound: (counts, leftMs) => {
        last = { counts, deadline: Date.now() + leftMs };
        progress?.update(counts, leftMs);
      },
    },
  );
}

/**
 * After the run: waits for the new runs not yet waited for (all of them, or the rest after a canary). A run that
 * stopped (a refused token, an unreachable server, a cancellation) is not waited for: its logs would not answer
 * either, and the states stay unknown.
 */
async function proveTheRest(
  prover: Prover,
  outcomes: Outcomes,
  settings: Settings,
  signal: AbortSignal,
): Promise<void> {
  if (outcomes.stopped !== undefined || signal.aborted) {
    prover.skip(`the run stopped (${outcomes.stopped?.kind ?? 'cancelled'}), so the logs were not asked`);
    return;
  }
  const what = settings.proof?.canary !== undefined ? 'rest' : 'all';
  await prover.watch(outcomes.done, outcomes.results, what, signal, outcomes.selection?.entries);
}

/**
 * The engine options that see entries: the export (each selected entry written before it is changed), a report's
 * groups and by-id census, and the threshold gate asked before anything changes.
 */
function seeing(
  settings: Settings,
  log: Log,
  exporter: ExportWriter | undefined,
  read: Census | undefined,
): Pick<EngineOptions, 'sink' | 'groupsOf' | 'gate' | 'readFirst'> {
  const { dlq, groupBy, thresholds, target } = settings;
  const bodies = settings.exportKind === 'entries-with-bodies';
  const clean = (record: Readonly<Record<string, unknown>>): Record<string, unknown> =>
    sanitizeRecord(dlq, record, { bodies, redact: log.redact });
  const sink: RecordSink | undefined = exporter && {
    write: (record) => exporter.write(clean(record)),
    drop: (ids) => exporter.drop(ids),
  };
  const report = settings.operation === 'report';
  const options: Pick<EngineOptions, 'sink' | 'groupsOf' | 'gate' | 'readFirst'> = {
    ...(sink && target?.kind === 'query' && { sink }),
    ...(report && {
      groupsOf: (record: Readonly<Record<string, unknown>>) => groupValues(dlq, groupBy, record, log.redact),
    }),
  };
  if (hasThresholds(thresholds) && target?.kind === 'query') {
    Object.assign(options, {
      gate: (selected: readonly { createdAt?: number }[]) => {
        const exceeded = exceededBy(selected, thresholds, settings.now);
        return exceeded.length > 0 && settings.onThreshold === 'fail'
          ? exceeded.map((e) => e.message).join('; ')
          : undefined;
      },
    });
  }
  if (target?.kind === 'ids' && (read !== undefined || exporter !== undefined)) {
    Object.assign(options, {
      readFirst: async (_id: string, record: Record<string, unknown>) => {
        read?.add(
          entryInfo(record as Record<string, unknown> & { dlqId: string }, log.redact),
          groupValues(dlq, groupBy, record, log.redact),
        );
        if (exporter !== undefined) await exporter.write(clean(record));
      },
    });
  }
  return options;
}

/** The operation the settings ask for: the real one, or its probe in a dry run. */
function operationOf(settings: Settings): Operation {
  const real = operationFor(settings.operation, settings.dlq, {
    headers: settings.redriveHeaders,
    deleteAfter: settings.deleteAfterRedrive,
  });
  return settings.dryRun ? probeFor(real) : real;
}

/**
 * The operation named by the inputs, when the settings were refused: so that even a refused run's outputs and
 * results file speak of what the user asked for. Falls back to a delete when the inputs name none that exists.
 */
function requestedOperation(source: SettingsSource): Operation {
  const name = source.input(Inputs.operation).trim() || INPUTS.operation.default;
  const dlq = (source.input(Inputs.dlq).trim() || INPUTS.dlq.default) as DlqKind;
  try {
    if (!(OPERATION_NAMES as readonly string[]).includes(name)) throw new Error('no such operation');
    const real = operationFor(name as OperationName, dlq);
    return /^true$/iu.test(source.input(Inputs.dryRun).trim()) ? probeFor(real) : real;
  } catch {
    return operationFor('delete', 'workflow');
  }
}

/** Whether the step is waiting for new runs (no change in flight); told when a wait ends. */
class Waits {
  waiting = false;
  private readonly ended: (() => void)[] = [];

  set(waiting: boolean): void {
    this.waiting = waiting;
    if (!waiting) for (const listener of this.ended) listener();
  }

  onEnd(listener: () => void): void {
    this.ended.push(listener);
  }
}

interface Cancellation {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * The runner sends SIGINT, then SIGTERM a few seconds later: the first one cancels (no new request starts; those in
 * flight get a grace period), later ones are ignored so that the outputs and the summary still get written.
 */
function listenForCancellation(log: Log, connection: Connection, graceMs: () => number): Cancellation {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    log.warning(`Received ${signal}: starting no new requests; reporting what was done so far.`);
    controller.abort(new Error(`received ${signal}`));
    connection.abandonInFlightAfter(graceMs());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

/** Carries the operation out on the target: one outcome per selected id. Sends nothing when nothing is selected. */
async function carryOut(
  settings: Settings,
  operation: Operation,
  connection: Connection,
  cancellation: Cancellation,
  log: Log,
  seen: Pick<EngineOptions, 'sink' | 'groupsOf' | 'gate' | 'readFirst' | 'canary'>,
  waits: Waits = new Waits(),
): Promise<Outcomes> {
  const { target } = settings;
  if (target === undefined) {
    log.warning(
      `Nothing selected: no ids (${Inputs.dlqIds}, ${Inputs.dlqIdsFile}), no filter and no ${Inputs.selectAll}: true. No request was sent.`,
    );
    return noOutcomes();
  }
  log.group(
    target.kind === 'ids'
      ? `${operation.words.doing} ${target.ids.length} id${target.ids.length === 1 ? '' : 's'} in the ${DLQ_NAMES[settings.dlq]}`
      : `Listing ${target.filters.length === 0 ? 'every entry' : 'the matching entries'} of the ${DLQ_NAMES[settings.dlq]}${operation.name === 'report' ? '' : `, then ${operation.words.doing.toLowerCase()}`}`,
  );
  // A report of a listing says what the DLQ holds in its summary, not one line per entry.
  const perIdLines = !(operation.name === 'report' && target.kind === 'query');
  const lineFor = perIdLines ? log.settledLogger(operation) : undefined;
  // Progress lines once the selection is known: at most one per 10 s (a timer prints through a stall), none
  // during a canary's wait, which prints its own.
  let progress: OperationProgress | undefined;
  let total = 0;
  let settled = 0;
  // After a canary's wait the rest start afresh: their rate and time left are their own.
  let base = 0;
  const restart = (): void => {
    base = settled;
    progress = new OperationProgress(operation.words.past, total - base, systemClock, (line) => log.info(line));
  };
  waits.onEnd(restart);
  const timer = setInterval(() => {
    if (!waits.waiting) progress?.tick();
  }, 1000);
  timer.unref();
  try {
    return await execute(target, operation, connection.client, {
      ...seen,
      concurrency: settings.concurrency,
      strategy: settings.strategy,
      signal: cancellation.signal,
      onSelected: (count) => {
        total = count;
        restart();
      },
      onSettled: (id, result) => {
        lineFor?.(id, result);
        settled += 1;
        if (!waits.waiting) progress?.update(settled - base);
      },
      onListed: (pages, entries) => {
        if (pages % 10 === 1 || core.isDebug()) log.info(`listed page ${pages}: ${entries} entries so far`);
      },
    });
  } finally {
    clearInterval(timer);
    core.endGroup();
  }
}

/** Settings refused: the outputs (all empty), a summary and an error naming the problem. Nothing was sent. */
async function refuse(log: Log, operation: Operation, message: string): Promise<void> {
  const problem = log.redact(message);
  await writeOutputs(log, noOutcomes(), operation);
  await writeSummary(log, () => refusedMarkdown(problem));
  core.setFailed(problem);
}

/** Outputs, the results file, the summary, annotations and the tally; the step fails when the verdict says so. */
async function report(
  log: Log,
  outcomes: Outcomes,
  operation: Operation,
  settings: Settings,
  attemptWarning: string | undefined,
  seen: { readonly look?: Look; readonly exportFile?: string; readonly proof?: Proof } = {},
): Promise<void> {
  const { look, exportFile = '', proof } = seen;
  const keep = settings.target?.kind === 'query' ? settings.target.keep : undefined;
  const resultsFile = await writeOutputs(
    log,
    outcomes,
    operation,
    {
      ...lookOutputs(look, log.redact),
      'kept-count': outcomes.selection?.kept !== undefined ? String(outcomes.selection.kept.size) : '',
      'export-file': exportFile,
      ...(proof !== undefined && proofOutputs(proof, outcomes)),
    },
    proof,
  );
  const context = {
    onNotFound: settings.onNotFound,
    baseUrl: settings.endpoint.url,
    operation,
    redact: log.redact,
    ...(look !== undefined && { look }),
    ...(proof !== undefined && { proof }),
  };
  const result = verdict(outcomes, context);
  await writeSummary(log, async () =>
    summaryMarkdown(outcomes, {
      ...context,
      title: settings.operation,
      dlqName: DLQ_NAMES[settings.dlq],
      endpointSources: `URL from ${settings.endpoint.urlSource}; token from ${settings.endpoint.tokenSource}`,
      verdict: result,
      ...(resultsFile !== '' && { resultsFile }),
      ...(attemptWarning !== undefined && { runAttemptWarning: attemptWarning }),
      ...(operation.name === 'report' && { groupBy: settings.groupBy }),
      ...(keep !== undefined && { keep }),
      ...(exportFile !== '' && { exportFile }),
      ...(await runLink()),
    }),
  );
  for (const note of outcomes.notes) log.info(note);
  for (const warning of result.warnings) log.warning(warning);
  for (const notice of result.notices) log.notice(notice);
  log.info(tally(outcomes, operation));
  if (result.error) core.setFailed(log.redact(result.error));
}

/** Every output, and the results file it names. Returns the file's path ('' when it could not be written). */
async function writeOutputs(
  log: Log,
  outcomes: Outcomes,
  operation: Operation,
  seen: Partial<Record<OutputName, string>> = {},
  proof?: Proof,
): Promise<string> {
  const resultsFile = await writeResults(log, outcomes, operation, proof);
  for (const [name, value] of Object.entries(outputsFor(outcomes, operation, resultsFile, seen))) {
    core.setOutput(name, log.redact(value));
  }
  return resultsFile;
}

async function writeSummary(log: Log, markdown: () => string | Promise<string>): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(await markdown()).write();
  } catch (error) {
    log.warning(`Could not write the step summary: ${messageOf(error)}`);
  }
}

/**
 * The per-id results as JSON Lines under RUNNER_TEMP, one file per step. Returns its path ('' when it failed). The
 * file is readable by its owner only (0600): it names every id and failure reason, and without RUNNER_TEMP it lands
 * in the shared temporary directory, inside a private (0700) directory of its own.
 */
async function writeResults(log: Log, outcomes: Outcomes, operation: Operation, proof?: Proof): Promise<string> {
  let path = '';
  let file: FileHandle | undefined;
  try {
    const dir = process.env.RUNNER_TEMP || (await mkdtemp(join(tmpdir(), 'upstash-dlq-')));
    path = join(dir, `upstash-dlq-results-${randomUUID()}.jsonl`);
    file = await open(path, 'wx', 0o600);
    // Written in blocks of about 1 MiB, so that 100,000 records take a few writes and little memory.
    let block = '';
    for (const record of resultRecords(outcomes, operation, proof)) {
      block += log.redact(record);
      if (block.length >= 1024 * 1024) {
        await file.write(block);
        block = '';
      }
    }
    if (block !== '') await file.write(block);
    return path;
  } catch (error) {
    log.warning(`Could not write the results file${path === '' ? '' : ` ${path}`}: ${messageOf(error)}`);
    return '';
  } finally {
    await file?.close().catch(() => undefined);
  }
}

/**
 * The link to this workflow run, for the summary, from @actions/github's context. Loaded here, where it is used:
 * only a run that writes a summary on a runner pays for loading it.
 */
async function runLink(): Promise<{ runUrl?: string }> {
  if (!process.env.GITHUB_REPOSITORY || !process.env.GITHUB_RUN_ID) return {};
  try {
    const { context } = await import('@actions/github');
    if (!Number.isFinite(context.runId) || context.runId <= 0) return {};
    return { runUrl: `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}` };
  } catch {
    return {};
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
  if (target?.kind === 'query' && target.keep !== undefined) {
    log.info(
      `${Inputs.keepNewest}: ${target.keep.newest}${target.keep.per ? ` (${Inputs.keepPer}: ${target.keep.per})` : ''}`,
    );
  }
  if (settings.operation === 'report') log.info(`${Inputs.groupBy}: ${settings.groupBy}`);
  const { countAbove, olderThanRaw } = settings.thresholds;
  if (countAbove !== undefined || olderThanRaw !== undefined) {
    log.info(
      `thresholds: ${[countAbove !== undefined && `${Inputs.failIfCountAbove} ${countAbove}`, olderThanRaw !== undefined && `${Inputs.failIfOlderThan} ${olderThanRaw}`].filter(Boolean).join(', ')}; ${Inputs.onThreshold}: ${settings.onThreshold}`,
    );
  }
  if (settings.exportKind !== undefined) log.info(`${Inputs.export}: ${settings.exportKind}`);
  if (settings.proof !== undefined) {
    const { raw, onReFailed, canary } = settings.proof;
    log.info(
      `${Inputs.verify}: ${raw}; ${Inputs.onReFailed}: ${onReFailed}${canary !== undefined ? `; ${Inputs.canary}: ${canary} (the rest only after every canary succeeded)` : ''}`,
    );
  }
  log.info(`on-not-found: ${settings.onNotFound}; changes entries: ${operation.changes}`);
  log.info(
    `concurrency: ${settings.concurrency}; max-retries: ${settings.maxRetries}; request-timeout: ${settings.requestTimeoutMs / 1000} s`,
  );
  core.endGroup();
  for (const warning of endpoint.warnings) log.warning(warning);
}

/** Log lines that cannot break a line (the runner ends a line at CR as well as LF) and hold no secret. */
class Log {
  private secrets: string[] = [];

  /**
   * Masks secrets with the runner and removes them from everything this log prints. A secret of several lines is
   * masked line by line too, as the runner masks secrets; pieces shorter than 8 characters are not (masking "0"
   * would mangle every count).
   */
  mask(values: readonly string[]): void {
    for (const secret of secretPieces(values)) {
      if (this.secrets.includes(secret)) continue;
      core.setSecret(secret);
      this.secrets.push(secret);
    }
    // Longest first, so that a secret holding another is removed whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  readonly redact = (text: string): string => this.secrets.reduce((out, secret) => out.split(secret).join('***'), text);

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

  exchange(
    exchange: { method: string; path: string },
    result: { kind: 'response'; status: number } | { kind: 'network'; reason: string; code: string },
    attempt: number,
  ): void {
    this.debug(
      `${exchange.method} ${exchange.path} attempt ${attempt}: ` +
        (result.kind === 'response' ? `HTTP ${result.status}` : `${result.reason} (${result.code})`),
    );
  }

  /** One line per settled id, for the first LOGGED_IDS ids. */
  settledLogger(operation: Operation): (id: string, settled: Settled) => void {
    let logged = 0;
    return (id, settled) => {
      if (logged >= LOGGED_IDS) return;
      logged += 1;
      this.info(`${describe(settled, operation)} ${showId(this.redact(id), 200)}`);
      if (logged === LOGGED_IDS)
        this.info('(further ids are not logged one by one; see the outputs and the results file)');
    };
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
