/**
 * The export: what a line may hold (header values never, bodies only when asked for, no secret the step knows
 * anywhere, `__proto__` as data, bounded nesting) and the file (private, exclusive, in order, on disk before a write
 * resolves, rewritten without dropped ids one line at a time).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPTH_MARKER, ExportWriter, HEADER_MARKER, MAX_EXPORT_DEPTH, sanitizeRecord } from '../../src/export.js';
import { redactorFor } from '../../src/settings.js';
import { afterThisTest } from '../helpers/loopback.ts';

const TOKEN = 'qstash-token-9d8c7b6a5f4e';
const redact = redactorFor([TOKEN]);
const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'export-test-'));
  afterThisTest(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What a record becomes once written and read back, as a user of the file sees it. */
const roundTrip = (record: Record<string, unknown>, bodies = false, dlq: 'workflow' | 'qstash' = 'workflow') =>
  JSON.parse(JSON.stringify(sanitizeRecord(dlq, record, { bodies, redact }))) as Record<string, unknown>;

describe('sanitizeRecord', () => {
  const entry = {
    dlqId: '1725323658779-0',
    workflowUrl: 'https://app.example.com/api/workflow',
    createdAt: 1725323658779,
    responseStatus: 500,
    labels: ['prod', 'eu'],
    header: { Authorization: [`Bearer ${TOKEN}`], 'Content-Type': ['application/json'] },
    responseHeader: { 'Set-Cookie': ['session=abc'] },
    body: `{"token":"${TOKEN}","order":1}`,
    responseBody: 'upstream said no',
    bodyBase64: Buffer.from(`binary\u0000${TOKEN}`, 'latin1').toString('base64'),
    failureCallbackInfo: {
      state: 'CALLBACK_FAIL',
      responseBody: 'callback body',
      responseHeaders: { 'X-Secret': ['s3cr3t'] },
    },
  };

  it('keeps the fields the server gave, as they were', () => {
    const out = roundTrip(entry);
    expect(out).toMatchObject({
      dlqId: entry.dlqId,
      workflowUrl: entry.workflowUrl,
      createdAt: entry.createdAt,
      responseStatus: 500,
      labels: ['prod', 'eu'],
      failureCallbackInfo: { state: 'CALLBACK_FAIL' },
    });
  });

  it('replaces every header value by the marker and keeps the names, at any depth and whatever the case', () => {
    const out = roundTrip({
      ...entry,
      callbackHeaders: { 'X-Api-Key': ['k-123'] },
      nested: { MyHEADERS: { Cookie: 'a=b' } },
      requestHeader: 'Authorization: Bearer raw-string-value',
    });
    expect(out.header).toEqual({ Authorization: HEADER_MARKER, 'Content-Type': HEADER_MARKER });
    expect(out.responseHeader).toEqual({ 'Set-Cookie': HEADER_MARKER });
    expect((out.failureCallbackInfo as Record<string, unknown>).responseHeaders).toEqual({ 'X-Secret': HEADER_MARKER });
    expect(out.callbackHeaders).toEqual({ 'X-Api-Key': HEADER_MARKER });
    expect((out.nested as Record<string, unknown>).MyHEADERS).toEqual({ Cookie: HEADER_MARKER });
    expect(out.requestHeader).toBe(HEADER_MARKER);
    const text = JSON.stringify(out);
    for (const value of ['session=abc', 's3cr3t', 'k-123', 'a=b', 'raw-string-value', 'application/json']) {
      expect(text).not.toContain(value);
    }
  });

  it('leaves every body out unless bodies are asked for', () => {
    const out = roundTrip(entry);
    expect(out).not.toHaveProperty('body');
    expect(out).not.toHaveProperty('responseBody');
    expect(out).not.toHaveProperty('bodyBase64');
    expect(out.failureCallbackInfo).not.toHaveProperty('responseBody');
    expect(JSON.stringify(out)).not.toContain('upstream said no');
  });

  it('with bodies, keeps them with every known secret removed (a token inside a body, inside base64 too)', () => {
    const out = roundTrip(entry, true);
    expect(out.body).toBe('{"token":"***","order":1}');
    expect(out.responseBody).toBe('upstream said no');
    expect((out.failureCallbackInfo as Record<string, unknown>).responseBody).toBe('callback body');
    expect(Buffer.from(out.bodyBase64 as string, 'base64').toString('latin1')).toBe('binary\u0000***');
    expect(JSON.stringify(out)).not.toContain(TOKEN);
  });

  it('removes secrets from every string, keys included, on both DLQs', () => {
    for (const dlq of ['workflow', 'qstash'] as const) {
      const out = roundTrip({ dlqId: 'x', url: `https://h/?t=${TOKEN}`, [TOKEN]: 1, list: [[TOKEN]] }, false, dlq);
      expect(JSON.stringify(out)).not.toContain(TOKEN);
      expect(out).toMatchObject({ url: 'https://h/?t=***', '***': 1, list: [['***']] });
    }
  });

  it('keeps __proto__ and constructor as plain keys, never as a prototype', () => {
    const record = JSON.parse('{"dlqId":"x","__proto__":{"polluted":true},"constructor":"c"}') as Record<
      string,
      unknown
    >;
    const out = sanitizeRecord('qstash', record, { bodies: false, redact });
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(Object.keys(out)).toEqual(['dlqId', '__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(out))).toEqual(record);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('cuts nesting deeper than the bound with a marker, even 10,000 levels deep', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`) as Record<string, unknown>;
    const out = roundTrip({ dlqId: 'x', deep });
    let level: unknown = out.deep;
    let depth = 1;
    while (typeof level === 'object' && level !== null) {
      level = (level as { a: unknown }).a;
      depth += 1;
    }
    expect(level).toBe(DEPTH_MARKER);
    expect(depth).toBeLessThanOrEqual(MAX_EXPORT_DEPTH + 1);
    const arrays = JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) as unknown;
    expect(JSON.stringify(roundTrip({ dlqId: 'x', arrays }))).toContain(DEPTH_MARKER);
  });
});

describe('ExportWriter', () => {
  it('creates a private file (0600) named upstash-dlq-export-<uuid>.jsonl in the directory given', async () => {
    const dir = tempDir();
    const writer = await ExportWriter.open(dir, redact);
    await writer.close();
    expect(dirname(writer.path)).toBe(dir);
    expect(writer.path).toMatch(/upstash-dlq-export-[0-9a-f-]{36}\.jsonl$/u);
    if (process.platform !== 'win32') expect(statSync(writer.path).mode & 0o777).toBe(0o600);
  });

  it('without a directory, writes in a private directory of its own', async () => {
    const writer = await ExportWriter.open('', redact);
    afterThisTest(() => rmSync(dirname(writer.path), { recursive: true, force: true }));
    await writer.close();
    expect(dirname(writer.path)).not.toBe(tmpdir());
    if (process.platform !== 'win32') expect(statSync(dirname(writer.path)).mode & 0o077).toBe(0);
  });

  it('never writes through an existing file (wx)', async () => {
    const dir = tempDir();
    const first = await ExportWriter.open(dir, redact);
    await first.close();
    const second = await ExportWriter.open(dir, redact);
    await second.close();
    expect(second.path).not.toBe(first.path);
  });

  it('each line is in the file once write resolves, in call order, even when writes are not awaited', async () => {
    const writer = await ExportWriter.open(tempDir(), redact);
    await writer.write({ dlqId: 'a' });
    expect(lines(writer.path)).toEqual([{ dlqId: 'a' }]);
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.write({ dlqId: `b${i}`, n: i })));
    expect(lines(writer.path).map((line) => line.dlqId)).toEqual([
      'a',
      ...Array.from({ length: 50 }, (_, i) => `b${i}`),
    ]);
    await writer.close();
  });

  it('redacts the line once more: a secret that JSON escapes never reaches the file', async () => {
    const odd = 'tok"with\\quote-123';
    const writer = await ExportWriter.open(tempDir(), redactorFor([odd, JSON.stringify(odd).slice(1, -1)]));
    await writer.write({ dlqId: 'a', url: odd });
    await writer.close();
    const text = readFileSync(writer.path, 'utf8');
    expect(text).not.toContain(odd);
    expect(text).not.toContain(JSON.stringify(odd).slice(1, -1));
  });

  it('drop rewrites the file without those ids, keeps the rest in order, and goes on appending', async () => {
    const writer = await ExportWriter.open(tempDir(), redact);
    for (const id of ['a', 'b', 'c', 'd']) await writer.write({ dlqId: id, body: 'x'.repeat(1000) });
    await writer.drop(new Set(['b', 'd', 'not-there']));
    expect(lines(writer.path).map((line) => line.dlqId)).toEqual(['a', 'c']);
    await writer.write({ dlqId: 'e' });
    await writer.close();
    expect(lines(writer.path).map((line) => line.dlqId)).toEqual(['a', 'c', 'e']);
    if (process.platform !== 'win32') expect(statSync(writer.path).mode & 0o777).toBe(0o600);
  });

  it('close is idempotent, and a write after it is refused', async () => {
    const writer = await ExportWriter.open(tempDir(), redact);
    const pending = writer.write({ dlqId: 'a' });
    await Promise.all([writer.close(), writer.close()]);
    await pending;
    await writer.close();
    expect(lines(writer.path)).toEqual([{ dlqId: 'a' }]);
    await expect(writer.write({ dlqId: 'b' })).rejects.toThrow(/closed/u);
  });

  it('refuses a directory it cannot write in (the caller fails, nothing is changed)', async () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    await expect(ExportWriter.open(file, redact)).rejects.toThrow();
  });
});
