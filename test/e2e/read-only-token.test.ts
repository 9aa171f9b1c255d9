/**
 * End to end with Upstash's read-only token, through dist/index.js against the emulator (which serves GETs with it
 * and refuses every other method with a 403, as Upstash does): a dry run works with it, claiming only what the
 * server confirmed; a change is refused by the server, nothing is changed, the run says the token was refused and
 * the token never appears anywhere. And the filters the report groups by select entries by the fields Upstash's
 * documents give them (`callerIP`, `labels`).
 */
import { describe, expect, it } from 'vitest';
import { detailedWorkflowEntries, workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, errors, expectExactlyOnce, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('the read-only token', () => {
  it('a dry run by id sends GETs only and reports what exists', async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(3));
    const selected = [ids[0]!, 'gone-1', ids[2]!];
    const run = await runAgainst(em, {
      inputs: { 'qstash-token': em.readOnlyToken, 'dlq-ids': selected.join('\n'), 'dry-run': 'true' },
      token: em.readOnlyToken,
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'would-remove')).toEqual([ids[0], ids[2]]);
    expect(list(run, 'not-found')).toEqual(['gone-1']);
    expectExactlyOnce(run, selected);
    expect(em.requests.every((r) => r.method === 'GET' && r.readOnly && r.result !== 403)).toBe(true);
    expect(em.ids('workflow')).toEqual(ids);
  });

  it('a delete with it is refused by the server: nothing is removed, no id is claimed, the step fails', async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(3));
    const run = await runAgainst(em, {
      inputs: { 'qstash-token': em.readOnlyToken, 'dlq-ids': ids.join('\n') },
      token: em.readOnlyToken,
    });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'removed')).toEqual([]);
    expectExactlyOnce(run, ids);
    expect(run.results?.every((r) => r.outcome === 'failed' && r.cause === 'token-refused')).toBe(true);
    expect(errors(run).join('\n')).toMatch(/refused the token|token was refused/u);
    expect(em.ids('workflow')).toEqual(ids);
    // The first refusal stops the run: it does not knock on every id with a token that cannot change anything.
    expect(em.count(403)).toBeLessThan(ids.length + 1);
  });

  it('a dry run by filter with it lists (GET) and changes nothing', async () => {
    const em = await start();
    const ids = em.seed('workflow', detailedWorkflowEntries(6));
    const run = await runAgainst(em, {
      inputs: { 'qstash-token': em.readOnlyToken, 'caller-ip': '203.0.113.7', 'dry-run': 'true' },
      token: em.readOnlyToken,
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'would-remove')).toEqual(ids.filter((_, i) => i % 2 === 0));
    expect(em.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(em.ids('workflow')).toEqual(ids);
  });
});

describe('filters on the documented entry fields', () => {
  it('caller-ip selects the entries whose callerIP matches, label those whose labels hold it', async () => {
    const em = await start();
    const ids = em.seed('workflow', detailedWorkflowEntries(6));
    const byIp = await runAgainst(em, { inputs: { 'caller-ip': '198.51.100.2' } });
    expect(byIp.exitCode).toBe(0);
    expect(list(byIp, 'removed')).toEqual(ids.filter((_, i) => i % 2 === 1));
    const byLabel = await runAgainst(em, { inputs: { label: 'prod' } });
    expect(list(byLabel, 'removed')).toEqual([ids[0], ids[4]]);
    expect(em.ids('workflow')).toEqual([ids[2]]);
  });
});
