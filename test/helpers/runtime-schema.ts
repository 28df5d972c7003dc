// The OCI runtime-spec JSON Schema of config.json, from shared/ beside the repository: an independent
// judge of the config.json files a lab writes.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ErrorObject } from 'ajv';
import ajvDraft04 from 'ajv-draft-04';
import { sharedDir } from './cli.js';

export const RUNTIME_SCHEMAS = join(sharedDir, 'oci-schemas', 'runtime-spec');
// A CommonJS module whose exports are the class itself, with `default` pointing to it as well.
const AjvDraft04 = ajvDraft04.default;

/** A validator of config.json: it returns the schema's complaints, `[]` for a valid config. */
export async function configValidator(): Promise<(config: unknown) => string[]> {
  const ajv = new AjvDraft04({ strict: false, allErrors: true });
  const files = (await readdir(RUNTIME_SCHEMAS)).filter((f) => f.endsWith('.json'));
  for (const file of files) {
    const schema = JSON.parse(await readFile(join(RUNTIME_SCHEMAS, file), 'utf8')) as Record<string, unknown>;
    // The files refer to each other by file name: give each its file URL as id so those refs resolve.
    ajv.addSchema({ ...schema, id: pathToFileURL(join(RUNTIME_SCHEMAS, file)).href });
  }
  const validate = ajv.getSchema(pathToFileURL(join(RUNTIME_SCHEMAS, 'config-schema.json')).href);
  if (!validate) throw new Error(`no config-schema.json in ${RUNTIME_SCHEMAS}`);
  return (config: unknown) => (validate(config) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath} ${e.message}`));
}
