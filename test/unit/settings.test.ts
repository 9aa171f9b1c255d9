import { describe, expect, it } from 'vitest';
import { readSettings, readToken, type SettingsSource } from '../../src/settings.js';

const TOKEN = 'tok_abc123SECRET';

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
  };
}

const base = { 'qstash-token': TOKEN, 'dlq-ids': 'a' };

describe('readSettings', () => {
  it('applies the documented defaults', () => {
    expect(readSettings(source(base))).toEqual({
      selection: { mode: 'ids', ids: ['a'] },
      dlq: 'workflow',
      maxDeletes: 1000,
      strategy: 'auto',
      token: TOKEN,
      baseUrl: 'https://qstash.upstash.io',
      onNotFound: 'pass',
      dryRun: false,
      concurrency: 8,
      maxRetries: 3,
      requestTimeoutMs: 30_000,
    });
  });

  it('falls back to QSTASH_TOKEN and QSTASH_URL, input first', () => {
    const fromEnv = readSettings(
      source({ 'dlq-ids': 'a' }, { QSTASH_TOKEN: ' envtok ', QSTASH_URL: 'https://qstash-us-east-1.upstash.io/' }),
    );
    expect(fromEnv.token).toBe('envtok');
    expect(fromEnv.baseUrl).toBe('https://qstash-us-east-1.upstash.io');
    const fromInput = readSettings(
      source({ ...base, 'qstash-url': 'http://127.0.0.1:8080' }, { QSTASH_TOKEN: 'envtok' }),
    );
    expect(fromInput.token).toBe(TOKEN);
    expect(fromInput.baseUrl).toBe('http://127.0.0.1:8080');
    expect(readToken(source({}, { QSTASH_TOKEN: 'x' }))).toBe('x');
  });

  it.each(['http://localhost:8080', 'http://127.0.0.1:8080/', 'http://[::1]:8080', 'http://127.1.2.3'])(
    'allows plain http to the loopback host %s',
    (url) => {
      expect(readSettings(source({ ...base, 'qstash-url': url })).baseUrl).toBe(new URL(url).origin);
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
  });

  it('never shows URL credentials in the message', () => {
    expect(() => readSettings(source({ ...base, 'qstash-url': 'https://me:hunter2@qstash.upstash.io' }))).toThrow(
      /"https:\/\/\*\*\*@qstash.upstash.io"/,
    );
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
      }),
    );
    expect(settings).toMatchObject({
      onNotFound: 'warn',
      dryRun: true,
      concurrency: 100,
      maxRetries: 0,
      requestTimeoutMs: 2500,
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
  ])('refuses %s %j, naming the input, the value and what is accepted', (name, value) => {
    expect(() => readSettings(source({ ...base, [name]: value }))).toThrow(
      new RegExp(`${name}: ${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*Accepted: `),
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
    expect(settings.selection).toEqual({ mode: 'ids', ids: ['a', 'b', 'c'] });
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
    expect(() => readSettings(source({ 'dlq-ids': '..', concurrency: '0', 'qstash-url': 'x' }))).toThrow(
      /4 invalid inputs; nothing was deleted/,
    );
  });
});
