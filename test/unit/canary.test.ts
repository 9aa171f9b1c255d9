/**
 * canary in the core: the first ids go alone, the check sees their results, and the rest go only when it lets them;
 * held back, the rest fail as canary-failed and are never sent. A listing's canaries are its oldest entries.
 */
import { describe, expect, it } from 'vitest';
import { execute, type Canary, type EngineOptions, type Target } from '../../src/engine/index.js';
import { oldestFirst } from '../../src/engine/canary.js';
import { operationFor } from '../../src/operations.js';
import type { Settled } from '../../src/outcomes.js';
import type { Exchange, ExchangeResult } from '../../src/qstash/transport.js';
import { json, lastSegment, ok, scriptedClient } from '../helpers/fakes.ts';

const resume = operationFor('resume', 'workflow');
const range = (n: number): string[] => Array.from({ length: n }, (_, i) => `id-${i}`);

/** Resumes answer a new run (created at 1000 + n); `missing` ids answer 404. */
function resumes(missing: readonly string[] = []) {
  let n = 0;
  return (exchange: Exchange): ExchangeResult => {
    const id = lastSegment(exchange);
    if (missing.includes(id)) return ok(404);
    n += 1;
    return json(200, { workflowRunId: `wfr_${id}`, workflowCreatedAt: 1000 + n });
  };
}

function canary(size: number, verdict: (results: ReadonlyMap<string, Settled>) => string | undefined) {
  const asked: { canaries: string[]; settled: string[] }[] = [];
  const spec: Canary = {
    size,
    check: async (canaries, results) => {
      asked.push({ canaries: [...canaries], settled: canaries.filter((id) => results.has(id)) });
      return verdict(results);
    },
  };
  return { spec, asked };
}

const options = (extra: Partial<EngineOptions>): EngineOptions => ({ concurrency: 4, strategy: 'auto', ...extra });

describe('canary (engine)', () => {
  it('sends the first N by input order, checks them once all are settled, then sends the rest', async () => {
    const list = range(10);
    const { client, transport } = scriptedClient(resumes());
    const { spec, asked } = canary(3, () => undefined);
    const outcomes = await execute({ kind: 'ids', ids: list }, resume, client, options({ canary: spec }));
    expect(asked).toEqual([{ canaries: list.slice(0, 3), settled: list.slice(0, 3) }]);
    // The canaries went before any of the rest.
    const sent = transport.sent.map(lastSegment);
    expect(sent.slice(0, 3).sort()).toEqual(list.slice(0, 3));
    expect(sent).toHaveLength(10);
    expect(outcomes.done).toEqual(list);
    // The new run's creation time is kept beside its id: the logs know a run by both.
    expect(outcomes.results.get('id-0')).toMatchObject({ kind: 'done', newRun: 'wfr_id-0', newRunCreatedAt: 1001 });
  });

  it('holds the rest back when the check gives a reason: failed as canary-failed, never sent', async () => {
    const list = range(6);
    const { client, transport } = scriptedClient(resumes());
    const { spec } = canary(2, () => 'canary id-0: RUN_FAILED');
    const outcomes = await execute({ kind: 'ids', ids: list }, resume, client, options({ canary: spec }));
    expect(transport.sent.map(lastSegment).sort()).toEqual(['id-0', 'id-1']);
    expect(outcomes.done).toEqual(['id-0', 'id-1']);
    expect(outcomes.failed.map((f) => [f.id, f.cause, f.mayHaveActed])).toEqual(
      list.slice(2).map((id) => [id, 'canary-failed', false]),
    );
    expect(outcomes.failed[0]!.reason).toBe('not sent: canary id-0: RUN_FAILED');
    expect(outcomes.stopped).toBeUndefined();
  });

  it('a check that throws holds the rest back too', async () => {
    const { client, transport } = scriptedClient(resumes());
    const spec: Canary = {
      size: 1,
      check: async () => {
        throw new Error('boom');
      },
    };
    const outcomes = await execute({ kind: 'ids', ids: range(3) }, resume, client, options({ canary: spec }));
    expect(transport.sent).toHaveLength(1);
    expect(outcomes.failed.map((f) => f.cause)).toEqual(['canary-failed', 'canary-failed']);
    expect(outcomes.failed[0]!.reason).toMatch(/could not be checked \(boom\)/);
  });

  it('a cancellation during the check leaves the rest unsent, failed as cancelled', async () => {
    const controller = new AbortController();
    const { client, transport } = scriptedClient(resumes());
    const spec: Canary = {
      size: 1,
      check: async () => {
        controller.abort(new Error('received SIGINT'));
        return undefined;
      },
    };
    const outcomes = await execute(
      { kind: 'ids', ids: range(4) },
      resume,
      client,
      options({ canary: spec, signal: controller.signal }),
    );
    expect(transport.sent).toHaveLength(1);
    expect(outcomes.failed.map((f) => f.cause)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(outcomes.stopped?.kind).toBe('cancelled');
  });

  it('every selected id a canary: still judged (nothing to hold back)', async () => {
    const { client } = scriptedClient(resumes());
    const { spec, asked } = canary(5, () => 'canary id-0: RUN_FAILED');
    const outcomes = await execute({ kind: 'ids', ids: range(3) }, resume, client, options({ canary: spec }));
    expect(asked).toEqual([{ canaries: range(3), settled: range(3) }]);
    expect(outcomes.done).toEqual(range(3));
    expect(outcomes.failed).toEqual([]);
  });

  it('a listing sends its oldest entries first, whatever order the listing gave', async () => {
    const listed = [
      { dlqId: 'new', createdAt: 3000 },
      { dlqId: 'old', createdAt: 1000 },
      { dlqId: 'mid', createdAt: 2000 },
      { dlqId: 'undated' },
    ];
    const runs = resumes();
    const { client, transport } = scriptedClient((exchange) =>
      exchange.method === 'GET' ? json(200, { messages: listed }) : runs(exchange),
    );
    const { spec, asked } = canary(2, () => undefined);
    const target: Target = {
      kind: 'query',
      query: [],
      filters: [],
      cap: 0,
      capInput: 'max-entries',
      allInput: 'select-all',
    };
    const outcomes = await execute(target, resume, client, options({ canary: spec }));
    expect(asked[0]!.canaries).toEqual(['old', 'mid']);
    const posts = transport.sent.filter((e) => e.method === 'POST').map(lastSegment);
    expect(posts.slice(0, 2).sort()).toEqual(['mid', 'old']);
    expect(outcomes.done).toEqual(['new', 'old', 'mid', 'undated']);
  });

  it('oldestFirst: undated last, ties by id with digit runs as numbers', () => {
    const entries = new Map([
      ['b-10', { dlqId: 'b-10', createdAt: 5 }],
      ['b-9', { dlqId: 'b-9', createdAt: 5 }],
      ['x', { dlqId: 'x' }],
      ['a', { dlqId: 'a', createdAt: 7 }],
    ]);
    expect(oldestFirst(['x', 'a', 'b-10', 'b-9'], entries, 4)).toEqual(['b-9', 'b-10', 'a', 'x']);
  });
});
