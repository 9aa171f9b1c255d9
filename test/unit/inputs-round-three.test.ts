/**
 * The parts behind test/e2e/inputs-round-three.test.ts: blank and retired inputs in readSettings, quoted ids, ids
 * shown with the token removed before they are cut, and proxy values with a path, a query or a fragment.
 */
import { describe, expect, it } from 'vitest';
import { assertUsableIds, idProblem, parseIdList, showId } from '../../src/ids.js';
import { BLANK_REFUSED, inputVariable, RETIRED_INPUTS } from '../../src/inputs.js';
import { parseProxy, ProxyConfigError, proxyFor, showProxyValue } from '../../src/qstash/proxy.js';
import { readSettings, redactorFor, type SettingsSource } from '../../src/settings.js';

const TOKEN = 'tok_abc123SECRETvalue';

/** A source as a runner builds it: every input given is also present as its INPUT_ variable. */
function runnerSource(inputs: Record<string, string>, env: Record<string, string> = {}): SettingsSource {
  const variables: Record<string, string> = { ...env };
  for (const [name, value] of Object.entries(inputs)) variables[inputVariable(name)] = value;
  return { input: (name) => inputs[name] ?? '', env: (name) => variables[name], readFile: () => '' };
}

function problem(source: SettingsSource): string {
  try {
    readSettings(source);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('readSettings accepted the inputs');
}

describe('blank inputs', () => {
  it.each(BLANK_REFUSED.map((spec) => [spec.name]))('%s present and blank is refused, naming it', (name) => {
    for (const blank of ['', ' ', '\n']) {
      const message = problem(runnerSource({ 'qstash-token': TOKEN, 'dlq-ids': 'a', [name]: blank }));
      expect(message).toContain(`${name}: evaluated to an empty value (${JSON.stringify(blank)})`);
      expect(message).toMatch(/no request was sent/);
    }
  });

  it('absent (no INPUT_ variable: outside a runner) means the default', () => {
    const settings = readSettings({
      input: (name) => ({ 'qstash-token': TOKEN, 'dlq-ids': 'a' })[name] ?? '',
      env: () => undefined,
      readFile: () => '',
    });
    expect(settings).toMatchObject({ dryRun: false, operation: 'delete', dlq: 'workflow', onNotFound: 'pass' });
  });

  it('blank tuning inputs take their defaults', () => {
    const settings = readSettings(
      runnerSource({ 'qstash-token': TOKEN, 'dlq-ids': 'a', concurrency: '', 'max-retries': '', strategy: ' ' }),
    );
    expect(settings).toMatchObject({ concurrency: 8, maxRetries: 3, strategy: 'auto' });
  });

  it('blank inputs whose default is empty are "not given"', () => {
    const settings = readSettings(runnerSource({ 'qstash-token': TOKEN, 'dlq-ids': 'a', label: '', 'qstash-url': '' }));
    expect(settings.target).toEqual({ kind: 'ids', ids: ['a'] });
  });
});

describe('retired input names', () => {
  it.each(RETIRED_INPUTS.map(({ name, use }) => [name, use]))('%s is refused, naming %s', (name, use) => {
    for (const value of ['true', '5', '']) {
      const message = problem(runnerSource({ 'qstash-token': TOKEN, 'dlq-ids': 'a', [name]: value }));
      expect(message).toContain(
        `${name}: ${JSON.stringify(value)} is not an input of this action (it was renamed ${use})`,
      );
    }
  });
});

describe('quoted ids', () => {
  it.each(['"id-a"', "'id-a'", '`id-a`', 'id"a', '\uff02id-a\uff02'])('%s is refused', (id) => {
    expect(idProblem(id)).toMatch(/quote/);
  });

  it('the error names the input, the id and the forms accepted', () => {
    const ids = parseIdList('"id-a", "id-b"', { label: 'dlq-ids' });
    expect(ids).toEqual(['"id-a"', '"id-b"']);
    expect(() => assertUsableIds(ids, { label: 'dlq-ids' })).toThrow(
      /^dlq-ids: 2 invalid ids: id #1 "\\"id-a\\"" contains a quote .*or a JSON array of strings such as \["id-1","id-2"\]\.$/,
    );
  });

  it('a JSON array of strings is still read', () => {
    expect(parseIdList('["id-a", "id-b"]', { label: 'dlq-ids' })).toEqual(['id-a', 'id-b']);
  });
});

describe('secrets are removed before an id is cut', () => {
  const redact = redactorFor([TOKEN]);

  it('showId redacts, then cuts', () => {
    const id = `${'a'.repeat(70)}${TOKEN}/x`;
    expect(showId(id, 80, redact)).toBe(`"${'a'.repeat(70)}***/x"`);
    const long = `${'a'.repeat(75)}${TOKEN}${'b'.repeat(40)}`;
    const shown = showId(long, 80, redact);
    expect(shown).not.toContain(TOKEN.slice(0, 5));
    expect(shown).toContain('…');
  });

  it('assertUsableIds and parseIdList use the source redaction', () => {
    const source = { label: 'dlq-ids', redact };
    expect(() => assertUsableIds([`${'a'.repeat(70)}${TOKEN}/`], source)).toThrow(/"a{70}\*\*\*\/"/);
    const element = JSON.stringify([{ k: `${'a'.repeat(25)}${TOKEN}` }]);
    expect(() => parseIdList(element, source)).toThrow(/is a object \(\{"k":"a{25}\*\*\*"\}\)/);
    try {
      parseIdList(`["${'a'.repeat(5)}${TOKEN}", x]`, source);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(TOKEN.slice(0, 5));
    }
  });

  it('redactorFor masks the pieces Log masks: the value and its lines of 8 characters or more', () => {
    const r = redactorFor(['line-one-secret\nshort\nline-two-secret']);
    expect(r('x line-one-secret y short z line-two-secret')).toBe('x *** y short z ***');
  });

  it('readSettings redacts the token from a bad id', () => {
    const message = problem(runnerSource({ 'qstash-token': TOKEN, 'dlq-ids': `${'a'.repeat(72)}${TOKEN}?` }));
    expect(message).not.toContain(TOKEN.slice(0, 6));
  });
});

describe('proxy values with a path, a query or a fragment', () => {
  const KEY = 'k3yS3cr3t';

  it.each([
    ['http://proxy.corp:3128/x', /has a path \(hidden\)/],
    [`http://proxy.corp:3128/?key=${KEY}`, /has a query \(hidden\)/],
    [`proxy.corp:3128?key=${KEY}`, /has a query \(hidden\)/],
    [`http://proxy.corp:3128#${KEY}`, /has a fragment \(hidden\)/],
    [`http://proxy.corp:3128/a?b#${KEY}`, /has a path \(hidden\) and a query \(hidden\) and a fragment \(hidden\)/],
  ])('%s is refused, naming the variable, hiding the query', (value, why) => {
    expect(() => parseProxy('HTTPS_PROXY', value)).toThrow(ProxyConfigError);
    expect(() => parseProxy('HTTPS_PROXY', value)).toThrow(why);
    expect(() => parseProxy('HTTPS_PROXY', value)).toThrow(/^HTTPS_PROXY: /);
    try {
      parseProxy('HTTPS_PROXY', value);
    } catch (error) {
      expect((error as Error).message).not.toContain(KEY);
      expect((error as ProxyConfigError).variable).toBe('HTTPS_PROXY');
    }
  });

  it('an origin, with or without a trailing /, is accepted', () => {
    expect(parseProxy('https_proxy', 'http://proxy.corp:3128').host).toBe('proxy.corp:3128');
    expect(parseProxy('https_proxy', 'http://proxy.corp:3128/').host).toBe('proxy.corp:3128');
  });

  it('showProxyValue hides credentials, the query and the fragment', () => {
    expect(showProxyValue(`http://u:${KEY}@p:1/x?key=${KEY}#${KEY}`)).toBe('"http://***@p:1/***?***"');
    expect(showProxyValue(`http://p:bad#${KEY}`)).toBe('"http://p:bad#***"');
  });

  it('an unparsable value does not echo its query', () => {
    expect(() => parseProxy('https_proxy', `http://p:bad?key=${KEY}`)).toThrow(
      /"http:\/\/p:bad\?\*\*\*" is not a proxy URL/,
    );
  });

  it('proxyFor names the variable it read', () => {
    const target = new URL('https://qstash.upstash.io');
    expect(() => proxyFor(target, { https_proxy: 'http://p:1/lower', HTTPS_PROXY: 'http://p:1' })).toThrow(
      /^https_proxy: /,
    );
    expect(() => proxyFor(target, { HTTPS_PROXY: 'http://p:1/upper' })).toThrow(/^HTTPS_PROXY: /);
  });
});
