/**
 * Scripted faults: which rule applies to a request, and what it does before the request is handled and after it
 * took effect. The server carries the effects out.
 */
import type { DlqEmulator } from './server.ts';

/** One scripted fault. The first rule that matches a request and has uses left applies. */
export interface FaultRule {
  method?: string;
  /** Matches when the request path (with query) contains this text. */
  pathIncludes?: string;
  /** Matches a per-id request (GET/DELETE of an entry, or a per-id restart/resume/callback/retry) for this (decoded) id. */
  id?: string;
  /** How many requests it applies to; default: all. */
  times?: number;
  /** Extra delay before anything else happens. */
  delayMs?: number;
  /** Called when the rule applies, before the request is handled (e.g. to delete entries "concurrently"). */
  run?: (emulator: DlqEmulator) => void;
  /** Answer with this instead of handling the request. */
  status?: number;
  headers?: Record<string, string>;
  /**
   * The answer's body; a function makes one per request from its URL (a hostile server's pages: fresh huge ids, a
   * new cursor each time, pages ignoring `count`).
   */
  body?: string | ((url: URL) => string);
  /** Send the answer's body in this many pieces, this far apart (a slow body). */
  slowBody?: SlowBody;
  /** Close the connection without an answer, before or after the request took effect. */
  drop?: 'before' | 'after';
  /** Never answer, before or after the request took effect (until the client gives up). */
  hang?: 'before' | 'after';
  /** Carry the request out, then answer with this status instead (a gateway error after the server acted). */
  statusAfter?: number;
}

export interface SlowBody {
  pieces: number;
  intervalMs: number;
}

/** What a fault does in place of the emulator's own answer. */
export type FaultEffect =
  | { kind: 'drop' }
  | { kind: 'hang' }
  | { kind: 'answer'; status: number; body: string; headers: Record<string, string>; slowBody?: SlowBody };

/** The first rule matching the request with uses left, spending one use. `id` is the request's decoded entry id. */
export function takeFault(
  rules: readonly FaultRule[],
  method: string,
  path: string,
  id: string | undefined,
): FaultRule | undefined {
  for (const rule of rules) {
    if (rule.times !== undefined && rule.times <= 0) continue;
    if (rule.method && rule.method !== method) continue;
    if (rule.pathIncludes && !path.includes(rule.pathIncludes)) continue;
    if (rule.id !== undefined && rule.id !== id) continue;
    if (rule.times !== undefined) rule.times -= 1;
    return rule;
  }
  return undefined;
}

function bodyOf(rule: FaultRule, url: URL): string {
  return typeof rule.body === 'function' ? rule.body(url) : (rule.body ?? '');
}

/** What the rule does before the request is handled (nothing has changed yet), if anything. */
export function effectBefore(rule: FaultRule | undefined, url: URL): FaultEffect | undefined {
  if (rule?.drop === 'before') return { kind: 'drop' };
  if (rule?.hang === 'before') return { kind: 'hang' };
  if (rule?.status !== undefined) {
    const answer = {
      kind: 'answer',
      status: rule.status,
      body: bodyOf(rule, url),
      headers: rule.headers ?? {},
    } as const;
    return rule.slowBody ? { ...answer, slowBody: rule.slowBody } : answer;
  }
  return undefined;
}

/** What the rule does once the request took effect, in place of its answer, if anything. */
export function effectAfter(rule: FaultRule | undefined, url: URL): FaultEffect | undefined {
  if (rule?.drop === 'after') return { kind: 'drop' };
  if (rule?.hang === 'after') return { kind: 'hang' };
  if (rule?.statusAfter !== undefined) {
    return { kind: 'answer', status: rule.statusAfter, body: bodyOf(rule, url), headers: rule.headers ?? {} };
  }
  return undefined;
}
