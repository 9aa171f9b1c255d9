/**
 * End to end: `export` (issue 17) through dist/index.js against the emulator. One JSON line per selected entry that
 * exists, under RUNNER_TEMP, private; header values replaced by a marker with the names kept; bodies only with
 * `entries-with-bodies`, and even then no secret the step knows; each entry's line on disk before that entry is
 * changed; an entry that cannot be read is not changed (failed, cause `unread`).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detailedWorkflowEntries, type DlqEmulator } from '../../emulator/server.ts';
import { emulatorPerTest, expectExactlyOnce, list, runAgainst } from '../helpers/e2e.ts';
import { afterThisTest } from '../helpers/loopback.ts';
import { runnerTemp } from '../helpers/runner-temp.ts';

const start = emulatorPerTest();

function tempDir(): string {
  const dir = runnerTemp();
  afterThisTest(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function exportLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The lines of whatever export file the step has written in `dir` so far (there is at most one). */
function exportedSoFar(dir: string): string[] {
  const files = readdirSync(dir).filter((name) => /^upstash-dlq-export-.*\.jsonl$/u.test(name));
  return files.flatMap((name) => exportLines(join(dir, name)).map((line) => String(line.dlqId)));
}

async function exportRun(em: DlqEmulator, dir: string, inputs: Record<string, string>) {
  const run = await runAgainst(em, { inputs, env: { RUNNER_TEMP: dir } });
  const path = run.outputs['export-file'];
  expect(path, 'the export-file output is set').toBeTruthy();
  expect(existsSync(path!)).toBe(true);
  return { run, path: path!, lines: exportLines(path!) };
}

describe('export by id', () => {
  it('by id: one line per entry that exists, under RUNNER_TEMP, 0600, header values marked, no bodies', async () => {
    const em = await start();
    const ids = em.seed('workflow', detailedWorkflowEntries(3, { body: `{"token":"${em.token}"}` }));
    const dir = tempDir();
    const { run, path, lines } = await exportRun(em, dir, {
      'dlq-ids': [...ids, 'gone-1'].join('\n'),
      export: 'entries',
    });
    expect(run.exitCode).toBe(0);
    expect(list(run, 'removed')).toEqual(ids);
    expectExactlyOnce(run, [...ids, 'gone-1']);
    expect(dirname(path)).toBe(dir);
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(lines.map((line) => line.dlqId).sort()).toEqual([...ids].sort());
    for (const line of lines) {
      expect(line).not.toHaveProperty('body');
      expect(line).not.toHaveProperty('responseBody');
      expect(Object.keys(line.header as object).sort()).toEqual(['Authorization', 'Content-Type']);
      expect(JSON.stringify(line.header)).not.toMatch(/upstream-secret|application\/json/u);
      expect(line).toMatchObject({ workflowUrl: expect.any(String), callerIP: expect.any(String) });
    }
    expect(readFileSync(path, 'utf8')).not.toContain(em.token);
  });

  it('entries-with-bodies: bodies kept, with the token redacted from them', async () => {
    const em = await start();
    const ids = em.seed('workflow', detailedWorkflowEntries(2, { body: `{"token":"${em.token}","order":7}` }));
    const { lines, path } = await exportRun(em, tempDir(), {
      'dlq-ids': ids.join('\n'),
      export: 'entries-with-bodies',
      'dry-run': 'true',
    });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.body).toMatch(/"order":7/u);
      expect(line.responseBody).toEqual(expect.any(String));
    }
    expect(readFileSync(path, 'utf8')).not.toContain(em.token);
    expect(em.ids('workflow')).toEqual(ids);
  });

  it("each entry's line is on disk before its DELETE is sent, and stays when that delete then fails", async () => {
    const em = await start();
    const ids = em.seed('workflow', detailedWorkflowEntries(3));
    const dir = tempDir();
    const seenAtDelete = new Map<string, boolean>();
    for (const id of ids) {
      em.faults.push({
        method: 'DELETE',
        id,
        times: 1,
        run: () => seenAtDelete.set(id, exportedSoFar(dir).includes(id)),
        ...(id === ids[1] && { status: 400, body: '{"error":"refused"}' }),
      });
    }
    const { run, lines } = await exportRun(em, dir, { 'dlq-ids': ids.join('\n'), export: 'entries' });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual([ids[1]]);
    expect([...seenAtDelete.entries()].sort()).toEqual(ids.map((id) => [id, true]).sort());
    expect(lines.map((line) => line.dlqId).sort()).toEqual([...ids].sort());
  });

  it('an entry that cannot be read is not changed: failed, cause unread', async () => {
    const em = await start();
    const ids = em.seed('workflow', detailedWorkflowEntries(3));
    em.faults.push({ method: 'GET', id: ids[0]!, status: 500 });
    const { run, lines } = await exportRun(em, tempDir(), {
      'dlq-ids': ids.join('\n'),
      export: 'entries',
      'max-retries': '1',
    });
    expect(run.exitCode).toBe(1);
    expect(list(run, 'failed')).toEqual([ids[0]]);
    expect(run.results?.find((r) => r.id === ids[0])).toMatchObject({ outcome: 'failed', cause: 'unread' });
    expect(em.requestsTo(`/v2/workflows/dlq/${ids[0]}`, 'DELETE')).toEqual([]);
    expect(em.has('workflow', ids[0]!)).toBe(true);
    expect(lines.map((line) => line.dlqId).sort()).toEqual([ids[1], ids[2]].sort());
  });
});
