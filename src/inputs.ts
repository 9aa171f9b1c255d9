/**
 * The public contract in action.yml, named once: every input's name, the default a runner sends, and its choices.
 * A test holds this against action.yml; the filter inputs are described in filters.ts.
 */
import { OPERATION_NAMES } from './operations.js';

export interface InputSpec {
  readonly name: string;
  /** The default in action.yml, which a runner always sends when the workflow leaves the input out. */
  readonly default: string;
  /** The accepted values, when there is a fixed set (matched case-insensitively). */
  readonly choices?: readonly string[];
  /** For messages about a value that is not a choice: what it should be, and the choices explained. */
  readonly noun?: string;
  readonly accepted?: string;
}

export const INPUTS = {
  dlqIds: { name: 'dlq-ids', default: '' },
  dlqIdsFile: { name: 'dlq-ids-file', default: '' },
  dlq: {
    name: 'dlq',
    default: 'workflow',
    choices: ['workflow', 'qstash'],
    noun: 'a DLQ',
    accepted: 'workflow (Upstash Workflow runs) or qstash (QStash messages)',
  },
  operation: {
    name: 'operation',
    default: 'delete',
    choices: OPERATION_NAMES,
    noun: 'an operation',
    accepted: 'delete; restart, resume or retry-callback (dlq: workflow); retry (dlq: qstash)',
  },
  // The general names and the old delete-only ones: '' in action.yml, so that the code can tell "not given" and
  // refuse an old and a new name set to different values. Defaults: CODE_DEFAULTS.
  selectAll: { name: 'select-all', default: '' },
  deleteAll: { name: 'delete-all', default: '' },
  maxEntries: { name: 'max-entries', default: '' },
  maxDeletes: { name: 'max-deletes', default: '' },
  qstashToken: { name: 'qstash-token', default: '' },
  qstashUrl: { name: 'qstash-url', default: '' },
  onNotFound: { name: 'on-not-found', default: 'pass', choices: ['pass', 'warn', 'fail'], noun: 'a policy' },
  dryRun: { name: 'dry-run', default: 'false' },
  strategy: {
    name: 'strategy',
    default: 'auto',
    choices: ['auto', 'per-id'],
    noun: 'a strategy',
    accepted: 'auto (list, then act in bulk where that is faster) or per-id (one request per id)',
  },
  concurrency: { name: 'concurrency', default: '8' },
  maxRetries: { name: 'max-retries', default: '3' },
  requestTimeout: { name: 'request-timeout', default: '30' },
  redriveRetries: { name: 'redrive-retries', default: '' },
  redriveDelay: { name: 'redrive-delay', default: '' },
  redriveRetryDelay: { name: 'redrive-retry-delay', default: '' },
  redriveFlowControlKey: { name: 'redrive-flow-control-key', default: '' },
  redriveFlowControlValue: { name: 'redrive-flow-control-value', default: '' },
  redriveLabel: { name: 'redrive-label', default: '' },
  redriveFailureCallback: { name: 'redrive-failure-callback', default: '' },
  deleteAfterRedrive: { name: 'delete-after-redrive', default: 'false' },
} as const satisfies Record<string, InputSpec>;

/** Input names by key, for messages: `Inputs.dlqIds` is 'dlq-ids'. */
export const Inputs = Object.fromEntries(Object.entries(INPUTS).map(([key, spec]) => [key, spec.name])) as {
  readonly [K in keyof typeof INPUTS]: (typeof INPUTS)[K]['name'];
};

/** Defaults applied in code where action.yml sends '' (see above). */
export const CODE_DEFAULTS = {
  selectAll: false,
  maxEntries: 1000,
  qstashUrl: 'https://qstash.upstash.io',
} as const;

export type OnNotFound = (typeof INPUTS.onNotFound.choices)[number];

export const OUTPUTS = [
  'removed',
  'removed-count',
  'redriven',
  'redriven-count',
  'new-runs',
  'not-found',
  'not-found-count',
  'failed',
  'failed-count',
  'failed-causes',
  'would-remove',
  'would-remove-count',
  'would-redrive',
  'would-redrive-count',
  'results-file',
] as const;
export type OutputName = (typeof OUTPUTS)[number];
