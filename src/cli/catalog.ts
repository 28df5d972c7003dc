// Finds labs: the workshop's when there is one, else the ones shipped in labs/, or a file given by path;
// `<lab>` is an id, a number in that list or a path. Also what the workshop presets for each lab.
import { basename, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Lab } from '../lab/model.js';
import { readLab, shippedLabFiles, shippedLabs } from './lab-files.js';
import { loadWorkshop, type LoadedWorkshop } from './workshop.js';

export interface Catalog {
  workshop?: LoadedWorkshop;
  /** The labs `ocilab list` shows, numbered from 1 in this order. */
  labs(): Promise<Lab[]>;
  /** Resolves `2`, `runc`, `02-runc` or `./my-lab.md` to a lab. */
  find(reference: string): Promise<Lab>;
  /** The variables the workshop gives this lab; none without a workshop. */
  presets(lab: Pick<Lab, 'id' | 'variables'>): Record<string, string>;
}

/** The labs of the workshop in effect (see cli/workshop.ts; `flag` is --workshop), else the shipped ones. */
export async function openCatalog(flag: string | undefined): Promise<Catalog> {
  const workshop = await loadWorkshop(flag);
  if (!workshop) return { labs: shippedLabs, find: findLab, presets: () => ({}) };
  return {
    workshop,
    labs: () => Promise.resolve(workshop.labs),
    find: (reference) => findWorkshopLab(workshop, reference),
    presets: (lab) => workshop.presets(lab),
  };
}

/** Resolves `2`, `runc`, `02-runc` or `./my-lab.md` to a lab, among the shipped labs. */
export async function findLab(reference: string): Promise<Lab> {
  if (isPath(reference)) return readLab(resolve(reference));
  const files = await shippedLabFiles();
  if (/^\d+$/.test(reference)) {
    const number = Number(reference);
    const file = files.find((f) => Number(basename(f).split('-')[0]) === number);
    if (file) return readLab(file);
  } else {
    const found = await shippedByName(reference, files);
    if (found) return found;
  }
  const known = (await shippedLabs()).map((lab, i) => `${i + 1} (${lab.id})`).join(', ');
  throw new UsageError(`No lab '${reference}'. Known labs: ${known}. A lab file can also be given by path.`);
}

/** A workshop's lab by its number or id; a shipped lab by its id or name; any lab file by path. */
async function findWorkshopLab(workshop: LoadedWorkshop, reference: string): Promise<Lab> {
  const { labs } = workshop;
  if (isPath(reference)) {
    const file = resolve(reference);
    return labs.find((lab) => lab.file === file) ?? readLab(file);
  }
  const found = /^\d+$/.test(reference) ? labs[Number(reference) - 1] : labs.find((lab) => lab.id === reference);
  const shipped = found ?? (/^\d+$/.test(reference) ? undefined : await shippedByName(reference, await shippedLabFiles()));
  if (shipped) return shipped;
  const known = labs.map((lab, i) => `${i + 1} (${lab.id})`).join(', ');
  throw new UsageError(`No lab '${reference}' in the workshop ${workshop.file}. Its labs: ${known}. A lab file can also be given by path.`);
}

async function shippedByName(reference: string, files: string[]): Promise<Lab | undefined> {
  const byName = files.find((f) => basename(f, '.md') === reference || basename(f, '.md').replace(/^\d+-/, '') === reference);
  if (byName) return readLab(byName);
  return (await shippedLabs()).find((lab) => lab.id === reference);
}

const isPath = (reference: string) => reference.endsWith('.md') || reference.includes('/');
