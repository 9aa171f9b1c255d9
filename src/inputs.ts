/** Input and output names: the public contract in action.yml, named once. */
export const Inputs = {
  DlqIds: 'dlq-ids',
  DlqIdsFile: 'dlq-ids-file',
  QstashToken: 'qstash-token',
  QstashUrl: 'qstash-url',
  OnNotFound: 'on-not-found',
  DryRun: 'dry-run',
  Concurrency: 'concurrency',
  MaxRetries: 'max-retries',
  RequestTimeout: 'request-timeout',
  Dlq: 'dlq',
  DeleteAll: 'delete-all',
  MaxDeletes: 'max-deletes',
  Strategy: 'strategy',
} as const;

export const Outputs = {
  Removed: 'removed',
  RemovedCount: 'removed-count',
  NotFound: 'not-found',
  NotFoundCount: 'not-found-count',
  Failed: 'failed',
  FailedCount: 'failed-count',
  WouldRemove: 'would-remove',
  WouldRemoveCount: 'would-remove-count',
} as const;

export const OnNotFoundPolicies = ['pass', 'warn', 'fail'] as const;
export type OnNotFound = (typeof OnNotFoundPolicies)[number];

export const StrategyChoices = ['auto', 'per-id'] as const;

export const DlqChoices = ['workflow', 'qstash'] as const;

export const Defaults = {
  maxDeletes: 1000,
  qstashUrl: 'https://qstash.upstash.io',
  concurrency: 8,
  maxRetries: 3,
  requestTimeoutSeconds: 30,
} as const;
