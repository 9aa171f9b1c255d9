/**
 * proof.ts: the canary's check and what the waits add to outputs, verdict, summary and results file, with a fake
 * logs endpoint and clock. Verification adds facts; it never moves an id between the outcome lists.
 */
import { describe, expect, it } from 'vitest';
import { operationFor } from '../../src/operations.js';
import { noOutcomes, type Outcomes, type Settled } from '../../src/outcomes.js';
import {
  Prover,
  proofLine,
  proofMarkdown,
  proofOutputs,
  proofRecord,
  proofVerdict,
  type ProofSettings,
} from '../../src/proof.js';
import { verdict } from '../../src/report.js';
import type { LogsExchange, LogsReply, RunState, VerifyClock } from '../../src/verify.js';

const resume = operationFor('resume', 'workflow');
const id = (text: string): string => text;

class Clock implements VerifyClock {
  t = 5_000_000;
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (!signal.aborted) this.t += ms;
  }
}

/** A logs endpoint answering each asked run with the state `states` gives its run id (none: not in the logs). */
function logs(states: Record<string, { state: RunState; dlqId?: string } | undefined>) {
  const asked: string[] = [];
  const send = async (exchange: LogsExchange): Promise<LogsReply> => {
    asked.push(exchange.path);
    const pairs = new URL(exchange.path, 'http://x').searchParams.get('workflowRuns')!.split(',');
    const runs = pairs.flatMap((pair) => {
      const [runId, at] = pair.split('@');
      const found = states[runId!];
      return found
        ? [{ workflowRunId: runId, workflowRunCreatedAt: Number(at), workflowState: found.state, dlqId: found.dlqId }]
        : [];
    });
    return { kind: 'answered', status: 200, body: JSON.stringify({ runs }) };
  };
  return { send, asked };
}

const settings = (extra: Partial<ProofSettings> = {}): ProofSettings => ({
  durationMs: 20_000,
  raw: '20s',
  onReFailed: 'fail',
  ...extra,
});

/** Outcomes with these ids redriven (run wfr_<id>, created 100), and others as given. */
function outcomesOf(redriven: readonly string[], others: Record<string, Settled> = {}, createdAt = true): Outcomes {
  const results = new Map<string, Settled>();
  for (const x of redriven) {
    results.set(x, { kind: 'done', newRun: `wfr_${x}`, ...(createdAt && { newRunCreatedAt: 100 }) });
  }
  for (const [x, settled] of Object.entries(others)) results.set(x, settled);
  const failed = Object.entries(others).flatMap(([x, s]) =>
    s.kind === 'failed' ? [{ id: x, cause: s.cause, reason: s.reason, mayHaveActed: false }] : [],
  );
  return {
    ...noOutcomes(),
    ids: [...results.keys()],
    results,
    done: [...redriven],
    newRuns: new Map(redriven.map((x) => [x, `wfr_${x}`])),
    notFound: Object.entries(others).flatMap(([x, s]) => (s.kind === 'not-found' ? [x] : [])),
    failed,
  };
}

const never = new AbortController().signal;
const redact = (text: string): string => text.replaceAll('SECRET', '***');

describe('Prover.check (the canary)', () => {
  it('lets the rest go only when every canary ended RUN_SUCCESS', async () => {
    const { send } = logs({ wfr_a: { state: 'RUN_SUCCESS' }, wfr_b: { state: 'RUN_SUCCESS' } });
    const prover = new Prover(settings({ canary: 2 }), send, new Clock(), { redact });
    const o = outcomesOf(['a', 'b']);
    expect(await prover.check(['a', 'b'], o.results, never)).toBeUndefined();
    expect(prover.proof().canary).toEqual({ ids: ['a', 'b'] });
  });

  it('holds the rest back, naming each canary and its state: failed again, still running, not found, not sent', async () => {
    const { send } = logs({ wfr_a: { state: 'RUN_FAILED', dlqId: 'new-a' }, wfr_b: { state: 'RUN_STARTED' } });
    const prover = new Prover(settings({ canary: 4 }), send, new Clock(), { redact });
    const o = outcomesOf(['a', 'b'], {
      c: { kind: 'not-found' },
      d: { kind: 'failed', cause: 'rejected', reason: 'HTTP 400' },
    });
    const held = await prover.check(['a', 'b', 'c', 'd'], o.results, never);
    expect(held).toContain('"a": RUN_FAILED (failed again)');
    expect(held).toContain('"b": RUN_STARTED (had not ended when the wait of 20s ran out)');
    expect(held).toContain('"c": not found');
    expect(held).toContain('"d": not re-run (rejected)');
  });

  it('a canary the logs never show proves nothing: held back as unknown', async () => {
    const { send } = logs({});
    const prover = new Prover(settings({ canary: 1 }), send, new Clock(), { redact });
    const held = await prover.check(['a'], outcomesOf(['a']).results, never);
    expect(held).toContain('"a": unknown');
  });
});

describe('what the waits add', () => {
  it('outputs: states in selection order, counts, re-failed with the new DLQ ids where the logs named them', async () => {
    const { send } = logs({
      wfr_a: { state: 'RUN_SUCCESS' },
      wfr_b: { state: 'RUN_FAILED', dlqId: 'dlq-new-b' },
      wfr_c: { state: 'RUN_FAILED' },
      wfr_d: { state: 'RUN_STARTED' },
    });
    const prover = new Prover(settings({ durationMs: 3000, raw: '3s' }), send, new Clock(), { redact });
    const o = outcomesOf(['a', 'b', 'c', 'd', 'e'], { f: { kind: 'not-found' } });
    await prover.watch(o.done, o.results, 'all', never);
    const proof = prover.proof();
    expect(proofOutputs(proof, o)).toEqual({
      'run-states': JSON.stringify({
        a: 'RUN_SUCCESS',
        b: 'RUN_FAILED',
        c: 'RUN_FAILED',
        d: 'RUN_STARTED',
        e: 'unknown',
      }),
      'succeeded-count': '1',
      're-failed': JSON.stringify(['b', 'c']),
      're-failed-count': '2',
      'still-running-count': '2',
      're-failed-dlq-ids': JSON.stringify({ b: 'dlq-new-b' }),
    });
    expect(proofLine(proof, o, resume)).toBe(
      'Resumed 5: 1 succeeded, 2 failed again, 1 still running, 1 not seen in the logs',
    );
    expect(proofRecord(proof, 'b')).toEqual({ runState: 'RUN_FAILED', newRunCreatedAt: 100, newDlqId: 'dlq-new-b' });
    expect(proofRecord(undefined, 'b')).toEqual({});
    // The outcome lists are untouched: every redriven id stays redriven.
    expect(o.done).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('on-re-failed: fail fails the step, warn warns, pass notes; runs still running only warn', async () => {
    for (const onReFailed of ['fail', 'warn', 'pass'] as const) {
      const { send } = logs({ wfr_a: { state: 'RUN_FAILED' }, wfr_b: { state: 'RUN_STARTED' } });
      const prover = new Prover(settings({ onReFailed, durationMs: 2000, raw: '2s' }), send, new Clock(), { redact });
      const o = outcomesOf(['a', 'b']);
      await prover.watch(o.done, o.results, 'all', never);
      const v = verdict(o, { onNotFound: 'pass', baseUrl: 'http://x', operation: resume, proof: prover.proof() });
      const reFailed = /1 new run failed again: "a"/u;
      if (onReFailed === 'fail') expect(v.error).toMatch(reFailed);
      else expect(v.error).toBeUndefined();
      expect(v.warnings.some((w) => reFailed.test(w))).toBe(onReFailed === 'warn');
      expect(v.notices.some((n) => reFailed.test(n))).toBe(onReFailed === 'pass');
      expect(v.warnings.some((w) => /had not been seen to end when the wait of 2s was over/u.test(w))).toBe(true);
    }
  });

  it('only runs still running: the step passes with a warning', async () => {
    const { send } = logs({ wfr_a: { state: 'RUN_STARTED' } });
    const prover = new Prover(settings({ durationMs: 2000, raw: '2s' }), send, new Clock(), { redact });
    const o = outcomesOf(['a']);
    await prover.watch(o.done, o.results, 'all', never);
    const v = verdict(o, { onNotFound: 'pass', baseUrl: 'http://x', operation: resume, proof: prover.proof() });
    expect(v.error).toBeUndefined();
    expect(v.warnings).toHaveLength(1);
  });

  it('a re-run answer without workflowCreatedAt is not looked up: unknown, with a note, no request', async () => {
    const { send, asked } = logs({ wfr_a: { state: 'RUN_SUCCESS' } });
    const prover = new Prover(settings(), send, new Clock(), { redact });
    const o = outcomesOf(['a'], {}, false);
    await prover.watch(o.done, o.results, 'all', never);
    expect(asked).toEqual([]);
    expect(proofOutputs(prover.proof(), o)['run-states']).toBe(JSON.stringify({ a: 'unknown' }));
    expect(prover.proof().notes.join()).toMatch(/gave no workflowCreatedAt/u);
  });

  it('a cancelled wait fails the step and says the states are as last seen', async () => {
    const controller = new AbortController();
    controller.abort(new Error('received SIGINT'));
    const { send } = logs({ wfr_a: { state: 'RUN_SUCCESS' } });
    const prover = new Prover(settings(), send, new Clock(), { redact });
    const o = outcomesOf(['a']);
    await prover.watch(o.done, o.results, 'all', controller.signal);
    const v = proofVerdict(prover.proof(), o, resume, redact);
    expect(v.errors.join()).toMatch(/wait for the new runs was cancelled/u);
  });

  it('a held canary: one message for the rest, not the generic "not resumed" list; summary says it did not pass', async () => {
    const { send } = logs({ wfr_a: { state: 'RUN_FAILED' } });
    const prover = new Prover(settings({ canary: 1 }), send, new Clock(), { redact });
    const o = outcomesOf(['a'], {
      b: { kind: 'failed', cause: 'canary-failed', reason: 'not sent: canary entry "a": RUN_FAILED' },
    });
    await prover.check(['a'], o.results, never);
    const proof = prover.proof();
    const v = verdict(o, { onNotFound: 'pass', baseUrl: 'http://x', operation: resume, proof });
    expect(v.error).toMatch(
      /The canary did not pass: 1 of 1 canary did not succeed: "a": RUN_FAILED \(failed again\)\. The other 1 entry was not sent/u,
    );
    expect(v.error).not.toMatch(/ids? (was|were) not resumed/u);
    expect(proofMarkdown(proof, o, resume, redact).join('\n')).toMatch(/Canary \(1\): a: \*\*did not pass\*\*/u);
  });

  it('redacts secrets in ids and new DLQ ids in messages and the summary', async () => {
    const { send } = logs({ wfr_xSECRET: { state: 'RUN_FAILED', dlqId: 'n-SECRET' } });
    const prover = new Prover(settings(), send, new Clock(), { redact });
    const o = outcomesOf([id('xSECRET')]);
    await prover.watch(o.done, o.results, 'all', never);
    const text = [
      ...proofVerdict(prover.proof(), o, resume, redact).errors,
      ...proofMarkdown(prover.proof(), o, resume, redact),
    ].join('\n');
    expect(text).not.toContain('SECRET');
    expect(text).toContain('***');
  });
});
