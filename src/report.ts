/**
 * Outcomes -> outputs, the verdict (pass, warn, fail), the step summary, the log tally and the results-file
 * records. Decides on kinds only, never on reason text. Pure: main writes them.
 */
import { Inputs, OUTPUTS, type OnNotFound, type OutputName } from './inputs.js';
import { showId } from './ids.js';
import type { Operation } from './operations.js';
import { STOP_CAUSES, type FailedId, type Outcomes, type Settled } from './outcomes.js';
import { censusMarkdown, formatAge } from './census-summary.js';
import { thresholdLines, type Look } from './look.js';
import { escapeCell, plural, safeDate, shortCell } from './text.js';
import { proofMarkdown, proofRecord, proofState, proofVerdict, type Proof } from './proof.js';

/** A JSON object whose keys are ids: built so that an id such as `__proto__` is just a key. */
function idObject(entries: Iterable<readonly [string, string]>): string {
  return JSON.stringify(Object.fromEntries(entries));
}

export function outputsFor(
  outcomes: Outcomes,
  operation: Operation,
  resultsFile = '',
  seen: Partial<Record<OutputName, string>> = {},
): Record<OutputName, string> {
  const outputs = Object.fromEntries(OUTPUTS.map((name) => [name, ''])) as Record<OutputName, string>;
  const lists: Record<'removed' | 'redriven' | 'would-remove' | 'would-redrive', readonly string[]> = {
    removed: [],
    redriven: [],
    'would-remove': [],
    'would-redrive': [],
  };
  // A report's found entries are counted (entries-count), not listed: a whole DLQ does not fit in an output.
  if (operation.words.output !== 'found') lists[operation.words.output] = outcomes.done;
  for (const [name, ids] of Object.entries(lists)) {
    outputs[name as OutputName] = JSON.stringify(ids);
    outputs[`${name}-count` as OutputName] = String(ids.length);
  }
  outputs['new-runs'] = idObject(outcomes.newRuns);
  outputs['not-found'] = JSON.stringify(outcomes.notFound);
  outputs['not-found-count'] = String(outcomes.notFound.length);
  outputs.failed = JSON.stringify(outcomes.failed.map((entry) => entry.id));
  outputs['failed-count'] = String(outcomes.failed.length);
  outputs['failed-causes'] = idObject(outcomes.failed.map((entry) => [entry.id, entry.cause] as const));
  outputs['results-file'] = resultsFile;
  outputs['threshold-exceeded'] = 'false';
  for (const [name, value] of Object.entries(seen)) if (value !== undefined) outputs[name as OutputName] = value;
  return outputs;
}

export interface Verdict {
  /** When set, the step fails with this message. */
  readonly error?: string;
  /** Warning annotations (not-found under `warn`, unattributed bulk deletions). */
  readonly warnings: readonly string[];
  /** Notice annotations (a filter that matched nothing). */
  readonly notices: readonly string[];
}

export interface VerdictContext {
  readonly onNotFound: OnNotFound;
  readonly baseUrl: string;
  readonly operation: Operation;
  /** Removes secrets from raw text; applied before any id is shortened for a message. */
  readonly redact?: (text: string) => string;
  /** What the run saw: the thresholds it exceeds. */
  readonly look?: Look;
  /** verify: what the new runs came to. */
  readonly proof?: Proof;
}

const LISTED_IDS = 10;

function listShortIds(ids: readonly string[], max = LISTED_IDS): string {
  const shown = ids.slice(0, max).map((id) => showId(id, 60));
  return ids.length > max ? `${shown.join(', ')} and ${ids.length - max} more` : shown.join(', ');
}

export function verdict(outcomes: Outcomes, context: VerdictContext): Verdict {
  const clean = context.redact ?? ((text: string) => text);
  const listIds = (ids: readonly string[]): string => listShortIds(ids.map(clean));
  const errors: string[] = [];
  const { operation } = context;
  const verb = operation.changes || operation.name === 'report' ? operation.words.verb : 'probe';
  const stopped = outcomes.stopped;
  switch (stopped?.kind) {
    case 'token-refused':
      errors.push(
        `QStash refused the token (${stopped.reason}) at ${context.baseUrl}; stopped sending. ` +
          `Check the secret passed as ${Inputs.qstashToken}, and that the token belongs to this region: a token works only ` +
          `against its own region's URL (EU: https://qstash.upstash.io, US: https://qstash-us-east-1.upstash.io).`,
      );
      break;
    case 'proxy-refused':
      errors.push(
        `The proxy refused the connection to ${context.baseUrl} (${stopped.reason}); stopped sending. ` +
          `Check https_proxy and its credentials, or add the host to no_proxy.`,
      );
      break;
    case 'rate-limited':
      errors.push(
        `QStash kept rate limiting: ${stopped.reason}. Ids not settled before are listed as failed. ` +
          `Lower concurrency, or run when the token is less busy.`,
      );
      break;
    case 'unreachable':
      errors.push(
        `Could not reach QStash: ${stopped.reason}. Stopped sending; ids not settled before are listed as failed. ` +
          `Check ${Inputs.qstashUrl}, the proxy settings and the runner's network.`,
      );
      break;
    case 'listing-failed':
      errors.push(
        `Listing the DLQ failed: ${stopped.reason}. Nothing was ${operation.changes ? operation.words.participle : 'changed'}.`,
      );
      break;
    case 'cap-exceeded': {
      const matched = outcomes.selection?.matched ?? 0;
      const capInput = outcomes.selection?.capInput ?? Inputs.maxEntries;
      errors.push(
        `${matched}${outcomes.selection?.atLeast ? ' or more' : ''} entries match, more than ${capInput} (${outcomes.selection?.cap}). ` +
          `${operation.changes ? `Nothing was ${operation.words.participle}.` : `A real run would ${operation.words.verb} nothing and fail.`} ` +
          `Narrow the filters, or raise ${capInput} to at least ${matched} (0 removes the cap) if you mean all of them.`,
      );
      break;
    }
    case 'threshold-exceeded':
      // Said below, with every threshold exceeded.
      break;
    case 'export-failed':
      errors.push(
        `The export could not be written (${stopped.reason}). Nothing was ${operation.changes ? operation.words.participle : 'changed'}.`,
      );
      break;
    case 'cancelled':
      errors.push(`The run was cancelled (${stopped.reason}); ids not yet settled are listed as failed.`);
      break;
    case 'internal':
      errors.push(
        `The action stopped on an unexpected error (${stopped.reason}); ids not yet settled are listed as failed.`,
      );
      break;
    case undefined:
      break;
  }

  // Failures the stop explains are covered by its message, those a canary held back by the canary's; every other
  // failure is named.
  const held = context.proof?.canary?.held !== undefined;
  const own = outcomes.failed.filter(
    (entry) => (stopped === undefined || !STOP_CAUSES.has(entry.cause)) && !(held && entry.cause === 'canary-failed'),
  );
  const unexplained = own.length > 0 ? own : errors.length === 0 && !held ? outcomes.failed : [];
  if (unexplained.length > 0) {
    const first = unexplained[0]!;
    errors.push(
      `${plural(outcomes.failed.length, 'id was', 'ids were')} not ${operation.words.participle}: ` +
        `${listIds(unexplained.map((entry) => entry.id))}. First reason: ${clean(first.reason).replace(/\.$/u, '')}.`,
    );
  }
  if (operation.redrive) {
    const mayHave = outcomes.failed.filter((entry) => entry.mayHaveActed);
    if (mayHave.length > 0) {
      errors.push(
        `${plural(mayHave.length, 'failed id', 'failed ids')} may have been ${operation.words.outcome} without the answer arriving: ` +
          `${listIds(mayHave.map((entry) => entry.id))}. Never ${verb} or delete these blindly; failed-causes says which.`,
      );
    }
  }
  const missing = outcomes.notFound.length;
  const missingText =
    missing === 0
      ? ''
      : `${plural(missing, 'id was', 'ids were')} not found in the DLQ (already deleted, expired, or never there): ${listIds(outcomes.notFound)}.`;
  if (missing > 0 && context.onNotFound === 'fail') errors.push(`${missingText} ${Inputs.onNotFound} is 'fail'.`);

  const warnings: string[] = [];
  const exceeded = context.look?.exceeded ?? [];
  if (exceeded.length > 0) {
    const text = `Threshold exceeded: ${exceeded.map((e) => e.message).join('; ')}.`;
    if (context.look?.onThreshold === 'warn') {
      warnings.push(`${text} (${Inputs.onThreshold}: warn, so the step goes on.)`);
    } else {
      const changed = operation.changes
        ? ` Nothing was ${operation.words.participle}.`
        : operation.name === 'probe'
          ? ' A real run would change nothing and fail.'
          : '';
      errors.push(`${text}${changed} (${Inputs.onThreshold}: fail; warn passes with a warning instead.)`);
    }
  }
  if (missing > 0 && context.onNotFound === 'warn') warnings.push(missingText);
  if (outcomes.unattributed > 0) {
    warnings.push(
      `Bulk calls deleted ${outcomes.unattributed} entries that cannot be pinned to ids (entries vanished between listing and deletion, or a listing cursor skipped entries while deletions ran), so those calls' ids are listed as not-found (all of them are gone from the DLQ).`,
    );
  }
  if (outcomes.dateOutliers > 0) {
    warnings.push(
      `The listing returned ${plural(outcomes.dateOutliers, 'entry', 'entries')} created outside from-date / to-date / older-than (or without a createdAt); ` +
        `they were left out (not acted on). If that is unexpected, Upstash may filter dates by another timestamp: select those entries by id.`,
    );
  }
  if (outcomes.notDeletedAfter.length > 0) {
    warnings.push(
      `${plural(outcomes.notDeletedAfter.length, 'entry was', 'entries were')} re-run but could not be deleted afterwards: ` +
        `${listIds(outcomes.notDeletedAfter.map((entry) => entry.id))} (first reason: ${clean(outcomes.notDeletedAfter[0]!.reason)}). ` +
        `They stay in the DLQ: running this job again would re-run them again.`,
    );
  }
  const notices: string[] = [];
  if (context.proof !== undefined) {
    const proved = proofVerdict(context.proof, outcomes, operation, clean);
    errors.push(...proved.errors);
    warnings.push(...proved.warnings);
    notices.push(...proved.notices);
  }
  if (outcomes.selection !== undefined && outcomes.selection.matched === 0 && errors.length === 0) {
    notices.push(
      outcomes.selection.filters.length === 0
        ? `The DLQ is empty${operation.name === 'report' ? '' : `: nothing to ${verb}`}.`
        : `No DLQ entry matched the filters${operation.name === 'report' ? '' : `: nothing to ${verb}`}.`,
    );
  }
  return { ...(errors.length > 0 && { error: errors.join(' ') }), warnings, notices };
}

/**
 * The warning of a redrive on a job re-run (`GITHUB_RUN_ATTEMPT` above 1) without delete-after-redrive: entries an
 * earlier attempt re-ran may still be in the DLQ (whether re-run entries leave it is not documented), and this step
 * re-runs them again. Undefined for deletes, dry runs (they change nothing), delete-after-redrive and first attempts.
 */
export function runAttemptWarning(operation: Operation, runAttempt: string | undefined): string | undefined {
  const attempt = /^\d{1,9}$/u.test(runAttempt?.trim() ?? '') ? Number(runAttempt) : 1;
  if (attempt <= 1 || !operation.redrive || !operation.changes || operation.cleanUp !== undefined) return undefined;
  return (
    `This is attempt ${attempt} of the workflow run (GITHUB_RUN_ATTEMPT=${attempt}) and ${Inputs.deleteAfterRedrive} is off: ` +
    `entries an earlier attempt already re-ran may still be in the DLQ, and this step will ${operation.words.verb} them again. ` +
    `Check the earlier attempt's redriven and new-runs outputs first; set ${Inputs.deleteAfterRedrive}: true to make a job re-run safe.`
  );
}

export function tally(outcomes: Outcomes, operation: Operation): string {
  const seconds = (outcomes.elapsedMs / 1000).toFixed(1);
  const total = outcomes.done.length + outcomes.notFound.length + outcomes.failed.length;
  return (
    `${operation.words.past} ${outcomes.done.length}, not found ${outcomes.notFound.length}, ` +
    `failed ${outcomes.failed.length} (${plural(total, 'id')}, ${plural(outcomes.requests, 'request')}, ${seconds} s).`
  );
}

/** How an id ended, in one word a later step can match: the name of the output list it is in. */
function outcomeName(settled: Settled, operation: Operation): string {
  if (settled.kind === 'done') return operation.words.output;
  return settled.kind;
}

/** One JSON Lines record per selected id, in selection order, for the results file. */
export function* resultRecords(outcomes: Outcomes, operation: Operation, proof?: Proof): Generator<string> {
  for (const id of outcomes.ids) {
    const settled = outcomes.results.get(id);
    if (settled === undefined) continue;
    const record: Record<string, unknown> = { id, outcome: outcomeName(settled, operation) };
    if (settled.kind === 'done') {
      if (settled.newRun !== undefined) record.newRun = settled.newRun;
      if (settled.inferred) record.inferred = true;
      if (settled.deletedAfter) record.deletedAfter = true;
      if (settled.deleteAfterFailed !== undefined) record.deleteAfterFailed = settled.deleteAfterFailed;
      if (settled.newRun !== undefined) Object.assign(record, proofRecord(proof, id));
    }
    if (settled.kind === 'failed') {
      record.cause = settled.cause;
      record.reason = settled.reason;
      if (settled.mayHaveActed) record.mayHaveActed = true;
    }
    yield `${JSON.stringify(record)}\n`;
  }
}

export interface SummaryContext extends VerdictContext {
  /** What ran, in the heading: "delete", "resume". */
  readonly title: string;
  readonly dlqName: string;
  /** Where the URL and token came from, for the summary. */
  readonly endpointSources?: string;
  /** Link to the workflow run, when the runner's context has one. */
  readonly runUrl?: string;
  readonly verdict: Verdict;
  /** Removes secrets from raw text; applied before any escaping or truncation. */
  readonly redact: (text: string) => string;
  readonly resultsFile?: string;
  /** A redrive on a job re-run without delete-after-redrive: see runAttemptWarning. */
  readonly runAttemptWarning?: string;
  /** report: the group-by field. */
  readonly groupBy?: string;
  /** keep-newest: N and the keep-per field. */
  readonly keep?: { readonly newest: number; readonly per?: string };
  /** The export's path, when one was written. */
  readonly exportFile?: string;
}

/** Rows of the id table; the rest are counted, not shown, so the summary stays far under its 1 MiB limit. */
export const SUMMARY_MAX_ROWS = 1000;
const SUMMARY_MAX_BYTES = 256 * 1024;

/** The summary of a step whose inputs were refused: what was wrong, and that nothing was sent. */
export function refusedMarkdown(problem: string): string {
  const lines = problem.split('\n').map((line) => escapeCell(line.replace(/^- /u, '')));
  return [
    '## Upstash DLQ: inputs refused',
    '',
    '**❌ failed** · nothing was sent: fix the inputs below and run again.',
    '',
    ...lines.filter((line) => line.trim() !== '').map((line) => `- ${line}`),
    '',
  ].join('\n');
}

export function summaryMarkdown(outcomes: Outcomes, context: SummaryContext): string {
  // Secrets out of the raw text first: escaping or cutting could otherwise hide a token from the redaction.
  const cell = (text: string): string => escapeCell(context.redact(text));
  const short = (text: string): string => shortCell(text, context.redact);
  const { operation } = context;
  const status = context.verdict.error
    ? '❌ failed'
    : context.verdict.warnings.length > 0 || context.runAttemptWarning !== undefined
      ? '⚠️ passed with warnings'
      : '✅ passed';
  const selection = outcomes.selection;
  const report = operation.name === 'report';
  const dry = !operation.changes && !report;
  const lines: string[] = [];
  const untouched = context.title === 'delete' ? 'nothing deleted' : 'nothing re-run';
  lines.push(`## Upstash DLQ ${context.title}${dry ? ` (dry run: ${untouched})` : ''}`, '');
  lines.push(`**${status}** · ${cell(tally(outcomes, operation))}`, '');
  lines.push('| | count |', '|---|---:|');
  lines.push(`| ${operation.words.outcome} | ${outcomes.done.length} |`);
  lines.push(`| not found | ${outcomes.notFound.length} |`, `| failed | ${outcomes.failed.length} |`, '');
  lines.push(`- DLQ: ${context.dlqName} at \`${cell(context.baseUrl)}\``);
  if (context.endpointSources) lines.push(`- ${cell(context.endpointSources)}`);
  lines.push(`- Mode: ${modeText(outcomes, context)}; ${Inputs.onNotFound}: \`${context.onNotFound}\``);
  if (selection !== undefined) {
    lines.push(
      selection.filters.length === 0
        ? report
          ? '- Selection: the whole DLQ'
          : `- Selection: \`${selection.allInput}\` (every entry of the DLQ)`
        : `- Selection: ${selection.filters.map((f) => `\`${f.input}\` = ${f.values.map(cell).join(' or ')}`).join('; ')}`,
      `- ${selection.kept !== undefined ? `Matched: ${selection.matched + selection.kept.size}; acted on` : 'Matched'}: ${selection.matched}${selection.cap !== undefined ? ` (more than ${selection.capInput} ${selection.cap})` : ''}`,
    );
  }
  if (outcomes.unattributed > 0) lines.push(`- Unattributed bulk deletions: ${outcomes.unattributed}`);
  if (context.runUrl) lines.push(`- Run: ${cell(context.runUrl)}`);
  if (context.resultsFile) lines.push(`- Per-id results: \`${cell(context.resultsFile)}\` (results-file output)`);
  if (context.exportFile) lines.push(`- Export: \`${cell(context.exportFile)}\` (export-file output)`);
  const look = context.look;
  const kept = selection?.kept;
  if (!report && look?.census !== undefined && look.exact && look.census.oldestMs !== undefined) {
    const { oldestMs, newestMs, now } = look.census;
    lines.push(
      `- Selected entries created from ${safeDate(oldestMs)} (${formatAge(now - oldestMs)} before the step started) to ${safeDate(newestMs)}`,
    );
  }
  if (!report && kept !== undefined && context.keep !== undefined) {
    const per = context.keep.per !== undefined ? ` of each \`${context.keep.per}\`` : '';
    lines.push(
      `- Kept (${Inputs.keepNewest}: the ${context.keep.newest} newest${per}): ${kept.size}, left out of the selection`,
    );
  }
  if (!report && look !== undefined) {
    for (const line of thresholdLines(look)) {
      lines.push(`- ${line.name} ${line.limit}: ${cell(String(line.figure))}${line.exceeded ? ' — **exceeded**' : ''}`);
    }
  }
  if (outcomes.inferred.length > 0) {
    lines.push(
      `- ${outcomes.inferred.length} id(s) were counted as ${operation.words.outcome} by the lost-response rule (deletes only): an attempt's answer never arrived and the retry found the entry gone.`,
    );
  }
  const deletedAfter = outcomes.done.filter((id) => {
    const settled = outcomes.results.get(id);
    return settled?.kind === 'done' && settled.deletedAfter === true;
  }).length;
  if (deletedAfter > 0 || outcomes.notDeletedAfter.length > 0) {
    lines.push(`- Deleted after their re-run: ${deletedAfter}; not deleted: ${outcomes.notDeletedAfter.length}`);
  }
  for (const note of outcomes.notes) lines.push(`- ${cell(note)}`);
  if (context.proof !== undefined) lines.push(...proofMarkdown(context.proof, outcomes, operation, context.redact));
  const messages = [context.verdict.error, context.runAttemptWarning, ...context.verdict.warnings];
  for (const message of [...messages, ...context.verdict.notices]) {
    if (message) lines.push('', `> ${cell(message)}`);
  }
  if (report && look?.census !== undefined && look.exact) {
    lines.push(
      '',
      censusMarkdown(look.census, {
        redact: context.redact,
        groupBy: context.groupBy ?? '',
        filters: selection?.filters ?? [],
        ...(kept !== undefined &&
          context.keep !== undefined && {
            kept: {
              kept: kept.size,
              actedOn: selection?.matched ?? 0,
              n: context.keep.newest,
              ...(context.keep.per !== undefined && { per: context.keep.per }),
            },
          }),
        thresholds: thresholdLines(look),
      }).trimEnd(),
    );
  }
  // A report of a listing shows what the DLQ holds, not a row per entry (the results file has every id).
  if (report && selection !== undefined) return `${lines.join('\n')}\n`;

  // Only the rows that can be shown are built; the rest are counted.
  const rows: string[] = [];
  let total = 0;
  const add = (id: string, outcome: string, detail = '', newRun = ''): void => {
    total += 1;
    if (rows.length >= SUMMARY_MAX_ROWS) return;
    const info = selection?.entries.get(id);
    const columns = [short(id), outcome];
    if (selection !== undefined) {
      columns.push(
        short(info?.url ?? ''),
        short(info?.runOrMessageId ?? ''),
        safeDate(info?.createdAt),
        info?.responseStatus !== undefined ? String(info.responseStatus) : '',
      );
    }
    if (operation.redrive) columns.push(short(newRun));
    columns.push(short(detail));
    rows.push(`| ${columns.join(' | ')} |`);
  };
  for (const entry of outcomes.failed) add(entry.id, 'failed', failureDetail(entry));
  for (const id of outcomes.notFound) add(id, 'not found');
  const inferred = new Set(outcomes.inferred);
  for (const id of outcomes.done) {
    const newRun = outcomes.newRuns.get(id);
    const state = context.proof !== undefined && newRun !== undefined ? ` · ${proofState(context.proof, id)}` : '';
    add(id, operation.words.outcome, inferred.has(id) ? 'lost-response rule' : '', newRun && `${newRun}${state}`);
  }

  if (total > 0) {
    const head = [selection !== undefined ? 'dlqId' : 'id', 'outcome'];
    if (selection !== undefined) head.push('URL', 'run / message id', 'created at', 'response status');
    if (operation.redrive) head.push('new run');
    head.push('detail');
    lines.push(
      '',
      `| ${head.join(' | ')} |`,
      `|${head.map((h) => (h === 'response status' ? '---:' : '---')).join('|')}|`,
    );
    let bytes = Buffer.byteLength(lines.join('\n'));
    let shown = 0;
    for (const row of rows) {
      if (shown >= SUMMARY_MAX_ROWS || bytes + Buffer.byteLength(row) + 1 > SUMMARY_MAX_BYTES) break;
      lines.push(row);
      bytes += Buffer.byteLength(row) + 1;
      shown += 1;
    }
    if (shown < total) {
      lines.push(
        '',
        `${total - shown} more ids not shown; the outputs list them all${context.resultsFile ? ', and the results file has every record' : ''}.`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function modeText(outcomes: Outcomes, context: SummaryContext): string {
  if (context.operation.changes) return context.title;
  if (context.operation.name === 'report') return 'report (reads only: nothing is changed)';
  const what = context.title === 'delete' ? 'nothing deleted' : 'nothing re-run';
  return outcomes.selection !== undefined
    ? `${context.title} dry run (entries listed, ${what})`
    : `${context.title} dry run (each id probed with GET, ${what})`;
}

function failureDetail(entry: FailedId): string {
  return `${entry.cause}: ${entry.reason}`;
}
