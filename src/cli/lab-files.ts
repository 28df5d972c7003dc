// Reading lab files: the ones shipped in labs/, or any one by path, each parsed or refused with its problems.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
