// prove: shows that a lab's checks can tell done from not done. The lab runs headless in a throwaway
// workspace; each step's checks run before its commands (they must fail) and after them (they must pass).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCheck } from '../checks/index.js';
import type { CheckContext, CheckStatus, JudgedCheck } from '../checks/types.js';
import { UsageError } from '../errors.js';
import type { Check, CheckKind, Lab, Step } from '../lab/model.js';
import { detectPrivilege } from '../sys/privilege.js';
import type { RunnerEvent } from './events.js';
import { judgeChecks } from './judge.js';
import { newProgress } from './progress.js';
import { runLab } from './run.js';

/**
 * What prove found out about one check:
 * - `ok`: it failed before the step's commands and passed after them (or, marked `passesBefore`, passed both times);
 * - `cannot-fail`: it passed before the step's commands without being marked `passesBefore`;
 * - `fails-before`: it is marked `passesBefore` but did not pass before the step's commands;
 * - `never-passes`: it failed, or could not run, after the step's commands;
 * - `skipped`: it does not apply on this machine (its `skip.if` succeeded), so it proves nothing either way.
 */
export type Verdict = 'ok' | 'cannot-fail' | 'fails-before' | 'never-passes' | 'skipped';

/**
 * - `proven`: every check of the step is `ok`, or `skipped` here;
 * - `unproven`: some check of the step is not;
 * - `commands-failed`: a command or edit of the step failed, so its checks prove nothing;
 * - `not-reached`: the run stopped at an earlier step.
 */
export type ProvedStepStatus = 'proven' | 'unproven' | 'commands-failed' | 'not-reached';

export interface CheckRun {
  status: CheckStatus;
  message: string;
  expected?: string;
  actual?: string;
}

export interface ProvedCheck {
  kind: CheckKind;
  label: string;
  /** Where the check is written: `labs/02-runc.md:140`. */
  at: string;
  passesBefore: boolean;
  /** Absent when the step was not reached. */
  before?: CheckRun;
  /** Absent when the step was not reached. */
  after?: CheckRun;
  /** Absent when the step's commands failed or the step was not reached: then nothing is proven. */
  verdict?: Verdict;
}

export interface ProvedStep {
  id: string;
  title: string;
  /** Where the step's heading is: `labs/02-runc.md:12`. */
  at: string;
  status: ProvedStepStatus;
  /** The way the step was done, when it offers several. */
  way?: string;
  checks: ProvedCheck[];
  /** Warnings the run gave during the step (a missing file for an edit, an unusable way chosen with --use). */
  notices: string[];
  /** When the step's commands failed: the last lines they printed. */
  output?: string;
}

export interface ProveReport {
  lab: string;
  file: string;
  workdir: string;
  /** The workspace is still there (`--keep`, or it could not be removed: see `notices`). */
  kept: boolean;
  proven: boolean;
  /** Steps with checks, and steps whose commands failed; reading steps and steps without checks are left out. */
  steps: ProvedStep[];
  /** Warnings that belong to no step (missing commands, a workspace that could not be removed). */
  notices: string[];
}

export interface ProveOptions {
  vars: Record<string, string>;
  /** As `ocilab run --use`; each name must name a way of the lab. */
  use?: readonly string[];
  /** Go on after a step that does not pass, instead of stopping there. */
  keepGoing: boolean;
  /** Leave the workspace in place afterwards. */
  keep: boolean;
  signal: AbortSignal;
  /** Called as each step is judged (steps with checks, and steps whose commands failed), for live output. */
  onStep?: (step: ProvedStep) => void;
}

/** How much of a failed command's output the report keeps. */
const OUTPUT_TAIL_LINES = 15;
const OUTPUT_KEEP_CHARS = 16_000;

export async function proveLab(lab: Lab, options: ProveOptions): Promise<ProveReport> {
  for (const name of options.use ?? []) checkWayName(lab, name);
  const workdir = await mkdtemp(join(tmpdir(), `ocilab-prove-${lab.id}-`));
  const { privilege } = await detectPrivilege();
  const judged = new Map<string, ProvedStep>();
  const notices: string[] = [];
  let current: StepRun | undefined;

  const listen = (event: RunnerEvent) => {
    if (event.type === 'step-start') {
      current = newStepRun(event.step);
    } else if (event.type === 'step-end' && current) {
      const proved = judgeStep(lab, current, options.vars);
      current = undefined;
      if (proved.checks.length === 0 && proved.status !== 'commands-failed') return;
      judged.set(proved.id, proved);
      options.onStep?.(proved);
    } else if (current) {
      record(current, event);
    } else if (event.type === 'notice' && event.level === 'warn') {
      notices.push(event.message);
    }
  };

  let kept = options.keep;
  try {
    await runLab(lab, {
      workdir,
      vars: options.vars,
      mode: 'headless',
      keepGoing: options.keepGoing,
      ...(options.use !== undefined ? { use: options.use } : {}),
      signal: options.signal,
      emit: listen,
      progress: newProgress(lab.id, workdir, options.vars),
      // The learner's progress in this lab is none of prove's business: it keeps none.
      save: async () => {},
      beforeActions: async (step) => {
        if (!current || step.checks.length === 0) return;
        const before = current.before;
        const context: CheckContext = { workdir, vars: options.vars, privilege, signal: options.signal };
        await judgeChecks(step, context, (event) => {
          if (event.type === 'check-result') before.set(event.result.check, toCheckRun(event.result));
        });
      },
    });
  } finally {
    if (!options.keep) {
      const problem = await removeWorkspace(workdir);
      if (problem) {
        notices.push(problem);
        kept = true;
      }
    }
  }

  const steps = lab.steps.flatMap((step) => {
    const proved = judged.get(step.id);
    if (proved) return [proved];
    return step.checks.length > 0 ? [notReached(lab, step, options.vars)] : [];
  });
  return { lab: lab.id, file: lab.file, workdir, kept, proven: steps.every((s) => s.status === 'proven'), steps, notices };
}

/** What the runner's events say about one step while it runs. */
interface StepRun {
  step: Step;
  before: Map<Check, CheckRun>;
  after: Map<Check, CheckRun>;
  /** Actions that succeeded; the runner stops a step's actions at the first that fails. */
  actionsDone: number;
  way?: string;
  notices: string[];
  output: string;
}

function newStepRun(step: Step): StepRun {
  return { step, before: new Map(), after: new Map(), actionsDone: 0, notices: [], output: '' };
}

function record(run: StepRun, event: RunnerEvent): void {
  switch (event.type) {
    case 'check-result':
      run.after.set(event.result.check, toCheckRun(event.result));
      break;
    case 'command-end':
      if (event.exitCode === 0 && !event.timedOut) run.actionsDone++;
      break;
    // Interactive commands are skipped headless: their checks stand in for them.
    case 'command-skipped':
      run.actionsDone++;
      break;
    case 'edit':
      if (event.applied) run.actionsDone++;
      break;
    case 'way-chosen':
      run.way = event.way.name;
      break;
    case 'output':
      run.output = (run.output + event.chunk).slice(-OUTPUT_KEEP_CHARS);
      break;
    case 'notice':
      if (event.level === 'warn') run.notices.push(event.message);
      break;
  }
}

function judgeStep(lab: Lab, run: StepRun, vars: Record<string, string>): ProvedStep {
  const { step } = run;
  const actionsFailed = run.actionsDone < step.actions.length;
  const checks = step.checks.map((check): ProvedCheck => {
    const before = run.before.get(check);
    const after = run.after.get(check);
    const verdict = actionsFailed || !before || !after ? undefined : judgeCheck(check, before, after);
    return { ...describe(lab, check, vars), ...(before ? { before } : {}), ...(after ? { after } : {}), ...(verdict ? { verdict } : {}) };
  });
  const status: ProvedStepStatus = actionsFailed
    ? 'commands-failed'
    : checks.every((c) => c.verdict === 'ok' || c.verdict === 'skipped')
      ? 'proven'
      : 'unproven';
  return {
    id: step.id,
    title: step.title,
    at: `${lab.file}:${step.line}`,
    status,
    ...(run.way ? { way: run.way } : {}),
    checks,
    notices: run.notices,
    ...(actionsFailed ? { output: tail(run.output, OUTPUT_TAIL_LINES) } : {}),
  };
}

/** A check that does not pass after the step is the worse news, so it wins over what happened before. */
export function judgeCheck(check: Pick<Check, 'passesBefore'>, before: CheckRun, after: CheckRun): Verdict {
  if (before.status === 'skipped' || after.status === 'skipped') return 'skipped';
  if (after.status !== 'passed') return 'never-passes';
  if (check.passesBefore) return before.status === 'passed' ? 'ok' : 'fails-before';
  return before.status === 'passed' ? 'cannot-fail' : 'ok';
}

function notReached(lab: Lab, step: Step, vars: Record<string, string>): ProvedStep {
  return {
    id: step.id,
    title: step.title,
    at: `${lab.file}:${step.line}`,
    status: 'not-reached',
    checks: step.checks.map((check) => describe(lab, check, vars)),
    notices: [],
  };
}

function describe(lab: Lab, check: Check, vars: Record<string, string>): Pick<ProvedCheck, 'kind' | 'label' | 'at' | 'passesBefore'> {
  return {
    kind: check.kind,
    label: describeCheck(check, vars),
    at: `${lab.file}:${check.line}`,
    passesBefore: check.passesBefore === true,
  };
}

function toCheckRun(result: JudgedCheck): CheckRun {
  return {
    status: result.status,
    message: result.message,
    ...(result.status === 'failed' ? { expected: result.expected, actual: result.actual } : {}),
  };
}

function checkWayName(lab: Lab, use: string): void {
  const names = new Set(lab.steps.flatMap((step) => step.actions.flatMap((a) => (a.kind === 'ways' ? a.ways.map((w) => w.name) : []))));
  if (names.has(use)) return;
  const known = names.size > 0 ? `its ways are: ${[...names].join(', ')}` : 'it offers no ways';
  throw new UsageError(`Lab '${lab.id}' has no way named '${use}'; ${known}.`);
}

/** Undefined when the workspace is gone, else what to tell the author. */
async function removeWorkspace(workdir: string): Promise<string | undefined> {
  try {
    await rm(workdir, { recursive: true, force: true });
    return undefined;
  } catch (error) {
    return `Could not remove the workspace ${workdir}: ${(error as Error).message}. Remove it yourself (with sudo if the lab wrote files as root).`;
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
