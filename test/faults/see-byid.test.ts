import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workflowEntries } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';
import { afterThisTest } from '../helpers/loopback.ts';
import { runnerTemp } from '../helpers/runner-temp.ts';

const start = emulatorPerTest();

describe('see the DLQ, second read: by-id export, an answer that is no entry', () => {
  it('a 200 {} for the read-first GET is not the entry: the delete must not be sent', async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(2));
    const dir = runnerTemp();
    afterThisTest(() => rmSync(dir, { recursive: true, force: true }));
    // A proxy / catch-all answering 200 with an empty object for the first id's GET.
    em.faults.push({ method: 'GET', id: ids[0]!, status: 200, body: '{}' });
    const run = await runAgainst(em, {
      inputs: { 'dlq-ids': ids.join('\n'), export: 'entries' },
      env: { RUNNER_TEMP: dir },
    });
    expect(
      em.requests
        .filter((r) => r.method === 'DELETE')
        .map((r) => r.path)
        .join(' '),
    ).not.toContain(ids[0]!);
    expect(list(run, 'removed')).not.toContain(ids[0]);
  });
});

describe('see the DLQ, second read: by-id report, an answer that is no entry', () => {
  it('a 200 {} is not counted as an entry that exists', async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(2));
    em.faults.push({ method: 'GET', id: 'gone-1', status: 200, body: '{}' });
    const run = await runAgainst(em, { inputs: { operation: 'report', 'dlq-ids': [...ids, 'gone-1'].join('\n') } });
    // The answer proves nothing about gone-1: it fails, and a count that is not exact is not claimed (never 3).
    expect(list(run, 'failed')).toEqual(['gone-1']);
    expect(run.outputs['entries-count']).toBe('');
  });
});
