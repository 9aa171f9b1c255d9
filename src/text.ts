/** Text for people, shared by the run summary, the report's summary and the threshold messages. */

const HTML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Text safe inside a Markdown table cell or list item: no HTML, no table breaks, no emphasis, strikethrough, images
 * or links, one line.
 */
export function escapeCell(text: string): string {
  return text
    .replace(/[&<>]/gu, (c) => HTML_ENTITIES[c]!)
    .replace(/[\\`*_[\]|~#!]/gu, (c) => `\\${c}`)
    .replace(/\s+/gu, ' ');
}

/**
 * Server or user text for one cell: secrets out first (escaping or cutting could otherwise hide a token from the
 * redaction), then cut to `max` characters with an ellipsis, then escaped.
 */
export function shortCell(text: string, redact: (text: string) => string, max = 120): string {
  const clean = redact(text);
  return escapeCell(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}

/** "1 id", "3 ids"; "1 entry was", "2 entries were". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** An ISO 8601 date; the number itself where no Date can hold it; '' for none. */
export function safeDate(ms: number | undefined): string {
  if (ms === undefined) return '';
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
