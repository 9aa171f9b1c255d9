/**
 * End to end through GitHub's own local runner, @github/local-action, as README's "Run it on your machine" says:
 * the repository's .env.example, with only the emulator's port and the ids file changed, run by the command of
 * `npm run local-action`, against an emulator this test starts on loopback. local-action always exits 0 and writes no
 * GITHUB_OUTPUT file (it stubs @actions/core), so the outputs are read from the `::set-output` lines it prints.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../emulator/run-action.ts';
import { DlqEmulator, workflowEntries } from '../../emulator/server.ts';

let emulator: DlqEmulator;
let seeded: string[];
let dir: string;

beforeEach(async () => {
  emulator = await DlqEmulator.start();
  seeded = emulator.seed('workflow', workflowEntries(4));
  dir = mkdtempSync(join(tmpdir(), 'local-action-'));
});
afterEach(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

const example = (): string => readFileSync(join(ROOT, '.env.example'), 'utf8');

/** Sets `KEY=value` lines of a dotenv text (replacing the line of that key, or appending). */
function setLines(text: string, values: Record<string, string>): string {
  let out = text;
  for (const [key, value] of Object.entries(values)) {
    const line = new RegExp(`^${key}=.*$`, 'mu');
    out = line.test(out) ? out.replace(line, () => `${key}=${value}`) : `${out}\n${key}=${value}\n`;
  }
  return out;
}

/**
 * Runs `npm run local-action`'s command with this dotenv file instead of .env; the outputs it printed. Asynchronous:
 * the emulator answers from this process.
 */
async function localAction(dotenv: string): Promise<{ outputs: Record<string, string>; text: string }> {
  const envFile = join(dir, '.env');
  writeFileSync(envFile, dotenv);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const args = pkg.scripts['local-action']!.split(' ');
  expect(args.at(-1), 'npm run local-action reads .env').toBe('.env');
  const child = spawn('npm', ['exec', '--offline', '--', ...args.slice(0, -1), envFile], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir },
    timeout: 120_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const text = `${stdout}\n${stderr}`;
  expect(status, text).toBe(0);
  const outputs: Record<string, string> = {};
  for (const match of stdout.matchAll(/^::set-output name=([\w-]+)::(.*)$/gmu)) outputs[match[1]!] = match[2]!;
  return { outputs, text };
}

describe('npm run local-action with .env.example', () => {
  it('points at the emulator on loopback with its token, as a dry run, with the inputs of action.yml', () => {
    const text = example();
    expect(text).toMatch(/^INPUT_QSTASH-URL=http:\/\/127\.0\.0\.1:8080$/mu);
    expect(text).toMatch(/^INPUT_QSTASH-TOKEN=emulator-token-3f9c2d7a1b$/mu);
    expect(text).toMatch(/^INPUT_DRY-RUN=true$/mu);
    expect(text).toMatch(/^ACTIONS_STEP_DEBUG=/mu);
    expect(text).not.toMatch(/^(RUNNER_DEBUG|QSTASH_URL|QSTASH_TOKEN)=/mu);
    expect(text).not.toMatch(/^INPUT_(DELETE-ALL|MAX-DELETES)=/mu);
  });

  it('previews the ids file and changes nothing', async () => {
    const idsFile = join(dir, 'ids.txt');
    writeFileSync(idsFile, `${seeded.slice(0, 3).join('\n')}\n`);
    const { outputs, text } = await localAction(
      setLines(example(), {
        'INPUT_QSTASH-URL': emulator.url,
        'INPUT_QSTASH-TOKEN': emulator.token,
        'INPUT_DLQ-IDS-FILE': idsFile,
        RUNNER_TEMP: dir,
      }),
    );

    expect(outputs['would-remove-count'], text).toBe('3');
    expect(JSON.parse(outputs['would-remove']!)).toEqual(seeded.slice(0, 3));
    expect(outputs['removed-count']).toBe('0');
    expect(emulator.ids('workflow').sort()).toEqual([...seeded].sort());
    expect(emulator.requests.some((r) => r.method === 'DELETE')).toBe(false);
    expect(text.includes(emulator.token)).toBe(false);
  });

  it('reads every line of a double-quoted multi-line INPUT_DLQ-IDS', async () => {
    const { outputs, text } = await localAction(
      setLines(example(), {
        'INPUT_QSTASH-URL': emulator.url,
        'INPUT_QSTASH-TOKEN': emulator.token,
        'INPUT_DLQ-IDS': `"${seeded[0]}\n${seeded[1]}\ngone-1"`,
        'INPUT_DLQ-IDS-FILE': '',
        'INPUT_DRY-RUN': 'false',
        RUNNER_TEMP: dir,
      }),
    );

    expect(outputs['removed-count'], text).toBe('2');
    expect(JSON.parse(outputs.removed!)).toEqual([seeded[0], seeded[1]]);
    expect(JSON.parse(outputs['not-found']!)).toEqual(['gone-1']);
    expect(outputs['failed-count']).toBe('0');
    expect(emulator.ids('workflow').sort()).toEqual([seeded[2], seeded[3]].sort());
    expect(text.includes(emulator.token)).toBe(false);
  });
});
