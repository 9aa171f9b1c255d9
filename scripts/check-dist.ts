/**
 * Fails when the committed dist/ is not what the source builds to, or cannot run:
 * 1. rebuilds into a temporary folder with the same ncc command and compares every file byte for byte;
 * 2. refuses webpackMissingModule stubs (a bundle that builds but crashes at run time);
 * 3. runs the committed dist/index.js with no token and expects the clean "no QStash token" failure, which proves
 *    every module loads.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const fresh = mkdtempSync(join(tmpdir(), 'dist-check-'));
const problems: string[] = [];

try {
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'),
      'build',
      'src/index.ts',
      '-o',
      fresh,
      '--license',
      'licenses.txt',
      '--quiet',
    ],
    { cwd: root, stdio: 'inherit' },
  );
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

  const outputs = join(fresh, 'github-output');
  writeFileSync(outputs, '');
  const smoke = spawnSync(process.execPath, [join(dist, 'index.js')], {
    env: { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: outputs },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (smoke.status !== 1 || !smoke.stdout.includes('::error::') || !smoke.stdout.includes('no QStash token')) {
    problems.push(
      `node dist/index.js without a token should fail cleanly with "no QStash token"; it exited ${smoke.status}:\n${smoke.stdout}${smoke.stderr}`,
    );
  }
} finally {
  rmSync(fresh, { recursive: true, force: true });
}

function safeRead(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

if (problems.length > 0) {
  console.error(`dist/ check failed:\n- ${problems.join('\n- ')}\nRun \`npm run build\` and commit dist/.`);
  process.exit(1);
}
console.log('dist/ check passed: dist/ matches a fresh build of src/ and runs.');
