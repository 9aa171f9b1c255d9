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

/** An ISO 8601 date; the number itself where no Date can hold it; '' for none. */
export function safeDate(ms: number | undefined): string {
  if (ms === undefined) return '';
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
