// A workshop with its labs read: the variables it gives each lab, and its rules that need the labs (ids
// unique across it, `lab-variables` naming its labs and their variables, every variable used by some lab).
import type { Lab, Position, Problem } from './model.js';
import type { Setting, Workshop, WorkshopLab } from './workshop.js';

/** A lab as read, with the entry of the workshop that named it (a directory names several). */
export interface NamedLab {
  entry: WorkshopLab;
  lab: Pick<Lab, 'id' | 'file' | 'variables'>;
}

const declares = (lab: Pick<Lab, 'variables'>, name: string) => lab.variables.some((v) => v.name === name);
const listOf = (names: string[]) => (names.length > 0 ? names.join(', ') : 'none');

export function checkWorkshopLabs(workshop: Workshop, labs: readonly NamedLab[]): Problem[] {
  const problems: Problem[] = [];
  const report = ({ line, column }: Required<Position>, message: string) => problems.push({ file: workshop.file, line, column, message });

  const byId = new Map<string, NamedLab>();
  for (const named of labs) {
    const earlier = byId.get(named.lab.id);
    if (!earlier) byId.set(named.lab.id, named);
    else if (earlier.lab.file === named.lab.file)
      report(named.entry, `${named.lab.file} is already a lab of this workshop (line ${earlier.entry.line}): name each lab once`);
    else
      report(
        named.entry,
        `two labs have the id '${named.lab.id}': ${earlier.lab.file} and ${named.lab.file}; ids are unique across a workshop (they name progress and workspaces): change the id in one of them`,
      );
  }

  for (const settings of workshop.labVariables) {
    const lab = byId.get(settings.lab)?.lab;
    if (!lab) {
      report(settings, `lab-variables: '${settings.lab}' is not a lab of this workshop; its labs are: ${listOf([...byId.keys()])}`);
      continue;
    }
    for (const setting of settings.variables) {
      if (!declares(lab, setting.name)) {
        const known = listOf(lab.variables.map((v) => v.name));
        report(setting, `lab-variables: lab '${lab.id}' has no variable '${setting.name}'; its variables are: ${known}`);
      }
    }
  }

  for (const setting of workshop.variables) {
    if (!labs.some(({ lab }) => declares(lab, setting.name))) {
      const known = listOf([...new Set(labs.flatMap(({ lab }) => lab.variables.map((v) => v.name)))]);
      report(setting, `variables: no lab of this workshop has a variable '${setting.name}'; theirs are: ${known}`);
    }
  }
  return problems;
}

/** The values the workshop gives this lab: its `variables` the lab declares, then its `lab-variables`, which win. */
export function presetVariables(workshop: Workshop, lab: Pick<Lab, 'id' | 'variables'>): Record<string, string> {
  const own: Setting[] = workshop.labVariables.find((settings) => settings.lab === lab.id)?.variables ?? [];
  const values: Record<string, string> = {};
  for (const { name, value } of [...workshop.variables, ...own]) if (declares(lab, name)) values[name] = value;
  return values;
}
