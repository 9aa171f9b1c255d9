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

/**
 * The pieces of secrets to mask and remove: each value, and each line of 8 characters or more of a value of several
 * lines, as the runner masks secrets (shorter pieces are not: masking "0" would mangle every count).
 */
export function secretPieces(values: readonly string[]): string[] {
  const pieces = values.flatMap((value) => [
    value,
    ...value
      .split(/\r?\n/u)
      .map((line) => line.trim())
      .filter((line) => line.length >= 8),
  ]);
  return [...new Set(pieces)].filter((piece) => piece !== '');
}
