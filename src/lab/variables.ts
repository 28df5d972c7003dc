// Lab variables: defaults, overrides, and `${name}` expansion in check fields.
// Pure: values go to commands as environment variables, never into command text.
import type { Lab } from './model.js';

/** A variable's name is a shell name. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The names among the overrides that the lab does not declare, in the order given. */
export function unknownVariables(lab: Pick<Lab, 'variables'>, overrides: Record<string, string>): string[] {
  const known = new Set(lab.variables.map((v) => v.name));
  return Object.keys(overrides).filter((name) => !known.has(name));
}

/**
 * The values of a lab's variables: overrides win, defaults are expanded in declaration order, so a
 * default such as `${host}/${path}` follows an overridden `host`. Overrides the lab does not declare are
 * left out (`unknownVariables` names them).
 */
export function resolveVariables(lab: Pick<Lab, 'variables'>, overrides: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const variable of lab.variables) {
    values[variable.name] = overrides[variable.name] ?? expand(variable.default, values);
  }
  return values;
}

/** Replaces `${name}` with the variable's value; unknown names are left as they are. Not a shell: nothing else is interpreted. */
export function expand(text: string, values: Record<string, string>): string {
  return text.replace(REFERENCE, (whole, name: string) => values[name] ?? whole);
}

/** Names referred to as `${name}` in a text (for the parser to report unknown ones). */
export function references(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((m) => m[1] as string);
}
