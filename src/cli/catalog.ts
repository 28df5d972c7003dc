// Finds labs: the ones shipped in labs/, or a file given by path; `<lab>` is an id, a number or a path.
// (cli/workshop.ts finds them among a workshop's labs first, when there is one.)
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { LabError, UsageError } from '../errors.js';
import type { Lab } from '../lab/model.js';
import { parseLab, type ParseResult } from '../lab/parse.js';
import { LABS_DIR } from './paths.js';

export async function shippedLabFiles(): Promise<string[]> {
  const names = await readdir(LABS_DIR);
  return names
    .filter((n) => /^\d+-.+\.md$/.test(n))
    .sort()
    .map((n) => join(LABS_DIR, n));
}

/** The lab in `file`, or its problems; undefined when the file cannot be read. */
export async function parseLabFile(file: string): Promise<ParseResult | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseLab(text, file);
}

export async function readLab(file: string): Promise<Lab> {
  const result = await parseLabFile(file);
  if (!result) throw new UsageError(`Cannot read the lab file ${file}.`);
  if (!result.ok) throw new LabError(result.problems);
  return result.lab;
}

export async function shippedLabs(): Promise<Lab[]> {
  return Promise.all((await shippedLabFiles()).map(readLab));
}

/** A reference to a lab file rather than to a lab by number or id. */
export const isLabFileReference = (reference: string) => reference.endsWith('.md') || reference.includes('/');

/** Resolves `2`, `runc`, `02-runc` or `./my-lab.md` to a lab. */
export async function findLab(reference: string): Promise<Lab> {
  if (isLabFileReference(reference)) return readLab(resolve(reference));
  if (/^\d+$/.test(reference)) {
    const number = Number(reference);
    const file = (await shippedLabFiles()).find((f) => Number(basename(f).split('-')[0]) === number);
    if (file) return readLab(file);
  } else {
    const found = await shippedLabNamed(reference);
    if (found) return found;
  }
  const known = (await shippedLabs()).map((lab, i) => `${i + 1} (${lab.id})`).join(', ');
  throw new UsageError(`No lab '${reference}'. Known labs: ${known}. A lab file can also be given by path.`);
}

/** The shipped lab named `runc` or `02-runc` (its file) or by its id, if there is one. */
export async function shippedLabNamed(name: string): Promise<Lab | undefined> {
  const stem = (f: string) => basename(f, '.md');
  const byName = (await shippedLabFiles()).find((f) => stem(f) === name || stem(f).replace(/^\d+-/, '') === name);
  if (byName) return readLab(byName);
  return (await shippedLabs()).find((lab) => lab.id === name);
}
