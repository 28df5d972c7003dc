// Where ocilab's own files are: the package root (found by sys/host.ts), its labs and its version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPackageRoot } from '../sys/host.js';

export const PACKAGE_ROOT = findPackageRoot(import.meta.url);
export const LABS_DIR = join(PACKAGE_ROOT, 'labs');

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
