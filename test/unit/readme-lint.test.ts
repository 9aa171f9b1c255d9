import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkContract, isThisAction, wrapFragment, yamlBlocks } from '../../scripts/lint-workflows.ts';

const contract = { inputs: new Set(['dlq-ids', 'qstash-token']), outputs: new Set(['failed-count']) };

describe('README yaml blocks', () => {
  it('finds each ```yaml block with the line of its fence', () => {
    const markdown = 'text\n\n```yaml\na: 1\n```\n\n```sh\nls\n```\n```yaml\n- run: ls\n```\n';
    expect(yamlBlocks(markdown)).toEqual([
      { line: 3, text: 'a: 1\n' },
      { line: 10, text: '- run: ls\n' },
    ]);
  });

  it('wraps a step, a list of steps, a jobs map and workflow-level keys into a workflow', () => {
    const step = parse(wrapFragment('uses: <owner>/upstash-dlq-cleanup-action@v1\n'));
    expect(step.on).toBe('workflow_dispatch');
    expect(step.jobs.readme.steps).toEqual([{ uses: '<owner>/upstash-dlq-cleanup-action@v1' }]);
    const steps = parse(wrapFragment('- run: a\n- run: b\n'));
    expect(steps.jobs.readme.steps).toHaveLength(2);
    const jobs = parse(wrapFragment('jobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: [{ run: a }]\n'));
    expect(Object.keys(jobs.jobs)).toEqual(['x']);
    const env = parse(wrapFragment('env:\n  A: b\n'));
    expect(env.env).toEqual({ A: 'b' });
    expect(env.jobs.readme.steps).toHaveLength(1);
    const whole = 'on: push\njobs: {}\n';
    expect(wrapFragment(whole)).toBe(whole);
  });

  it('refuses a block that does not parse, such as a plain run: holding ": "', () => {
    expect(() => wrapFragment(`- run: jq -r '"\\(.id): \\(.cause)"' x\n  env: {}\n`)).toThrow(/invalid YAML/);
    expect(() => wrapFragment('just text\n')).toThrow(/not a workflow/);
  });

  it('checks the inputs of this action in a wrapped fragment, with the <owner> placeholder', () => {
    expect(isThisAction('<owner>/upstash-dlq-cleanup-action@v1')).toBe(true);
    const text = wrapFragment('- uses: <owner>/upstash-dlq-cleanup-action@v1\n  with:\n    delete-all: true\n');
    expect(checkContract(text, contract)).toEqual([
      'job readme: input "delete-all" is not an input of this action (see action.yml)',
    ]);
  });
});
