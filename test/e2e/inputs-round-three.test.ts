/**
 * End to end through dist/index.js: inputs a workflow can get wrong without noticing. An input that evaluated empty
 * (`${{ inputs.dry-run }}` on a push), quoted ids, a proxy URL with a path or a query, a retired input name, and a
 * token inside a bad id. Each is refused before any request, with an error naming the input and the value, and
 * nothing is changed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runnerLines, type ActionRun } from '../../emulator/run-action.ts';
import { workflowEntries, type DlqEmulator } from '../../emulator/server.ts';
import { emulatorPerTest, errors, expectExactlyOnce, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

/** Every output list an id can end in. */
const LISTS = ['removed', 'redriven', 'not-found', 'failed', 'would-remove', 'would-redrive'];

/** The run failed with one error, sent nothing, and every entry is still there. Returns the error. */
function expectRefused(run: ActionRun, emulator: DlqEmulator, entries: readonly string[]): string {
  expect(run.exitCode, run.stdout).toBe(1);
  expect(emulator.requests, 'requests sent').toEqual([]);
  expect(emulator.ids('workflow')).toEqual(entries);
  for (const name of LISTS) expect(list(run, name), name).toEqual([]);
  expect(errors(run)).toHaveLength(1);
  expect(errors(run)[0]).toMatch(/no request was sent, nothing was deleted or re-run/);
  return errors(run)[0]!;
}

/** Everything the action printed or wrote, but the runner's mask commands. */
function printed(run: ActionRun): string {
  const stdout = runnerLines(run.stdout)
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  return [stdout, run.stderr, JSON.stringify(run.outputs), run.summary, JSON.stringify(run.results ?? [])].join('\n');
}

describe('an input that evaluated empty is refused, not read as its default', () => {
  it.each([
    ['dry-run', ''],
    ['dry-run', '  '],
    ['operation', ''],
    ['dlq', ''],
    ['on-not-found', ''],
    ['max-entries', ''],
    ['select-all', ''],
    ['delete-after-redrive', ''],
  ])('%s: %j with ids', async (input, value) => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(3));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': ids.join(' '), [input]: value } });
    const error = expectRefused(run, emulator, ids);
    expect(error).toContain(`${input}: evaluated to an empty value (${JSON.stringify(value)})`);
    expect(error).toContain(`\${{ inputs.${input} }} is empty on events without inputs`);
    expect(error).toMatch(/Accepted: .+; leave the input out for /);
  });

  it('dry-run: "" in a filter run deletes nothing (the destructive branch is never taken)', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(4));
    const run = await runAgainst(emulator, { inputs: { 'select-all': 'true', 'dry-run': '' } });
    expect(expectRefused(run, emulator, ids)).toMatch(/dry-run: evaluated to an empty value.*Accepted: true or false/);
  });

  it('an empty tuning input (concurrency, max-retries, request-timeout, strategy) takes its default', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(3));
    const run = await runAgainst(emulator, {
      inputs: { 'dlq-ids': ids.join(' '), concurrency: '', 'max-retries': ' ', 'request-timeout': '', strategy: '' },
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expectExactlyOnce(run, ids);
  });
});

describe('quoted ids are refused', () => {
  it.each([
    ['double quotes', '"id-a", "id-b"'],
    ['single quotes', "'id-a', 'id-b'"],
    ['backticks', '`id-a` `id-b`'],
    // What chat and document tools put in copied text: Unicode normalisation does not fold these to ASCII quotes.
    ['typographic double quotes', '“id-a”, “id-b”'],
    ['typographic single quotes', '‘id-a’ ‘id-b’'],
    ['guillemets', '«id-a» «id-b»'],
  ])('%s: refused naming dlq-ids, the ids and the forms accepted', async (_, value) => {
    const emulator = await start();
    const entries = emulator.seed('workflow', workflowEntries(2));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': value } });
    const error = expectRefused(run, emulator, entries);
    expect(error).toMatch(/^Invalid input;.*\n- dlq-ids: 2 invalid ids: id #1 /s);
    expect(error).toContain(JSON.stringify(value.split(/[\s,]+/u)[0]));
    expect(error).toContain('contains a quote');
    expect(error).toContain('separated by newlines, commas or spaces, or a JSON array of strings');
  });

  it('in the ids file too, naming the file input', async () => {
    const emulator = await start();
    const entries = emulator.seed('workflow', workflowEntries(2));
    const dir = mkdtempSync(join(tmpdir(), 'ids-'));
    const file = join(dir, 'ids.txt');
    writeFileSync(file, `'${entries[0]}'\n'${entries[1]}'\n`);
    try {
      const run = await runAgainst(emulator, { inputs: { 'dlq-ids-file': file } });
      expect(expectRefused(run, emulator, entries)).toContain(
        `dlq-ids-file (${JSON.stringify(file)}): 2 invalid ids: id #1 ${JSON.stringify(`'${entries[0]}'`)} contains a quote`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a JSON array of ids is still accepted', async () => {
    const emulator = await start();
    const ids = emulator.seed('workflow', workflowEntries(2));
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': JSON.stringify(ids) } });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expectExactlyOnce(run, ids);
  });
});

describe('proxy values are checked before any request, naming the variable and hiding what may be a key', () => {
  const SECRET = 'proxyKeyS3cr3tValue';
  // A non-loopback https URL, so that the https proxy variables apply; nothing is sent to it.
  const inputs = { 'qstash-url': 'https://qstash.test.invalid', 'dlq-ids': 'a b' };

  it.each([
    ['HTTPS_PROXY', 'http://127.0.0.1:3128/x', /has a path \(hidden\)/],
    // Some proxies take a key in the path: hidden as the query is.
    ['HTTPS_PROXY', `http://127.0.0.1:3128/${SECRET}`, /has a path \(hidden\)/],
    ['https_proxy', `http://127.0.0.1:3128/?key=${SECRET}`, /has a query \(hidden\)/],
    ['HTTPS_PROXY', `http://127.0.0.1:3128?key=${SECRET}`, /has a query \(hidden\)/],
    ['https_proxy', `http://127.0.0.1:3128/#${SECRET}`, /has a fragment \(hidden\)/],
    ['https_proxy', `http://user:${SECRET}@127.0.0.1:3128/p?k=${SECRET}`, /has a path \(hidden\) and a query/],
    // Not a URL at all: the message still hides the query (and the credentials).
    ['https_proxy', `http://127.0.0.1:bad?key=${SECRET}`, /is not a proxy URL/],
  ])('%s=%s', async (variable, value, why) => {
    const emulator = await start();
    const entries = emulator.seed('workflow', workflowEntries(2));
    const run = await runAgainst(emulator, { inputs, env: { [variable]: value } });
    const error = expectRefused(run, emulator, entries);
    expect(error).toMatch(new RegExp(`^Invalid input;.*\\n- ${variable}: `, 'su'));
    expect(error).toMatch(why);
    expect(error).toContain('Accepted: http://host:port');
    expect(printed(run)).not.toContain(SECRET);
  });

  it('names the variable that was read: https_proxy wins over HTTPS_PROXY', async () => {
    const emulator = await start();
    const entries = emulator.seed('workflow', workflowEntries(1));
    const run = await runAgainst(emulator, {
      inputs,
      env: { https_proxy: 'http://127.0.0.1:3128/lower', HTTPS_PROXY: 'http://127.0.0.1:3128' },
    });
    expect(expectRefused(run, emulator, entries)).toMatch(
      /- https_proxy: "http:\/\/127\.0\.0\.1:3128\/\*\*\*" has a path/,
    );
  });

  it('a bare origin with a trailing / is accepted', async () => {
    const emulator = await start();
    const run = await runAgainst(emulator, { env: { HTTPS_PROXY: 'http://127.0.0.1:3128/' } });
    // Loopback targets never use a proxy; the run itself selects nothing and passes.
    expect(run.exitCode, run.stdout).toBe(0);
  });
});

describe('each input has one name', () => {
  it.each([
    ['delete-all', 'true', 'select-all', {}],
    ['max-deletes', '5', 'max-entries', { 'select-all': 'true' }],
  ])('a workflow still passing %s: %s is refused, naming %s', async (old, value, use, others) => {
    const emulator = await start();
    const entries = emulator.seed('workflow', workflowEntries(3));
    const run = await runAgainst(emulator, { inputs: { [old]: value, ...others } });
    const error = expectRefused(run, emulator, entries);
    expect(error).toContain(`${old}: ${JSON.stringify(value)} is not an input of this action (it was renamed ${use})`);
    expect(error).toContain(`Accepted: ${use}`);
  });

  it('the defaults a runner sends are the documented ones: a run without inputs selects nothing', async () => {
    const emulator = await start();
    emulator.seed('workflow', workflowEntries(2));
    const run = await runAgainst(emulator);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(emulator.requests).toEqual([]);
    expect(emulator.ids('workflow')).toHaveLength(2);
  });
});

describe('a token inside a bad id', () => {
  const TOKEN = 'QSTASHtokenSECRETvalue0123456789';

  it('never leaks, even in part, where the id is cut short in the error', async () => {
    const emulator = await start({ token: TOKEN });
    const entries = emulator.seed('workflow', workflowEntries(1));
    // The token from character 70 to 102; ids are shown cut to 80 characters.
    const id = `${'a'.repeat(70)}${TOKEN}/x`;
    const run = await runAgainst(emulator, { inputs: { 'dlq-ids': id }, token: TOKEN });
    expect(printed(run)).not.toContain(TOKEN.slice(0, 8));
    const error = expectRefused(run, emulator, entries);
    expect(error).toMatch(/dlq-ids: 1 invalid id: id #1 "a{70}\*\*\*\/x" contains \//);
  });

  it('never leaks, even in part, from a JSON element that is not a string', async () => {
    const emulator = await start({ token: TOKEN });
    const entries = emulator.seed('workflow', workflowEntries(1));
    const run = await runAgainst(emulator, {
      // `{"pad":"aaaaaaaaaaaaaa","key":"` is 31 characters: the element is shown cut to 40, through the token.
      inputs: { 'dlq-ids': JSON.stringify([{ pad: 'a'.repeat(14), key: TOKEN }]) },
      token: TOKEN,
    });
    expect(expectRefused(run, emulator, entries)).toMatch(/element 0 of the JSON array is a object/);
    expect(printed(run)).not.toContain(TOKEN.slice(0, 8));
  });
});
