/**
 * Listing pages on the wire: what a listed entry's fields mean. The engine only ever sees the parsed form.
 */
import type { EntryInfo } from '../outcomes.js';

export type { EntryInfo };

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** Whether a listed record is an entry that can be acted on: it has a string dlqId. */
export function isListedEntry(raw: unknown): raw is Record<string, unknown> & { dlqId: string } {
  return !!raw && typeof raw === 'object' && typeof (raw as { dlqId?: unknown }).dlqId === 'string';
}

/** Keeps only what the summary shows; every field is optional. */
export function entryInfo(raw: Record<string, unknown> & { dlqId: string }): EntryInfo {
  const url = text(raw.workflowUrl) ?? text(raw.url);
  const runOrMessageId = text(raw.workflowRunId) ?? text(raw.messageId);
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
