/**
 * `npm run release -- 1.2.0 [--push]`: cuts a release from a clean main.
 * 1. checks: the working tree is clean, the version is semantic and newer than package.json's (or equal to it when
 *    its tag does not exist yet: the first release, 1.0.0, is cut from a package.json that already says 1.0.0),
 *    CHANGELOG.md has a `## [1.2.0]` section, dist/ is exactly what src/ builds to and runs, the README tables match
 *    action.yml;
 * 2. sets package.json's version and commits "Release v1.2.0" (nothing to commit when it already says so);
 * 3. tags v1.2.0 (annotated) and moves the major tag v1 to it, which is what `uses: owner/repo@v1` follows;
 * 4. with --push, pushes main and the tags (v1 with --force, since it moves); otherwise prints the command.
 * RELEASE_ROOT names another repository to release (the tests use a throwaway one); by default, this one.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.env.RELEASE_ROOT ?? new URL('..', import.meta.url).pathname;

export function parseVersion(text: string): [number, number, number] {
  const match = /^(\d+)\.(\d+)\.(\d+)$/u.exec(text);
  if (!match) throw new Error(`"${text}" is not a version: give MAJOR.MINOR.PATCH, such as 1.2.0`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export function isNewer(next: string, current: string): boolean {
  const a = parseVersion(next);
  const b = parseVersion(current);
  for (let i = 0; i < 3; i += 1) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/**
 * Whether `next` may be released from a package.json at `current`: newer, or the same version not tagged yet (the
 * first release is cut from the version package.json was created with). An existing tag is never cut again.
 */
export function canRelease(next: string, current: string, tagExists: boolean): boolean {
  if (tagExists) return false;
  return isNewer(next, current) || parseVersion(next).join('.') === parseVersion(current).join('.');
}

export function changelogHas(changelog: string, version: string): boolean {
  return new RegExp(`^## \\[${version.replace(/\./gu, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'mu').test(changelog);
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
}

function npm(...args: string[]): void {
  execFileSync('npm', args, { cwd: root, stdio: 'inherit' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [version] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const push = process.argv.includes('--push');
  const fail = (message: string): never => {
    console.error(`release: ${message}`);
    process.exit(1);
  };
  if (!version) fail('usage: npm run release -- <MAJOR.MINOR.PATCH> [--push]');
  const packagePath = join(root, 'package.json');
  const pkg = JSON.parse(readFileSync(packagePath, 'utf8')) as { version: string };
  const tag = `v${version}`;
  const tagExists = git('tag', '--list', tag) !== '';
  try {
    if (!canRelease(version!, pkg.version, tagExists)) {
      fail(
        tagExists
          ? `${tag} is already tagged: give a version newer than package.json's ${pkg.version}`
          : `${version} is not newer than package.json's ${pkg.version}`,
      );
    }
  } catch (error) {
    fail((error as Error).message);
  }
  if (git('status', '--porcelain') !== '') fail('the working tree has uncommitted changes');
  if (!changelogHas(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'), version!)) {
    fail(`CHANGELOG.md has no "## [${version}] - YYYY-MM-DD" section: move the Unreleased notes under it first`);
  }
  npm('run', 'check-dist');
  npm('run', 'docs:check');

  const major = `v${parseVersion(version!)[0]}`;
  if (pkg.version !== version) {
    pkg.version = version!;
    writeFileSync(packagePath, `${JSON.stringify(pkg, null, 2)}\n`);
    npm('install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund');
    git('add', 'package.json', 'package-lock.json');
    git('commit', '-m', `Release ${tag}`);
  }
  git('tag', '-a', tag, '-m', `Release ${tag}`);
  git('tag', '-f', '-a', major, '-m', `${major} → ${tag}`);
  const command = `git push origin HEAD ${tag} && git push --force origin ${major}`;
  if (push) {
    execFileSync('sh', ['-c', command], { cwd: root, stdio: 'inherit' });
  } else {
    console.log(`Tagged ${tag} and moved ${major}. Publish with:\n  ${command}`);
  }
}
