/** What may reach the log: values that cannot break a line, and the secrets to mask before anything is printed. */

/**
 * One log line, whatever the value holds. A runner ends a line at CR as well as LF, so a raw CR inside a value
 * would start a new line that could read as a workflow command (`::warning::`, `::stop-commands::`).
 */
export function oneLine(text: string): string {
  return text.replace(/\r\n|[\r\n\u0085\u2028\u2029]/gu, (c) => ESCAPES[c] ?? '\\n');
}

const ESCAPES: Readonly<Record<string, string>> = {
  '\r\n': '\\r\\n',
  '\r': '\\r',
  '\n': '\\n',
  '\u0085': '\\u0085',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};
