import { describe, expect, it } from 'vitest';
import {
  collectTokens,
  DEFAULT_QSTASH_URL,
  EndpointError,
  normalizeRegion,
  resolveEndpoint,
  validateBaseUrl,
  type Endpoint,
  type EndpointSource,
} from '../../src/endpoint.js';

const US = 'https://qstash-us-east-1.upstash.io';
const EU = 'https://qstash-eu-central-1.upstash.io';
const T = {
  input: 'tok_input_AAAA',
  plain: 'tok_plain_BBBB',
  us: 'tok_us_CCCC',
  eu: 'tok_eu_DDDD',
};
const ALL_TOKENS = Object.values(T);
/** A token pasted into the wrong variable, as real ones look (base64 JSON). */
const PASTED = 'eyJVc2VySUQiOiJ0ZXN0IiwiUGFzc3dvcmQiOiJ4eXoifQ==';

function source(inputs: Record<string, string>, env: Record<string, string> = {}): EndpointSource {
  return { input: (name) => inputs[name] ?? '', env: (name) => env[name] };
}

const resolve = (inputs: Record<string, string>, env: Record<string, string> = {}): Endpoint =>
  resolveEndpoint(source(inputs, env));

/** No message the module writes may contain a token. */
function expectNoToken(texts: readonly string[]): void {
  for (const text of texts) for (const token of ALL_TOKENS) expect(text).not.toContain(token);
}

const usVars = { US_EAST_1_QSTASH_URL: US, US_EAST_1_QSTASH_TOKEN: T.us };
const euVars = { EU_CENTRAL_1_QSTASH_URL: EU, EU_CENTRAL_1_QSTASH_TOKEN: T.eu };
const plainVars = { QSTASH_URL: 'https://plain.example.com', QSTASH_TOKEN: T.plain };

describe('resolveEndpoint: where the URL and token come from', () => {
  it.each<[string, Record<string, string>, Record<string, string>, Partial<Endpoint>]>([
    [
      'nothing: the default URL and no token',
      {},
      {},
      { url: DEFAULT_QSTASH_URL, urlSource: 'default', token: '', tokenSource: 'none' },
    ],
    [
      'both inputs win over everything',
      { 'qstash-url': US, 'qstash-token': T.input },
      { QSTASH_REGION: 'eu-central-1', ...euVars, ...plainVars },
      { url: US, urlSource: 'input qstash-url', token: T.input, tokenSource: 'input qstash-token' },
    ],
    [
      'QSTASH_REGION=us-east-1 selects the US_EAST_1_ pair',
      {},
      { QSTASH_REGION: 'us-east-1', ...usVars, ...euVars, ...plainVars },
      {
        url: US,
        urlSource: 'US_EAST_1_QSTASH_URL (QSTASH_REGION=us-east-1)',
        token: T.us,
        tokenSource: 'US_EAST_1_QSTASH_TOKEN (QSTASH_REGION=us-east-1)',
      },
    ],
    [
      'QSTASH_REGION=EU_CENTRAL_1',
      {},
      { QSTASH_REGION: 'EU_CENTRAL_1', ...usVars, ...euVars },
      {
        url: EU,
        urlSource: 'EU_CENTRAL_1_QSTASH_URL (QSTASH_REGION=EU_CENTRAL_1)',
        token: T.eu,
        tokenSource: 'EU_CENTRAL_1_QSTASH_TOKEN (QSTASH_REGION=EU_CENTRAL_1)',
      },
    ],
    [
      'QSTASH_URL / QSTASH_TOKEN',
      {},
      plainVars,
      { url: 'https://plain.example.com', urlSource: 'QSTASH_URL', token: T.plain, tokenSource: 'QSTASH_TOKEN' },
    ],
    [
      'the token input alone, default URL',
      { 'qstash-token': T.input },
      {},
      { url: DEFAULT_QSTASH_URL, urlSource: 'default', token: T.input, tokenSource: 'input qstash-token' },
    ],
    [
      'the token input alone wins over QSTASH_TOKEN; QSTASH_URL (an Upstash host) still read',
      { 'qstash-token': T.input },
      { ...plainVars, QSTASH_URL: US },
      { url: US, urlSource: 'QSTASH_URL', token: T.input, tokenSource: 'input qstash-token' },
    ],
    [
      'the URL input alone wins over the region URL; the token is the region one',
      { 'qstash-url': EU },
      { QSTASH_REGION: 'us_east_1', ...usVars },
      {
        url: EU,
        urlSource: 'input qstash-url',
        token: T.us,
        tokenSource: 'US_EAST_1_QSTASH_TOKEN (QSTASH_REGION=us_east_1)',
      },
    ],
    [
      'the token input alone wins over the region token; the URL is the region one',
      { 'qstash-token': T.input },
      { QSTASH_REGION: 'US-EAST-1', ...usVars },
      {
        url: US,
        urlSource: 'US_EAST_1_QSTASH_URL (QSTASH_REGION=US-EAST-1)',
        token: T.input,
        tokenSource: 'input qstash-token',
      },
    ],
    [
      'blank inputs and variables count as unset',
      { 'qstash-url': '  ', 'qstash-token': '' },
      { QSTASH_REGION: ' ', QSTASH_URL: '', QSTASH_TOKEN: `  ${T.plain}\n` },
      { url: DEFAULT_QSTASH_URL, urlSource: 'default', token: T.plain, tokenSource: 'QSTASH_TOKEN' },
    ],
  ])('%s', (_name, inputs, env, expected) => {
    const endpoint = resolve(inputs, env);
    expect(endpoint).toMatchObject(expected);
  });

  it.each([
    ['us-east-1', 'US_EAST_1'],
    ['US_EAST_1', 'US_EAST_1'],
    ['Us-East_1', 'US_EAST_1'],
    ['eu-central-1', 'EU_CENTRAL_1'],
    [' eu_central_1 ', 'EU_CENTRAL_1'],
    ['ap-south-1', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('normalizeRegion(%j) = %s', (raw, expected) => {
    expect(normalizeRegion(raw)).toBe(expected);
  });
});

describe('resolveEndpoint: warnings', () => {
  it('the common setups warn about nothing', () => {
    expect(resolve({ 'qstash-token': T.input }).warnings).toEqual([]);
    expect(resolve({}, plainVars).warnings).toEqual([]);
    expect(resolve({}, { QSTASH_REGION: 'us-east-1', ...usVars }).warnings).toEqual([]);
    expect(resolve({ 'qstash-url': US, 'qstash-token': T.input }, { QSTASH_REGION: 'nowhere' }).warnings).toEqual([]);
    // The default URL is no place of its own: a token from anywhere with it is the usual setup.
    expect(resolve({}, { QSTASH_TOKEN: T.plain }).warnings).toEqual([]);
  });

  it.each<[string, Record<string, string>, Record<string, string>, string]>([
    ['qstash-token with QSTASH_URL', { 'qstash-token': T.input }, { QSTASH_URL: US }, 'input qstash-token'],
    ['qstash-url with QSTASH_TOKEN', { 'qstash-url': US }, { QSTASH_TOKEN: T.plain }, 'QSTASH_TOKEN'],
    [
      'qstash-token with a loopback QSTASH_URL (allowed, but warned)',
      { 'qstash-token': T.input },
      { QSTASH_URL: 'http://127.0.0.1:9' },
      'input qstash-token',
    ],
  ])('mixed sources warn, as the README promises: %s', (_name, inputs, env, tokenSource) => {
    const endpoint = resolve(inputs, env);
    expect(endpoint.tokenSource).toBe(tokenSource);
    expect(endpoint.warnings).toHaveLength(1);
    expect(endpoint.warnings[0]).toMatch(
      /^The QStash URL comes from (QSTASH_URL|input qstash-url) but the token from /u,
    );
    expect(endpoint.warnings[0]).toContain('take both from the same place');
    expectNoToken(endpoint.warnings);
  });

  it('an unknown QSTASH_REGION: warn and fall back, as the clients do', () => {
    const endpoint = resolve({}, { QSTASH_REGION: 'ap-south-1', ...usVars, ...plainVars });
    expect(endpoint).toMatchObject({ urlSource: 'QSTASH_URL', tokenSource: 'QSTASH_TOKEN', token: T.plain });
    expect(endpoint.warnings).toHaveLength(1);
    expect(endpoint.warnings[0]).toMatch(/^QSTASH_REGION is "ap-south-1", not a QStash region/u);
    expect(endpoint.warnings[0]).toContain('US_EAST_1, EU_CENTRAL_1');
  });

  it('a region whose token variable is missing: warn, name it, fall back', () => {
    const endpoint = resolve({}, { QSTASH_REGION: 'us-east-1', US_EAST_1_QSTASH_URL: US, ...plainVars });
    expect(endpoint).toMatchObject({ url: 'https://plain.example.com', token: T.plain, tokenSource: 'QSTASH_TOKEN' });
    expect(endpoint.warnings).toEqual([
      'QSTASH_REGION is "us-east-1" but US_EAST_1_QSTASH_TOKEN is not set; falling back to QSTASH_URL (or the default URL) and QSTASH_TOKEN, as the Upstash clients do.',
    ]);
  });

  it('a region with neither variable: both named', () => {
    const endpoint = resolve({}, { QSTASH_REGION: 'EU_CENTRAL_1' });
    expect(endpoint).toMatchObject({ url: DEFAULT_QSTASH_URL, urlSource: 'default', tokenSource: 'none' });
    expect(endpoint.warnings[0]).toContain('EU_CENTRAL_1_QSTASH_URL and EU_CENTRAL_1_QSTASH_TOKEN are not set');
  });

  it('a region missing only what an input gives is complete', () => {
    const endpoint = resolve({ 'qstash-url': US }, { QSTASH_REGION: 'us-east-1', US_EAST_1_QSTASH_TOKEN: T.us });
    expect(endpoint).toMatchObject({
      url: US,
      token: T.us,
      tokenSource: expect.stringMatching(/^US_EAST_1_QSTASH_TOKEN/u),
    });
    // Still a URL and a token from different places: warned.
    expect(endpoint.warnings).toHaveLength(1);
    expect(endpoint.warnings[0]).toMatch(/401/u);
  });

  it('a URL and a token from different places, one of them a region: the commonest 401', () => {
    const endpoint = resolve({ 'qstash-url': US }, { QSTASH_REGION: 'eu-central-1', ...euVars });
    expect(endpoint).toMatchObject({ url: US, token: T.eu });
    expect(endpoint.warnings).toHaveLength(1);
    expect(endpoint.warnings[0]).toContain('comes from input qstash-url but the token from EU_CENTRAL_1_QSTASH_TOKEN');
    expect(endpoint.warnings[0]).toContain(`(${US} is the US_EAST_1 region; the token is the EU_CENTRAL_1 region's)`);
    expect(endpoint.warnings[0]).toContain("A token of one region used against the other region's URL");
  });

  it('the old publish URL in QSTASH_URL is read as the default, with a warning', () => {
    for (const value of ['https://qstash.upstash.io/v2/publish', 'https://qstash.upstash.io/v2/publish/']) {
      const endpoint = resolve({}, { QSTASH_URL: value, QSTASH_TOKEN: T.plain });
      expect(endpoint.url).toBe(DEFAULT_QSTASH_URL);
      expect(endpoint.warnings[0]).toMatch(/^QSTASH_URL is the old publish URL/u);
    }
  });

  it('never puts a token in a warning or a source', () => {
    const cases = [
      resolve({ 'qstash-url': US }, { QSTASH_REGION: 'eu-central-1', ...euVars }),
      resolve({ 'qstash-token': T.input }, { QSTASH_REGION: 'us-east-1', ...usVars }),
      resolve({}, { QSTASH_REGION: PASTED, ...plainVars }),
      resolve({}, { QSTASH_REGION: 'us-east-1', US_EAST_1_QSTASH_TOKEN: T.us, ...plainVars }),
    ];
    for (const endpoint of cases) {
      expectNoToken([...endpoint.warnings, endpoint.urlSource, endpoint.tokenSource]);
      for (const warning of endpoint.warnings) expect(warning).not.toContain(PASTED);
    }
    expect(cases[2]!.warnings[0]).toMatch(/^QSTASH_REGION is an unknown value \(48 characters, not shown\)/u);
  });

  it.each([
    ['ap-south-1', true],
    ['AP_SOUTH_1', true],
    ['nowhere', true],
    ['us-east-2', true],
    // Token-like: mixed case, long runs, digits inside words, prefixes of keys.
    ['sig_7rT2kQ9xLmW4', false],
    ['AbCdEfGhIjKlMnOpQrStUvWx', false],
    ['abcdefghijklmnopqrstuvwx', false],
    ['tok123abc', false],
    ['Us-East-1', false],
    ['a b', false],
  ])('QSTASH_REGION=%j is shown only when it looks like a region name (%s)', (raw, shown) => {
    const warning = resolve({}, { QSTASH_REGION: raw, ...plainVars }).warnings[0]!;
    if (shown) expect(warning).toContain(`QSTASH_REGION is ${JSON.stringify(raw)},`);
    else {
      expect(warning).toContain(`QSTASH_REGION is an unknown value (${raw.length} characters, not shown)`);
      expect(warning).not.toContain(raw);
    }
  });
});

describe('resolveEndpoint: a token input is not sent to a host a variable named', () => {
  it.each<[string, Record<string, string>, string, string]>([
    ['QSTASH_URL', { QSTASH_URL: 'https://evil.example.com' }, 'QSTASH_URL', 'QSTASH_TOKEN'],
    [
      'a region URL',
      {
        QSTASH_REGION: 'us-east-1',
        US_EAST_1_QSTASH_URL: 'https://qstash.attacker.test',
        US_EAST_1_QSTASH_TOKEN: T.us,
      },
      'US_EAST_1_QSTASH_URL',
      'US_EAST_1_QSTASH_TOKEN',
    ],
    ['a look-alike host', { QSTASH_URL: 'https://qstash.upstash.io.evil.example' }, 'QSTASH_URL', 'QSTASH_TOKEN'],
    [
      'a host ending in upstash.io without the dot',
      { QSTASH_URL: 'https://notupstash.io' },
      'QSTASH_URL',
      'QSTASH_TOKEN',
    ],
  ])('from %s: refused, naming qstash-token and the variable, saying how to fix it', (_name, env, variable, family) => {
    let caught: unknown;
    try {
      resolve({ 'qstash-token': T.input }, env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EndpointError);
    const error = caught as EndpointError;
    expect(error.label).toBe('qstash-token');
    expect(error.message).toMatch(/^qstash-token: refused to send the qstash-token input to https:\/\//u);
    expect(error.message).toContain(`comes from the ${variable} variable`);
    expect(error.message).toContain('neither an Upstash host (*.upstash.io) nor loopback');
    expect(error.message).toContain('Give qstash-url too');
    expect(error.message).toContain(`put the token in ${family} beside ${variable}`);
    expect(error.tokensToMask).toContain(T.input);
    expectNoToken([error.message]);
  });

  it.each([
    ['an Upstash host', { QSTASH_URL: US }],
    ['another Upstash host', { QSTASH_URL: 'https://qstash-ap-south-1.upstash.io' }],
    ['an Upstash host written fully qualified', { QSTASH_URL: 'https://qstash.upstash.io.' }],
    ['127.0.0.1', { QSTASH_URL: 'http://127.0.0.1:8080' }],
    ['localhost', { QSTASH_URL: 'http://localhost:8080' }],
    ['[::1]', { QSTASH_URL: 'http://[::1]:8080' }],
    ['a region URL on Upstash', { QSTASH_REGION: 'us-east-1', ...usVars }],
  ])('from a variable naming %s: allowed (with the mixed-sources warning)', (_name, env) => {
    expect(resolve({ 'qstash-token': T.input }, env).token).toBe(T.input);
  });

  it('any host is allowed when the URL and the token come from the same place', () => {
    expect(resolve({}, plainVars).url).toBe('https://plain.example.com');
    expect(resolve({ 'qstash-url': 'https://plain.example.com', 'qstash-token': T.input }).token).toBe(T.input);
  });
});

describe('resolveEndpoint: URLs', () => {
  it.each([
    [`${US}/`, US],
    ['https://QSTASH-US-EAST-1.upstash.io', US],
    ['https://qstash.upstash.io:443/', DEFAULT_QSTASH_URL],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['http://localhost:8080', 'http://localhost:8080'],
    ['http://[::1]:8080', 'http://[::1]:8080'],
    ['  https://qstash.example.com  ', 'https://qstash.example.com'],
  ])('%s -> %s', (raw, expected) => {
    expect(resolve({ 'qstash-url': raw, 'qstash-token': T.input }).url).toBe(expected);
  });

  it.each([
    ['input', { 'qstash-url': 'not a url' }, {}, 'qstash-url'],
    ['QSTASH_URL', {}, { QSTASH_URL: 'not a url' }, 'QSTASH_URL'],
    [
      'a region variable',
      {},
      { QSTASH_REGION: 'us-east-1', US_EAST_1_QSTASH_URL: 'not a url', US_EAST_1_QSTASH_TOKEN: T.us },
      'US_EAST_1_QSTASH_URL',
    ],
  ])('names where a bad URL came from: %s', (_name, inputs, env, label) => {
    let error: unknown;
    try {
      resolve(inputs, { QSTASH_TOKEN: T.plain, ...env });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EndpointError);
    expect((error as EndpointError).label).toBe(label);
    expect((error as EndpointError).message).toMatch(
      new RegExp(`^${label}: "not a url" is not a URL\\. Accepted: an https:// origin`, 'u'),
    );
    // The caller can mask every token before printing the error.
    expect((error as EndpointError).tokensToMask).toEqual(expect.arrayContaining([T.plain]));
  });

  it.each([
    ['http://qstash.example.com', 'is not https'],
    ['http://127.0.0.1.nip.io:8080', 'is not https'],
    ['ftp://qstash.example.com', 'is not https'],
    [`${US}/v2/dlq`, 'has a path ("/v2/dlq")'],
    [`${US}//`, 'has a path ("//")'],
    [`${US}?qstash_token=${T.input}`, 'has a query or fragment'],
    [`${US}#frag`, 'has a query or fragment'],
    [`${US}?`, 'has a query or fragment'],
    ['https://user:hunter2@qstash.example.com', 'carries credentials'],
    ['https://user:hun@ter2@qstash.example.com', 'carries credentials'],
  ])('refuses %s (%s)', (raw, why) => {
    expect(() => validateBaseUrl(raw, 'qstash-url')).toThrow(EndpointError);
    try {
      validateBaseUrl(raw, 'qstash-url');
    } catch (error) {
      const message = (error as Error).message;
      expect(message.startsWith('qstash-url: ')).toBe(true);
      expect(message).toContain(why);
      expect(message).not.toContain('hunter2');
      expect(message).not.toContain('ter2');
      expectNoToken([message]);
    }
  });

  it('shows a URL with credentials or a query hidden', () => {
    expect(() => validateBaseUrl('https://user:pw@qstash.example.com', 'QSTASH_URL')).toThrow(
      'QSTASH_URL: "https://***@qstash.example.com" carries credentials; the token goes in qstash-token, never in the URL.',
    );
    expect(() => validateBaseUrl(`${US}?qstash_token=abc`, 'QSTASH_URL')).toThrow(
      `QSTASH_URL: "${US}?***" has a query or fragment.`,
    );
  });
});

describe('tokensToMask', () => {
  it('holds every token read from any input or variable, used or not, once each', () => {
    const endpoint = resolve(
      { 'qstash-url': US, 'qstash-token': T.input },
      { QSTASH_TOKEN: ` ${T.plain} `, US_EAST_1_QSTASH_TOKEN: T.us, EU_CENTRAL_1_QSTASH_TOKEN: T.input },
    );
    expect(endpoint.token).toBe(T.input);
    expect([...endpoint.tokensToMask].sort()).toEqual([T.input, T.plain, T.us].sort());
  });

  it('is empty without tokens, and collectTokens gives the same before any resolution', () => {
    expect(resolve({}).tokensToMask).toEqual([]);
    const src = source({ 'qstash-token': T.input }, { EU_CENTRAL_1_QSTASH_TOKEN: T.eu, QSTASH_REGION: 'nowhere' });
    expect(collectTokens(src).sort()).toEqual([T.eu, T.input].sort());
    expect(resolveEndpoint(src).tokensToMask.sort()).toEqual([T.eu, T.input].sort());
  });
});
