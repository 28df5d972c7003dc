// The workshop file as a zod schema, giving the shape `parseWorkshop` builds its model from; `npm run
// schema` turns it into docs/workshop.schema.json for editors.
import * as z from 'zod';
import { slug } from './schema.js';
import { VARIABLE_NAME } from './variables.js';

/** A lab named with a `/` or as a `.md` file is a path (of a lab file or a directory of labs); else a shipped lab's id. */
export function isLabPath(reference: string): boolean {
  return reference.includes('/') || reference.endsWith('.md');
}

const labReference = z
  .string()
  .min(1)
  .refine((reference) => isLabPath(reference) || slug.safeParse(reference).success, {
    error: 'name a shipped lab by its id (e.g. tags), or a lab file or a directory of labs by a path with a / (e.g. ./our-labs/)',
  });

/** Says a required field is missing in a sentence; zod's own message says it got undefined. */
const required = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? `missing: ${what}` : undefined),
});

const values = z.record(
  z.string().regex(VARIABLE_NAME, 'a variable name is a shell name, e.g. img or tls_verify'),
  z.union([z.string(), z.number(), z.boolean()], { error: 'a value is a string, a number, true or false' }).transform(String),
);

export const workshopSchema = z
  .object({
    'ocilab-workshop': z
      .number(required('a workshop file starts with its format version, `ocilab-workshop: 1`'))
      .int()
      .positive()
      .describe('the workshop format version; a newer one is refused with "upgrade ocilab"'),
    title: z.string(required('the title of the workshop, shown above its labs')).min(1).describe('the workshop, as the menu shows it'),
    labs: z
      .union(
        [labReference, z.array(labReference).min(1, 'a workshop has at least one lab')],
        required('the labs of the workshop, in order'),
      )
      .describe('the labs in order: shipped ids, lab files, directories of labs (paths relative to this file)'),
    variables: values.optional().describe('variables for every lab that declares them'),
    'lab-variables': z.record(slug, values).optional().describe('variables for one lab, by its id, winning over `variables`'),
    cache: z.string().min(1).optional().describe('an image cache tarball to seed the machines from (relative to this file)'),
  })
  .strict();

export type WorkshopFields = z.output<typeof workshopSchema>;

/** The workshop file as one JSON Schema document (for editors and for docs/). */
export function workshopFormatJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(workshopSchema, { io: 'input', unrepresentable: 'any' }),
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'ocilab workshop file',
    description: 'The labs of a workshop, in order, and the variables they run with (see docs/workshop.md).',
  };
}
