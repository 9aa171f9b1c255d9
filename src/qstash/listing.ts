/**
 * Listing pages on the wire: what a listed entry's fields mean, and what a page may hold. The engine only ever sees
 * the parsed form, and only of pages within the bounds: whatever the server sends, a page kept costs a bounded amount.
 */
import type { EntryInfo } from '../outcomes.js';

export type { EntryInfo };

/**
 * The longest listed id accepted. Real DLQ ids are Redis stream ids of about 15 characters (`1725323658779-0`): eight
 * times that is room for any format Upstash may move to, and an id past it is no DLQ id, so a page holding one is a
 * bad answer. Tighter than what the action accepts as an input id (MAX_ID_LENGTH in ids.ts), because a listing holds up to
 * MAX_LISTED_ENTRIES of them: together they bound what listed ids cost.
 */
export const MAX_LISTED_ID_LENGTH = 128;

/**
 * The most characters of a shown field (URL, run or message id) kept per entry; the summary shows 120 of them. Only
 * shown, never sent, so a longer value is cut rather than refused.
 */
export const MAX_SHOWN_LENGTH = 128;

/** How much of a refused id a message shows: enough to recognise it, never the whole of a huge one. */
const SHOWN_ID_PREFIX = 24;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/**
 * A copy of `value` that holds no reference to a longer string. V8 may keep a cut (slice) of a string as a view of
 * the whole: a cut of a 1 MiB field would keep the 1 MiB alive for the rest of the run.
 */
export function ownCopy(value: string): string {
  return JSON.parse(JSON.stringify(value)) as string;
}

/**
 * A shown field, at most MAX_SHOWN_LENGTH characters (then `…`). Secrets are removed before the cut, so that a cut
 * cannot leave part of a token that the report's redaction would no longer recognise.
 */
function shown(value: string | undefined, redact: (text: string) => string): string | undefined {
  if (value === undefined || value.length <= MAX_SHOWN_LENGTH) return value;
  const clean = redact(value);
  return clean.length <= MAX_SHOWN_LENGTH ? ownCopy(clean) : ownCopy(`${clean.slice(0, MAX_SHOWN_LENGTH)}…`);
}

/** Whether a listed record is an entry that can be acted on: it has a string dlqId. */
export function isListedEntry(raw: unknown): raw is Record<string, unknown> & { dlqId: string } {
  return !!raw && typeof raw === 'object' && typeof (raw as { dlqId?: unknown }).dlqId === 'string';
}

/**
 * Why a page of `count` asked-for entries is a bad answer, or undefined when it is within the bounds: more entries
 * than asked for (a server ignoring `count` would make the page ceiling no bound at all), or an id longer than
 * MAX_LISTED_ID_LENGTH. The message shows such an id cut and redacted, never whole.
 */
export function pageProblem(
  messages: readonly unknown[],
  count: number,
  redact: (text: string) => string = (t) => t,
): string | undefined {
  if (messages.length > count) {
    return `the listing's page held ${messages.length} entries, more than the ${count} asked for`;
  }
  const long = messages.find((raw) => isListedEntry(raw) && raw.dlqId.length > MAX_LISTED_ID_LENGTH);
  if (long === undefined) return undefined;
  const id = (long as { dlqId: string }).dlqId;
  return ownCopy(
    `the listing's page held an id of ${id.length} characters (the longest DLQ id accepted is ` +
      `${MAX_LISTED_ID_LENGTH}), starting ${JSON.stringify(`${redact(id).slice(0, SHOWN_ID_PREFIX)}…`)}`,
  );
}

/** Keeps only what the summary shows, each shown field cut to MAX_SHOWN_LENGTH; every field is optional. */
export function entryInfo(
  raw: Record<string, unknown> & { dlqId: string },
  redact: (text: string) => string = (t) => t,
): EntryInfo {
  const url = shown(text(raw.workflowUrl) ?? text(raw.url), redact);
  const runOrMessageId = shown(text(raw.workflowRunId) ?? text(raw.messageId), redact);
  const createdAt = num(raw.createdAt);
  const responseStatus = num(raw.responseStatus);
  return {
    dlqId: raw.dlqId,
    ...(url !== undefined && { url }),
    ...(runOrMessageId !== undefined && { runOrMessageId }),
    ...(createdAt !== undefined && { createdAt }),
    ...(responseStatus !== undefined && { responseStatus }),
  };
}
