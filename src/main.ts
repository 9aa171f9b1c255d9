/**
 * run(): read settings -> select ids -> execute -> report. The only module that touches @actions/core.
 */
import { readFileSync } from 'node:fs';
import * as core from '@actions/core';
import { context } from '@actions/github';
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

/** Per-id lines in the log; past this, ids are only counted (the outputs and summary still have them). */
const LOGGED_IDS = 1000;

const runnerSource: SettingsSource = {
  input: (name) => core.getInput(name, { trimWhitespace: false }),
  env: (name) => process.env[name],
  readFile: (path) => readFileSync(path, 'utf8'),
};

export async function run(source: SettingsSource = runnerSource): Promise<void> {
  let redact = (text: string): string => text;
  const cancel = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    core.warning(`Received ${signal}: starting no new requests; reporting what was done so far.`);
    cancel.abort(new Error(`received ${signal}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // Mask first: nothing may print before the runner knows the secret.
    const token = readToken(source);
    if (token !== '') {
      for (const line of token.split(/\r?\n/u)) if (line.trim() !== '') core.setSecret(line.trim());
      redact = (text) => text.split(token).join('***');
    }

    let settings: Settings;
    try {
      settings = readSettings(source);
    } catch (error) {
      writeOutputs(emptyOutputs(), redact);
      throw error;
    }
    logSettings(settings);

    const { selection, dlq } = settings;
    if (selection.mode === 'none') {
      core.warning(
        `Nothing selected: no ids (${Inputs.DlqIds}, ${Inputs.DlqIdsFile}), no filter and no ${Inputs.DeleteAll}: true. No request was sent.`,
      );
      writeOutputs(emptyOutputs(settings.dryRun), redact);
      return;
    }

    const verb = settings.dryRun ? 'Probing' : 'Deleting';
    const title =
      selection.mode === 'ids'
        ? `${verb} ${selection.ids.length} id${selection.ids.length === 1 ? '' : 's'} in the ${DLQ_NAMES[dlq]}`
        : `${settings.dryRun ? 'Listing' : 'Listing and deleting'} ${selection.mode === 'all' ? 'every entry' : 'the matching entries'} of the ${DLQ_NAMES[dlq]}`;
    const outcomes = await core.group(title, () => execute(settings, cancel.signal, redact));
    const result = verdict(outcomes, settings.onNotFound, { baseUrl: settings.baseUrl });
    writeOutputs(outputsFor(outcomes), redact);
    await writeSummary(outcomes, settings, result, redact);
    for (const warning of result.warnings) core.warning(redact(warning));
    for (const notice of result.notices) core.notice(redact(notice));
    core.info(redact(tally(outcomes)));
    if (result.error) core.setFailed(redact(result.error));
  } catch (error) {
    core.setFailed(redact(error instanceof Error ? error.message : String(error)));
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function execute(settings: Settings, signal: AbortSignal, redact: (text: string) => string): Promise<Outcomes> {
  const { dlq, selection } = settings;
  const transport = new UndiciTransport({
    baseUrl: settings.baseUrl,
    token: settings.token,
    connections: settings.concurrency,
    timeoutMs: settings.requestTimeoutMs,
  });
  const limiter = new RateLimiter(systemClock);
  const debug = core.isDebug();
  const client = new DlqClient(transport, limiter, systemClock, {
    dlq,
    maxRetries: settings.maxRetries,
    maxInFlight: settings.concurrency,
    ...(debug && {
      onExchange: (exchange, result, attempt) =>
        core.debug(
          redact(
            `${exchange.method} ${exchange.path} attempt ${attempt}: ` +
              (result.kind === 'response' ? `HTTP ${result.status}` : `${result.reason} (${result.code})`),
          ),
        ),
    }),
  });
  let logged = 0;
  const onSettled = (id: string, result: EntryResult): void => {
    if (logged >= LOGGED_IDS) return;
    logged += 1;
    core.info(redact(`${describeResult(result)} ${showId(id, 200)}`));
    if (logged === LOGGED_IDS) core.info(`(further ids are not logged one by one; see the outputs and the summary)`);
  };
  const options = { dryRun: settings.dryRun, concurrency: settings.concurrency, signal, onSettled };
  try {
    if (selection.mode === 'ids') return await deleteByIds(selection.ids, client, options);
    let pages = 0;
    return await deleteBySelection(selection.mode === 'filter' ? selection.filters.query : [], client, {
      ...options,
      maxDeletes: settings.maxDeletes,
      filters: selection.mode === 'filter' ? selection.filters.applied : 'all',
      onListed: (matched) => {
        pages += 1;
        if (pages % 10 === 1 || debug) core.info(`listed page ${pages}: ${matched} matching entries so far`);
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

function logSettings(settings: Settings): void {
  core.startGroup('Settings');
  const { selection } = settings;
  core.info(`dlq: ${settings.dlq} (${DLQ_NAMES[settings.dlq]})`);
  if (selection.mode === 'ids') core.info(`ids: ${selection.ids.length} (after dropping duplicates)`);
  if (selection.mode === 'filter') {
    for (const filter of selection.filters.applied) core.info(`${filter.input}: ${filter.values.join(' or ')}`);
  }
  if (selection.mode === 'all') core.info(`${Inputs.DeleteAll}: true (every entry)`);
  if (selection.mode !== 'ids') core.info(`${Inputs.MaxDeletes}: ${settings.maxDeletes || 'no cap'}`);
  core.info(`qstash-url: ${settings.baseUrl}`);
  core.info(`dry-run: ${settings.dryRun}; on-not-found: ${settings.onNotFound}`);
  core.info(
    `concurrency: ${settings.concurrency}; max-retries: ${settings.maxRetries}; request-timeout: ${settings.requestTimeoutMs / 1000} s`,
  );
  core.endGroup();
}

function writeOutputs(outputs: Record<string, string>, redact: (text: string) => string): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, redact(value));
}

function runUrl(): string | undefined {
  const repository = process.env.GITHUB_REPOSITORY;
  if (!repository || !Number.isFinite(context.runId)) return undefined;
  return `${context.serverUrl}/${repository}/actions/runs/${context.runId}`;
}

async function writeSummary(
  outcomes: Outcomes,
  settings: Settings,
  result: Verdict,
  redact: (text: string) => string,
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const url = runUrl();
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
