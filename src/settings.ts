/**
 * Inputs -> one typed, validated Settings object. Every message names the input, the value and what is accepted;
 * all problems are reported together, and nothing here sends a request.
 */
import {
  BLANK_REFUSED,
  CODE_DEFAULTS,
  EXPORT_KINDS,
  INPUTS,
  Inputs,
  inputVariable,
  RETIRED_INPUTS,
  type ExportKind,
  type InputSpec,
  type OnNotFound,
  type OnReFailed,
  type OnThreshold,
} from './inputs.js';
import { MAX_VERIFY_MS } from './verify.js';
import type { ProofSettings } from './proof.js';
import { defaultGroupField, GROUP_FIELDS, isGroupField, type GroupField } from './census.js';
import { hasThresholds, type Thresholds } from './thresholds.js';
import type { KeepRule, Strategy, Target } from './engine/index.js';
import { assertUsableIds, InvalidIdsError, parseIdList, uniqueInOrder } from './ids.js';
import { FILTER_INPUTS, FilterError, parseDuration, readFilters, splitValues } from './filters.js';
import {
  dlqsOf,
  OPERATION_NAMES,
  OverrideError,
  readRedriveHeaders,
  type OperationName,
  type RedriveHeaders,
} from './operations.js';
import { collectTokens, EndpointError, resolveEndpoint, type Endpoint } from './endpoint.js';
import { secretPieces } from './log.js';
import type { DlqKind } from './qstash/paths.js';
import { ProxyConfigError, proxyFor } from './qstash/proxy.js';

export interface Settings {
  /** What to act on; undefined when nothing was selected. */
  readonly target: Target | undefined;
  readonly dlq: DlqKind;
  readonly operation: OperationName;
  /** Headers sent with every re-run request (redrive overrides). */
  readonly redriveHeaders: RedriveHeaders;
  /** Delete each entry once its re-run is confirmed. */
  readonly deleteAfterRedrive: boolean;
  readonly strategy: Strategy;
  /** The QStash URL and token, and where each came from. */
  readonly endpoint: Endpoint;
  readonly onNotFound: OnNotFound;
  readonly dryRun: boolean;
  readonly concurrency: number;
  readonly maxRetries: number;
  readonly requestTimeoutMs: number;
  /** report: the field the groups count by (the DLQ's default when not given). */
  readonly groupBy: GroupField;
  readonly thresholds: Thresholds;
  readonly onThreshold: OnThreshold;
  /** export: what is written before anything changes; undefined: no export. */
  readonly exportKind: ExportKind | undefined;
  /** verify (and canary, on-re-failed): the waits for the new runs; undefined when verify is off. */
  readonly proof: ProofSettings | undefined;
  /** The step's start (Unix ms), frozen: older-than and fail-if-older-than both count back from it. */
  readonly now: number;
}

/** What settings are read from: passed in so that tests need no process environment. */
export interface SettingsSource {
  /** The raw value of an input (`INPUT_<NAME>`), '' when unset. */
  input(name: string): string;
  /** An environment variable, undefined when unset. Whether an input was sent at all is read here (`INPUT_<NAME>`). */
  env(name: string): string | undefined;
  /** Reads a text file of ids; throws Node's errors (or ones with code ENOTREG / EFBIG). */
  readFile(path: string): string;
  /** Unix milliseconds, for older-than. */
  now?(): number;
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

export function readSettings(source: SettingsSource): Settings {
  const problems: string[] = [];
  const attempt = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (error) {
      if (
        error instanceof SettingsError ||
        error instanceof InvalidIdsError ||
        error instanceof FilterError ||
        error instanceof OverrideError ||
        error instanceof ProxyConfigError ||
        error instanceof EndpointError
      ) {
        problems.push(error.message);
        return fallback;
      }
      throw error;
    }
  };
  const raw = (spec: InputSpec): string => source.input(spec.name);
  // "Now" is read once: the filters and the age threshold measure from the same instant.
  const now = source.now?.() ?? Date.now();
  const frozen: SettingsSource = { ...source, now: () => now };

  attempt(() => refuseRetired(source), undefined);
  attempt(() => refuseBlank(source), undefined);
  const endpoint = attempt(() => resolveEndpoint(source), undefined);
  // The proxy variables are settings too: one that cannot be used is refused before any request.
  if (endpoint !== undefined) attempt(() => proxyFor(new URL(endpoint.url), (name) => source.env(name)), undefined);
  // A missing or malformed token is reported even when the URL was refused.
  if (endpoint !== undefined) attempt(() => checkToken(endpoint), undefined);
  else if (collectTokens(source).length === 0) attempt(() => checkToken({ token: '', tokenSource: 'none' }), undefined);
  const onNotFound = attempt(() => readChoice(INPUTS.onNotFound, raw(INPUTS.onNotFound)), 'pass') as OnNotFound;
  const dryRun = attempt(() => readBoolean(Inputs.dryRun, raw(INPUTS.dryRun), false), false);
  const concurrency = attempt(() => readInteger(INPUTS.concurrency, raw(INPUTS.concurrency), 1, 100), 1);
  const maxRetries = attempt(() => readInteger(INPUTS.maxRetries, raw(INPUTS.maxRetries), 0, 20), 0);
  const requestTimeoutMs = attempt(() => readSeconds(INPUTS.requestTimeout, raw(INPUTS.requestTimeout)), 1000);
  const dlq = attempt(() => readChoice(INPUTS.dlq, raw(INPUTS.dlq)), 'workflow') as DlqKind;
  const operation = attempt<OperationName | undefined>(() => readOperation(raw(INPUTS.operation), dlq), undefined);
  const strategy = attempt(() => readChoice(INPUTS.strategy, raw(INPUTS.strategy)), 'auto') as Strategy;
  const redriveHeaders = attempt(() => readRedriveHeaders(source.input, operation), {});
  const deleteAfterRedrive = attempt(() => readDeleteAfter(source, operation), false);
  const cap = attempt(() => readInteger(INPUTS.maxEntries, raw(INPUTS.maxEntries), 0, Number.MAX_SAFE_INTEGER), 0);
  const target = attempt(() => readTarget(frozen, dlq, cap, operation), undefined);
  const groupBy = attempt(() => readGroupBy(source, dlq, operation), defaultGroupField(dlq));
  const thresholds = attempt(() => readThresholds(source, operation, target), {});
  const onThreshold = attempt(() => readChoice(INPUTS.onThreshold, raw(INPUTS.onThreshold)), 'fail') as OnThreshold;
  const exportKind = attempt(() => readExport(raw(INPUTS.export)), undefined);
  const proof = attempt(() => readProof(source, operation, dryRun), undefined);

  if (problems.length > 0 || endpoint === undefined || operation === undefined) {
    const count = problems.reduce((sum, problem) => sum + problem.split('\n- ').length, 0);
    const heading = count === 1 ? 'Invalid input' : `${count} invalid inputs`;
    throw new SettingsError(
      `${heading}; no request was sent, nothing was deleted or re-run.\n- ${problems.join('\n- ')}`,
    );
  }
  return {
    target,
    dlq,
    operation,
    redriveHeaders,
    deleteAfterRedrive,
    strategy,
    endpoint,
    onNotFound,
    dryRun,
    concurrency,
    maxRetries,
    requestTimeoutMs,
    groupBy,
    thresholds,
    onThreshold,
    exportKind,
    proof,
    now,
  };
}

function checkToken(endpoint: Pick<Endpoint, 'token' | 'tokenSource'>): void {
  if (endpoint.token === '') {
    throw new SettingsError(
      `${Inputs.qstashToken}: no QStash token. Pass it from a secret (qstash-token: \${{ secrets.QSTASH_TOKEN }}) ` +
        `or set the QSTASH_TOKEN environment variable (or QSTASH_REGION with its region's token).`,
    );
  }
  // Never echo the value: it is a secret even when malformed.
  if (/[^\x21-\x7e]/u.test(endpoint.token)) {
    throw new SettingsError(
      `${Inputs.qstashToken}: the token from ${endpoint.tokenSource} (value hidden) contains spaces, line breaks or non-ASCII characters. ` +
        `Store the token alone in the secret, without a 'Bearer ' prefix or quotes.`,
    );
  }
}

function readDeleteAfter(source: SettingsSource, operation: OperationName | undefined): boolean {
  const value = readBoolean(Inputs.deleteAfterRedrive, source.input(Inputs.deleteAfterRedrive), false);
  if (value && (operation === 'delete' || operation === 'retry-callback' || operation === 'report')) {
    throw new SettingsError(
      `${Inputs.deleteAfterRedrive}: "true" deletes each entry after its re-run, but operation is ${operation}` +
        `${operation === 'retry-callback' ? ' (which re-runs only the failed callback, not the run)' : ''}. ` +
        `Accepted: true with operation restart, resume or retry; false otherwise.`,
    );
  }
  return value;
}

/** One reader for every input with a fixed set of values. */
export function readChoice(spec: InputSpec, raw: string): string {
  const value = raw.trim().toLowerCase() || spec.default;
  if (spec.choices?.includes(value)) return value;
  throw new SettingsError(
    `${spec.name}: ${JSON.stringify(raw)} is not ${spec.noun ?? 'accepted'}. Accepted: ${spec.accepted ?? spec.choices?.join(', ')}.`,
  );
}

function readOperation(raw: string, dlq: DlqKind): OperationName {
  const name = readChoice(INPUTS.operation, raw) as OperationName;
  const dlqs = dlqsOf(name);
  if (!dlqs.includes(dlq)) {
    const fits = OPERATION_NAMES.filter((candidate) => dlqsOf(candidate).includes(dlq));
    throw new SettingsError(
      `${Inputs.operation}: ${JSON.stringify(raw)} is an operation of the ${dlqs.join(' and ')} DLQ, but dlq is ${dlq}. ` +
        `Accepted with dlq: ${dlq}: ${fits.join(', ')}.`,
    );
  }
  return name;
}

/** Names that are no longer inputs (RETIRED_INPUTS), when the workflow still passes one. */
function refuseRetired(source: SettingsSource): void {
  const found = RETIRED_INPUTS.flatMap(({ name, use }) => {
    const value = source.env(inputVariable(name));
    if (value === undefined) return [];
    return [
      `${name}: ${JSON.stringify(value)} is not an input of this action (it was renamed ${use}); a runner only warns ` +
        `about an input action.yml does not declare, so it is refused rather than ignored. Accepted: ${use}, ` +
        `with the same value.`,
    ];
  });
  if (found.length > 0) throw new SettingsError(found.join('\n- '));
}

/**
 * The inputs of BLANK_REFUSED that a runner sent blank. A runner sends action.yml's (non-empty) default for one the
 * workflow leaves out, so blank can only be an expression that evaluated empty: refused, not read as the default.
 * An input that is absent altogether (no INPUT_ variable: a run outside a runner) gets its default.
 */
function refuseBlank(source: SettingsSource): void {
  const blank = BLANK_REFUSED.flatMap((spec) => {
    const value = source.env(inputVariable(spec.name));
    if (value === undefined || value.trim() !== '') return [];
    const accepted = spec.accepted ?? spec.choices?.join(', ');
    return [
      `${spec.name}: evaluated to an empty value (${JSON.stringify(value)}). An expression such as ` +
        `\${{ inputs.${spec.name} }} is empty on events without inputs (push, schedule) and when it names an input ` +
        `or variable that does not exist; an empty ${spec.name} is refused rather than read as ${spec.default}. ` +
        `Accepted: ${accepted}; leave the input out for ${spec.default}.`,
    ];
  });
  if (blank.length > 0) throw new SettingsError(blank.join('\n- '));
}

/** One way of selecting per step: ids, filters, or select-all. */
function readTarget(
  source: SettingsSource,
  dlq: DlqKind,
  cap: number,
  operation: OperationName | undefined,
): Target | undefined {
  // A report changes nothing: no cap, and no selection at all means the whole DLQ.
  const report = operation === 'report';
  if (report) cap = 0;
  const idsGiven = source.input(Inputs.dlqIds).trim() !== '' || source.input(Inputs.dlqIdsFile).trim() !== '';
  const all = readBoolean(Inputs.selectAll, source.input(Inputs.selectAll), CODE_DEFAULTS.selectAll);
  const allName = Inputs.selectAll;
  const capInput = Inputs.maxEntries;
  const filterInputs = FILTER_INPUTS.filter((name) => source.input(name).trim() !== '');
  // A filter given as nothing but separators ("," or " , ") would select every entry: refuse it.
  const hollow = filterInputs.filter((name) => splitValues(source.input(name)).length === 0);
  if (hollow.length > 0) {
    throw new SettingsError(
      hollow
        .map(
          (name) =>
            `${name}: ${JSON.stringify(source.input(name))} holds no value (only separators). Accepted: one or more values, newline- or comma-separated; leave the input out to not filter on it.`,
        )
        .join('\n- '),
    );
  }

  if (idsGiven && (filterInputs.length > 0 || all)) {
    const others = [...filterInputs, ...(all ? [allName] : [])].join(', ');
    throw new SettingsError(
      `${Inputs.dlqIds} / ${Inputs.dlqIdsFile} select entries by id and cannot be combined with ${others}. ` +
        `Use one way of selecting per step: ids, filters, or ${Inputs.selectAll}: true.`,
    );
  }
  if (all && filterInputs.length > 0) {
    throw new SettingsError(
      `${allName}: true selects every entry, so it cannot be combined with filters (${filterInputs.join(', ')}). ` +
        `Remove the filters, or set ${allName}: false to act only on what they match.`,
    );
  }
  const keep = readKeep(source, dlq, idsGiven);
  if (idsGiven) {
    const ids = readIds(source);
    return ids.length > 0 ? { kind: 'ids', ids } : undefined;
  }
  const rest = { cap, capInput, allInput: allName, ...(keep && { keep }) };
  if (all || (report && filterInputs.length === 0)) return { kind: 'query', query: [], filters: [], ...rest };
  if (filterInputs.length > 0) {
    const filters = readFilters(dlq, (name) => source.input(name), source.now?.() ?? Date.now());
    return { kind: 'query', query: filters.query, filters: filters.applied, ...rest };
  }
  return undefined;
}

function groupFieldsText(dlq: DlqKind): string {
  return `${GROUP_FIELDS[dlq].join(', ')} (dlq: ${dlq})`;
}

/** group-by: only a report has groups; the DLQ's default field when left out. */
function readGroupBy(source: SettingsSource, dlq: DlqKind, operation: OperationName | undefined): GroupField {
  const raw = source.input(Inputs.groupBy);
  const value = raw.trim().toLowerCase();
  if (value === '') return defaultGroupField(dlq);
  if (operation !== undefined && operation !== 'report') {
    throw new SettingsError(
      `${Inputs.groupBy}: ${JSON.stringify(raw)} shapes a report's groups, but operation is ${operation}. ` +
        `Accepted: ${Inputs.groupBy} with operation report; leave it out otherwise.`,
    );
  }
  if (!isGroupField(dlq, value)) {
    throw new SettingsError(
      `${Inputs.groupBy}: ${JSON.stringify(raw)} is not a field entries of the ${dlq} DLQ are grouped by. Accepted: ${groupFieldsText(dlq)}.`,
    );
  }
  return value;
}

/** keep-newest and keep-per: a rule over a listing, so never with ids. */
function readKeep(source: SettingsSource, dlq: DlqKind, idsGiven: boolean): KeepRule | undefined {
  const newestRaw = source.input(Inputs.keepNewest);
  const perRaw = source.input(Inputs.keepPer);
  const per = perRaw.trim().toLowerCase();
  if (newestRaw.trim() === '') {
    if (per !== '') {
      throw new SettingsError(
        `${Inputs.keepPer}: ${JSON.stringify(perRaw)} is given without ${Inputs.keepNewest}. Accepted: ${Inputs.keepPer} ` +
          `together with ${Inputs.keepNewest}: N (the N newest of each group are kept).`,
      );
    }
    return undefined;
  }
  const newest = /^[+]?\d+$/u.test(newestRaw.trim()) ? Number(newestRaw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(newest) || newest < 1) {
    throw new SettingsError(
      `${Inputs.keepNewest}: ${JSON.stringify(newestRaw)} is not accepted. Accepted: a whole number of entries to keep, 1 or more.`,
    );
  }
  if (idsGiven) {
    throw new SettingsError(
      `${Inputs.keepNewest}: keeps the newest of what a listing matches, but ${Inputs.dlqIds} / ${Inputs.dlqIdsFile} ` +
        `select entries by id. Accepted: ${Inputs.keepNewest} with filters or ${Inputs.selectAll}: true; leave it out with ids.`,
    );
  }
  if (per === '') return { newest };
  if (!isGroupField(dlq, per)) {
    throw new SettingsError(
      `${Inputs.keepPer}: ${JSON.stringify(perRaw)} is not a field entries of the ${dlq} DLQ are grouped by. Accepted: ${groupFieldsText(dlq)}.`,
    );
  }
  return { newest, per };
}

/**
 * fail-if-count-above and fail-if-older-than: measured on what a listing selects (a report, filters, select-all),
 * before anything changes. In a by-id run of an operation that changes, each id is settled as it goes: there is no
 * moment before the changes at which the count is known, so they are refused there.
 */
function readThresholds(
  source: SettingsSource,
  operation: OperationName | undefined,
  target: Target | undefined,
): Thresholds {
  const countRaw = source.input(Inputs.failIfCountAbove);
  const olderRaw = source.input(Inputs.failIfOlderThan);
  const problems: string[] = [];
  let countAbove: number | undefined;
  let olderThanMs: number | undefined;
  if (countRaw.trim() !== '') {
    const value = /^[+]?\d+$/u.test(countRaw.trim()) ? Number(countRaw.trim()) : Number.NaN;
    if (Number.isSafeInteger(value)) countAbove = value;
    else
      problems.push(
        `${Inputs.failIfCountAbove}: ${JSON.stringify(countRaw)} is not accepted. Accepted: a whole number, 0 or more (0: fail when anything is selected).`,
      );
  }
  if (olderRaw.trim() !== '') {
    try {
      olderThanMs = parseDuration(Inputs.failIfOlderThan, olderRaw);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const thresholds: Thresholds = {
    ...(countAbove !== undefined && { countAbove }),
    ...(olderThanMs !== undefined && { olderThanMs, olderThanRaw: olderRaw.trim() }),
  };
  const given = [
    ...(countRaw.trim() !== '' ? [Inputs.failIfCountAbove] : []),
    ...(olderRaw.trim() !== '' ? [Inputs.failIfOlderThan] : []),
  ];
  if (given.length > 0 && target?.kind === 'ids' && operation !== undefined && operation !== 'report') {
    problems.push(
      `${given.join(', ')}: a threshold is checked on what a listing selects before anything changes, but this ` +
        `${operation} selects by id (${Inputs.dlqIds} / ${Inputs.dlqIdsFile}). Accepted: thresholds with operation ` +
        `report, or with filters or ${Inputs.selectAll}: true.`,
    );
  }
  if (problems.length > 0) throw new SettingsError(problems.join('\n- '));
  return hasThresholds(thresholds) ? thresholds : {};
}

const VERIFY_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000 };

/** verify, on-re-failed and canary: undefined when verify is left out (and then canary is refused). */
function readProof(
  source: SettingsSource,
  operation: OperationName | undefined,
  dryRun: boolean,
): ProofSettings | undefined {
  const raw = source.input(Inputs.verify);
  const canaryRaw = source.input(Inputs.canary);
  const problems: string[] = [];
  let onReFailed: OnReFailed = 'fail';
  try {
    onReFailed = readChoice(INPUTS.onReFailed, source.input(Inputs.onReFailed)) as OnReFailed;
  } catch (error) {
    problems.push((error as Error).message);
  }
  let canary: number | undefined;
  if (canaryRaw.trim() !== '') {
    const value = canaryRaw.trim();
    if (/^\d{1,9}$/u.test(value) && Number(value) >= 1) canary = Number(value);
    else {
      problems.push(
        `${Inputs.canary}: ${JSON.stringify(canaryRaw)} is not accepted. Accepted: a whole number of entries, 1 or more, re-run and verified before the rest; or leave it out.`,
      );
    }
  }
  const value = raw.trim();
  let durationMs: number | undefined;
  if (value !== '') {
    const match = /^(\d{1,9})([smh])$/iu.exec(value);
    const ms = match ? Number(match[1]) * VERIFY_UNITS[match[2]!.toLowerCase()]! : Number.NaN;
    if (!(ms >= 1000 && ms <= MAX_VERIFY_MS)) {
      problems.push(
        `${Inputs.verify}: ${JSON.stringify(raw)} is not accepted. Accepted: how long to wait for the new runs, from 1s to 6h: a whole number and s, m or h, such as 30s, 10m, 2h; or leave it out.`,
      );
    } else durationMs = ms;
    if (operation !== undefined && operation !== 'restart' && operation !== 'resume') {
      problems.push(
        `${Inputs.verify}: ${JSON.stringify(raw)} waits for the workflow runs a restart or resume creates, but operation is ${operation}. ` +
          `Accepted: ${Inputs.verify} with operation restart or resume (dlq: workflow). A retry's new message and a re-run failure callback are not workflow runs the logs report, so retry and retry-callback are not verified; leave ${Inputs.verify} out.`,
      );
    }
    if (dryRun) {
      problems.push(
        `${Inputs.verify}: ${JSON.stringify(raw)} waits for new runs, but ${Inputs.dryRun} is true: a dry run re-runs nothing. Accepted: ${Inputs.verify} with ${Inputs.dryRun}: false; leave it out of dry runs.`,
      );
    }
  } else if (onReFailed !== 'fail') {
    // fail is the default a runner always sends; warn or pass says the workflow expects a wait it would not get.
    problems.push(
      `${Inputs.onReFailed}: ${JSON.stringify(source.input(Inputs.onReFailed))} needs ${Inputs.verify}: it decides what a new run that failed again does to the step, and only a wait sees that. Accepted: ${Inputs.onReFailed} together with ${Inputs.verify}, such as verify: 10m; or leave it out.`,
    );
  }
  if (value === '' && canary !== undefined) {
    problems.push(
      `${Inputs.canary}: ${JSON.stringify(canaryRaw)} needs ${Inputs.verify}: the rest are sent only once the canaries' new runs are seen to succeed. Accepted: ${Inputs.canary} together with ${Inputs.verify}, such as verify: 10m.`,
    );
  }
  if (problems.length > 0) throw new SettingsError(problems.join('\n- '));
  if (durationMs === undefined) return undefined;
  return { durationMs, raw: value, onReFailed, ...(canary !== undefined && { canary }) };
}

function readExport(raw: string): ExportKind | undefined {
  const value = raw.trim().toLowerCase();
  if (value === '') return undefined;
  if ((EXPORT_KINDS as readonly string[]).includes(value)) return value as ExportKind;
  throw new SettingsError(
    `${Inputs.export}: ${JSON.stringify(raw)} is not an export. Accepted: ${INPUTS.export.accepted}.`,
  );
}

export function readBoolean(name: string, raw: string, fallback: boolean): boolean {
  const value = raw.trim().toLowerCase();
  if (value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new SettingsError(`${name}: ${JSON.stringify(raw)} is not a boolean. Accepted: true or false.`);
}

export function readInteger(spec: InputSpec, raw: string, min: number, max: number): number {
  const value = raw.trim() || spec.default;
  const parsed = /^[+]?\d+$/u.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new SettingsError(
      `${spec.name}: ${JSON.stringify(raw)} is not accepted. Accepted: a whole number from ${min} to ${max}.`,
    );
  }
  return parsed;
}

/** Seconds (decimals allowed) -> milliseconds. */
export function readSeconds(spec: InputSpec, raw: string): number {
  const value = raw.trim() || spec.default;
  const seconds = /^\d+(?:\.\d+)?$/u.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= 0.1 && seconds <= 600)) {
    throw new SettingsError(
      `${spec.name}: ${JSON.stringify(raw)} is not accepted. Accepted: a number of seconds from 0.1 to 600.`,
    );
  }
  return Math.round(seconds * 1000);
}

const FILE_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  ENOTREG: 'it is not a regular file (a FIFO, a device or a socket)',
  EFBIG: 'it is too large',
  EACCES: 'permission denied',
};

function readIds(source: SettingsSource): string[] {
  // Ids are cut short in messages: the token goes first, so that a cut never leaves part of it.
  const redact = redactorFor(collectTokens(source));
  const fromInput = parseIdList(source.input(Inputs.dlqIds), { label: Inputs.dlqIds, redact });
  assertUsableIds(fromInput, { label: Inputs.dlqIds, redact });

  const path = source.input(Inputs.dlqIdsFile).trim();
  let fromFile: string[] = [];
  if (path !== '') {
    const label = `${Inputs.dlqIdsFile} (${JSON.stringify(path)})`;
    let text: string;
    try {
      text = source.readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = (code && FILE_PROBLEMS[code]) ?? code ?? (error as Error).message;
      const detail = code === 'EFBIG' ? ` (${(error as Error).message})` : '';
      throw new SettingsError(
        `${label}: cannot read the file: ${why}${detail}. Accepted: the path of a readable regular text file of ids.`,
      );
    }
    fromFile = parseIdList(text, { label, redact });
    assertUsableIds(fromFile, { label, redact });
  }
  return uniqueInOrder([...fromInput, ...fromFile]);
}

/**
 * Replaces each secret with `***`, as main.ts's Log does when it prints (the same pieces: each value, and each line of
 * 8 characters or more of a value of several lines), for text that is cut before Log sees it.
 */
export function redactorFor(values: readonly string[]): (text: string) => string {
  const secrets = secretPieces(values).sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('***'), text);
}
