/**
 * Which QStash API (URL) and token a run uses, resolved as the official clients (`@upstash/qstash` 2.9+,
 * `@upstash/workflow` 1.1+) do, so a workflow that already configures them needs nothing more:
 *
 * 1. both `qstash-url` and `qstash-token` given: those;
 * 2. else `QSTASH_REGION` (`US_EAST_1` or `EU_CENTRAL_1`, case-insensitive, `-` read as `_`) selects
 *    `<REGION>_QSTASH_URL` / `<REGION>_QSTASH_TOKEN` (an unknown region, or missing variables: a warning, then 3);
 * 3. else `QSTASH_URL` / `QSTASH_TOKEN`;
 * 4. else the URL `https://qstash.upstash.io` (the token stays empty: the caller reports that).
 *
 * Unlike the clients, an input given alone still wins for its own value (the clients ignore a lone `baseUrl` when the
 * region variables are complete). A URL and a token from different places draw a warning; a `qstash-token` input
 * whose URL comes from a variable and is neither an Upstash host nor loopback is refused, since a variable can be set
 * job-wide or by any earlier step and the token would go where nobody named it. Pure: reads inputs and variables
 * through the source, nothing else.
 */
import { CODE_DEFAULTS, Inputs } from './inputs.js';

const URL_INPUT = Inputs.qstashUrl;
const TOKEN_INPUT = Inputs.qstashToken;
/** What the clients use when nothing is configured: the EU region (same as qstash-eu-central-1.upstash.io). */
export const DEFAULT_QSTASH_URL = CODE_DEFAULTS.qstashUrl;

/** Where inputs and variables are read from: a subset of SettingsSource. */
export interface EndpointSource {
  /** The raw value of an input, '' when unset. */
  input(name: string): string;
  /** An environment variable, undefined when unset. */
  env(name: string): string | undefined;
}

export interface Endpoint {
  /** Origin of the QStash API, without a trailing slash. */
  readonly url: string;
  /** Where `url` came from: `input qstash-url`, `US_EAST_1_QSTASH_URL (QSTASH_REGION=us-east-1)`, `QSTASH_URL`, `default`. */
  readonly urlSource: string;
  /** '' when no token was found anywhere (tokenSource `none`). */
  readonly token: string;
  readonly tokenSource: string;
  /** For the log, as warnings. Never contain a token. */
  readonly warnings: string[];
  /** Every token value read from any input or variable, used or not: mask them all before printing anything. */
  readonly tokensToMask: string[];
}

/**
 * A QStash URL that cannot be used, or a token input refused for the URL it would go to; the message names where the
 * value came from, never a token.
 */
export class EndpointError extends Error {
  override name = 'EndpointError';
  /** The input or variable the bad value came from, e.g. `qstash-url` or `US_EAST_1_QSTASH_URL`. */
  readonly label: string;
  /** Set by resolveEndpoint: every token value it read, to mask before printing anything. */
  tokensToMask: readonly string[] = [];

  constructor(label: string, message: string) {
    super(message);
    this.label = label;
  }
}

export const QSTASH_REGIONS = ['US_EAST_1', 'EU_CENTRAL_1'] as const;
export type QstashRegion = (typeof QSTASH_REGIONS)[number];

/** The regions' own hosts, to spot a token of one region sent to the other's URL. */
const REGION_OF_HOST: Readonly<Record<string, QstashRegion>> = {
  'qstash.upstash.io': 'EU_CENTRAL_1',
  'qstash-eu-central-1.upstash.io': 'EU_CENTRAL_1',
  'qstash-us-east-1.upstash.io': 'US_EAST_1',
};

/** The publish URL older Upstash integrations put in QSTASH_URL; the clients read it as the default URL. */
const LEGACY_PUBLISH_URL = 'https://qstash.upstash.io/v2/publish';

const TOKEN_VARIABLES = ['QSTASH_TOKEN', ...QSTASH_REGIONS.map((region) => `${region}_QSTASH_TOKEN`)];

/** A value that is set and not blank, trimmed. */
function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Every token value the run can see, from the input and every token variable: mask these first. */
export function collectTokens(source: EndpointSource): string[] {
  const values = [source.input(TOKEN_INPUT), ...TOKEN_VARIABLES.map((name) => source.env(name))]
    .map(present)
    .filter((value): value is string => value !== undefined);
  return [...new Set(values)];
}

/** `QSTASH_REGION` read as the clients do: case-insensitive, `-` as `_`. Undefined when unset or unknown. */
export function normalizeRegion(raw: string | undefined): QstashRegion | undefined {
  const value = present(raw)?.replaceAll('-', '_').toUpperCase();
  return (QSTASH_REGIONS as readonly string[]).includes(value ?? '') ? (value as QstashRegion) : undefined;
}

interface Picked {
  readonly value: string;
  readonly source: string;
  /** Which family the value came from, to spot a URL and a token from different places. */
  readonly family: 'input' | 'region' | 'env' | 'default' | 'none';
  /** The label a bad URL is reported under. */
  readonly label: string;
}

/**
 * Resolves the URL and token. Throws EndpointError when the chosen URL is unusable (its message names the input or
 * variable it came from), or when the token input would go to a URL from a variable that is neither Upstash's nor
 * loopback; the error carries `tokensToMask` too, so the caller can mask before printing it.
 */
export function resolveEndpoint(source: EndpointSource): Endpoint {
  const tokensToMask = collectTokens(source);
  const warnings: string[] = [];
  const inputUrl = present(source.input(URL_INPUT));
  const inputToken = present(source.input(TOKEN_INPUT));

  let url: Picked | undefined = inputUrl
    ? { value: inputUrl, source: `input ${URL_INPUT}`, family: 'input', label: URL_INPUT }
    : undefined;
  let token: Picked | undefined = inputToken
    ? { value: inputToken, source: `input ${TOKEN_INPUT}`, family: 'input', label: TOKEN_INPUT }
    : undefined;

  if (!url || !token) {
    const rawRegion = present(source.env('QSTASH_REGION'));
    const region = normalizeRegion(rawRegion);
    if (rawRegion !== undefined && region === undefined) {
      warnings.push(
        `QSTASH_REGION is ${showRegion(rawRegion)}, not a QStash region (accepted: ${QSTASH_REGIONS.join(', ')}, ` +
          `case-insensitive, - read as _); ignoring it and falling back to ${fallbackText(url, token)}, as the Upstash clients do.`,
      );
    }
    if (region !== undefined) {
      const via = `(QSTASH_REGION=${rawRegion})`;
      const regionUrl = present(source.env(`${region}_QSTASH_URL`));
      const regionToken = present(source.env(`${region}_QSTASH_TOKEN`));
      // Only the values no input gives must come from the region's variables.
      const missing = [
        ...(url || regionUrl ? [] : [`${region}_QSTASH_URL`]),
        ...(token || regionToken ? [] : [`${region}_QSTASH_TOKEN`]),
      ];
      if (missing.length === 0) {
        url ??= {
          value: regionUrl!,
          source: `${region}_QSTASH_URL ${via}`,
          family: 'region',
          label: `${region}_QSTASH_URL`,
        };
        token ??= {
          value: regionToken!,
          source: `${region}_QSTASH_TOKEN ${via}`,
          family: 'region',
          label: `${region}_QSTASH_TOKEN`,
        };
      } else {
        warnings.push(
          `QSTASH_REGION is ${showRegion(rawRegion!)} but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} ` +
            `not set; falling back to ${fallbackText(url, token)}, as the Upstash clients do.`,
        );
      }
    }
  }

  if (!url) {
    const fromEnv = present(source.env('QSTASH_URL'));
    url = fromEnv
      ? { value: fromEnv, source: 'QSTASH_URL', family: 'env', label: 'QSTASH_URL' }
      : { value: DEFAULT_QSTASH_URL, source: 'default', family: 'default', label: URL_INPUT };
  }
  if (!token) {
    const fromEnv = present(source.env('QSTASH_TOKEN'));
    token = fromEnv
      ? { value: fromEnv, source: 'QSTASH_TOKEN', family: 'env', label: 'QSTASH_TOKEN' }
      : { value: '', source: 'none', family: 'none', label: TOKEN_INPUT };
  }

  let raw = url.value.replace(/\/$/u, '');
  if (raw === LEGACY_PUBLISH_URL) {
    warnings.push(
      `${url.label} is the old publish URL ${LEGACY_PUBLISH_URL}; using ${DEFAULT_QSTASH_URL}, as the Upstash clients do. ` +
        `Set it to ${DEFAULT_QSTASH_URL} to silence this warning.`,
    );
    raw = DEFAULT_QSTASH_URL;
  }
  let origin: string;
  try {
    origin = validateBaseUrl(raw, url.label);
  } catch (error) {
    if (error instanceof EndpointError) error.tokensToMask = tokensToMask;
    throw error;
  }

  const stray = strayToken(url, token, origin);
  if (stray) {
    const error = new EndpointError(TOKEN_INPUT, stray);
    error.tokensToMask = tokensToMask;
    throw error;
  }
  const mismatch = mixedSources(url, token, origin);
  if (mismatch) warnings.push(mismatch);
  return { url: origin, urlSource: url.source, token: token.value, tokenSource: token.source, warnings, tokensToMask };
}

/**
 * A region value for a message: shown only when it looks like a region name (short, letters in one case, digits, `-`
 * or `_`, such as `ap-south-1`); anything else may be a pasted secret, so only its length is told.
 */
export function showRegion(raw: string): string {
  const regionLike = /^(?=.{1,20}$)(?:[a-z]{1,12}|[A-Z]{1,12})(?:[-_](?:[a-z]{1,12}|[A-Z]{1,12}|\d{1,2}))*$/u;
  const oneCase = raw === raw.toLowerCase() || raw === raw.toUpperCase();
  return regionLike.test(raw) && oneCase
    ? JSON.stringify(raw)
    : `an unknown value (${[...raw].length} characters, not shown)`;
}

/** What the fallback after a skipped region will use, for the warning. */
function fallbackText(url: Picked | undefined, token: Picked | undefined): string {
  const parts = [...(url ? [] : ['QSTASH_URL (or the default URL)']), ...(token ? [] : ['QSTASH_TOKEN'])];
  return parts.join(' and ');
}

/** Families a value is configured in; the default URL and a missing token are not configured anywhere. */
const CONFIGURED: ReadonlySet<Picked['family']> = new Set(['input', 'region', 'env']);

/**
 * A warning when the URL and the token come from different places (an input and a variable, a region's variables
 * and the plain ones), or the token is a region's and the URL is the other region's host: the commonest 401, and a
 * token going to a host nobody named with it. The default URL with a token from anywhere is the usual setup: silent.
 */
function mixedSources(url: Picked, token: Picked, origin: string): string | undefined {
  if (token.family === 'none') return undefined;
  const tokenRegion =
    token.family === 'region' ? (token.label.replace(/_QSTASH_TOKEN$/u, '') as QstashRegion) : undefined;
  const hostRegion = REGION_OF_HOST[new URL(origin).hostname];
  const split = url.family !== token.family && CONFIGURED.has(url.family) && CONFIGURED.has(token.family);
  const contradicts = tokenRegion !== undefined && hostRegion !== undefined && hostRegion !== tokenRegion;
  if (!split && !contradicts) return undefined;
  const where = contradicts ? ` (${origin} is the ${hostRegion} region; the token is the ${tokenRegion} region's)` : '';
  return (
    `The QStash URL comes from ${url.source} but the token from ${token.source}${where}. ` +
    `A token of one region used against the other region's URL is the commonest cause of 401 Unauthorized: ` +
    `take both from the same place (${URL_INPUT} and ${TOKEN_INPUT} inputs, QSTASH_URL and QSTASH_TOKEN, or one region's variables).`
  );
}

/** Upstash's own hosts: the token may go there whichever variable named it. */
function isUpstashHost(hostname: string): boolean {
  // A fully qualified name's trailing dot names the same host.
  const host = hostname.replace(/\.$/u, '');
  return host === 'upstash.io' || host.endsWith('.upstash.io');
}

/**
 * The refusal of a `qstash-token` input whose URL comes from a variable (QSTASH_URL, a region's, set job-wide or by
 * an earlier step through GITHUB_ENV) and names a host that is neither Upstash's nor loopback: the secret would go to
 * a host the user did not name with it. Says how to fix it; never shows the token.
 */
function strayToken(url: Picked, token: Picked, origin: string): string | undefined {
  if (token.family !== 'input' || (url.family !== 'env' && url.family !== 'region')) return undefined;
  const { hostname } = new URL(origin);
  if (isUpstashHost(hostname) || isLoopback(hostname)) return undefined;
  const sameFamily = url.family === 'env' ? 'QSTASH_TOKEN' : url.label.replace(/_URL$/u, '_TOKEN');
  return (
    `${TOKEN_INPUT}: refused to send the ${TOKEN_INPUT} input to ${origin}, which comes from the ${url.label} variable ` +
    `(not from ${URL_INPUT}) and is neither an Upstash host (*.upstash.io) nor loopback (127.0.0.1, localhost, [::1]): ` +
    `the token would go to a host not named with it. Give ${URL_INPUT} too (the URL this token is for), ` +
    `or put the token in ${sameFamily} beside ${url.label} instead of ${TOKEN_INPUT}.`
  );
}

// Stricter than the proxy rules' isLoopbackHost (which, as the toolkit, takes any name starting with "127."): here it
// decides whether the token may travel in clear, so only real loopback addresses count.
const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/u.test(hostname);
}

/**
 * Shows a URL in a message without anything secret it may carry: credentials (everything up to the last `@`) and the
 * query or fragment (a `?qstash_token=` form exists) become `***`.
 */
function showUrl(raw: string): string {
  return JSON.stringify(raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/isu, '$1***@').replace(/([?#]).*$/su, '$1***'));
}

/**
 * Checks a QStash URL and returns its origin (no trailing slash). https only; plain http only for a loopback host;
 * no credentials, path, query or fragment. Errors name `label`, the input or variable the value came from.
 */
export function validateBaseUrl(raw: string, label: string): string {
  const value = raw.trim();
  const accepted = `Accepted: an https:// origin such as ${DEFAULT_QSTASH_URL} or https://qstash-us-east-1.upstash.io (http:// only for 127.0.0.1, localhost or [::1]).`;

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EndpointError(label, `${label}: ${showUrl(value)} is not a URL. ${accepted}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new EndpointError(
      label,
      `${label}: ${showUrl(value)} carries credentials; the token goes in ${TOKEN_INPUT}, never in the URL. ${accepted}`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new EndpointError(
      label,
      `${label}: ${showUrl(value)} is not https; the token may only travel in clear to a loopback host. ${accepted}`,
    );
  }
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    throw new EndpointError(label, `${label}: ${showUrl(value)} has a query or fragment. ${accepted}`);
  }
  if (url.pathname !== '/') {
    throw new EndpointError(
      label,
      `${label}: ${showUrl(value)} has a path (${JSON.stringify(url.pathname)}); give the origin only, the action adds /v2/... itself. ${accepted}`,
    );
  }
  return url.origin;
}
