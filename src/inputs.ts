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
  /** For messages about a value that is not accepted: what it should be, and what is accepted. */
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
    accepted: 'delete; restart, resume or retry-callback (dlq: workflow); retry (dlq: qstash); report (both DLQs)',
  },
  selectAll: { name: 'select-all', default: 'false', accepted: 'true or false' },
  maxEntries: { name: 'max-entries', default: '1000', accepted: 'a whole number (0 removes the cap)' },
  groupBy: { name: 'group-by', default: '' },
  failIfCountAbove: { name: 'fail-if-count-above', default: '' },
  failIfOlderThan: { name: 'fail-if-older-than', default: '' },
  onThreshold: {
    name: 'on-threshold',
    default: 'fail',
    choices: ['fail', 'warn'],
    noun: 'a policy',
    accepted: 'fail (the step fails, nothing is changed) or warn (a warning; the operation goes on)',
  },
  export: {
    name: 'export',
    default: '',
    accepted: 'entries, entries-with-bodies, or leave the input out for no export',
  },
  keepNewest: { name: 'keep-newest', default: '' },
  keepPer: { name: 'keep-per', default: '' },
  qstashToken: { name: 'qstash-token', default: '' },
  qstashUrl: { name: 'qstash-url', default: '' },
  onNotFound: { name: 'on-not-found', default: 'pass', choices: ['pass', 'warn', 'fail'], noun: 'a policy' },
  dryRun: { name: 'dry-run', default: 'false', accepted: 'true or false' },
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
  deleteAfterRedrive: { name: 'delete-after-redrive', default: 'false', accepted: 'true or false' },
  verify: { name: 'verify', default: '' },
  onReFailed: {
    name: 'on-re-failed',
    default: 'fail',
    choices: ['fail', 'warn', 'pass'],
    noun: 'a policy',
    accepted: 'fail (the step fails), warn (a warning) or pass (a notice)',
  },
  canary: { name: 'canary', default: '' },
} as const satisfies Record<string, InputSpec>;

/** Input names by key, for messages: `Inputs.dlqIds` is 'dlq-ids'. */
export const Inputs = Object.fromEntries(Object.entries(INPUTS).map(([key, spec]) => [key, spec.name])) as {
  readonly [K in keyof typeof INPUTS]: (typeof INPUTS)[K]['name'];
};

/**
 * Defaults the code applies when an input is absent (outside a runner: tests, local-action), parsed from the defaults
 * above; and qstash-url's, which action.yml leaves '' so that the environment's QSTASH_URL can apply.
 */
export const CODE_DEFAULTS = {
  selectAll: false,
  maxEntries: 1000,
  qstashUrl: 'https://qstash.upstash.io',
} as const;

/**
 * Inputs whose present-but-blank value is refused (see settings.ts). Their action.yml default is not empty, so a
 * runner never sends '' for them when the workflow leaves them out: '' can only come from an expression that
 * evaluated empty (`${{ inputs.dry-run }}` on a push), and falling back to the default would change what is done
 * (the DLQ, the operation, a real run instead of a dry one, the cap, the step's verdict). The tuning inputs
 * (strategy, concurrency, max-retries, request-timeout) change only how it is done: blank gives their default.
 */
export const BLANK_REFUSED: readonly InputSpec[] = [
  INPUTS.dlq,
  INPUTS.operation,
  INPUTS.selectAll,
  INPUTS.maxEntries,
  INPUTS.onNotFound,
  INPUTS.onThreshold,
  INPUTS.dryRun,
  INPUTS.deleteAfterRedrive,
  INPUTS.onReFailed,
];

/**
 * Names that were never released and are no longer inputs. A runner only warns about an input action.yml does not
 * declare, so a workflow still passing one would silently lose it: it is refused, naming the input to use.
 */
export const RETIRED_INPUTS: readonly { readonly name: string; readonly use: string }[] = [
  { name: 'delete-all', use: INPUTS.selectAll.name },
  { name: 'max-deletes', use: INPUTS.maxEntries.name },
];

/** The environment variable a runner sets for an input: `INPUT_` and the name upper-cased, hyphens kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /gu, '_').toUpperCase()}`;
}

export type OnNotFound = (typeof INPUTS.onNotFound.choices)[number];
export type OnThreshold = (typeof INPUTS.onThreshold.choices)[number];
/** What a redriven entry whose new run failed again does to the step (verify). */
export type OnReFailed = (typeof INPUTS.onReFailed.choices)[number];
/** What export writes: entries (headers masked, no bodies) or entries with their bodies (secrets redacted). */
export const EXPORT_KINDS = ['entries', 'entries-with-bodies'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

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
  'entries-count',
  'oldest-created-at',
  'newest-created-at',
  'groups',
  'groups-others',
  'threshold-exceeded',
  'kept-count',
  'export-file',
  'run-states',
  'succeeded-count',
  're-failed',
  're-failed-count',
  'still-running-count',
  're-failed-dlq-ids',
] as const;
export type OutputName = (typeof OUTPUTS)[number];
