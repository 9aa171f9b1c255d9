import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oneLine } from '../../src/log.js';

// The deferred log is gone (the toolkit is loaded up front); what remains is keeping every value on one log line.
describe('oneLine', () => {
  it.each([
    ['LF', 'a\nb', 'a\\nb'],
    ['CR', 'a\rb', 'a\\rb'],
    ['CRLF as one break', 'a\r\nb', 'a\\r\\nb'],
    ['LF CR as two breaks', 'a\n\rb', 'a\\n\\rb'],
    ['NEL (U+0085)', 'a\u0085b', 'a\\u0085b'],
    ['LINE SEPARATOR (U+2028)', 'a\u2028b', 'a\\u2028b'],
    ['PARAGRAPH SEPARATOR (U+2029)', 'a\u2029b', 'a\\u2029b'],
  ])('escapes %s', (_name, text, escaped) => {
    expect(oneLine(text)).toBe(escaped);
  });

  it('leaves text without line breaks alone', () => {
    expect(oneLine('id "x" failed: HTTP 500\t(4 attempts) ü')).toBe('id "x" failed: HTTP 500\t(4 attempts) ü');
  });

  it('a value cannot start a line that reads as a workflow command', () => {
    const line = oneLine('id\r::warning::fake\n::stop-commands::x');
    expect(line).toBe('id\\r::warning::fake\\n::stop-commands::x');
    expect(line.split(/\r\n|[\r\n\u0085\u2028\u2029]/u)).toHaveLength(1);
  });

  it('never leaves a line terminator, and changes nothing else', () => {
    const breaks = ['\r', '\n', '\r\n', '\u0085', '\u2028', '\u2029'];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom(...breaks)), { maxLength: 20 }),
        (parts) => {
          const text = parts.join('');
          const line = oneLine(text);
          expect(line).not.toMatch(/[\r\n\u0085\u2028\u2029]/u);
          const clean = text.replace(/[\r\n\u0085\u2028\u2029]/gu, '');
          expect(line.replace(/\\(?:r|n|u0085|u2028|u2029)/gu, '')).toBe(
            clean.replace(/\\(?:r|n|u0085|u2028|u2029)/gu, ''),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
