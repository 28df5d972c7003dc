// Running a check of any kind, and naming it for the learner. Each kind lives in its own module; the
// mapped types below make a new kind of check fail to compile until it is handled and described.
import type { Check, CheckKind, FileCheck, TextExpectations } from '../lab/model.js';
import { expand } from '../lab/variables.js';
import { callsSudo } from '../sys/exec.js';
import { commandCheck, runCheckScript } from './command.js';
import { fileCheck } from './file.js';
import { jsonCheck } from './json.js';
import { outputCheck } from './output.js';
import { probeCheck, probeNeedsSudo } from './probe.js';
import { tagsCheck } from './tags.js';
import { describeLineCount } from './text.js';
import { isSettled, type CheckContext, type CheckResult, type JudgedCheck } from './types.js';

/** skip.if asks a question of the machine; it should answer at once. */
const SKIP_TIMEOUT_MS = 30_000;

type CheckOf<K extends CheckKind> = Extract<Check, { kind: K }>;

type Judges = { [K in CheckKind]: (check: CheckOf<K>, ctx: CheckContext) => CheckResult | Promise<CheckResult> };

const judges: Judges = {
  command: commandCheck,
  output: outputCheck,
  file: fileCheck,
  json: jsonCheck,
  probe: probeCheck,
  tags: tagsCheck,
};

/** Runs one check, unless its `skip.if` says it does not apply. A check that throws could not be run: that is an `error`, never a failure. */
export async function runCheck(check: Check, ctx: CheckContext): Promise<JudgedCheck> {
  let result: CheckResult;
  try {
    result = (await skipped(check, ctx)) ?? (await judge(check.kind, check, ctx));
  } catch (error) {
    result = { status: 'error', message: `The check could not run: ${error instanceof Error ? error.message : String(error)}` };
  }
  // The lab's own `hint:` is shown when the check does not pass, unless the check found a more precise one.
  if (!isSettled(result) && result.hint === undefined && check.hint !== undefined) {
    result = { ...result, hint: check.hint };
  }
  return { ...result, check };
}

/** The `skipped` result when the check's `skip.if` succeeds here; a script that cannot run is an error. */
async function skipped(check: Check, ctx: CheckContext): Promise<CheckResult | undefined> {
  if (check.skip === undefined) return undefined;
  const result = await runCheckScript(check.skip.if, ctx, SKIP_TIMEOUT_MS);
  if (result.startError) return { status: 'error', message: `Could not start bash to ask whether the check applies: ${result.startError}` };
  if (result.cancelled) return { status: 'error', message: 'The check was cancelled.' };
  if (result.timedOut) return { status: 'error', message: `skip.if did not finish within ${SKIP_TIMEOUT_MS / 1000} seconds.` };
  return result.exitCode === 0 ? { status: 'skipped', message: expand(check.skip.because, ctx.vars) } : undefined;
}

/**
 * Whether running this check calls sudo, for a learner who is not root: an interactive run lets sudo
 * ask for the password on the terminal first, so that the check's `sudo -n` finds sudo's timestamp.
 */
export async function needsSudo(check: Check, ctx: CheckContext): Promise<boolean> {
  if (ctx.privilege === 'root' || ctx.privilege === 'none') return false;
  if (check.kind === 'probe') return probeNeedsSudo(check, ctx);
  return check.kind === 'command' && callsSudo(check.run);
}

// Generic over the kind so TypeScript can pair judges[kind] with the check of that kind.
function judge<K extends CheckKind>(kind: K, check: CheckOf<K>, ctx: CheckContext): CheckResult | Promise<CheckResult> {
  return judges[kind](check, ctx);
}

const FILE_TYPE_WORDS: Record<NonNullable<FileCheck['type']>, string> = {
  file: 'a regular file',
  directory: 'a directory',
  symlink: 'a symbolic link',
};

type Describers = { [K in CheckKind]: (check: CheckOf<K>, vars: Record<string, string>) => string };

const describers: Describers = {
  command: (check) => `\`${firstLine(check.run)}\`: ${describeText(check)}`,
  output: (check) => `the step's output: ${describeText(check, false)}`,
  file: (check, vars) => {
    const where = check.root === undefined ? expand(check.path, vars) : `${expand(check.path, vars)} in ${expand(check.root, vars)}`;
    if (!check.exists) return `${where}: does not exist`;
    const properties = [
      'exists',
      ...(check.type ? [`is ${FILE_TYPE_WORDS[check.type]}`] : []),
      ...(check.notEmpty ? ['not empty'] : []),
      ...(check.executable ? ['executable'] : []),
    ];
    return `${where}: ${properties.join(', ')}`;
  },
  json: (check, vars) => {
    const file = expand(check.file, vars);
    if (check.path === undefined) return `${file} is valid JSON`;
    return `${file}: ${check.path} ${check.equals === undefined ? 'is present' : `is ${JSON.stringify(check.equals)}`}`;
  },
  probe: (check, vars) => {
    const expectations = [
      describeText(check),
      ...(check.listsDirectory !== undefined ? [`lists the entries of ${expand(check.listsDirectory, vars)}`] : []),
      ...(check.host !== undefined ? [check.host === 'same' ? 'the same as on the host' : 'not what the host prints'] : []),
    ];
    return `in the container, \`${check.args.map((arg) => expand(arg, vars)).join(' ')}\`: ${expectations.join(', ')}`;
  },
  tags: (check, vars) => `the output lists the tags of ${expand(check.repository, vars)} at ${expand(check.registry, vars)}`,
};

/** A short label for a check: its title when the lab gives one, else what it verifies. */
export function describeCheck(check: Check, vars: Record<string, string>): string {
  if (check.title !== undefined) return expand(check.title, vars);
  return describe(check.kind, check, vars);
}

function describe<K extends CheckKind>(kind: K, check: CheckOf<K>, vars: Record<string, string>): string {
  return describers[kind](check, vars);
}

/** `exit status 0, output matches /^runc/`; with nothing expected a process must exit 0. */
function describeText(exp: TextExpectations, hasExitStatus = true): string {
  const parts = [
    ...(exp.exit !== undefined ? [`exit status ${exp.exit}`] : []),
    ...(exp.equals !== undefined ? [`output is ${JSON.stringify(firstLine(exp.equals))}`] : []),
    ...(exp.contains !== undefined ? [`output contains ${JSON.stringify(firstLine(exp.contains))}`] : []),
    ...(exp.matches !== undefined ? [`output matches /${exp.matches}/`] : []),
    ...(exp.lines !== undefined ? [`${describeLineCount(exp.lines)} of output`] : []),
  ];
  if (parts.length > 0) return parts.join(', ');
  return hasExitStatus ? 'exit status 0' : 'recorded';
}

function firstLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines.length > 1 ? `${lines[0]} …` : (lines[0] ?? '');
}
