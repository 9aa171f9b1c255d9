import { describe, expect, it } from 'vitest';
import { changelogHas, isNewer, parseVersion } from '../../scripts/release.ts';

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

  it('requires a dated changelog section for the version', () => {
    const changelog = '# Changelog\n\n## [Unreleased]\n\n## [1.1.0] - 2026-12-01\n\n### Added\n';
    expect(changelogHas(changelog, '1.1.0')).toBe(true);
    expect(changelogHas(changelog, '1.1')).toBe(false);
    expect(changelogHas(changelog, '1.2.0')).toBe(false);
    expect(changelogHas('## [1.1.0]\n', '1.1.0')).toBe(false);
  });
});
