/**
 * Outcomes -> outputs, the verdict (pass, warn, fail), the step summary and the log tally. Pure: main writes them.
 */
import { noOutcomes, type Outcomes } from './cleanup.js';
import { Outputs, type OnNotFound } from './inputs.js';
import { showId } from './ids.js';

export function outputsFor(outcomes: Outcomes): Record<string, string> {
  const failedIds = outcomes.failed.map((entry) => entry.id);
  return {
    [Outputs.Removed]: JSON.stringify(outcomes.removed),
    [Outputs.RemovedCount]: String(outcomes.removed.length),
    [Outputs.NotFound]: JSON.stringify(outcomes.notFound),
    [Outputs.NotFoundCount]: String(outcomes.notFound.length),
    [Outputs.Failed]: JSON.stringify(failedIds),
    [Outputs.FailedCount]: String(failedIds.length),
    [Outputs.WouldRemove]: JSON.stringify(outcomes.wouldRemove),
    [Outputs.WouldRemoveCount]: String(outcomes.wouldRemove.length),
  };
}

/** Outputs when nothing was selected or the inputs were refused: every list empty, every count 0. */
export function emptyOutputs(dryRun = false): Record<string, string> {
  return outputsFor(noOutcomes(dryRun));
}

export interface Verdict {
  /** When set, the step fails with this message. */
  readonly error?: string;
  /** Warning annotations (not-found under `warn`, unattributed bulk deletions). */
  readonly warnings: readonly string[];
  /** Notice annotations (a filter that matched nothing). */
  readonly notices: readonly string[];
}

const LISTED_IDS = 10;

export function listIds(ids: readonly string[], max = LISTED_IDS): string {
  const shown = ids.slice(0, max).map((id) => showId(id, 60));
  return ids.length > max ? `${shown.join(', ')} and ${ids.length - max} more` : shown.join(', ');
}

export function verdict(outcomes: Outcomes, onNotFound: OnNotFound, context: { baseUrl: string }): Verdict {
  const errors: string[] = [];
  const verb = outcomes.dryRun ? 'probed' : 'deleted';
  if (outcomes.tokenRefused !== undefined) {
    errors.push(
      `QStash refused the token (${outcomes.tokenRefused}) at ${context.baseUrl}; stopped sending. ` +
        `Check the secret passed as qstash-token, and that the token belongs to this region: a token works only ` +
        `against its own region's URL (EU: https://qstash.upstash.io, US: https://qstash-us-east-1.upstash.io).`,
    );
  }
  if (outcomes.unreachable !== undefined) {
    errors.push(
      `Could not reach QStash: ${outcomes.unreachable}. Stopped sending; ids not settled before are listed as failed. ` +
        `Check qstash-url and the runner's network.`,
    );
  }
  const selection = outcomes.selection;
  if (selection?.listingFailed !== undefined && outcomes.tokenRefused === undefined && !outcomes.unreachable) {
    errors.push(`Listing the DLQ failed: ${selection.listingFailed}. Nothing was deleted.`);
  }
  if (selection?.capExceeded !== undefined) {
    const { matched, cap } = selection.capExceeded;
    errors.push(
      `${matched} entries match, more than max-deletes (${cap}). ` +
        `${outcomes.dryRun ? 'A real run would delete nothing and fail.' : 'Nothing was deleted.'} ` +
        `Narrow the filters, or raise max-deletes to at least ${matched} (0 removes the cap) if you mean to delete them all.`,
    );
  }
  if (outcomes.cancelled !== undefined) {
    errors.push(`The run was cancelled (${outcomes.cancelled}); ids not yet ${verb} are listed as failed.`);
  }
  const otherFailures = outcomes.failed.filter((entry) => !/not attempted|not retried/u.test(entry.reason));
  if (otherFailures.length > 0 || (errors.length === 0 && outcomes.failed.length > 0)) {
    const first = outcomes.failed[0]!;
    errors.push(
      `${outcomes.failed.length} id${outcomes.failed.length === 1 ? ' was' : 's were'} not ${verb}: ` +
        `${listIds(outcomes.failed.map((entry) => entry.id))}. First reason: ${first.reason}.`,
    );
  }
  const missing = outcomes.notFound.length;
  const missingText =
    missing === 0
      ? ''
      : `${missing} id${missing === 1 ? ' was' : 's were'} not found in the DLQ (already deleted, expired, or never there): ${listIds(outcomes.notFound)}.`;
  if (missing > 0 && onNotFound === 'fail') errors.push(`${missingText} on-not-found is 'fail'.`);

  const warnings: string[] = [];
  if (missing > 0 && onNotFound === 'warn') warnings.push(missingText);
  if (selection !== undefined && selection.unattributedDeletions > 0) {
    warnings.push(
      `Entries vanished between listing and deletion: bulk calls deleted ${selection.unattributedDeletions} entries that cannot be pinned to ids, so those calls' ids are listed as not-found (all of them are gone from the DLQ).`,
    );
  }
  const notices: string[] = [];
  if (selection !== undefined && selection.matched === 0 && errors.length === 0) {
    notices.push(
      selection.filters === 'all'
        ? 'The DLQ is empty: nothing to delete.'
        : 'No DLQ entry matched the filters: nothing to delete.',
    );
  }
  return { ...(errors.length > 0 && { error: errors.join(' ') }), warnings, notices };
}

export function tally(outcomes: Outcomes): string {
  const seconds = (outcomes.elapsedMs / 1000).toFixed(1);
  const total =
    outcomes.removed.length + outcomes.wouldRemove.length + outcomes.notFound.length + outcomes.failed.length;
  const first = outcomes.dryRun
    ? `Dry run: would remove ${outcomes.wouldRemove.length}`
    : `Removed ${outcomes.removed.length}`;
  return `${first}, not found ${outcomes.notFound.length}, failed ${outcomes.failed.length} (${total} ids, ${outcomes.requests} requests, ${seconds} s).`;
}

export interface SummaryContext {
  readonly dlqName: string;
  readonly baseUrl: string;
  readonly onNotFound: OnNotFound;
  /** Link to the workflow run, when the runner's context has one. */
  readonly runUrl?: string;
  readonly verdict: Verdict;
}

/** Rows of the id table; the rest are counted, not shown, so the summary stays far under its 1 MiB limit. */
export const SUMMARY_MAX_ROWS = 1000;
const SUMMARY_MAX_BYTES = 256 * 1024;

function short(text: string): string {
  return cell(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

function modeText(outcomes: Outcomes): string {
  if (!outcomes.dryRun) return 'delete';
  return outcomes.selection !== undefined
    ? 'dry run (entries listed, nothing deleted)'
    : 'dry run (each id probed with GET, nothing deleted)';
}

const HTML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Text safe inside a Markdown table cell: no HTML, no table breaks, no emphasis or links. */
function cell(text: string): string {
  return text
    .replace(/[&<>]/gu, (c) => HTML_ENTITIES[c]!)
    .replace(/[\\`*_[\]|]/gu, (c) => `\\${c}`)
    .replace(/\s+/gu, ' ');
}

export function summaryMarkdown(outcomes: Outcomes, context: SummaryContext): string {
  const status = context.verdict.error
    ? '❌ failed'
    : context.verdict.warnings.length > 0
      ? '⚠️ passed with warnings'
      : '✅ passed';
  const selection = outcomes.selection;
  const lines: string[] = [];
  lines.push(`## Upstash DLQ cleanup${outcomes.dryRun ? ' (dry run: nothing deleted)' : ''}`, '');
  lines.push(`**${status}** · ${cell(tally(outcomes))}`, '');
  lines.push('| | count |', '|---|---:|');
  if (outcomes.dryRun) lines.push(`| would remove | ${outcomes.wouldRemove.length} |`);
  else lines.push(`| removed | ${outcomes.removed.length} |`);
  lines.push(`| not found | ${outcomes.notFound.length} |`, `| failed | ${outcomes.failed.length} |`, '');
  lines.push(
    `- DLQ: ${context.dlqName} at \`${context.baseUrl}\``,
    `- Mode: ${modeText(outcomes)}; on-not-found: \`${context.onNotFound}\``,
  );
  if (selection !== undefined) {
    lines.push(
      selection.filters === 'all'
        ? '- Selection: `delete-all` (every entry of the DLQ)'
        : `- Selection: ${selection.filters.map((f) => `\`${f.input}\` = ${f.values.map(cell).join(' or ')}`).join('; ')}`,
      `- Matched: ${selection.matched}${selection.capExceeded ? ` (more than max-deletes ${selection.capExceeded.cap})` : ''}`,
    );
    if (selection.unattributedDeletions > 0) {
      lines.push(`- Unattributed bulk deletions: ${selection.unattributedDeletions}`);
    }
  }
  if (context.runUrl) lines.push(`- Run: ${context.runUrl}`);
  if (outcomes.removedAfterLostResponse.length > 0) {
    lines.push(
      `- ${outcomes.removedAfterLostResponse.length} removed id(s) were counted by the lost-response rule: an attempt's response never arrived and the retry found the entry gone.`,
    );
  }
  for (const message of [context.verdict.error, ...context.verdict.warnings, ...context.verdict.notices]) {
    if (message) lines.push('', `> ${cell(message)}`);
  }

  // Only the rows that can be shown are built; the rest are counted.
  const rows: string[] = [];
  let total = 0;
  const add = (id: string, outcome: string, detail = ''): void => {
    total += 1;
    if (rows.length >= SUMMARY_MAX_ROWS) return;
    const info = selection?.entries.get(id);
    const columns = [short(id), outcome];
    if (selection !== undefined) {
      columns.push(
        short(info?.url ?? ''),
        short(info?.runOrMessageId ?? ''),
        info?.createdAt !== undefined ? new Date(info.createdAt).toISOString() : '',
        info?.responseStatus !== undefined ? String(info.responseStatus) : '',
      );
    }
    columns.push(cell(detail));
    rows.push(`| ${columns.join(' | ')} |`);
  };
  for (const entry of outcomes.failed) add(entry.id, 'failed', entry.reason);
  for (const id of outcomes.notFound) add(id, 'not found');
  const lost = new Set(outcomes.removedAfterLostResponse);
  for (const id of outcomes.removed) add(id, 'removed', lost.has(id) ? 'lost-response rule' : '');
  for (const id of outcomes.wouldRemove) add(id, 'would remove');

  if (total > 0) {
    lines.push(
      '',
      selection !== undefined
        ? '| dlqId | outcome | URL | run / message id | created at | response status | detail |'
        : '| id | outcome | detail |',
      selection !== undefined ? '|---|---|---|---|---|---:|---|' : '|---|---|---|',
    );
    let bytes = Buffer.byteLength(lines.join('\n'));
    let shown = 0;
    for (const row of rows) {
      if (shown >= SUMMARY_MAX_ROWS || bytes + row.length * 3 > SUMMARY_MAX_BYTES) break;
      lines.push(row);
      bytes += Buffer.byteLength(row) + 1;
      shown += 1;
    }
    if (shown < total) {
      lines.push(
        '',
        `${total - shown} more ids not shown; the outputs \`removed\`, \`not-found\` and \`failed\` list them all.`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
