/**
 * A QStash DLQ `retry` answered 201 with `deduplicated: true` is not a redrive. Upstash's QStash OpenAPI document
 * gives the retry answer as a PublishResponse: `messageId` is "the old message ID if deduplicated", and
 * `deduplicated` says "whether this message is a duplicate and was not sent to the destination". So such an id is
 * not `redriven`: it is `failed` with a cause of its own, and it is never resent (sending again would meet the same
 * deduplication window, and claim nothing new).
 *
 * Pure: reads the body of a per-id retry answer (`POST /v2/dlq/retry/{dlqId}`: one PublishResponse). An answer that
 * is neither (`unreadable`) claims nothing: operations.ts fails it as a lost answer, never resent.
 */

/** What one PublishResponse of a retry says. */
export type RetryAnswer =
  /** A new message was created and will be delivered. */
  | { readonly kind: 'redriven'; readonly messageId: string }
  /** Nothing was delivered; `messageId` is the old message's id. */
  | { readonly kind: 'deduplicated'; readonly messageId: string }
  /** The answer cannot say either: claim nothing. */
  | { readonly kind: 'unreadable'; readonly reason: string };

/**
 * Reads one PublishResponse. `deduplicated` must be a boolean (or absent, which means a new message); the string
 * "true"/"false" is read as the boolean it spells, since a proxy may re-encode it; any other value is unreadable.
 */
export function readRetryItem(item: unknown): RetryAnswer {
  // JSON never parses to undefined: it stands for a body that did not parse.
  if (item === undefined) return { kind: 'unreadable', reason: 'the retry answer is not JSON' };
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return { kind: 'unreadable', reason: 'the retry answer is not an object' };
  }
  const { messageId, deduplicated } = item as { messageId?: unknown; deduplicated?: unknown };
  if (typeof messageId !== 'string' || messageId === '') {
    return { kind: 'unreadable', reason: 'the retry answer has no messageId' };
  }
  if (deduplicated === true || deduplicated === 'true') return { kind: 'deduplicated', messageId };
  if (deduplicated === undefined || deduplicated === false || deduplicated === 'false') {
    return { kind: 'redriven', messageId };
  }
  return { kind: 'unreadable', reason: 'the retry answer has a deduplicated value that is not true or false' };
}

/** Reads the body of a per-id retry answer. */
export function readRetryAnswer(body: string): RetryAnswer {
  try {
    return readRetryItem(JSON.parse(body));
  } catch {
    return { kind: 'unreadable', reason: 'the retry answer is not JSON' };
  }
}

/** The reason an id gets when its retry was deduplicated: what happened, and that it was not resent. */
export function deduplicatedReason(messageId: string): string {
  return (
    `QStash answered the retry with deduplicated: true (message ${messageId} is the old message; nothing was ` +
    'delivered): not a redrive, and not resent'
  );
}
