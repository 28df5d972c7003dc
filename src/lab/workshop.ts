// The workshop file: its model, and `parseWorkshop(text, file)` → the model, or every problem found, each
// with file:line:col. Pure: paths stay as written; cli/ resolves them against the file's directory.
import type { Position, Problem } from './model.js';
import { collectProblems, parseYaml, reportIssue, type PositionOf } from './problems.js';
import { isLabPath, workshopSchema, type WorkshopFields } from './workshop-schema.js';

/** The newest workshop format this ocilab understands; a file declaring a higher one is refused. */
export const WORKSHOP_FORMAT_VERSION = 1;

export interface Workshop {
  /** The file it was read from, as given to the parser (used in messages). */
  file: string;
  format: number;
  title: string;
  /** The labs as the file names them, in its order. */
  labs: WorkshopLab[];
  /** Values for every lab that declares the variable. */
  variables: Setting[];
  /** Values for one lab each, by its id, winning over `variables`. */
  labVariables: LabSettings[];
  /** The image cache tarball to seed machines from, as written (relative to the workshop file). */
  cache?: Placed<string>;
}

type Placed<T> = Required<Position> & { value: T };

/** A lab the workshop names: a shipped lab's id, or a path of a lab file or a directory of labs. */
export interface WorkshopLab extends Required<Position> {
  reference: string;
  kind: 'shipped' | 'path';
}

export interface Setting extends Required<Position> {
  name: string;
  value: string;
}

export interface LabSettings extends Required<Position> {
  /** The id of the lab the settings are for. */
  lab: string;
  variables: Setting[];
}

export type ParseWorkshopResult = { ok: true; workshop: Workshop } | { ok: false; problems: Problem[] };

const EXAMPLE = 'ocilab-workshop: 1 / title: SA onboarding, day 1 / labs: [tags, runc, ./our-labs/]';

/** The right form of each field, shown with a problem about it. */
const EXAMPLES: Record<keyof WorkshopFields, string> = {
  'ocilab-workshop': 'ocilab-workshop: 1',
  title: 'title: SA onboarding, day 1',
  labs: 'labs: [tags, runc, ./our-labs/03-our-registry.md]',
  variables: 'variables: { scheme: http }',
  'lab-variables': 'lab-variables: { runc: { img: "registry.lan:5000/library/busybox:1.36" } }',
  cache: 'cache: ./images.tar',
};

export function parseWorkshop(text: string, file: string): ParseWorkshopResult {
  const { problems, report } = collectProblems(file);
  const failed = () => ({ ok: false as const, problems: problems.sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0)) });
  if (text.startsWith('---') && /^ocilab:\s/m.test(text)) {
    report(1, 'this is a lab file (it starts with front matter); a workshop file is YAML that names labs', EXAMPLE, 1);
    return failed();
  }
  const { doc, positionOf, broken } = parseYaml(text, 1, 'workshop file', report, { columns: true });
  if (broken) return failed();

  const raw: unknown = doc.toJS();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    report(1, 'a workshop file is a YAML mapping that starts with `ocilab-workshop: 1`', EXAMPLE, 1);
    return failed();
  }
  const version = (raw as Record<string, unknown>)['ocilab-workshop'];
  if (typeof version === 'number' && version > WORKSHOP_FORMAT_VERSION) {
    // A newer format may mean anything: judging the rest by today's rules would only mislead.
    const { line, column } = positionOf(['ocilab-workshop']);
    report(
      line,
      `this workshop file is written for workshop format ${version}; this ocilab understands format ${WORKSHOP_FORMAT_VERSION} — upgrade ocilab (npm install -g ocilab@latest)`,
      undefined,
      column,
    );
    return failed();
  }
  const parsed = workshopSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      const example = typeof field === 'string' && field in EXAMPLES ? EXAMPLES[field as keyof WorkshopFields] : EXAMPLE;
      reportIssue(issue, 'workshop file', positionOf, (line, message, _example, column) => report(line, message, example, column));
    }
    return failed();
  }
  return { ok: true, workshop: build(parsed.data, file, positionOf) };
}

function build(fields: WorkshopFields, file: string, positionOf: PositionOf): Workshop {
  const listed = typeof fields.labs === 'string' ? [fields.labs] : fields.labs;
  const labs = listed.map((reference, index): WorkshopLab => ({
    reference,
    kind: isLabPath(reference) ? 'path' : 'shipped',
    ...positionOf(typeof fields.labs === 'string' ? ['labs'] : ['labs', index], 'value'),
  }));
  const settings = (values: Record<string, string>, path: string[]) =>
    Object.entries(values).map(([name, value]): Setting => ({ name, value, ...positionOf([...path, name]) }));
  return {
    file,
    format: fields['ocilab-workshop'],
    title: fields.title,
    labs,
    variables: settings(fields.variables ?? {}, ['variables']),
    labVariables: Object.entries(fields['lab-variables'] ?? {}).map(([lab, values]) => ({
      lab,
      variables: settings(values, ['lab-variables', lab]),
      ...positionOf(['lab-variables', lab]),
    })),
    ...(fields.cache ? { cache: { value: fields.cache, ...positionOf(['cache']) } } : {}),
  };
}
