import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRelease, changelogHas, isNewer, parseVersion } from '../../scripts/release.ts';

describe('release checks', () => {
  it('takes only MAJOR.MINOR.PATCH', () => {
    expect(parseVersion('1.2.3')).toEqual([1, 2, 3]);
    expect(() => parseVersion('v1.2.3')).toThrow(/not a version/);
    expect(() => parseVersion('1.2')).toThrow(/not a version/);
  });

  it('compares versions numerically', () => {
    expect(isNewer('1.0.1', '1.0.0')).toBe(true);
    expect(isNewer('1.10.0', '1.9.9')).toBe(true);
    expect(isNewer('2.0.0', '1.99.99')).toBe(true);
    expect(isNewer('1.0.0', '1.0.0')).toBe(false);
    expect(isNewer('0.9.0', '1.0.0')).toBe(false);
  });

  it('allows the same version only while its tag does not exist (the first release)', () => {
    expect(canRelease('1.0.0', '1.0.0', false)).toBe(true);
    expect(canRelease('1.0.0', '1.0.0', true)).toBe(false);
    expect(canRelease('1.0.1', '1.0.0', false)).toBe(true);
    expect(canRelease('0.9.0', '1.0.0', false)).toBe(false);
    expect(() => canRelease('v1', '1.0.0', false)).toThrow(/not a version/);
  });

  it('requires a dated changelog section for the version', () => {
    const changelog = '# Changelog\n\n## [Unreleased]\n\n## [1.1.0] - 2026-12-01\n\n### Added\n';
    expect(changelogHas(changelog, '1.1.0')).toBe(true);
    expect(changelogHas(changelog, '1.1')).toBe(false);
    expect(changelogHas(changelog, '1.2.0')).toBe(false);
    expect(changelogHas('## [1.1.0]\n', '1.1.0')).toBe(false);
  });
});

describe('release script on a throwaway repository', () => {
  const script = fileURLToPath(new URL('../../scripts/release.ts', import.meta.url));
  const node = process.execPath;
  let dir = '';

  function git(...args: string[]): string {
    return execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  }
  function release(version: string): { status: number | null; output: string } {
    const result = spawnSync(node, [script, version], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, RELEASE_ROOT: dir, npm_config_offline: 'true' },
      timeout: 60_000,
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }
  function writePackage(version: string): void {
    const pkg = { name: 'throwaway', version, private: true, scripts: { 'check-dist': 'true', 'docs:check': 'true' } };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'release-'));
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'test@example.invalid');
    git('config', 'user.name', 'Release test');
    git('config', 'commit.gpgsign', 'false');
    git('config', 'tag.gpgsign', 'false');
    writePackage('1.0.0');
    writeFileSync(join(dir, 'package-lock.json'), '{}\n');
    writeFileSync(join(dir, 'CHANGELOG.md'), '# Changelog\n\n## [1.0.0] - 2026-12-02\n\n### Added\n\n- Everything.\n');
    git('add', '.');
    git('commit', '-q', '-m', 'Initial');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('cuts the first release 1.0.0 from a package.json that already says 1.0.0', () => {
    const head = git('rev-parse', 'HEAD');
    const { status, output } = release('1.0.0');
    expect(output).toContain('Tagged v1.0.0 and moved v1');
    expect(status).toBe(0);
    expect(git('rev-parse', 'HEAD')).toBe(head);
    expect(git('rev-parse', 'v1.0.0^{commit}')).toBe(head);
    expect(git('rev-parse', 'v1^{commit}')).toBe(head);
    expect(git('remote')).toBe('');
  });

  it('refuses to cut 1.0.0 again once it is tagged', () => {
    const { status, output } = release('1.0.0');
    expect(status).toBe(1);
    expect(output).toContain('v1.0.0 is already tagged');
  });

  it('a second release 1.0.1 commits the version, tags it and moves v1; v1.0.0 stays', () => {
    const first = git('rev-parse', 'v1.0.0^{commit}');
    writeFileSync(
      join(dir, 'CHANGELOG.md'),
      '# Changelog\n\n## [1.0.1] - 2026-12-03\n\n### Fixed\n\n- A thing.\n\n## [1.0.0] - 2026-12-02\n',
    );
    git('commit', '-q', '-am', 'Notes for 1.0.1');
    const { status, output } = release('1.0.1');
    expect(output).toContain('Tagged v1.0.1 and moved v1');
    expect(status).toBe(0);
    const head = git('rev-parse', 'HEAD');
    expect(git('log', '-1', '--format=%s')).toBe('Release v1.0.1');
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version).toBe('1.0.1');
    expect(git('rev-parse', 'v1.0.1^{commit}')).toBe(head);
    expect(git('rev-parse', 'v1^{commit}')).toBe(head);
    expect(git('rev-parse', 'v1.0.0^{commit}')).toBe(first);
  });
});
