// The workshop in effect (named by --workshop, else $OCILAB_WORKSHOP, else /etc/ocilab/workshop.yml when
// there is one), read with the labs it names, every problem collected; and the labs commands see with it.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError, WorkshopError } from '../errors.js';
import type { Lab, Problem } from '../lab/model.js';
import { parseWorkshop, type Workshop, type WorkshopLab } from '../lab/workshop.js';
import { checkWorkshopLabs, presetVariables, type NamedLab } from '../lab/workshop-labs.js';
import { findLab, isLabFileReference, parseLabFile, readLab, shippedLabNamed, shippedLabs } from './catalog.js';

/** Where an instructor (or ansible/prepare.yml) installs the workshop of a classroom machine. */
export const DEFAULT_WORKSHOP_FILE = '/etc/ocilab/workshop.yml';
/** `--workshop none` or `OCILAB_WORKSHOP=none`: the shipped labs, whatever workshop is installed. */
export const NO_WORKSHOP = 'none';

export interface LoadedWorkshop {
  /** The absolute path of the workshop file. */
  file: string;
  title: string;
  /** Its labs, in its order, each read from its file. */
  labs: Lab[];
  /** The absolute path of the image cache tarball it names, if it names one. */
  cache?: string;
  /** The variables it gives this lab (declared by the lab), before the learner's own --var. */
  presets(lab: Pick<Lab, 'id' | 'variables'>): Record<string, string>;
}

export interface NamedFile {
  file: string;
  /** How it was named, for a message when it cannot be read: `given with --workshop`. */
  namedBy: string;
}

/** The workshop file in effect, or undefined when there is none. */
export function workshopFile(flag: string | undefined, env: NodeJS.ProcessEnv, fallback = DEFAULT_WORKSHOP_FILE): NamedFile | undefined {
  const [named, namedBy] = flag !== undefined ? [flag, 'given with --workshop'] : [env.OCILAB_WORKSHOP, 'named by $OCILAB_WORKSHOP'];
  if (named === NO_WORKSHOP) return undefined;
  if (named) return { file: resolve(named), namedBy };
  return existsSync(fallback) ? { file: fallback, namedBy: "this machine's workshop" } : undefined;
}

export interface ReadWorkshop {
  /** Absent when the workshop file itself has problems. */
  workshop?: Workshop;
  /** The labs read without problems, in the workshop's order. */
  labs: Lab[];
  /** Problems of the workshop file and of every lab it names, each in its own file. */
  problems: Problem[];
}

/** Reads a workshop and every lab it names, collecting every problem (for `ocilab lint`). */
export async function readWorkshop({ file, namedBy }: NamedFile): Promise<ReadWorkshop> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(
      `Cannot read the workshop file ${file} (${namedBy}): ${why}. \`--workshop ${NO_WORKSHOP}\` runs the labs without a workshop.`,
    );
  }
  const parsed = parseWorkshop(text, file);
  if (!parsed.ok) return { labs: [], problems: parsed.problems };
  const { workshop } = parsed;
  const problems: Problem[] = [];
  const named: NamedLab[] = [];
  const labs: Lab[] = [];
  for (const entry of workshop.labs) {
    const found = await labFilesOf(entry, dirname(file));
    if (typeof found === 'string') {
      problems.push({ file, line: entry.line, column: entry.column, message: found });
      continue;
    }
    for (const labFile of found) {
      const result = await parseLabFile(labFile);
      if (!result) problems.push({ file, line: entry.line, column: entry.column, message: `cannot read the lab file ${labFile}` });
      else if (!result.ok) problems.push(...result.problems);
      else {
        named.push({ entry, lab: result.lab });
        labs.push(result.lab);
      }
    }
  }
  // The workshop file's own problems first, in its order; then each lab's, in the order of the labs.
  const own = [...problems.filter((p) => p.file === file), ...checkWorkshopLabs(workshop, named)];
  own.sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
  return { workshop, labs, problems: [...own, ...problems.filter((p) => p.file !== file)] };
}

/** The workshop in effect, with its labs; a workshop or a lab of it with problems is refused with all of them. */
export async function loadWorkshop(flag: string | undefined): Promise<LoadedWorkshop | undefined> {
  const named = workshopFile(flag, process.env);
  if (!named) return undefined;
  const { workshop, labs, problems } = await readWorkshop(named);
  if (!workshop || problems.length > 0) throw new WorkshopError(named.file, problems);
  return {
    file: named.file,
    title: workshop.title,
    labs,
    ...(workshop.cache ? { cache: resolve(dirname(named.file), workshop.cache.value) } : {}),
    presets: (lab) => presetVariables(workshop, lab),
  };
}

/** The lab files an entry names, or why it names none. */
async function labFilesOf(entry: WorkshopLab, base: string): Promise<string[] | string> {
  if (entry.kind === 'shipped') {
    const shipped = await shippedLabNamed(entry.reference);
    if (shipped) return [shipped.file];
    const ids = (await shippedLabs()).map((l) => l.id).join(', ');
    return `no lab shipped with ocilab has the id '${entry.reference}' (they are: ${ids}); name a lab file or a directory of labs by a path with a /, e.g. ./${entry.reference}/`;
  }
  const path = resolve(base, entry.reference);
  const found = await stat(path).catch(() => undefined);
  if (!found) return `${entry.reference}: no such file or directory (${path})`;
  if (!found.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => n.endsWith('.md') && n.toLowerCase() !== 'readme.md').sort();
  if (names.length === 0) return `${entry.reference}: this directory holds no lab files (*.md besides README.md)`;
  return names.map((n) => join(path, n));
}

/** The labs commands see: the workshop's, in its order, when there is one, else the shipped ones. */
export interface Catalog {
  workshop?: LoadedWorkshop;
  /** The labs `ocilab list` shows, numbered from 1 in this order. */
  labs(): Promise<Lab[]>;
  /** Resolves `2`, `runc`, `02-runc` or `./my-lab.md` to a lab. */
  find(reference: string): Promise<Lab>;
  /** The variables the workshop gives this lab; none without a workshop. */
  presets(lab: Pick<Lab, 'id' | 'variables'>): Record<string, string>;
}

/** The catalog of the workshop in effect (`flag` is --workshop), else of the shipped labs. */
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

/** A workshop's lab by its number or id; else a shipped lab by its id or name; any lab file by path. */
async function findWorkshopLab(workshop: LoadedWorkshop, reference: string): Promise<Lab> {
  const { labs } = workshop;
  if (isLabFileReference(reference)) {
    const file = resolve(reference);
    return labs.find((lab) => lab.file === file) ?? readLab(file);
  }
  const numbered = /^\d+$/.test(reference);
  const found = numbered ? labs[Number(reference) - 1] : (labs.find((lab) => lab.id === reference) ?? (await shippedLabNamed(reference)));
  if (found) return found;
  const known = labs.map((lab, i) => `${i + 1} (${lab.id})`).join(', ');
  throw new UsageError(`No lab '${reference}' in the workshop ${workshop.file}. Its labs: ${known}. A lab file can also be given by path.`);
}
