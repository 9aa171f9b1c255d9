import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertUsableIds, idProblem, parseIdList, uniqueInOrder } from '../../src/ids.js';
import { DLQ_COLLECTION, entryPath, UnsafeIdError } from '../../src/qstash/paths.js';

const source = { label: 'dlq-ids' };

describe('parseIdList', () => {
  it('splits on newlines, commas and whitespace, ignoring empty pieces', () => {
    expect(parseIdList(' a,b\n\nc\t d ,, \r\ne,', source)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('reads a JSON array of strings verbatim', () => {
    expect(parseIdList('["a b", "c,d"]', source)).toEqual(['a b', 'c,d']);
  });

  it('ignores a UTF-8 byte-order mark at the start of a list or a JSON array', () => {
    expect(parseIdList('\uFEFFa\nb', source)).toEqual(['a', 'b']);
    expect(parseIdList('\uFEFF["a","b"]', source)).toEqual(['a', 'b']);
    expect(parseIdList('\uFEFF', source)).toEqual([]);
  });

  it('reads CRLF line endings as the same ids as LF', () => {
    expect(parseIdList('a\r\nb\r\nc\r\n', source)).toEqual(parseIdList('a\nb\nc\n', source));
    expect(parseIdList('a\r\nb\r\nc\r\n', source)).toEqual(['a', 'b', 'c']);
    expect(parseIdList('[\r\n  "a",\r\n  "b"\r\n]\r\n', source)).toEqual(['a', 'b']);
  });

  it('returns nothing for blank text', () => {
    expect(parseIdList('  \n ', source)).toEqual([]);
    expect(parseIdList('[]', source)).toEqual([]);
  });

  it('names the input and the problem for malformed JSON and non-string elements', () => {
    expect(() => parseIdList('["a",', source)).toThrow(/dlq-ids: starts with '\[' but is not a valid JSON array/);
    expect(() => parseIdList('["a", {"id": 1}]', source)).toThrow(/element 1 of the JSON array is a object/);
    expect(() => parseIdList('["a", null]', source)).toThrow(/element 1 of the JSON array is null/);
  });
});

describe('parseIdList properties', () => {
  it('a JSON array of strings comes back exactly, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 20 }), (ids) => {
        expect(parseIdList(JSON.stringify(ids), source)).toEqual(ids);
      }),
    );
  });

  it('a BOM and CRLF line endings never change the ids', () => {
    const id = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => idProblem(s) === undefined);
    fc.assert(
      fc.property(fc.array(id, { maxLength: 20 }), (ids) => {
        expect(parseIdList(`\uFEFF${ids.join('\r\n')}\r\n`, source)).toEqual(ids);
        expect(parseIdList(`\uFEFF${JSON.stringify(ids)}`, source)).toEqual(ids);
      }),
    );
  });

  it('any text either parses into ids free of separators or is refused with a message naming the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        let ids: string[];
        try {
          ids = parseIdList(text, source);
        } catch (error) {
          expect((error as Error).message).toMatch(/^dlq-ids: /);
          return;
        }
        if (text.trim().startsWith('[')) return;
        for (const id of ids) expect(id).not.toMatch(/[\s,]/u);
        expect(ids.join('')).toBe(text.replace(/[\s,]+/gu, ''));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('idProblem and assertUsableIds', () => {
  it.each(['', ' ', '.', '..', '...', 'a\u0000b', 'tab\there', 'x\u007f', 'c1\u0085', 'x'.repeat(513)])(
    'refuses %j',
    (id) => {
      expect(idProblem(id)).toBeDefined();
    },
  );

  // New: characters no DLQ id has, with which a proxy or server could change a request's meaning, are refused.
  it.each([
    'a/b',
    'a\\b',
    'a?b',
    'a#b',
    'a%2Fb',
    'a,b',
    'a b',
    'a\u00a0b',
    'a\u2028b',
    '?#%',
    'x/..',
    '\uD800',
    'a\uDC00b',
    '\uDFFF\uD800',
  ])('refuses %j', (id) => {
    expect(idProblem(id)).toBeDefined();
  });

  it.each(['1752829295505-0', '.a', 'a.', 'ünïcødé', '😀', 'a:b@c;d=e&f+g', 'x'.repeat(512)])('accepts %j', (id) => {
    expect(idProblem(id)).toBeUndefined();
  });

  it('lists the first few refused ids and counts the rest', () => {
    const ids = ['ok', '', '.', '', '', '', '', '..'];
    expect(() => assertUsableIds(ids, source)).toThrow(/dlq-ids: 7 invalid ids: id #2 "" is empty.*; and 2 more/);
  });
});

describe('uniqueInOrder', () => {
  it('keeps the first occurrence of each id', () => {
    expect(uniqueInOrder(['b', 'a', 'b', 'c', 'a'])).toEqual(['b', 'a', 'c']);
  });
});

describe('entryPath', () => {
  it('is the DLQ prefix plus one segment that decodes back to the id, for any usable id', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }), (id) => {
        fc.pre(idProblem(id) === undefined);
        for (const dlq of ['workflow', 'qstash'] as const) {
          const path = entryPath(dlq, id);
          const prefix = `${DLQ_COLLECTION[dlq]}/`;
          expect(path.startsWith(prefix)).toBe(true);
          const segment = path.slice(prefix.length);
          expect(segment).not.toMatch(/[/?#]/);
          expect(decodeURIComponent(segment)).toBe(id);
          // What a URL parser makes of it is still the same single segment.
          expect(new URL(path, 'https://qstash.upstash.io').pathname).toBe(path);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses ids that would address the collection or change the path', () => {
    expect(() => entryPath('workflow', '')).toThrow(/whole DLQ/);
    for (const id of ['.', '..']) expect(() => entryPath('workflow', id)).toThrow(/the DLQ itself/);
    for (const id of ['', '.', '..', 'a/b', 'x?y', 'a%2F..', '\uD800']) {
      expect(() => entryPath('qstash', id)).toThrow(UnsafeIdError);
      expect(() => entryPath('workflow', id, 'restart')).toThrow(UnsafeIdError);
    }
  });
});
