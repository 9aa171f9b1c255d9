/**
 * The public contract: action.yml against the names the code reads and writes. An input or output added to one and
 * not the other, or a default that differs, fails here rather than in a user's workflow.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DATE_INPUTS, FILTER_INPUTS, FILTERS } from '../../src/filters.js';
import { BLANK_REFUSED, CODE_DEFAULTS, INPUTS, OUTPUTS, RETIRED_INPUTS, type InputSpec } from '../../src/inputs.js';
import { REDRIVE_OVERRIDES } from '../../src/operations.js';

interface ActionYml {
  inputs: Record<string, { description?: string; default?: unknown; required?: boolean }>;
  outputs: Record<string, { description?: string }>;
}

const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as ActionYml;
const specs: readonly InputSpec[] = Object.values(INPUTS);
const filterNames = [...FILTERS.map((filter) => filter.input), ...Object.values(DATE_INPUTS)];
/** The default a runner sends for an input: action.yml's, as a string ('' when there is none). */
const ymlDefault = (name: string): string => String(action.inputs[name]?.default ?? '');
const description = (name: string): string => (action.inputs[name]?.description ?? '').replace(/\s+/gu, ' ');

describe('action.yml and the code name the same inputs', () => {
  it('every action.yml input is read by the code (INPUTS or the filters)', () => {
    const known = new Set([...specs.map((spec) => spec.name), ...filterNames]);
    expect(Object.keys(action.inputs).filter((name) => !known.has(name))).toEqual([]);
  });

  it('every input the code reads is in action.yml', () => {
    const missing = [...specs.map((spec) => spec.name), ...filterNames].filter((name) => !(name in action.inputs));
    expect(missing).toEqual([]);
  });

  it('INPUTS and the filters do not overlap, and FILTER_INPUTS is every filter', () => {
    const names = new Set(specs.map((spec) => spec.name));
    expect(filterNames.filter((name) => names.has(name))).toEqual([]);
    expect([...FILTER_INPUTS].sort()).toEqual([...filterNames].sort());
    expect(new Set(specs.map((spec) => spec.name)).size).toBe(specs.length);
  });

  it.each(specs.map((spec) => [spec.name, spec] as const))('%s has the same default in action.yml', (name, spec) => {
    expect(ymlDefault(name)).toBe(spec.default);
  });

  it.each(filterNames)('filter %s defaults to empty (not given)', (name) => {
    expect(ymlDefault(name)).toBe('');
  });

  it('no input is required: every one has a default a runner sends', () => {
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.required ?? false, name).toBe(false);
      expect(input.default, name).toBeDefined();
    }
  });

  it.each(specs.filter((spec) => spec.choices !== undefined).map((spec) => [spec.name, spec] as const))(
    'the choices of %s appear in its action.yml description',
    (name, spec) => {
      const text = description(name);
      for (const choice of spec.choices!)
        expect(text, `${name}: ${choice}`).toMatch(new RegExp(`\\b${choice}\\b`, 'u'));
      expect(spec.choices).toContain(spec.default);
    },
  );

  it('the defaults applied in code (an input absent outside a runner) are the ones action.yml sends', () => {
    expect(ymlDefault(INPUTS.maxEntries.name)).toBe(String(CODE_DEFAULTS.maxEntries));
    expect(ymlDefault(INPUTS.selectAll.name)).toBe(String(CODE_DEFAULTS.selectAll));
    expect(description(INPUTS.qstashUrl.name)).toContain(CODE_DEFAULTS.qstashUrl);
  });

  it('defaults are written one way: booleans false, numbers their number', () => {
    for (const spec of [INPUTS.selectAll, INPUTS.dryRun, INPUTS.deleteAfterRedrive]) {
      expect(action.inputs[spec.name]?.default, spec.name).toBe('false');
    }
    for (const spec of [INPUTS.maxEntries, INPUTS.concurrency, INPUTS.maxRetries, INPUTS.requestTimeout]) {
      expect(ymlDefault(spec.name), spec.name).toMatch(/^\d+$/u);
    }
  });

  it('an input refused when blank has a default that is not blank (so only an expression can send it blank)', () => {
    for (const spec of BLANK_REFUSED) expect(ymlDefault(spec.name).trim(), spec.name).not.toBe('');
  });

  it('each input has one name: the retired names are not in action.yml, and name an input that is', () => {
    for (const { name, use } of RETIRED_INPUTS) {
      expect(action.inputs[name], name).toBeUndefined();
      expect(action.inputs[use], use).toBeDefined();
    }
  });

  it('every input description is at most 200 characters (detail goes to the README)', () => {
    const long = Object.keys(action.inputs).filter((name) => description(name).trim().length > 200);
    expect(long).toEqual([]);
  });

  it('every re-run override is an input, and says which header it sets', () => {
    for (const override of REDRIVE_OVERRIDES) {
      expect(specs.map((spec) => spec.name)).toContain(override.input);
      expect(description(override.input)).toContain(override.header);
    }
  });
});

describe('action.yml and the code name the same outputs', () => {
  it('OUTPUTS equals the outputs of action.yml', () => {
    expect([...OUTPUTS].sort()).toEqual(Object.keys(action.outputs).sort());
  });

  it('every output is described', () => {
    for (const name of OUTPUTS) expect(action.outputs[name]?.description?.trim(), name).toBeTruthy();
  });
});
