import { describe, expect, it } from 'vitest';
import { checkContract, isThisAction, readContract } from '../../scripts/lint-workflows.ts';

const contract = readContract();
const workflow = (step: string, later = ''): string => `on: push
jobs:
  clean:
    runs-on: ubuntu-latest
    steps:
${step}
${later}
`;

describe('workflow contract check', () => {
  it('recognises this action by local path or repository name', () => {
    expect(isThisAction('./')).toBe(true);
    expect(isThisAction('acme/upstash-dlq-cleanup-action@v1')).toBe(true);
    expect(isThisAction('actions/checkout@v5')).toBe(false);
  });

  it('accepts known inputs and outputs', () => {
    const text = workflow(
      `      - id: c\n        uses: ./\n        with:\n          dlq-ids: a\n          on-not-found: warn`,
      `      - run: echo \${{ steps.c.outputs.removed-count }}`,
    );
    expect(checkContract(text, contract)).toEqual([]);
  });

  it('reports an input the action does not have and an output it does not set', () => {
    const text = workflow(
      `      - id: c\n        uses: acme/upstash-dlq-cleanup-action@v1\n        with:\n          ids: a`,
      `      - run: echo \${{ steps.c.outputs.deleted }}`,
    );
    expect(checkContract(text, contract)).toEqual([
      'job clean: input "ids" is not an input of this action (see action.yml)',
      'job clean: steps.c.outputs.deleted is not an output of this action (see action.yml)',
    ]);
  });

  it('reports id lists passed through run: or env: (script injection, argument-list limits); counts are fine', () => {
    const text = workflow(
      `      - id: c\n        uses: ./\n        with:\n          dlq-ids: a`,
      `      - run: echo \${{ steps.c.outputs.failed }}\n      - env:\n          IDS: \${{ steps.c.outputs.redriven }}\n          N: \${{ steps.c.outputs.failed-count }}\n        run: echo "$N"`,
    );
    expect(checkContract(text, contract)).toEqual([
      'job clean: steps.c.outputs.failed is a list of ids in run: or env:; pass counts, or read the results-file',
      'job clean: steps.c.outputs.redriven is a list of ids in run: or env:; pass counts, or read the results-file',
    ]);
  });

  it('reports a token given to this action in a workflow that runs on pull requests, even for a dry run', () => {
    const text = workflow(
      `      - uses: ./\n        with:\n          dry-run: true\n          qstash-token: \${{ secrets.QSTASH_TOKEN }}`,
    ).replace('on: push', 'on:\n  pull_request:');
    expect(checkContract(text, contract)).toEqual([
      'job clean: passes a secret to this action in a workflow run on pull requests; preview from workflow_dispatch or an environment with reviewers instead',
    ]);
    expect(checkContract(text.replace('pull_request:', 'workflow_dispatch:'), contract)).toEqual([]);
  });

  it('sees pull_request in the array form of on:, and a token given through env:', () => {
    const text = workflow(
      `      - uses: ./\n        env:\n          QSTASH_TOKEN: \${{ secrets.QSTASH_TOKEN }}\n        with:\n          dry-run: true`,
    ).replace('on: push', 'on: [push, pull_request]');
    expect(checkContract(text, contract)).toHaveLength(1);
  });
});
