// Where ocilab's own files are. The code may run from dist/ (tsc) or from the bundle in dist/bin/,
// so the package root is found by walking up to ocilab's package.json rather than by a fixed depth.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  for (let dir = dirname(fileURLToPath(from)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'ocilab') return dir;
    if (dirname(dir) === dir) throw new Error(`ocilab's package.json not found above ${fileURLToPath(from)}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(import.meta.url);
export const LABS_DIR = join(PACKAGE_ROOT, 'labs');

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
