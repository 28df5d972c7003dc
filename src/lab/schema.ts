// The lab format as zod schemas: front matter, code-block attributes, checks and diagnoses, each giving
// the model's type. `parseLab` validates with them; `npm run schema` turns them into docs/lab-format.schema.json.
import * as z from 'zod';
import {
  CHECK_FACTS,
  type Check,
  type CommandCheck,
  type FileCheck,
  type JsonCheck,
  type Lab,
  type OutputCheck,
  type ProbeCheck,
  type TagsCheck,
} from './model.js';
import { VARIABLE_NAME } from './variables.js';

/** A lab's id or a way's name. */
export const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes, e.g. runc-basics');

/** What the front matter says of the lab; the rest of `Lab` comes from the Markdown after it. */
export type LabHeader = Omit<Lab, 'file' | 'intro' | 'steps'>;

export const frontMatterSchema = z
  .object({
    ocilab: z.number().int().positive(),
    id: slug,
    title: z.string().min(1),
    summary: z.string().min(1),
    duration: z.string().optional(),
    requires: z
      .object({
        commands: z.array(z.string().min(1)).default([]),
        root: z.boolean().default(false),
      })
      .strict()
      .default({ commands: [], root: false }),
    variables: z
      .record(
        z.string().regex(VARIABLE_NAME, 'a variable name is a shell name, e.g. img or tls_verify'),
        z
          .object({
            default: z.union([z.string(), z.number(), z.boolean()]).transform(String),
            description: z.string().min(1),
          })
          .strict(),
      )
      .default({}),
  })
  .strict()
  .transform(({ ocilab, id, title, summary, duration, variables, requires }): LabHeader => ({
    format: ocilab,
    id,
    title,
    summary,
    ...(duration ? { duration } : {}),
    variables: Object.entries(variables).map(([name, variable]) => ({ name, ...variable })),
    requires,
  }));

/** JSON attributes in a fenced block's info string, e.g. ```sh {"run": true, "way": "docker"}. */
export const attributesSchema = z
  .object({
    run: z.boolean().optional(),
    way: slug.optional(),
    needs: z.array(z.string().min(1)).optional(),
    probe: z.string().min(1).optional(),
    install: z.string().min(1).optional(),
    interactive: z.boolean().optional(),
    root: z.boolean().optional(),
    timeout: z.number().positive().optional(),
    cleanup: z.string().min(1).optional(),
    readonly: z.boolean().optional(),
    edit: z.string().min(1).optional(),
    checks: z.literal(true).optional(),
    diagnoses: z.literal(true).optional(),
  })
  .strict();

export type Attributes = z.output<typeof attributesSchema>;

/** The attributes that only make sense on a runnable block. */
export const RUN_ATTRIBUTES = ['way', 'needs', 'probe', 'install', 'interactive', 'root', 'timeout', 'cleanup', 'readonly'] as const;

const validRegex = z.string().refine(
  (source) => {
    try {
      new RegExp(source, 'm');
      return true;
    } catch {
      return false;
    }
  },
  { error: 'not a valid regular expression' },
);

const exitExpectation = {
  exit: z.number().int().min(0).max(255).optional(),
};

const textExpectations = {
  equals: z.union([z.string(), z.number()]).transform(String).optional(),
  contains: z.union([z.string(), z.number()]).transform(String).optional(),
  matches: validRegex.optional(),
  lines: z
    .union([
      z.number().int().nonnegative(),
      z.object({ min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional() }).strict(),
    ])
    .optional(),
};

const common = {
  title: z.string().min(1).optional(),
  hint: z.string().min(1).optional(),
  passesBefore: z.boolean().optional(),
  skip: z
    .object({ if: z.string().min(1), because: z.string().min(1) })
    .strict()
    .optional(),
};

/** A check as the model has it but for its line, which only the parser knows. */
type UnplacedCheck<C extends Check> = Omit<C, 'line'>;

/** Splits off a check item's first key, which names its kind, from the fields after it. */
function byKind<K extends string, T extends Record<K, unknown>>(item: T, key: K): [T[K], Omit<T, K>] {
  const { [key]: subject, ...fields } = item;
  return [subject, fields];
}

/** Each check names its kind by the key it starts with; the model has the kind as a field and the key's value under its own name. */
export const checkSchemas = {
  command: z
    .object({ command: z.string().min(1), ...common, ...exitExpectation, ...textExpectations })
    .strict()
    .transform(({ command, ...fields }): UnplacedCheck<CommandCheck> => ({ kind: 'command', run: command, ...fields })),
  output: z
    .object({ output: z.literal('step'), typed: validRegex.optional(), ...common, ...textExpectations })
    .strict()
    // `output: step` only names the kind.
    .transform((item): UnplacedCheck<OutputCheck> => ({ kind: 'output', ...byKind(item, 'output')[1] })),
  file: z
    .object({
      file: z.string().min(1),
      root: z.string().min(1).optional(),
      exists: z.boolean().default(true),
      type: z.enum(['file', 'directory', 'symlink']).optional(),
      notEmpty: z.boolean().optional(),
      executable: z.boolean().optional(),
      ...common,
    })
    .strict()
    .transform(({ file, ...fields }): UnplacedCheck<FileCheck> => ({ kind: 'file', path: file, ...fields })),
  json: z
    .object({ json: z.string().min(1), path: z.string().min(1).optional(), equals: z.unknown().optional(), ...common })
    .strict()
    .transform(({ json, ...fields }): UnplacedCheck<JsonCheck> => ({ kind: 'json', file: json, ...fields })),
  probe: z
    .object({
      probe: z.array(z.string()).min(1),
      bundle: z.string().min(1).default('.'),
      listsDirectory: z.string().min(1).optional(),
      host: z.enum(['same', 'differs']).optional(),
      ...common,
      ...exitExpectation,
      ...textExpectations,
    })
    .strict()
    .transform(({ probe, ...fields }): UnplacedCheck<ProbeCheck> => ({ kind: 'probe', args: probe, ...fields })),
  tags: z
    .object({ tags: z.string().min(1), registry: z.string().min(1), typed: validRegex.optional(), ...common })
    .strict()
    .transform(({ tags, ...fields }): UnplacedCheck<TagsCheck> => ({ kind: 'tags', repository: tags, ...fields })),
} as const;

/** One item of a ```yaml {"diagnoses": true} block. */
export const diagnosisSchema = z
  .object({
    when: z
      .object({
        check: z.string().min(1).optional(),
        fact: z.enum(CHECK_FACTS).optional(),
        typed: validRegex.optional(),
        lacks: validRegex.optional(),
        exit: z.union([z.number().int().min(0).max(255), z.literal('nonzero')]).optional(),
        output: validRegex.optional(),
        exists: z.string().min(1).optional(),
        vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
        user: z.enum(['root', 'normal']).optional(),
      })
      .strict()
      .refine((when) => Object.keys(when).length > 0, { error: 'say when: at least one condition, e.g. typed: curl' }),
    say: z.string().min(1),
  })
  .strict();

export type CheckKey = keyof typeof checkSchemas;
export const CHECK_KEYS = Object.keys(checkSchemas) as CheckKey[];

/** The whole format as one JSON Schema document (for editors and for docs/). */
export function labFormatJsonSchema(): Record<string, unknown> {
  const options = { io: 'input', unrepresentable: 'any' } as const;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'ocilab lab format',
    description: 'Front matter, fenced-block attributes, checks and diagnoses of an ocilab lab (see docs/lab-format.md).',
    $defs: {
      frontMatter: z.toJSONSchema(frontMatterSchema, options),
      attributes: z.toJSONSchema(attributesSchema, options),
      check: { anyOf: CHECK_KEYS.map((key) => z.toJSONSchema(checkSchemas[key], options)) },
      diagnosis: z.toJSONSchema(diagnosisSchema, options),
    },
  };
}
