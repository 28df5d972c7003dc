// The --var NAME=VALUE flags: read from the command line and held against the variables a lab declares.
import { UsageError } from '../errors.js';
import type { Lab } from '../lab/model.js';
import { resolveVariables, unknownVariables, VARIABLE_NAME } from '../lab/variables.js';

/** Parses `k=v` strings from the command line. */
export function parseVarFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag : flag.slice(0, eq);
    if (eq < 0 || !VARIABLE_NAME.test(name)) {
      throw new UsageError(`--var expects NAME=VALUE (got '${flag}'), e.g. --var img=127.0.0.1:5000/library/busybox:1.36`);
    }
    out[name] = flag.slice(eq + 1);
  }
  return out;
}

/** The lab's variable values with the user's overrides, refusing a name the lab does not declare. */
export function labVariables(lab: Pick<Lab, 'id' | 'variables'>, overrides: Record<string, string>): Record<string, string> {
  const unknown = unknownVariables(lab, overrides);
  if (unknown.length > 0) {
    const list = lab.variables.map((v) => v.name).join(', ') || 'none';
    throw new UsageError(`Lab '${lab.id}' has no variable ${unknown.map((n) => `'${n}'`).join(', ')}; its variables are: ${list}.`);
  }
  return resolveVariables(lab, overrides);
}
