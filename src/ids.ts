/**
 * Turning the text of `dlq-ids` / `dlq-ids-file` into a list of DLQ ids, and refusing ids that could not be sent
 * safely as one path segment.
 */

/** Where a list of ids came from, for error messages: the input name, or the file input and its path. */
export interface IdSource {
  readonly label: string;
  /**
   * Removes secrets (the token) from text about the ids before it is cut short for a message: cut first, part of a
   * secret would be left that the log's masking no longer recognises.
   */
  readonly redact?: (text: string) => string;
}

export class InvalidIdsError extends Error {
  override name = 'InvalidIdsError';
}

const SEPARATORS = /[\s,]+/u;
// C0 controls, DEL and C1 controls: never part of a real id, and unsafe in logs and headers.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const ONLY_DOTS = /^\.+$/u;
/**
 * Characters no Upstash DLQ id has, refused because a hop could change a request's meaning with them: `/` `\\` `%`
 * (a proxy that decodes `%2F` could turn `x/..` into the collection path), `?` `#`, and `,` and whitespace (multi-value
 * query parameters may be comma-separated: `a,b` in a bulk `dlqIds=` could act on `a` and `b`).
 */
const UNSAFE = /[/\\?#%,\s]/u;
/**
 * Quotes, which no Upstash DLQ id has either: `"id-a", "id-b"` (or with ' or `) copied from code would send the quotes
 * as part of each id, which then is not found, and the step passes having done nothing. Typographic quotes (“ ” ‘ ’
 * ′ ″ ʼ « » ‹ › 〝 〞), which chat and document tools put in copied text, too: normalisation does not fold them.
 */
const QUOTES = /["'`\u2018-\u201F\u2032-\u2037\u02BC\u00AB\u00BB\u2039\u203A\u301D-\u301F]/u;
/** A UTF-16 surrogate that is not part of a pair: not a character, and encodeURIComponent throws on it. */
const LONE_SURROGATE = /\p{Cs}/u;
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
/** Real ids are about 20 characters; anything this long is a mistake (or an attack on URL lengths). */
export const MAX_ID_LENGTH = 512;

/**
 * Parses one list: a JSON array of strings when the text starts with `[`, otherwise ids separated by newlines,
 * commas or whitespace. Separators never produce ids, so a trailing comma or a blank line is harmless.
 */
export function parseIdList(text: string, source: IdSource): string[] {
  // A byte-order mark (Windows editors write one) is not part of the first id.
  const trimmed = text.replace(/^\uFEFF/u, '').trim();
  if (trimmed === '') return [];
  if (!trimmed.startsWith('[')) return trimmed.split(SEPARATORS).filter((part) => part !== '');

  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    throw new InvalidIdsError(
      `${source.label}: starts with '[' but is not a valid JSON array (${jsonProblem(trimmed, error, source)}). ` +
        `Accepted: a JSON array of strings such as ["id-1","id-2"], or ids separated by newlines, commas or spaces.`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new InvalidIdsError(`${source.label}: expected a JSON array of strings.`);
  }
  const ids: string[] = [];
  parsed.forEach((item: unknown, index) => {
    if (typeof item !== 'string') {
      throw new InvalidIdsError(
        `${source.label}: element ${index} of the JSON array is ${describe(item, source)}, not a string. DLQ ids are strings.`,
      );
    }
    ids.push(item);
  });
  return ids;
}

function describe(value: unknown, source: IdSource): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value} (${redacted(JSON.stringify(value) ?? '', source).slice(0, 40)})`;
}

function redacted(text: string, source: IdSource): string {
  return source.redact ? source.redact(text) : text;
}

/**
 * JSON.parse's reason, which quotes a stretch of the text cut at arbitrary points: taken from the text with its
 * secrets removed, so that the stretch never holds part of one.
 */
function jsonProblem(text: string, error: unknown, source: IdSource): string {
  if (!source.redact) return (error as Error).message;
  try {
    JSON.parse(source.redact(text));
  } catch (redactedError) {
    return (redactedError as Error).message;
  }
  return 'not valid JSON';
}

/** Why an id cannot be used, or undefined when it can. */
export function idProblem(id: string): string | undefined {
  if (id.trim() === '') return 'is empty (an empty id would address the whole DLQ)';
  if (ONLY_DOTS.test(id)) return 'is made only of dots (URL parsing would turn it into the DLQ itself)';
  if (CONTROL.test(id)) return 'contains a control character';
  if (LONE_SURROGATE.test(id)) return 'contains a lone UTF-16 surrogate (not text)';
  if (UNSAFE.test(id)) return 'contains / \\ ? # % , or whitespace, which no DLQ id has';
  if (QUOTES.test(id)) {
    return 'contains a quote (" \' ` or a typographic one such as “ ” ‘ ’ « »), which no DLQ id has: give the ids without quotes, or as a JSON array';
  }
  // Invisible formatting characters (zero-width spaces, joiners, direction marks): a hop may strip them.
  if (INVISIBLE.test(id)) return 'contains an invisible formatting character (such as a zero-width space)';
  // Look-alikes such as U+FF0F (／), U+FF0E (．) or U+2025 (‥) become / or dots under Unicode normalisation, which a
  // hop may apply: checked again on the normalised id.
  const normal = id.normalize('NFKC');
  if (
    UNSAFE.test(normal) ||
    QUOTES.test(normal) ||
    ONLY_DOTS.test(normal) ||
    normal.includes('..') !== id.includes('..')
  ) {
    return 'contains a character that Unicode normalisation turns into / \\ ? # % , a quote, whitespace or dots';
  }
  // Full-width digits and the like normalise into another, real id.
  if (normal !== id) return 'is not in Unicode normal form NFKC (a hop that normalises would send another id)';
  if (id.length > MAX_ID_LENGTH)
    return `is longer than ${MAX_ID_LENGTH} characters (DLQ ids look like 1752829295505-0)`;
  return undefined;
}

/**
 * Shows an id in a message: secrets removed (`redact`), then quoted, escaped, and shortened when long. Removing
 * secrets first matters: a cut through a secret leaves a piece that masking no longer recognises.
 */
export function showId(id: string, max = 80, redact: (text: string) => string = (text) => text): string {
  const clean = redact(id);
  const shown = JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
  return clean.length > max ? `${shown} (${id.length} characters)` : shown;
}

/**
 * Checks every id, throwing one error that names each refused id (up to a few) and why.
 */
export function assertUsableIds(ids: readonly string[], source: IdSource): void {
  const problems: string[] = [];
  let count = 0;
  ids.forEach((id, index) => {
    const problem = idProblem(id);
    if (problem === undefined) return;
    count += 1;
    if (problems.length < 5) problems.push(`id #${index + 1} ${showId(id, 80, source.redact)} ${problem}`);
  });
  if (count === 0) return;
  const more = count > problems.length ? `; and ${count - problems.length} more` : '';
  throw new InvalidIdsError(
    `${source.label}: ${count} invalid id${count === 1 ? '' : 's'}: ${problems.join('; ')}${more}. ` +
      `Nothing was sent. Accepted: ids that are non-empty, not only dots, at most ${MAX_ID_LENGTH} characters, ` +
      `in Unicode normal form NFKC, without control or invisible characters, whitespace, quotes or any of / \\ ? # % , ` +
      `(DLQ ids look like 1752829295505-0), separated by newlines, commas or spaces, or a JSON array of strings ` +
      `such as ["id-1","id-2"].`,
  );
}

/** Drops repeated ids, keeping the first occurrence of each in order. */
export function uniqueInOrder(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}
