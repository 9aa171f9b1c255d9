/**
 * Generates the README's input and output tables from action.yml, so the two never drift (as actions/checkout
 * does). `node scripts/docs.ts` rewrites README.md between the markers; `--check` fails when it is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';

interface ActionYaml {
  inputs: Record<string, { description: string; default?: string | number | boolean }>;
  outputs: Record<string, { description: string }>;
}

const root = new URL('..', import.meta.url).pathname;
const readmePath = join(root, 'README.md');
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as ActionYaml;

function cell(text: string): string {
  return text.trim().replace(/\s+/gu, ' ').replace(/\|/gu, '\\|');
}

function code(text: string): string {
  return text === '' ? "`''`" : `\`${text}\``;
}

export function inputsTable(): string {
  const rows = Object.entries(action.inputs).map(
    ([name, spec]) => `| \`${name}\` | ${code(String(spec.default ?? ''))} | ${cell(spec.description)} |`,
  );
  return ['| input | default | description |', '| --- | --- | --- |', ...rows].join('\n');
}

export function outputsTable(): string {
  const rows = Object.entries(action.outputs).map(([name, spec]) => `| \`${name}\` | ${cell(spec.description)} |`);
  return ['| output | description |', '| --- | --- |', ...rows].join('\n');
}

function replaceBetween(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start (generated from action.yml by scripts/docs.ts) -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks the markers ${start} ... ${end}`);
  return `${text.slice(0, from + start.length)}\n\n${content}\n\n${text.slice(to)}`;
}

/** The README with its generated tables brought up to date, formatted as `npm run format` would. */
export async function renderedReadme(current: string): Promise<string> {
  return format(replaceBetween(replaceBetween(current, 'inputs', inputsTable()), 'outputs', outputsTable()), {
    ...(await resolveConfig(readmePath)),
    filepath: readmePath,
  });
}

// Writes only when run as a script (`node scripts/docs.ts`), never when imported.
if (import.meta.main) {
  const current = readFileSync(readmePath, 'utf8');
  const wanted = await renderedReadme(current);
  if (process.argv.includes('--check')) {
    if (wanted !== current) {
      console.error(
        'README.md is out of date with action.yml: run `npm run docs` (the build does it) and commit README.md.',
      );
      process.exit(1);
    }
    console.log('README.md input and output tables match action.yml.');
  } else if (wanted !== current) {
    writeFileSync(readmePath, wanted);
    console.log('README.md tables regenerated from action.yml.');
  }
}
