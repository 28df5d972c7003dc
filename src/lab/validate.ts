// The rules a lab must follow beyond what each block's schema says, which need the whole step or lab:
// declared variables, unique step ids, output checks with a command to judge, diagnoses about a check.
import { judgesOutput, type Check, type Step, type Variable } from './model.js';
import type { LineOf, Report } from './problems.js';
import { references } from './variables.js';

export interface LabParts {
  steps: Step[];
  variables: Variable[];
  /** Where the front matter's nodes are. */
  lineOf: LineOf;
  /** The first line after the front matter. */
  bodyLine: number;
}

export function validateLab({ steps, variables, lineOf, bodyLine }: LabParts, report: Report): void {
  checkStepIds(steps, report);
  checkVariableDefaults(variables, lineOf, report);
  const known = new Set(variables.map((v) => v.name));
  for (const step of steps) checkStep(step, known, report);
  if (steps.length === 0) report(bodyLine, 'a lab needs at least one step: a `## Heading` with content', '## Generate the spec');
}

function checkStepIds(steps: Step[], report: Report): void {
  const seen = new Map<string, number>();
  for (const step of steps) {
    const first = seen.get(step.id);
    if (first !== undefined)
      report(step.line, `two steps have the id '${step.id}' (the other is on line ${first}): give this step a different title`);
    else seen.set(step.id, step.line);
  }
}

function checkVariableDefaults(variables: Variable[], lineOf: LineOf, report: Report): void {
  const earlier = new Set<string>();
  for (const variable of variables) {
    for (const name of references(variable.default)) {
      if (!earlier.has(name)) {
        report(
          lineOf(['variables', variable.name, 'default']),
          `the default of '${variable.name}' uses \${${name}}, which is not a variable declared above it`,
        );
      }
    }
    earlier.add(variable.name);
  }
}

function checkStep(step: Step, known: Set<string>, report: Report): void {
  for (const ref of variableReferences(step)) {
    if (!known.has(ref.name))
      report(ref.line, `\${${ref.name}} is not a variable of this lab: declare it under variables in the front matter`);
  }
  const [judgesStepOutput] = step.checks.filter(judgesOutput);
  if (judgesStepOutput) {
    const commands = step.actions.flatMap((a) => (a.kind === 'command' ? [a.command] : a.kind === 'ways' ? a.ways : []));
    if (commands.length === 0) {
      report(judgesStepOutput.line, "this check judges the output of the step's command, but the step runs no command");
    } else if (commands.some((c) => !c.readonly)) {
      report(
        judgesStepOutput.line,
        'this check judges the step\'s output, which `verify` gets by running the command again: mark the step\'s commands "readonly": true (only if they really only read)',
      );
    }
  }
  for (const diagnosis of step.diagnoses) {
    const named = diagnosis.when.check;
    if (named !== undefined && !step.checks.some((c) => c.kind === named || c.title === named)) {
      report(diagnosis.line, `diagnosis: this step has no check '${named}': name a check by its kind (e.g. tags) or its title`);
    }
  }
  const [firstDiagnosis] = step.diagnoses;
  if (firstDiagnosis && step.checks.length === 0 && step.actions.length === 0) {
    report(firstDiagnosis.line, 'diagnoses explain a failed attempt, but this step has neither commands nor checks');
  }
}

/** The `${name}`s in the step's checks and diagnoses, each with the line of its check or diagnosis. */
function variableReferences(step: Step): { name: string; line: number }[] {
  const inChecks = step.checks.flatMap((check) =>
    [...checkStrings(check), check.skip?.because ?? ''].flatMap((text) => references(text).map((name) => ({ name, line: check.line }))),
  );
  const inDiagnoses = step.diagnoses.flatMap(({ line, when, say }) => [
    ...[say, when.exists ?? ''].flatMap((text) => references(text).map((name) => ({ name, line }))),
    ...Object.keys(when.vars ?? {}).map((name) => ({ name, line })),
  ]);
  return [...inChecks, ...inDiagnoses];
}

/** The fields of a check in which `${name}` is expanded. */
function checkStrings(check: Check): string[] {
  switch (check.kind) {
    case 'file':
      return [check.path, check.root ?? ''];
    case 'json':
      return [check.file];
    case 'probe':
      return [check.bundle, ...check.args, check.listsDirectory ?? ''];
    case 'tags':
      return [check.registry, check.repository];
    case 'command':
    case 'output':
      return [];
  }
}
