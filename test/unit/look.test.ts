import { describe, expect, it } from 'vitest';
import { Census } from '../../src/census.js';
import { lookAt, lookOutputs, thresholdLines, type LookOptions } from '../../src/look.js';
import { noOutcomes, type EntryInfo, type Outcomes } from '../../src/outcomes.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const DAY = 86_400_000;
const same = (text: string): string => text.replace(/SECRET/gu, '***');

function selected(infos: EntryInfo[], extra: Partial<Outcomes> = {}, kept?: Set<string>): Outcomes {
  return {
    ...noOutcomes(),
    selection: {
      filters: [],
      matched: infos.length - (kept?.size ?? 0),
      entries: new Map(infos.map((info) => [info.dlqId, info])),
      capInput: 'max-entries',
      allInput: 'select-all',
      ...(kept && { kept }),
    },
    ...extra,
  };
}

const options = (more: Partial<LookOptions> = {}): LookOptions => ({
  thresholds: {},
  onThreshold: 'fail',
  now: NOW,
  report: true,
  ...more,
});

const three = [
  { dlqId: 'a', createdAt: NOW - 3 * DAY },
  { dlqId: 'b', createdAt: NOW - DAY },
  { dlqId: 'c', createdAt: NOW - 1000 },
];

describe('lookAt and lookOutputs', () => {
  it('a finished listing is exact: the count and the dates are given', () => {
    const look = lookAt(selected(three), options());
    expect(look.exact).toBe(true);
    const outputs = lookOutputs(look, same);
    expect(outputs['entries-count']).toBe('3');
    expect(outputs['oldest-created-at']).toBe(new Date(NOW - 3 * DAY).toISOString());
    expect(outputs['newest-created-at']).toBe(new Date(NOW - 1000).toISOString());
    expect(outputs['threshold-exceeded']).toBe('false');
    expect(JSON.parse(outputs.groups!)).toEqual({ '': 3 });
  });

  it('a listing that failed is inexact: no count, no dates, no threshold exceeded, even over the limit', () => {
    const outcomes = selected(three, {
      stopped: { kind: 'listing-failed', reason: 'HTTP 500' } as Outcomes['stopped'],
    });
    const look = lookAt(outcomes, options({ thresholds: { countAbove: 0 } }));
    expect(look.exact).toBe(false);
    expect(look.exceeded).toEqual([]);
    const outputs = lookOutputs(look, same);
    expect(outputs['entries-count']).toBe('');
    expect(outputs['oldest-created-at']).toBe('');
    expect(outputs.groups).toBe('');
    expect(outputs['threshold-exceeded']).toBe('false');
  });

  it('a run stopped by its threshold is still exact (the whole listing was read)', () => {
    const outcomes = selected(three, { stopped: { kind: 'threshold-exceeded', reason: 'x' } as Outcomes['stopped'] });
    const look = lookAt(outcomes, options({ thresholds: { countAbove: 2 } }));
    expect(look.exact).toBe(true);
    expect(look.exceeded.map((e) => e.input)).toEqual(['fail-if-count-above']);
    expect(lookOutputs(look, same)['threshold-exceeded']).toBe('true');
  });

  it('the cap exceeded after the whole listing is exact; a listing stopped past the cap (atLeast) is not', () => {
    const capped = selected(three, { stopped: { kind: 'cap-exceeded', reason: 'x' } as Outcomes['stopped'] });
    expect(lookAt(capped, options()).exact).toBe(true);
    const atLeast: Outcomes = { ...capped, selection: { ...capped.selection!, atLeast: true } };
    expect(lookAt(atLeast, options()).exact).toBe(false);
    expect(lookOutputs(lookAt(atLeast, options()), same)['entries-count']).toBe('');
  });

  it('what keep-newest kept is not counted', () => {
    const look = lookAt(selected(three, {}, new Set(['c'])), options());
    expect(lookOutputs(look, same)['entries-count']).toBe('2');
    expect(lookOutputs(look, same)['newest-created-at']).toBe(new Date(NOW - DAY).toISOString());
  });

  it('groups only for a report; the redactor is applied to group keys', () => {
    const outcomes = selected(three);
    const withGroups: Outcomes = {
      ...outcomes,
      selection: {
        ...outcomes.selection!,
        groups: new Map([
          ['a', ['xSECRETx']],
          ['b', ['xSECRETx']],
          ['c', ['ok']],
        ]),
      },
    };
    expect(JSON.parse(lookOutputs(lookAt(withGroups, options()), same).groups!)).toEqual({ 'x***x': 2, ok: 1 });
    const notReport = lookOutputs(lookAt(withGroups, options({ report: false })), same);
    expect(notReport.groups).toBe('');
    expect(notReport['entries-count']).toBe('3');
  });

  it('no selection (a by-id change): nothing counted, every figure empty', () => {
    const outputs = lookOutputs(lookAt(noOutcomes(), options({ report: false })), same);
    expect(outputs['entries-count']).toBe('');
    expect(outputs['threshold-exceeded']).toBe('false');
    expect(lookOutputs(undefined, same)['entries-count']).toBe('');
  });

  it('a by-id report is exact when every id was read, not when one failed', () => {
    const read = new Census();
    read.add({ createdAt: NOW - DAY }, ['']);
    const found = lookAt({ ...noOutcomes(), ids: ['a', 'gone'], notFound: ['gone'] }, options({ read }));
    expect(found.exact).toBe(true);
    expect(lookOutputs(found, same)['entries-count']).toBe('1');
    const failed = lookAt(
      { ...noOutcomes(), ids: ['a', 'x'], failed: [{ id: 'x' } as Outcomes['failed'][number]] },
      options({ read }),
    );
    expect(failed.exact).toBe(false);
    expect(lookOutputs(failed, same)['entries-count']).toBe('');
  });
});

describe('thresholdLines', () => {
  it('each threshold set, with its figure and limit, and whether it was exceeded', () => {
    const look = lookAt(
      selected(three),
      options({ thresholds: { countAbove: 5, olderThanMs: 2 * DAY, olderThanRaw: '2d' } }),
    );
    const lines = thresholdLines(look);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({ name: 'fail-if-count-above', figure: '3 entries', limit: 5, exceeded: false });
    expect(lines[1]).toMatchObject({ name: 'fail-if-older-than', limit: '2d', exceeded: true });
    expect(String(lines[1]!.figure)).toMatch(/^oldest 3 d/u);
  });

  it('no thresholds: no lines; an inexact look says "not counted"', () => {
    expect(thresholdLines(lookAt(selected(three), options()))).toEqual([]);
    const failed = selected(three, { stopped: { kind: 'listing-failed', reason: 'x' } as Outcomes['stopped'] });
    const lines = thresholdLines(lookAt(failed, options({ thresholds: { countAbove: 1, olderThanMs: DAY } })));
    expect(lines.map((l) => [l.figure, l.exceeded])).toEqual([
      ['not counted', false],
      ['no dated entry', false],
    ]);
  });
});
