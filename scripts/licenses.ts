/**
 * Writes `<dir>/licenses.txt`: the license of every package the bundle may contain (the production dependency
 * tree, from node_modules), sorted by name. ncc's own --license output leaves out the packages of the main chunk
 * in an ESM build, so the build writes this file instead. `node scripts/licenses.ts dist`
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/u, '');

interface Manifest {
  name: string;
  version: string;
  license?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Resolves a package the way Node does: node_modules folders from `from` up to the project root. */
function locate(name: string, from: string): string | undefined {
  for (let dir = from; dir.startsWith(root); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  return undefined;
}

export function licenseText(): string {
  const seen = new Map<string, { manifest: Manifest; dir: string }>();
  const visit = (name: string, from: string): void => {
    const dir = locate(name, from);
    if (!dir) return;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    const key = `${manifest.name}@${manifest.version}`;
    if (seen.has(key)) return;
    seen.set(key, { manifest, dir });
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) visit(dep, dir);
  };
  const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  for (const dep of Object.keys(own.dependencies ?? {})) visit(dep, root);

  const sections = [...seen.values()]
    .sort(
      (a, b) => a.manifest.name.localeCompare(b.manifest.name) || a.manifest.version.localeCompare(b.manifest.version),
    )
    .map(({ manifest, dir }) => {
      const file = readdirSync(dir).find((name) => /^(licen[cs]e|copying)/iu.test(name));
      const text = file ? readFileSync(join(dir, file), 'utf8').trim() : '(no license file in the package)';
      return `${manifest.name}@${manifest.version}\n${manifest.license ?? 'UNKNOWN'}\n${text}`;
    });
  return `${sections.join('\n\n')}\n`;
}

if (import.meta.main) {
  const out = process.argv[2] ?? 'dist';
  writeFileSync(join(out, 'licenses.txt'), licenseText());
}
