/**
 * Fails when the committed dist/ is not what the source builds to, or cannot run:
 * 1. rebuilds into a temporary folder with the same ncc command and compares every file byte for byte;
 * 2. refuses webpackMissingModule stubs (a bundle that builds but crashes at run time);
 * 3. runs the committed dist/index.js with no token and expects the clean "no QStash token" failure, which proves
 *    every module loads.
 * `npm test` runs the first two before any test (test/global-setup.ts), so that no test runs a stale bundle.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { licenseText } from './licenses.ts';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');

function safeRead(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** What is wrong with dist/ next to a fresh build of src/ (empty when nothing); `smoke` also runs it. */
export function distProblems(smoke = true): string[] {
  const fresh = mkdtempSync(join(tmpdir(), 'dist-check-'));
  const problems: string[] = [];
  try {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'), 'build', 'src/index.ts', '-o', fresh, '--quiet'],
      { cwd: root, stdio: 'inherit' },
    );
    writeFileSync(join(fresh, 'licenses.txt'), licenseText());
    const committed = readdirSync(dist).sort();
    const rebuilt = readdirSync(fresh).sort();
    if (committed.join() !== rebuilt.join()) {
      problems.push(`dist/ holds [${committed.join(', ')}] but a rebuild makes [${rebuilt.join(', ')}]`);
    }
    for (const name of rebuilt) {
      const a = safeRead(join(dist, name));
      const b = readFileSync(join(fresh, name));
      if (!a || !a.equals(b)) problems.push(`dist/${name} differs from a rebuild of src/`);
    }
    for (const name of committed) {
      if (safeRead(join(dist, name))?.includes('webpackMissingModule')) {
        problems.push(`dist/${name} contains webpackMissingModule: a dependency failed to bundle`);
      }
    }
    if (smoke) {
      const outputs = join(fresh, 'github-output');
      writeFileSync(outputs, '');
      const run = spawnSync(process.execPath, [join(dist, 'index.js')], {
        env: { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: outputs, RUNNER_TEMP: fresh },
        encoding: 'utf8',
        timeout: 20_000,
      });
      if (run.status !== 1 || !run.stdout.includes('::error::') || !run.stdout.includes('no QStash token')) {
        problems.push(
          `node dist/index.js without a token should fail cleanly with "no QStash token"; it exited ${run.status}:\n${run.stdout}${run.stderr}`,
        );
      }
    }
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
  return problems;
}

if (import.meta.main) {
  const problems = distProblems();
  if (problems.length > 0) {
    console.error(`dist/ check failed:\n- ${problems.join('\n- ')}\nRun \`npm run build\` and commit dist/.`);
    process.exit(1);
  }
  console.log('dist/ check passed: dist/ matches a fresh build of src/ and runs.');
}
