/**
 * run(): read settings -> select ids -> execute -> report. The only module that touches @actions/core.
 *
 * @actions/core is loaded while the first request is in flight (see log.ts): inputs are read from the environment
 * exactly as core.getInput reads them, and log lines wait in a DeferredLog until the toolkit is there.
 */
import { readFileSync } from 'node:fs';
import { deleteByIds, deleteBySelection, type Outcomes } from './cleanup.js';
import { Inputs } from './inputs.js';
import { emptyOutputs, outputsFor, summaryMarkdown, tally, verdict, type Verdict } from './report.js';
import { readSettings, readToken, type Settings, type SettingsSource } from './settings.js';
import { DlqClient, type EntryResult } from './qstash/client.js';
import { systemClock } from './qstash/clock.js';
import { DLQ_NAMES } from './qstash/paths.js';
import { RateLimiter } from './qstash/rate-limit.js';
import { UndiciTransport } from './qstash/transport.js';
import { showId } from './ids.js';
import { DeferredLog } from './log.js';

type Toolkit = typeof import('@actions/core');

/** Per-id lines in the log; past this, ids are only counted (the outputs and summary still have them). */
const LOGGED_IDS = 1000;

/** After SIGINT/SIGTERM, requests already in flight get this long to finish before they are abandoned. */
const CANCEL_GRACE_MS = 4000;

const runnerSource: SettingsSource = {
  // What core.getInput(name, { trimWhitespace: false }) does, without loading the toolkit first.
  input: (name) => process.env[`INPUT_${name.replace(/ /gu, '_').toUpperCase()}`] ?? '',
  env: (name) => process.env[name],
  readFile: (path) => readFileSync(path, 'utf8'),
};

export async function run(source: SettingsSource = runnerSource): Promise<void> {
  let redact = (text: string): string => text;
  const log = new DeferredLog();
  let toolkit: Toolkit | undefined;
  const core = async (): Promise<Toolkit> => {
    toolkit ??= await import('@actions/core');
    log.attach(toolkit);
    return toolkit;
  };
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

  try {
    // Mask first: nothing may print before the runner knows the secret.
    const token = readToken(source);
    if (token !== '') {
      for (const line of token.split(/\r?\n/u)) if (line.trim() !== '') log.setSecret(line.trim());
      redact = (text) => text.split(token).join('***');
    }

    let settings: Settings;
    try {
      settings = readSettings(source);
    } catch (error) {
      writeOutputs(await core(), emptyOutputs(), redact);
      throw error;
    }
    logSettings(log, settings);

    const { selection, dlq } = settings;
    if (selection.mode === 'none') {
      log.warning(
        `Nothing selected: no ids (${Inputs.DlqIds}, ${Inputs.DlqIdsFile}), no filter and no ${Inputs.DeleteAll}: true. No request was sent.`,
      );
      writeOutputs(await core(), emptyOutputs(settings.dryRun), redact);
      return;
    }

    const verb = settings.dryRun ? 'Probing' : 'Deleting';
    log.startGroup(
      selection.mode === 'ids'
        ? `${verb} ${selection.ids.length} id${selection.ids.length === 1 ? '' : 's'} in the ${DLQ_NAMES[dlq]}`
        : `${settings.dryRun ? 'Listing' : 'Listing and deleting'} ${selection.mode === 'all' ? 'every entry' : 'the matching entries'} of the ${DLQ_NAMES[dlq]}`,
    );
    let firstAnswer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (firstAnswer = resolve));
    const work = execute(settings, cancel.signal, redact, log, firstAnswer);
    // The toolkit loads once the first request has been answered, the work ended, or 250 ms passed (so that a slow
    // first answer does not hold the log back), whichever comes first.
    let timer: NodeJS.Timeout | undefined;
    const shortly = new Promise<void>((resolve) => (timer = setTimeout(resolve, 250)));
    await Promise.race([answered, shortly, work.catch(() => undefined)]);
    clearTimeout(timer);
    const actions = await core();
    const outcomes = await work;
    log.endGroup();

    const result = verdict(outcomes, settings.onNotFound, { baseUrl: settings.baseUrl });
    writeOutputs(actions, outputsFor(outcomes), redact);
    await writeSummary(actions, outcomes, settings, result, redact);
    for (const warning of result.warnings) log.warning(redact(warning));
    for (const notice of result.notices) log.notice(redact(notice));
    log.info(redact(tally(outcomes)));
    if (result.error) actions.setFailed(redact(result.error));
  } catch (error) {
    (await core()).setFailed(redact(error instanceof Error ? error.message : String(error)));
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function execute(
  settings: Settings,
  signal: AbortSignal,
  redact: (text: string) => string,
  log: DeferredLog,
  onFirstAnswer: () => void,
): Promise<Outcomes> {
  const { dlq, selection } = settings;
  const transport = new UndiciTransport({
    baseUrl: settings.baseUrl,
    token: settings.token,
    connections: settings.concurrency,
    timeoutMs: settings.requestTimeoutMs,
  });
  const limiter = new RateLimiter(systemClock);
  // What core.isDebug() reads: step debug logging is on.
  const debug = process.env.RUNNER_DEBUG === '1';
  const client = new DlqClient(transport, limiter, systemClock, {
    dlq,
    maxRetries: settings.maxRetries,
    maxInFlight: settings.concurrency,
    origin: new URL(settings.baseUrl).host,
    onExchange: (exchange, result, attempt) => {
      onFirstAnswer();
      if (!debug) return;
      log.debug(
        redact(
          `${exchange.method} ${exchange.path} attempt ${attempt}: ` +
            (result.kind === 'response' ? `HTTP ${result.status}` : `${result.reason} (${result.code})`),
        ),
      );
    },
  });
  let logged = 0;
  const onSettled = (id: string, result: EntryResult): void => {
    if (logged >= LOGGED_IDS) return;
    logged += 1;
    log.info(redact(`${describeResult(result)} ${showId(id, 200)}`));
    if (logged === LOGGED_IDS) log.info(`(further ids are not logged one by one; see the outputs and the summary)`);
  };
  const options = { dryRun: settings.dryRun, concurrency: settings.concurrency, signal, onSettled };
  const abandon = (): void => {
    setTimeout(() => client.abortInFlight(new Error('cancelled')), CANCEL_GRACE_MS).unref();
  };
  if (signal.aborted) abandon();
  else signal.addEventListener('abort', abandon, { once: true });
  try {
    if (selection.mode === 'ids') {
      return await deleteByIds(selection.ids, client, { ...options, strategy: settings.strategy });
    }
    let pages = 0;
    return await deleteBySelection(selection.mode === 'filter' ? selection.filters.query : [], client, {
      ...options,
      maxDeletes: settings.maxDeletes,
      filters: selection.mode === 'filter' ? selection.filters.applied : 'all',
      onListed: (matched) => {
        pages += 1;
        if (pages % 10 === 1 || debug) log.info(`listed page ${pages}: ${matched} matching entries so far`);
      },
    });
  } finally {
    await transport.close();
  }
}

function describeResult(result: EntryResult): string {
  switch (result.outcome) {
    case 'removed':
      return result.afterLostResponse ? 'removed (lost-response rule)' : 'removed';
    case 'exists':
      return 'would remove';
    case 'not-found':
      return 'not found';
    case 'failed':
      return `failed (${result.reason})`;
  }
}

function logSettings(log: DeferredLog, settings: Settings): void {
  log.startGroup('Settings');
  const { selection } = settings;
  log.info(`dlq: ${settings.dlq} (${DLQ_NAMES[settings.dlq]})`);
  if (selection.mode === 'ids') {
    log.info(`ids: ${selection.ids.length} (after dropping duplicates); strategy: ${settings.strategy}`);
  }
  if (selection.mode === 'filter') {
    for (const filter of selection.filters.applied) log.info(`${filter.input}: ${filter.values.join(' or ')}`);
  }
  if (selection.mode === 'all') log.info(`${Inputs.DeleteAll}: true (every entry)`);
  if (selection.mode !== 'ids') log.info(`${Inputs.MaxDeletes}: ${settings.maxDeletes || 'no cap'}`);
  log.info(`qstash-url: ${settings.baseUrl}`);
  log.info(`dry-run: ${settings.dryRun}; on-not-found: ${settings.onNotFound}`);
  log.info(
    `concurrency: ${settings.concurrency}; max-retries: ${settings.maxRetries}; request-timeout: ${settings.requestTimeoutMs / 1000} s`,
  );
  log.endGroup();
}

function writeOutputs(core: Toolkit, outputs: Record<string, string>, redact: (text: string) => string): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, redact(value));
}

/** Link to this workflow run. @actions/github (and Octokit with it) is loaded only here, after the requests. */
async function runUrl(): Promise<string | undefined> {
  const repository = process.env.GITHUB_REPOSITORY;
  if (!repository || !process.env.GITHUB_RUN_ID) return undefined;
  const { context } = await import('@actions/github');
  if (!Number.isFinite(context.runId)) return undefined;
  return `${context.serverUrl}/${repository}/actions/runs/${context.runId}`;
}

async function writeSummary(
  core: Toolkit,
  outcomes: Outcomes,
  settings: Settings,
  result: Verdict,
  redact: (text: string) => string,
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const url = await runUrl();
  const markdown = summaryMarkdown(outcomes, {
    dlqName: DLQ_NAMES[settings.dlq],
    baseUrl: settings.baseUrl,
    onNotFound: settings.onNotFound,
    verdict: result,
    ...(url !== undefined && { runUrl: url }),
  });
  try {
    await core.summary.addRaw(redact(markdown)).write();
  } catch (error) {
    core.warning(`Could not write the step summary: ${redact((error as Error).message)}`);
  }
}
