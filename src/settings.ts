/**
 * Inputs -> one typed, validated Settings object. Every message names the input, the value and what is accepted;
 * all problems are reported together, and nothing here sends a request.
 */
import { Defaults, DlqChoices, Inputs, OnNotFoundPolicies, StrategyChoices, type OnNotFound } from './inputs.js';
import type { Strategy } from './cleanup.js';
import { assertUsableIds, InvalidIdsError, parseIdList, uniqueInOrder } from './ids.js';
import { FILTER_INPUTS, FilterError, readFilters, type FilterSelection } from './filters.js';
import type { DlqKind } from './qstash/paths.js';

/** What the run acts on: explicit ids, a filtered listing, the whole DLQ, or nothing. */
export type Selection =
  /** Ids, unique, in first-occurrence order (dlq-ids first, then dlq-ids-file). */
  | { readonly mode: 'ids'; readonly ids: readonly string[] }
  | { readonly mode: 'filter'; readonly filters: FilterSelection }
  | { readonly mode: 'all' }
  | { readonly mode: 'none' };

export interface Settings {
  readonly selection: Selection;
  readonly dlq: DlqKind;
  /** Filter and delete-all runs delete nothing when more entries match; 0 means no cap. */
  readonly maxDeletes: number;
  /** How explicit ids are deleted. */
  readonly strategy: Strategy;
  readonly token: string;
  /** Origin of the QStash API, without a trailing slash, e.g. `https://qstash.upstash.io`. */
  readonly baseUrl: string;
  readonly onNotFound: OnNotFound;
  readonly dryRun: boolean;
  readonly concurrency: number;
  readonly maxRetries: number;
  readonly requestTimeoutMs: number;
}

/** What settings are read from: passed in so that tests need no process environment. */
export interface SettingsSource {
  /** The raw value of an input (`INPUT_<NAME>`), '' when unset. */
  input(name: string): string;
  /** An environment variable, undefined when unset. */
  env(name: string): string | undefined;
  /** Reads a text file; throws Node's errors. */
  readFile(path: string): string;
  /** Unix milliseconds, for older-than. */
  now?(): number;
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** Token first: the caller masks it before anything else can be printed. */
export function readToken(source: SettingsSource): string {
  const fromInput = source.input(Inputs.QstashToken).trim();
  if (fromInput !== '') return fromInput;
  return (source.env('QSTASH_TOKEN') ?? '').trim();
}

export function readSettings(source: SettingsSource): Settings {
  const problems: string[] = [];
  const attempt = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (error) {
      if (error instanceof SettingsError || error instanceof InvalidIdsError || error instanceof FilterError) {
        problems.push(error.message);
        return fallback;
      }
      throw error;
    }
  };

  const token = attempt(() => checkToken(readToken(source)), '');
  const baseUrl = attempt(() => readBaseUrl(source), Defaults.qstashUrl);
  const onNotFound = attempt(() => readOnNotFound(source.input(Inputs.OnNotFound)), 'pass' as OnNotFound);
  const dryRun = attempt(() => readBoolean(Inputs.DryRun, source.input(Inputs.DryRun), false), false);
  const concurrency = attempt(
    () => readInteger(Inputs.Concurrency, source.input(Inputs.Concurrency), Defaults.concurrency, 1, 100),
    1,
  );
  const maxRetries = attempt(
    () => readInteger(Inputs.MaxRetries, source.input(Inputs.MaxRetries), Defaults.maxRetries, 0, 20),
    0,
  );
  const requestTimeoutMs = attempt(
    () => readSeconds(Inputs.RequestTimeout, source.input(Inputs.RequestTimeout), Defaults.requestTimeoutSeconds),
    1000,
  );
  const dlq = attempt(() => readDlq(source.input(Inputs.Dlq)), 'workflow' as DlqKind);
  const maxDeletes = attempt(
    () =>
      readInteger(Inputs.MaxDeletes, source.input(Inputs.MaxDeletes), Defaults.maxDeletes, 0, Number.MAX_SAFE_INTEGER),
    0,
  );
  const strategy = attempt(() => readStrategy(source.input(Inputs.Strategy)), 'auto' as Strategy);
  const selection = attempt(() => readSelection(source, dlq), { mode: 'none' } as Selection);

  if (problems.length > 0) {
    const count = problems.reduce((sum, problem) => sum + problem.split('\n- ').length, 0);
    const heading = count === 1 ? 'Invalid input' : `${count} invalid inputs`;
    throw new SettingsError(`${heading}; nothing was deleted.\n- ${problems.join('\n- ')}`);
  }
  return {
    selection,
    dlq,
    maxDeletes,
    strategy,
    token,
    baseUrl,
    onNotFound,
    dryRun,
    concurrency,
    maxRetries,
    requestTimeoutMs,
  };
}

function readStrategy(raw: string): Strategy {
  const value = raw.trim().toLowerCase() || 'auto';
  if ((StrategyChoices as readonly string[]).includes(value)) return value as Strategy;
  throw new SettingsError(
    `${Inputs.Strategy}: ${JSON.stringify(raw)} is not a strategy. Accepted: auto (list then bulk-delete when faster) or per-id (one request per id).`,
  );
}

function readDlq(raw: string): DlqKind {
  const value = raw.trim().toLowerCase() || 'workflow';
  if ((DlqChoices as readonly string[]).includes(value)) return value as DlqKind;
  throw new SettingsError(
    `${Inputs.Dlq}: ${JSON.stringify(raw)} is not a DLQ. Accepted: workflow (Upstash Workflow runs) or qstash (QStash messages).`,
  );
}

/** One way of selecting per step: ids, filters, or delete-all. */
function readSelection(source: SettingsSource, dlq: DlqKind): Selection {
  const idsGiven = source.input(Inputs.DlqIds).trim() !== '' || source.input(Inputs.DlqIdsFile).trim() !== '';
  const deleteAll = readBoolean(Inputs.DeleteAll, source.input(Inputs.DeleteAll), false);
  const filterInputs = FILTER_INPUTS.filter((name) => source.input(name).trim() !== '');

  if (idsGiven && (filterInputs.length > 0 || deleteAll)) {
    const others = [...filterInputs, ...(deleteAll ? [Inputs.DeleteAll] : [])].join(', ');
    throw new SettingsError(
      `${Inputs.DlqIds} / ${Inputs.DlqIdsFile} select entries by id and cannot be combined with ${others}. ` +
        `Use one way of selecting per step: ids, filters, or ${Inputs.DeleteAll}: true.`,
    );
  }
  if (deleteAll && filterInputs.length > 0) {
    throw new SettingsError(
      `${Inputs.DeleteAll}: true selects every entry, so it cannot be combined with filters (${filterInputs.join(', ')}). ` +
        `Remove the filters, or set ${Inputs.DeleteAll}: false to delete only what they match.`,
    );
  }
  if (idsGiven) {
    const ids = readIds(source);
    return ids.length > 0 ? { mode: 'ids', ids } : { mode: 'none' };
  }
  if (deleteAll) return { mode: 'all' };
  if (filterInputs.length > 0) {
    return { mode: 'filter', filters: readFilters(dlq, (name) => source.input(name), source.now?.() ?? Date.now()) };
  }
  return { mode: 'none' };
}

function checkToken(token: string): string {
  if (token === '') {
    throw new SettingsError(
      `${Inputs.QstashToken}: no QStash token. Pass it from a secret (qstash-token: \${{ secrets.QSTASH_TOKEN }}) ` +
        `or set the QSTASH_TOKEN environment variable.`,
    );
  }
  // Never echo the value: it is a secret even when malformed.
  if (/\s/u.test(token) || /[^\x21-\x7e]/u.test(token)) {
    throw new SettingsError(
      `${Inputs.QstashToken}: the token (value hidden) contains spaces, line breaks or non-ASCII characters. ` +
        `Store the token alone in the secret, without a 'Bearer ' prefix or quotes.`,
    );
  }
  return token;
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/u.test(hostname);
}

/** Shows a URL in a message without any credentials it carries. */
function showUrl(raw: string): string {
  return JSON.stringify(raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/iu, '$1***@'));
}

function readBaseUrl(source: SettingsSource): string {
  const fromInput = source.input(Inputs.QstashUrl).trim();
  const fromEnv = (source.env('QSTASH_URL') ?? '').trim();
  const raw = fromInput || fromEnv || Defaults.qstashUrl;
  const origin = fromInput ? Inputs.QstashUrl : `${Inputs.QstashUrl} (from QSTASH_URL)`;
  const accepted = `Accepted: an https:// origin such as ${Defaults.qstashUrl} or https://qstash-us-east-1.upstash.io (http:// only for 127.0.0.1, localhost or [::1]).`;

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SettingsError(`${origin}: ${showUrl(raw)} is not a URL. ${accepted}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new SettingsError(
      `${origin}: ${showUrl(raw)} carries credentials; the token goes in ${Inputs.QstashToken}, never in the URL. ${accepted}`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new SettingsError(
      `${origin}: ${showUrl(raw)} is not https; the token may only travel in clear to a loopback host. ${accepted}`,
    );
  }
  if (url.search !== '' || url.hash !== '' || raw.includes('?') || raw.includes('#')) {
    throw new SettingsError(`${origin}: ${showUrl(raw)} has a query or fragment. ${accepted}`);
  }
  if (url.pathname !== '/') {
    throw new SettingsError(
      `${origin}: ${showUrl(raw)} has a path (${JSON.stringify(url.pathname)}); give the origin only, the action adds /v2/... itself. ${accepted}`,
    );
  }
  return url.origin;
}

function readOnNotFound(raw: string): OnNotFound {
  const value = raw.trim().toLowerCase() || 'pass';
  if ((OnNotFoundPolicies as readonly string[]).includes(value)) return value as OnNotFound;
  throw new SettingsError(
    `${Inputs.OnNotFound}: ${JSON.stringify(raw)} is not a policy. Accepted: ${OnNotFoundPolicies.join(', ')}.`,
  );
}

export function readBoolean(name: string, raw: string, fallback: boolean): boolean {
  const value = raw.trim().toLowerCase();
  if (value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new SettingsError(`${name}: ${JSON.stringify(raw)} is not a boolean. Accepted: true or false.`);
}

export function readInteger(name: string, raw: string, fallback: number, min: number, max: number): number {
  const value = raw.trim();
  if (value === '') return fallback;
  const parsed = /^[+]?\d+$/u.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new SettingsError(
      `${name}: ${JSON.stringify(raw)} is not accepted. Accepted: a whole number from ${min} to ${max}.`,
    );
  }
  return parsed;
}

/** Seconds (decimals allowed) -> milliseconds. */
export function readSeconds(name: string, raw: string, fallbackSeconds: number): number {
  const value = raw.trim();
  const seconds = value === '' ? fallbackSeconds : /^\d+(?:\.\d+)?$/u.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= 0.1 && seconds <= 600)) {
    throw new SettingsError(
      `${name}: ${JSON.stringify(raw)} is not accepted. Accepted: a number of seconds from 0.1 to 600.`,
    );
  }
  return Math.round(seconds * 1000);
}

function readIds(source: SettingsSource): string[] {
  const fromInput = parseIdList(source.input(Inputs.DlqIds), { label: Inputs.DlqIds });
  assertUsableIds(fromInput, { label: Inputs.DlqIds });

  const path = source.input(Inputs.DlqIdsFile).trim();
  let fromFile: string[] = [];
  if (path !== '') {
    const label = `${Inputs.DlqIdsFile} (${JSON.stringify(path)})`;
    let text: string;
    try {
      text = source.readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (code ?? (error as Error).message);
      throw new SettingsError(
        `${label}: cannot read the file: ${why}. Accepted: the path of a readable text file of ids.`,
      );
    }
    fromFile = parseIdList(text, { label });
    assertUsableIds(fromFile, { label });
  }
  return uniqueInOrder([...fromInput, ...fromFile]);
}
