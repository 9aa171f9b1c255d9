import { describe, expect, it } from 'vitest';
import { readSettings, type SettingsSource } from '../../src/settings.js';

const TOKEN = 'tok_abc123SECRET';
const NOW = Date.parse('2026-11-28T12:00:00Z');

function source(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): SettingsSource {
  return {
    input: (name) => inputs[name] ?? '',
    env: (name) => env[name],
    readFile: (path) => {
      if (path in files) return files[path]!;
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    },
    now: () => NOW,
  };
}

const base = { 'qstash-token': TOKEN, 'dlq-ids': 'a' };
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The message of the error readSettings throws. */
function problem(inputs: Record<string, string>): string {
  try {
    readSettings(source(inputs));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('readSettings accepted the inputs');
}

describe('readSettings', () => {
  it('applies the documented defaults', () => {
    expect(readSettings({ ...source(base), now: () => 1_700_000_000_000 })).toEqual({
      target: { kind: 'ids', ids: ['a'] },
      dlq: 'workflow',
      operation: 'delete',
      redriveHeaders: {},
      deleteAfterRedrive: false,
      strategy: 'auto',
      endpoint: {
        url: 'https://qstash.upstash.io',
        urlSource: 'default',
        token: TOKEN,
        tokenSource: 'input qstash-token',
        warnings: [],
        tokensToMask: [TOKEN],
      },
      onNotFound: 'pass',
      dryRun: false,
      concurrency: 8,
      maxRetries: 3,
      requestTimeoutMs: 30_000,
      groupBy: 'workflow-url',
      thresholds: {},
      onThreshold: 'fail',
      exportKind: undefined,
      now: 1_700_000_000_000,
    });
  });

  it('falls back to QSTASH_TOKEN and QSTASH_URL, input first', () => {
    const fromEnv = readSettings(
      source({ 'dlq-ids': 'a' }, { QSTASH_TOKEN: ' envtok ', QSTASH_URL: 'https://qstash-us-east-1.upstash.io/' }),
    );
    expect(fromEnv.endpoint).toMatchObject({ token: 'envtok', url: 'https://qstash-us-east-1.upstash.io' });
    const fromInput = readSettings(
      source({ ...base, 'qstash-url': 'http://127.0.0.1:8080' }, { QSTASH_TOKEN: 'envtok' }),
    );
    expect(fromInput.endpoint).toMatchObject({ token: TOKEN, url: 'http://127.0.0.1:8080' });
    expect(readSettings(source({ 'dlq-ids': 'a' }, { QSTASH_TOKEN: 'x' })).endpoint.token).toBe('x');
  });

  it.each(['http://localhost:8080', 'http://127.0.0.1:8080/', 'http://[::1]:8080', 'http://127.1.2.3'])(
    'allows plain http to the loopback host %s',
    (url) => {
      expect(readSettings(source({ ...base, 'qstash-url': url })).endpoint.url).toBe(new URL(url).origin);
    },
  );

  it.each([
    ['http://10.0.0.1', /not https/],
    ['http://localhost.evil.com', /not https/],
    ['ftp://qstash.upstash.io', /not https/],
    ['qstash.upstash.io', /is not a URL/],
    ['https://u:p@qstash.upstash.io', /carries credentials/],
    ['https://qstash.upstash.io/v2/', /has a path/],
    ['https://qstash.upstash.io#x', /query or fragment/],
    ['https://qstash.upstash.io?', /query or fragment/],
  ])('refuses qstash-url %s', (url, message) => {
    expect(() => readSettings(source({ ...base, 'qstash-url': url }))).toThrow(message);
    expect(problem({ ...base, 'qstash-url': url })).toMatch(/qstash-url: .*Accepted: /);
  });

  it('never shows URL credentials in the message', () => {
    expect(() => readSettings(source({ ...base, 'qstash-url': 'https://me:hunter2@qstash.upstash.io' }))).toThrow(
      /"https:\/\/\*\*\*@qstash.upstash.io"/,
    );
    expect(problem({ ...base, 'qstash-url': 'https://me:hunter2@qstash.upstash.io' })).not.toContain('hunter2');
  });

  it('parses each setting, case-insensitively where a word is expected', () => {
    const settings = readSettings(
      source({
        ...base,
        'on-not-found': 'WARN',
        'dry-run': 'True',
        concurrency: '100',
        'max-retries': '0',
        'request-timeout': '2.5',
        dlq: 'QStash',
        operation: 'Retry',
        strategy: 'PER-ID',
      }),
    );
    expect(settings).toMatchObject({
      onNotFound: 'warn',
      dryRun: true,
      concurrency: 100,
      maxRetries: 0,
      requestTimeoutMs: 2500,
      dlq: 'qstash',
      operation: 'retry',
      strategy: 'per-id',
    });
  });

  it.each([
    ['concurrency', '1.5'],
    ['concurrency', '-1'],
    ['concurrency', '1e2'],
    ['max-retries', '21'],
    ['request-timeout', '0'],
    ['request-timeout', '601'],
    ['request-timeout', '30s'],
    ['dry-run', 'yes'],
    ['on-not-found', 'ignore'],
    ['dlq', 'both'],
    ['operation', 'purge'],
    ['strategy', 'bulk'],
    ['max-entries', '-5'],
    ['select-all', 'yes'],
  ])('refuses %s %j, naming the input, the value and what is accepted', (name, value) => {
    expect(() => readSettings(source({ ...base, [name]: value }))).toThrow(
      new RegExp(`${name}: ${escape(JSON.stringify(value))} .*Accepted: `),
    );
  });

  it('refuses a missing token and never echoes a malformed one', () => {
    expect(() => readSettings(source({ 'dlq-ids': 'a' }))).toThrow(/qstash-token: no QStash token/);
    const bad = 'Bearer abcSECRET';
    try {
      readSettings(source({ 'dlq-ids': 'a', 'qstash-token': bad }));
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/value hidden/);
      expect((error as Error).message).not.toContain('abcSECRET');
    }
  });

  it('joins dlq-ids and dlq-ids-file, dropping duplicates', () => {
    const settings = readSettings(
      source({ ...base, 'dlq-ids': 'a,b', 'dlq-ids-file': 'ids.txt' }, {}, { 'ids.txt': 'b\nc\n' }),
    );
    expect(settings.target).toEqual({ kind: 'ids', ids: ['a', 'b', 'c'] });
  });

  it('reads an ids file written on Windows (a BOM, CRLF line endings) as the same ids', () => {
    const settings = readSettings(
      source({ ...base, 'dlq-ids': '', 'dlq-ids-file': 'ids.txt' }, {}, { 'ids.txt': '\uFEFFa\r\nb\r\nc\r\n' }),
    );
    expect(settings.target).toEqual({ kind: 'ids', ids: ['a', 'b', 'c'] });
  });

  it('names the file input and path for unreadable files and bad ids inside them', () => {
    expect(() => readSettings(source({ ...base, 'dlq-ids-file': 'missing.txt' }))).toThrow(
      /dlq-ids-file \("missing.txt"\): cannot read the file: no such file/,
    );
    expect(() =>
      readSettings(source({ ...base, 'dlq-ids-file': 'ids.json' }, {}, { 'ids.json': '["a", ".."]' })),
    ).toThrow(/dlq-ids-file \("ids.json"\): 1 invalid id: id #2 "\.\."/);
  });

  it('reports all problems in one error', () => {
    // The missing token, the URL, the concurrency and the id are four separate problems.
    expect(() => readSettings(source({ 'dlq-ids': '..', concurrency: '0', 'qstash-url': 'x' }))).toThrow(
      /4 invalid inputs; no request was sent, nothing was deleted or re-run/,
    );
  });

  it('selects nothing when no ids, filters or select-all are given', () => {
    expect(readSettings(source({ 'qstash-token': TOKEN })).target).toBeUndefined();
    expect(readSettings(source({ 'qstash-token': TOKEN, 'dlq-ids': ' , ' })).target).toBeUndefined();
  });

  it('one way of selecting per step', () => {
    expect(problem({ ...base, label: 'x' })).toMatch(
      /dlq-ids \/ dlq-ids-file select entries by id and cannot be combined with label/,
    );
    expect(problem({ ...base, 'select-all': 'true' })).toMatch(/cannot be combined with select-all/);
    expect(problem({ 'qstash-token': TOKEN, 'select-all': 'true', label: 'x' })).toMatch(
      /select-all: true selects every entry, so it cannot be combined with filters \(label\)/,
    );
  });

  it('filters become a listing query with the cap', () => {
    expect(readSettings(source({ 'qstash-token': TOKEN, label: 'a, b', 'max-entries': '50' })).target).toMatchObject({
      kind: 'query',
      query: [['label', ['a', 'b']]],
      filters: [{ input: 'label', values: ['a', 'b'] }],
      cap: 50,
      capInput: 'max-entries',
    });
    expect(problem({ 'qstash-token': TOKEN, 'url-group': 'g' })).toMatch(
      /url-group: is a filter of the QStash message DLQ/,
    );
  });
});

describe('readSettings: operation and dlq', () => {
  it.each([
    ['delete', 'workflow'],
    ['delete', 'qstash'],
    ['restart', 'workflow'],
    ['resume', 'workflow'],
    ['retry-callback', 'workflow'],
    ['retry', 'qstash'],
  ])('accepts operation %s with dlq %s', (operation, dlq) => {
    expect(readSettings(source({ ...base, operation, dlq }))).toMatchObject({ operation, dlq });
  });

  it.each([
    ['resume', 'qstash', 'workflow', 'delete, retry, report'],
    ['restart', 'qstash', 'workflow', 'delete, retry, report'],
    ['retry-callback', 'qstash', 'workflow', 'delete, retry, report'],
    ['retry', 'workflow', 'qstash', 'delete, restart, resume, retry-callback, report'],
  ])('refuses operation %s with dlq %s, naming operation and what fits', (operation, dlq, belongs, fits) => {
    expect(problem({ ...base, operation, dlq })).toMatch(
      new RegExp(
        `operation: "${operation}" is an operation of the ${belongs} DLQ, but dlq is ${dlq}\\. Accepted with dlq: ${dlq}: ${fits}\\.`,
      ),
    );
  });
});

describe('readSettings: select-all and max-entries', () => {
  const all = { 'qstash-token': TOKEN };

  it('select-all: true selects every entry under the default cap', () => {
    expect(readSettings(source({ ...all, 'select-all': 'TRUE' })).target).toMatchObject({
      kind: 'query',
      query: [],
      filters: [],
      cap: 1000,
      capInput: 'max-entries',
      allInput: 'select-all',
    });
    expect(readSettings(source({ ...all, 'select-all': 'false' })).target).toBeUndefined();
  });

  it('max-entries sets the cap; 0 removes it', () => {
    const cap = (inputs: Record<string, string>) =>
      readSettings(source({ ...all, 'select-all': 'true', ...inputs })).target;
    expect(cap({ 'max-entries': '5' })).toMatchObject({ cap: 5, capInput: 'max-entries' });
    expect(cap({ 'max-entries': '0' })).toMatchObject({ cap: 0 });
  });
});

describe('readSettings: re-run overrides', () => {
  const redrive = { ...base, operation: 'restart' };

  it('turns each override into its header', () => {
    expect(
      readSettings(
        source({
          ...redrive,
          'redrive-retries': '5',
          'redrive-delay': '10s',
          'redrive-retry-delay': 'pow(2, retried) * 1000',
          'redrive-flow-control-key': 'k1',
          'redrive-flow-control-value': 'parallelism=2,rate=10',
          'redrive-label': 'again',
          'redrive-failure-callback': 'https://example.com/cb',
        }),
      ).redriveHeaders,
    ).toEqual({
      'Upstash-Retries': '5',
      'Upstash-Delay': '10s',
      'Upstash-Retry-Delay': 'pow(2, retried) * 1000',
      'Upstash-Flow-Control-Key': 'k1',
      'Upstash-Flow-Control-Value': 'parallelism=2, rate=10',
      'Upstash-Label': 'again',
      'Upstash-Failure-Callback': 'https://example.com/cb',
    });
  });

  it.each([
    ['redrive-retries', '101'],
    ['redrive-retries', '-1'],
    ['redrive-delay', '10 minutes'],
    ['redrive-delay', '5'],
    ['redrive-label', 'a\nb'],
    ['redrive-failure-callback', 'ftp://example.com'],
    ['redrive-failure-callback', 'not a url'],
    ['redrive-retry-delay', 'é'],
  ])('refuses %s %j, naming the input, the value and what is accepted', (name, value) => {
    expect(problem({ ...redrive, [name]: value })).toMatch(
      new RegExp(`${name}: ${escape(JSON.stringify(value))} .*Accepted: `),
    );
  });

  it.each([
    [{ 'redrive-flow-control-key': 'k' }, /the value is missing/],
    [{ 'redrive-flow-control-value': 'rate=1' }, /the key is missing/],
  ])('needs redrive-flow-control-key and -value together: %j', (inputs, message) => {
    expect(problem({ ...redrive, ...inputs })).toMatch(
      new RegExp(
        `redrive-flow-control-key and redrive-flow-control-value go together: ${message.source}\\. Accepted: both, or neither\\.`,
      ),
    );
  });

  it('refuses overrides with operation delete, naming them', () => {
    expect(problem({ ...base, 'redrive-retries': '3', 'redrive-label': 'x' })).toMatch(
      /redrive-retries, redrive-label: re-run settings, but operation is delete\. Accepted: with operation restart, resume, retry or retry-callback\./,
    );
  });

  it('reports every problem together', () => {
    const message = problem({
      ...redrive,
      'redrive-retries': 'lots',
      'redrive-delay': 'soon',
      concurrency: '0',
      dlq: 'qstash',
    });
    expect(message).toMatch(/^4 invalid inputs; no request was sent/);
    for (const name of ['redrive-retries', 'redrive-delay', 'concurrency', 'operation']) {
      expect(message).toContain(`\n- ${name}: `);
    }
    // The operation given was restart: no message may say it is delete.
    expect(message).not.toMatch(/operation is delete/);
  });
});

describe('issue 17 inputs: refusals and what is accepted', () => {
  const filter = { 'qstash-token': TOKEN, 'workflow-url': 'https://app.example.com/wf' };
  const report = { 'qstash-token': TOKEN, operation: 'report' };

  it('group-by with an operation other than report: refused naming the input, the value and the operation', () => {
    const message = problem({ ...filter, 'group-by': 'label' });
    expect(message).toMatch(/^Invalid input; no request was sent/u);
    expect(message).toContain('group-by: "label"');
    expect(message).toContain('operation is delete');
    expect(message).toContain('Accepted: group-by with operation report');
  });

  it('group-by with an unknown field, per DLQ: each DLQ lists its own fields', () => {
    const workflow = problem({ ...report, 'group-by': 'queue-name' });
    expect(workflow).toContain('group-by: "queue-name" is not a field entries of the workflow DLQ are grouped by');
    expect(workflow).toContain(
      'Accepted: workflow-url, url, label, response-status, failure-function-state, flow-control-key, caller-ip (dlq: workflow)',
    );
    const qstash = problem({ ...report, dlq: 'qstash', 'group-by': 'workflow-url' });
    expect(qstash).toContain('group-by: "workflow-url" is not a field entries of the qstash DLQ are grouped by');
    expect(qstash).toContain(
      'Accepted: url, label, response-status, flow-control-key, url-group, queue-name, caller-ip (dlq: qstash)',
    );
  });

  it('group-by accepted on a report, each DLQ defaulting to its own field', () => {
    expect(readSettings(source({ ...report, 'group-by': 'caller-ip' })).groupBy).toBe('caller-ip');
    expect(readSettings(source({ ...report, dlq: 'qstash', 'group-by': 'url-group' })).groupBy).toBe('url-group');
    expect(readSettings(source(report)).groupBy).toBe('workflow-url');
    expect(readSettings(source({ ...report, dlq: 'qstash' })).groupBy).toBe('url');
  });

  it('a report needs no selection: the whole DLQ, with no cap', () => {
    const settings = readSettings(source(report));
    expect(settings.target).toMatchObject({ kind: 'query', query: [], filters: [] });
  });

  it('keep-per without keep-newest: refused, naming both', () => {
    const message = problem({ ...filter, 'keep-per': 'label' });
    expect(message).toContain('keep-per: "label" is given without keep-newest');
  });

  for (const value of ['0', '-1', 'abc', '1.5']) {
    it(`keep-newest ${JSON.stringify(value)}: refused with what is accepted`, () => {
      const message = problem({ ...filter, 'keep-newest': value });
      expect(message).toContain(`keep-newest: ${JSON.stringify(value)} is not accepted`);
      expect(message).toContain('Accepted: a whole number of entries to keep, 1 or more');
    });
  }

  it('keep-newest with dlq-ids: refused naming both inputs', () => {
    const message = problem({ ...base, 'keep-newest': '3' });
    expect(message).toContain('keep-newest');
    expect(message).toContain('dlq-ids');
  });

  it('keep-per with an unknown field: refused per DLQ', () => {
    expect(problem({ ...filter, 'keep-newest': '2', 'keep-per': 'queue-name' })).toContain(
      'keep-per: "queue-name" is not a field entries of the workflow DLQ are grouped by',
    );
  });

  it('keep-newest and keep-per accepted with filters', () => {
    const settings = readSettings(source({ ...filter, 'keep-newest': '3', 'keep-per': 'Label' }));
    expect(settings.target).toMatchObject({ kind: 'query', keep: { newest: 3, per: 'label' } });
  });

  for (const value of ['-1', '1.5', 'many']) {
    it(`fail-if-count-above ${JSON.stringify(value)}: refused`, () => {
      const message = problem({ ...report, 'fail-if-count-above': value });
      expect(message).toContain(`fail-if-count-above: ${JSON.stringify(value)} is not accepted`);
      expect(message).toContain('Accepted: a whole number, 0 or more');
    });
  }

  it('fail-if-older-than with a bad duration: refused with the accepted syntax', () => {
    const message = problem({ ...report, 'fail-if-older-than': '3 days' });
    expect(message).toContain('fail-if-older-than: "3 days" is not a duration');
    expect(message).toContain('Accepted: a whole number and a unit');
  });

  it('thresholds with ids: refused for a delete (naming the inputs), accepted for a report', () => {
    const message = problem({ ...base, 'fail-if-count-above': '0', 'fail-if-older-than': '1d' });
    expect(message).toContain('fail-if-count-above, fail-if-older-than: a threshold is checked');
    expect(message).toContain('dlq-ids');
    const settings = readSettings(source({ ...base, operation: 'report', 'fail-if-count-above': '0' }));
    expect(settings.thresholds).toEqual({ countAbove: 0 });
  });

  it('thresholds accepted on filters, with the raw duration kept for messages', () => {
    const settings = readSettings(source({ ...filter, 'fail-if-count-above': '500', 'fail-if-older-than': '7d' }));
    expect(settings.thresholds).toEqual({ countAbove: 500, olderThanMs: 7 * 86_400_000, olderThanRaw: '7d' });
  });

  it('export with a bad value: refused naming what is accepted', () => {
    const message = problem({ ...filter, export: 'everything' });
    expect(message).toContain('export: "everything" is not an export');
    expect(message).toMatch(/Accepted: .*entries.*entries-with-bodies/u);
    expect(readSettings(source({ ...filter, export: 'entries-with-bodies' })).exportKind).toBe('entries-with-bodies');
  });

  it('on-threshold blank (an expression that evaluated empty) or unknown: refused', () => {
    const blank = (): unknown =>
      readSettings(source({ ...report, 'on-threshold': ' ' }, { 'INPUT_ON-THRESHOLD': ' ' }));
    expect(blank).toThrow(
      /on-threshold: evaluated to an empty value .*Accepted: fail .* or warn .*leave the input out for fail/u,
    );
    expect(problem({ ...report, 'on-threshold': 'shout' })).toContain('on-threshold: "shout"');
    expect(readSettings(source({ ...report, 'on-threshold': 'warn' })).onThreshold).toBe('warn');
  });

  it('several of them wrong at once: every one is named', () => {
    const message = problem({ ...filter, 'group-by': 'label', 'keep-newest': '0', export: 'x' });
    expect(message).toMatch(/^3 invalid inputs/u);
    for (const name of ['group-by', 'keep-newest', 'export']) expect(message).toContain(`\n- ${name}: `);
  });
});
