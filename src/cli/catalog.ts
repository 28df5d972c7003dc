// Finds labs: the ones shipped in labs/, or a file given by path; `<lab>` is an id, a number or a path.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { LabError, UsageError } from '../errors.js';
import type { Lab } from '../lab/model.js';
import { parseLab } from '../lab/parse.js';
import { LABS_DIR } from './paths.js';

export async function shippedLabFiles(): Promise<string[]> {
  const names = await readdir(LABS_DIR);
  return names
    .filter((n) => /^\d+-.+\.md$/.test(n))
    .sort()
    .map((n) => join(LABS_DIR, n));
}

export async function readLab(file: string): Promise<Lab> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`Cannot read the lab file ${file}.`);
  }
  const result = parseLab(text, file);
  if (!result.ok) throw new LabError(result.problems);
  return result.lab;
}

export async function shippedLabs(): Promise<Lab[]> {
  return Promise.all((await shippedLabFiles()).map(readLab));
}

/** Resolves `2`, `runc`, `02-runc` or `./my-lab.md` to a lab. */
export async function findLab(reference: string): Promise<Lab> {
  if (reference.endsWith('.md') || reference.includes('/')) return readLab(resolve(reference));
  const files = await shippedLabFiles();
  if (/^\d+$/.test(reference)) {
    const number = Number(reference);
    const file = files.find((f) => Number(basename(f).split('-')[0]) === number);
    if (file) return readLab(file);
  } else {
    const byName = files.find((f) => basename(f, '.md') === reference || basename(f, '.md').replace(/^\d+-/, '') === reference);
    if (byName) return readLab(byName);
    for (const lab of await shippedLabs()) if (lab.id === reference) return lab;
  }
  const known = (await shippedLabs()).map((lab, i) => `${i + 1} (${lab.id})`).join(', ');
  throw new UsageError(`No lab '${reference}'. Known labs: ${known}. A lab file can also be given by path.`);
}
