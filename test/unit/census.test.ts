/**
 * The census: which entry field each group-by field reads, how values are counted (bounded, redacted, keys that are
 * just data), the age buckets and arrivals, the keep-newest rule, and the summary section a user reads.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptedGroupFields,
  Census,
  compareIds,
  DAY_MS,
  defaultGroupField,
  GROUP_FIELDS,
  groupsJson,
  groupValues,
  HOUR_MS,
  isGroupField,
  keepNewest,
  MAX_GROUP_VALUE_LENGTH,
  MAX_GROUP_VALUES,
  topGroups,
  type GroupField,
  type KeepCandidate,
} from '../../src/census.js';
import { censusMarkdown, formatAge } from '../../src/census-summary.js';
import { escapeCell } from '../../src/text.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const TOKEN = 'eyJVc2VySUQiOiJzZWNyZXQtdG9rZW4ifQ==';
const redact = (text: string): string => text.split(TOKEN).join('***');
const same = (text: string): string => text;

describe('group-by fields', () => {
  it('are the issue lists per DLQ, the default first', () => {
    expect(GROUP_FIELDS.workflow).toEqual([
      'workflow-url',
      'url',
      'label',
      'response-status',
      'failure-function-state',
      'flow-control-key',
      'caller-ip',
    ]);
    expect(GROUP_FIELDS.qstash).toEqual([
      'url',
      'label',
      'response-status',
      'flow-control-key',
      'url-group',
      'queue-name',
      'caller-ip',
    ]);
    expect(defaultGroupField('workflow')).toBe('workflow-url');
    expect(defaultGroupField('qstash')).toBe('url');
  });

  it('accept only the fields of their DLQ, and the refusal text lists them', () => {
    expect(isGroupField('workflow', 'failure-function-state')).toBe(true);
    expect(isGroupField('qstash', 'failure-function-state')).toBe(false);
    expect(isGroupField('workflow', 'url-group')).toBe(false);
    expect(isGroupField('qstash', 'queue-name')).toBe(true);
    for (const bad of ['', 'URL', 'workflowUrl', '__proto__', 'constructor', ' url']) {
      expect(isGroupField('workflow', bad)).toBe(false);
      expect(isGroupField('qstash', bad)).toBe(false);
    }
    expect(acceptedGroupFields('workflow')).toBe(
      'workflow-url (the default), url, label, response-status, failure-function-state, flow-control-key, caller-ip',
    );
    expect(acceptedGroupFields('qstash')).toBe(
      'url (the default), label, response-status, flow-control-key, url-group, queue-name, caller-ip',
    );
  });

  const cases: readonly [dlq: 'workflow' | 'qstash', GroupField, Record<string, unknown>, string[]][] = [
    [
      'workflow',
      'workflow-url',
      { workflowUrl: 'https://app.example/api/wf', url: 'https://step' },
      ['https://app.example/api/wf'],
    ],
    ['workflow', 'url', { workflowUrl: 'https://app.example/api/wf', url: 'https://step' }, ['https://step']],
    ['workflow', 'response-status', { responseStatus: 500 }, ['500']],
    ['workflow', 'failure-function-state', { failureFunctionState: 'CALLBACK_FAIL' }, ['CALLBACK_FAIL']],
    [
      'workflow',
      'failure-function-state',
      { failureCallbackInfo: { state: 'CALLBACK_INPROGRESS' } },
      ['CALLBACK_INPROGRESS'],
    ],
    ['workflow', 'flow-control-key', { flowControlKey: 'tenant-1' }, ['tenant-1']],
    ['workflow', 'caller-ip', { callerIP: '203.0.113.9' }, ['203.0.113.9']],
    ['workflow', 'caller-ip', { callerIp: '203.0.113.10' }, ['203.0.113.10']],
    ['qstash', 'url', { url: 'https://api.example/hook' }, ['https://api.example/hook']],
    ['qstash', 'response-status', { responseStatus: 429 }, ['429']],
    ['qstash', 'response-status', { responseStatus: '503' }, ['503']],
    ['qstash', 'flow-control-key', { flowControlKey: 'k' }, ['k']],
    ['qstash', 'url-group', { topicName: 'billing' }, ['billing']],
    ['qstash', 'queue-name', { queueName: 'emails' }, ['emails']],
    ['qstash', 'caller-ip', { callerIP: '2001:db8::1' }, ['2001:db8::1']],
    ['qstash', 'label', { labels: ['a'] }, ['a']],
    ['workflow', 'label', { label: 'legacy' }, ['legacy']],
  ];
  it.each(cases)('%s %s reads its entry field', (dlq, field, record, expected) => {
    expect(groupValues(dlq, field, record)).toEqual(expected);
  });

  it('count an entry without the field, or with an empty or unusable one, under ""', () => {
    for (const field of GROUP_FIELDS.workflow) expect(groupValues('workflow', field, {})).toEqual(['']);
    for (const field of GROUP_FIELDS.qstash) expect(groupValues('qstash', field, {})).toEqual(['']);
    for (const bad of ['', null, true, { a: 1 }, ['x'], Number.NaN, Infinity]) {
      expect(groupValues('qstash', 'url', { url: bad })).toEqual(['']);
      expect(groupValues('workflow', 'response-status', { responseStatus: bad })).toEqual(['']);
    }
    expect(groupValues('workflow', 'failure-function-state', { failureCallbackInfo: null })).toEqual(['']);
    expect(groupValues('workflow', 'label', { labels: [] })).toEqual(['']);
    expect(groupValues('workflow', 'label', { labels: ['', 7.5, null] })).toEqual(['7.5']);
  });

  it('do not read a field of the other DLQ', () => {
    expect(groupValues('workflow', 'url-group', { topicName: 'x' })).toEqual(['']);
  });

  it('label: every label once, from labels and the deprecated label alike', () => {
    expect(groupValues('qstash', 'label', { labels: ['a', 'b', 'a'], label: 'a' })).toEqual(['a', 'b']);
    expect(groupValues('qstash', 'label', { labels: ['a'], label: 'c' })).toEqual(['a', 'c']);
    expect(groupValues('workflow', 'label', { labels: 'not-a-list', label: 'x' })).toEqual(['x']);
  });

  it('cut a long value to 128 characters, ending in …, after removing secrets', () => {
    const long = `https://app.example/${'x'.repeat(300)}`;
    const [cut] = groupValues('qstash', 'url', { url: long });
    expect(cut).toHaveLength(MAX_GROUP_VALUE_LENGTH);
    expect(cut!.endsWith('…')).toBe(true);
    expect(long.startsWith(cut!.slice(0, -1))).toBe(true);
    // A token straddling the cut would survive a later redaction in part: it goes first.
    const straddling = `${'y'.repeat(110)}${TOKEN}${'z'.repeat(50)}`;
    const [clean] = groupValues('qstash', 'url', { url: straddling }, redact);
    expect(clean).toBe(`${'y'.repeat(110)}***${'z'.repeat(14)}…`);
    expect(clean!.includes(TOKEN.slice(0, 8))).toBe(false);
  });
});

describe('Census', () => {
  it('counts entries, and dates only those with a createdAt', () => {
    const census = new Census();
    census.add({ createdAt: NOW - 5 * DAY_MS }, ['a']);
    census.add({ createdAt: NOW - HOUR_MS / 2 }, ['b']);
    census.add({}, ['a']);
    census.add({ createdAt: 1e16 }, ['a']); // past the range of a Date: not a date
    const result = census.result(NOW);
    expect(result.count).toBe(4);
    expect(result.undated).toBe(2);
    expect(result.oldestMs).toBe(NOW - 5 * DAY_MS);
    expect(result.newestMs).toBe(NOW - HOUR_MS / 2);
    expect(result.ages).toEqual({ hour: 1, day: 0, week: 1, older: 0 });
    expect(Object.fromEntries(result.groups)).toEqual({ a: 3, b: 1 });
  });

  it('an empty census has no oldest or newest and no days', () => {
    const result = new Census().result(NOW);
    expect(result).toMatchObject({ count: 0, undated: 0, arrivals: [], arrivalsBefore: 0, others: 0 });
    expect(result.oldestMs).toBeUndefined();
    expect(result.newestMs).toBeUndefined();
  });

  it('puts each age in the first bucket it is under; the future counts as < 1 h', () => {
    const census = new Census();
    const ages = [-DAY_MS, 0, HOUR_MS - 1, HOUR_MS, DAY_MS - 1, DAY_MS, 7 * DAY_MS - 1, 7 * DAY_MS, 90 * DAY_MS];
    for (const age of ages) census.add({ createdAt: NOW - age }, []);
    expect(census.result(NOW).ages).toEqual({ hour: 3, day: 2, week: 2, older: 2 });
  });

  it('counts an entry once under each of its values, even when a value is given twice', () => {
    const census = new Census();
    census.add({ createdAt: NOW }, ['a', 'b', 'a']);
    expect(Object.fromEntries(census.result(NOW).groups)).toEqual({ a: 1, b: 1 });
  });

  it(`tracks at most ${MAX_GROUP_VALUES} distinct values; the next ones count under others`, () => {
    const census = new Census();
    for (let i = 0; i < MAX_GROUP_VALUES; i += 1) census.add({ createdAt: NOW }, [`v${i}`]);
    expect(census.result(NOW).groupsBounded).toBe(false);
    census.add({ createdAt: NOW }, ['new-1']);
    census.add({ createdAt: NOW }, ['new-1']);
    census.add({ createdAt: NOW }, ['v0']); // a value already tracked still counts as itself
    const result = census.result(NOW);
    expect(result.groups.size).toBe(MAX_GROUP_VALUES);
    expect(result.groups.has('new-1')).toBe(false);
    expect(result.groups.get('v0')).toBe(2);
    expect(result.others).toBe(2);
    expect(result.groupsBounded).toBe(true);
    const { json, others } = groupsJson(result, same);
    expect(Object.keys(JSON.parse(json) as object)).toHaveLength(100);
    expect(others).toBe(MAX_GROUP_VALUES - 100 + 2); // 9,900 values of 1 not shown, plus the 2 others
  });

  it('cuts a value it is given to 128 characters itself', () => {
    const census = new Census();
    census.add({}, ['q'.repeat(1000)]);
    const [value] = census.result(NOW).groups.keys();
    expect(value).toHaveLength(MAX_GROUP_VALUE_LENGTH);
  });

  it('counts arrivals per UTC day: the 30 days ending with the newest, zero days included, the earlier summed', () => {
    const census = new Census();
    const day = (n: number): number => Date.UTC(2026, 10, 1) + n * DAY_MS;
    census.add({ createdAt: day(0) + 5 }, []);
    census.add({ createdAt: day(10) }, []);
    census.add({ createdAt: day(10) + DAY_MS - 1 }, []);
    census.add({ createdAt: day(12) }, []);
    census.add({ createdAt: day(40) }, []);
    const result = census.result(day(41));
    expect(result.arrivals).toHaveLength(30);
    expect(result.arrivals[0]).toEqual({ day: '2026-11-12', count: 0 });
    expect(result.arrivals[29]).toEqual({ day: '2026-12-11', count: 1 });
    expect(result.arrivals[1]).toEqual({ day: '2026-11-13', count: 1 });
    expect(result.arrivals.reduce((sum, d) => sum + d.count, 0)).toBe(2);
    expect(result.arrivalsBefore).toBe(3);

    const short = new Census();
    short.add({ createdAt: day(10) }, []);
    short.add({ createdAt: day(10) + DAY_MS - 1 }, []);
    short.add({ createdAt: day(12) }, []);
    expect(short.result(NOW).arrivals).toEqual([
      { day: '2026-11-11', count: 2 },
      { day: '2026-11-12', count: 0 },
      { day: '2026-11-13', count: 1 },
    ]);
  });
});

describe('groups output', () => {
  it('keeps __proto__, constructor and toString as ordinary keys through JSON.parse', () => {
    const census = new Census();
    for (const value of ['__proto__', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '500', ''])
      census.add({}, [value]);
    const { json, others } = groupsJson(census.result(NOW), same);
    const parsed = JSON.parse(json) as Record<string, number>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(parsed['__proto__']).toBe(2);
    expect(Object.entries(parsed)).toEqual(
      expect.arrayContaining([
        ['__proto__', 2],
        ['constructor', 1],
        ['toString', 1],
        ['hasOwnProperty', 1],
        ['500', 1],
        ['', 1],
      ]),
    );
    expect(others).toBe(0);
    expect(json.startsWith('{"__proto__":2,')).toBe(true); // largest first, in the text
  });

  it('redacts keys, and sums values that become equal', () => {
    const census = new Census();
    census.add({}, [`https://a.example/?token=${TOKEN}`]);
    census.add({}, [`https://a.example/?token=${TOKEN}`]);
    census.add({}, ['https://a.example/?token=***']);
    census.add({}, ['https://b.example/']);
    const { json } = groupsJson(census.result(NOW), redact);
    expect(json).not.toContain(TOKEN);
    expect(JSON.parse(json)).toEqual({ 'https://a.example/?token=***': 3, 'https://b.example/': 1 });
  });

  it('shows at most limit keys, the largest, and counts the rest apart', () => {
    const census = new Census();
    for (const [value, times] of [
      ['a', 5],
      ['b', 3],
      ['c', 3],
      ['d', 1],
    ] as const)
      for (let i = 0; i < times; i += 1) census.add({}, [value]);
    const { json, others } = groupsJson(census.result(NOW), same, 2);
    expect(json).toBe('{"a":5,"b":3}');
    expect(others).toBe(4);
  });

  it('topGroups breaks ties by value', () => {
    const groups = new Map([
      ['z', 2],
      ['b', 2],
      ['a', 1],
      ['m', 2],
    ]);
    expect(topGroups(groups, 2)).toEqual({
      top: [
        ['b', 2],
        ['m', 2],
      ],
      rest: 3,
    });
  });
});

describe('keepNewest', () => {
  const at = (dlqId: string, createdAt?: number, key?: string | string[]): KeepCandidate => ({
    dlqId,
    ...(createdAt !== undefined && { createdAt }),
    ...(key !== undefined && { key }),
  });

  it('keeps the n newest overall', () => {
    const entries = [at('a', 1), at('b', 5), at('c', 3), at('d', 4), at('e', 2)];
    expect(keepNewest(entries, 2)).toEqual(new Set(['b', 'd']));
    expect(keepNewest(entries, 10)).toEqual(new Set(['a', 'b', 'c', 'd', 'e']));
  });

  it('keeps the n newest of each group, by key or keyOf', () => {
    const entries = [at('a', 1, 'x'), at('b', 5, 'x'), at('c', 3, 'y'), at('d', 4, 'y'), at('e', 2, 'y')];
    expect(keepNewest(entries, 1)).toEqual(new Set(['b', 'd']));
    expect(keepNewest(entries, 1, (e) => (e.dlqId < 'c' ? 'first' : 'rest'))).toEqual(new Set(['b', 'd']));
    expect(keepNewest(entries, 2, () => 'all')).toEqual(new Set(['b', 'd']));
  });

  it('keeps an entry among the newest of any of its groups (several labels)', () => {
    const entries = [at('a', 10, ['x', 'y']), at('b', 20, ['x']), at('c', 5, ['y'])];
    expect(keepNewest(entries, 1)).toEqual(new Set(['b', 'a']));
  });

  it('keeps every entry without createdAt, on top of the n', () => {
    const entries = [at('a', 1), at('u1'), at('b', 2), at('u2'), { dlqId: 'u3', createdAt: Number.NaN }];
    expect(keepNewest(entries, 1)).toEqual(new Set(['b', 'u1', 'u2', 'u3']));
    expect(keepNewest(entries, 0)).toEqual(new Set(['u1', 'u2', 'u3']));
  });

  it('breaks ties by dlqId: the larger stream id is newer, digit runs read as numbers', () => {
    const entries = [at('1752829295505-9', 7), at('1752829295505-10', 7), at('1752829295504-99', 7)];
    expect(keepNewest(entries, 1)).toEqual(new Set(['1752829295505-10']));
    expect(keepNewest(entries, 2)).toEqual(new Set(['1752829295505-10', '1752829295505-9']));
    expect(keepNewest([at('b', 7), at('a', 7)], 1)).toEqual(new Set(['b']));
  });

  it('refuses an n that is no whole number', () => {
    expect(() => keepNewest([], -1)).toThrow(RangeError);
    expect(() => keepNewest([], 1.5)).toThrow(RangeError);
  });

  it('agrees with sorting on 500,000 entries, overall and per key', () => {
    let seed = 17;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const entries: KeepCandidate[] = [];
    for (let i = 0; i < 500_000; i += 1) {
      const createdAt = random() < 0.001 ? undefined : Math.floor(random() * 50_000); // many ties
      entries.push(at(`${1752829295000 + Math.floor(i / 3)}-${i % 3}`, createdAt, `k${i % 7}`));
    }
    const reference = (n: number, keyOf: (e: KeepCandidate) => string): Set<string> => {
      const kept = new Set(entries.filter((e) => e.createdAt === undefined).map((e) => e.dlqId));
      const byKey = new Map<string, KeepCandidate[]>();
      for (const e of entries.filter((e) => e.createdAt !== undefined)) {
        const list = byKey.get(keyOf(e)) ?? [];
        list.push(e);
        byKey.set(keyOf(e), list);
      }
      for (const list of byKey.values()) {
        list.sort((a, b) => b.createdAt! - a.createdAt! || compareIds(b.dlqId, a.dlqId));
        for (const e of list.slice(0, n)) kept.add(e.dlqId);
      }
      return kept;
    };
    const overall = keepNewest(entries, 1000, () => '');
    expect(overall).toEqual(reference(1000, () => ''));
    const perKey = keepNewest(entries, 300);
    expect(perKey).toEqual(reference(300, (e) => e.key as string));
  });

  it('compareIds is a total order: antisymmetric and transitive', () => {
    const id = fc.stringMatching(/^[0-9a-z-]{0,8}$/u);
    fc.assert(
      fc.property(id, id, id, (a, b, c) => {
        expect(Math.sign(compareIds(a, b)) + Math.sign(compareIds(b, a))).toBe(0);
        if (compareIds(a, b) === 0) expect(a).toBe(b);
        if (compareIds(a, b) <= 0 && compareIds(b, c) <= 0) expect(compareIds(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
    expect(compareIds('7', '07')).not.toBe(0);
    expect(compareIds('1752829295506-0', '1752829295505-10')).toBeGreaterThan(0);
  });

  it('compareIds reads digit runs as numbers, a digit run before any other character', () => {
    // The rule written the plain way: tokens, numbers as BigInt, then the ids as strings.
    const tokens = (text: string): string[] => text.match(/\d+|\D/gu) ?? [];
    const reference = (a: string, b: string): number => {
      const ta = tokens(a);
      const tb = tokens(b);
      for (let i = 0; i < Math.min(ta.length, tb.length); i += 1) {
        const [x, y] = [ta[i]!, tb[i]!];
        const dx = /^\d/u.test(x);
        const dy = /^\d/u.test(y);
        if (dx && dy && BigInt(x) !== BigInt(y)) return BigInt(x) < BigInt(y) ? -1 : 1;
        if (dx !== dy) return dx ? -1 : 1;
        if (!dx && x !== y) return x < y ? -1 : 1;
      }
      if (ta.length !== tb.length) return ta.length < tb.length ? -1 : 1;
      return a < b ? -1 : a > b ? 1 : 0;
    };
    const id = fc.stringMatching(/^[0-9a-z.-]{0,12}$/u);
    fc.assert(
      fc.property(id, id, (a, b) => {
        expect(Math.sign(compareIds(a, b))).toBe(Math.sign(reference(a, b)) || 0);
      }),
      { numRuns: 3000 },
    );
    const stream = fc.tuple(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 999 }));
    fc.assert(
      fc.property(stream, stream, ([ma, sa], [mb, sb]) => {
        const expected = Math.sign(ma - mb || sa - sb);
        expect(Math.sign(compareIds(`${ma}-${sa}`, `${mb}-${sb}`)) || 0).toBe(expected || 0);
      }),
    );
  });
});

describe('the summary section', () => {
  const hostile = `https://evil.example/a|b\`code\`<script>alert(1)</script>\nnext | line ${TOKEN}`;
  const censusOf = (values: readonly (readonly [string, number, number?])[]) => {
    const census = new Census();
    for (const [value, times, createdAt] of values)
      for (let i = 0; i < times; i += 1) census.add(createdAt === undefined ? {} : { createdAt }, [value]);
    return census.result(NOW);
  };

  it('escapes and redacts a hostile value: no HTML, no table break, no code span, one line', () => {
    const markdown = censusMarkdown(censusOf([[hostile, 2, NOW - HOUR_MS]]), {
      redact,
      groupBy: 'url',
      filters: [{ input: 'url', values: [hostile] }],
    });
    expect(markdown).not.toContain(TOKEN);
    expect(markdown).not.toContain('<script>');
    expect(markdown).toContain('&lt;script&gt;');
    const row = markdown.split('\n').find((line) => line.includes('evil.example') && line.startsWith('|'))!;
    expect(row).toBeDefined();
    expect(row.replace(/\\\|/gu, '').split('|')).toHaveLength(4); // | value | count |: three pipes unescaped
    expect(row).not.toMatch(/(^|[^\\])`/u);
    expect(row).toContain('next \\| line \\*\\*\\*');
    const filters = markdown.split('\n').find((line) => line.startsWith('- Filters:'))!;
    expect(filters).toContain('&lt;script&gt;');
    expect(filters).not.toContain(TOKEN);
    expect(escapeCell('a\r\nb\u2028c')).toBe('a b c');
  });

  it('shows totals, oldest and newest with their age, the buckets, and the whole DLQ when unfiltered', () => {
    const markdown = censusMarkdown(
      censusOf([
        ['https://a.example', 3, NOW - (3 * DAY_MS + 4 * HOUR_MS)],
        ['https://b.example', 1, NOW - 10 * 60_000],
        ['', 1],
      ]),
      { redact, groupBy: 'workflow-url' },
    );
    expect(markdown).toContain('- Entries: **5**');
    expect(markdown).toContain('- Without createdAt: 1');
    expect(markdown).toContain(`- Oldest: ${new Date(NOW - (3 * DAY_MS + 4 * HOUR_MS)).toISOString()} (3 d 4 h ago)`);
    expect(markdown).toContain(`- Newest: ${new Date(NOW - 10 * 60_000).toISOString()} (10 min ago)`);
    expect(markdown).toContain('- Filters: none: the whole DLQ');
    expect(markdown).toContain('- Grouped by: `workflow-url`');
    expect(markdown).toContain('| https://a.example | 3 |');
    expect(markdown).toContain('| *(no value)* | 1 |');
    expect(markdown).toContain('| < 1 h | 1 |');
    expect(markdown).toContain('| < 7 d | 3 |');
    expect(markdown).toContain('| no createdAt | 1 |');
    expect(markdown).toContain('```mermaid\nxychart-beta');
    expect(markdown).toMatch(/bar \[3, 0, 0, 1\]/u);
  });

  it('shows at most 20 group rows, then one others row with the sum', () => {
    const values = Array.from({ length: 25 }, (_, i) => [`v${String(i).padStart(2, '0')}`, 25 - i] as const);
    const markdown = censusMarkdown(censusOf(values), { redact, groupBy: 'label' });
    const rows = markdown.split('\n').filter((line) => /^\| v\d\d \|/u.test(line));
    expect(rows).toHaveLength(20);
    expect(rows[0]).toBe('| v00 | 25 |');
    expect(markdown).toContain('| *others* | 15 |'); // 5 + 4 + 3 + 2 + 1
  });

  it('draws no chart for a single day, and shows kept counts and thresholds when given', () => {
    const markdown = censusMarkdown(censusOf([['x', 2, NOW]]), {
      redact,
      groupBy: 'url',
      kept: { kept: 10, actedOn: 32, n: 10, per: 'label' },
      thresholds: [
        { name: 'fail-if-count-above', figure: '2 entries', limit: 1, exceeded: true },
        { name: 'fail-if-older-than', figure: '< 1 s', limit: '7 d', exceeded: false },
      ],
    });
    expect(markdown).not.toContain('mermaid');
    expect(markdown).toContain(
      '- Kept (keep-newest 10 per `label`): 10 entries left out of the selection; acted on: 32',
    );
    expect(markdown).toContain('- `fail-if-count-above`: ❌ exceeded: 2 entries (limit 1)');
    expect(markdown).toContain('- `fail-if-older-than`: ✅ within: &lt; 1 s (limit 7 d)');
  });
});

describe('formatAge', () => {
  it.each([
    [0, '< 1 s'],
    [999, '< 1 s'],
    [12_000, '12 s'],
    [4 * 60_000 + 10_000, '4 min 10 s'],
    [5 * HOUR_MS + 2 * 60_000 + 30_000, '5 h 2 min'],
    [3 * DAY_MS + 4 * HOUR_MS + 59 * 60_000, '3 d 4 h'],
    [2 * DAY_MS, '2 d'],
    [HOUR_MS + 30_000, '1 h'],
    [-2 * HOUR_MS, '2 h'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});
