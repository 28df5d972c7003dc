// Lab variables: defaults, overrides from --var, and `${name}` expansion in check fields.
// Pure: values go to commands as environment variables, never into command text.
import type { Lab } from './model.js';
import { UsageError } from '../errors.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Parses `k=v` strings from the command line. */
export function parseVarFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag : flag.slice(0, eq);
    if (eq < 0 || !NAME.test(name)) {
      throw new UsageError(`--var expects NAME=VALUE (got '${flag}'), e.g. --var img=127.0.0.1:5000/library/busybox:1.36`);
    }
    out[name] = flag.slice(eq + 1);
  }
  return out;
}

/**
 * The values of a lab's variables: overrides win, defaults are expanded in declaration order, so a
 * default such as `${host}/${path}` follows an overridden `host`.
 */
export function resolveVariables(lab: Pick<Lab, 'id' | 'variables'>, overrides: Record<string, string>): Record<string, string> {
  const known = new Set(lab.variables.map((v) => v.name));
  const unknown = Object.keys(overrides).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const list = [...known].join(', ') || 'none';
    throw new UsageError(`Lab '${lab.id}' has no variable ${unknown.map((n) => `'${n}'`).join(', ')}; its variables are: ${list}.`);
  }
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
