import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const demo = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));

describe('npm start (the demo)', () => {
  it('says why one id is passed twice, and shows no run link that points nowhere', () => {
    const result = spawnSync(process.execPath, [demo], { encoding: 'utf8', timeout: 120_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/passes 13 ids: 10 in the DLQ, 2 that are not, and \S+ a second time on purpose/);
    expect(result.stdout).toContain('removed-count: 10');
    expect(result.stdout).not.toMatch(/\/actions\/runs\//);
  }, 150_000);
});
