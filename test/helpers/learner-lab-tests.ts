// What every lab's end-to-end tests as normal users share: the lab finished in a terminal by a sudo
// learner, steps typed in ocilab's shell after a headless run up to sudo, and a rootless run and proof.
import { expect } from 'vitest';
import { driveLab } from './lab-driver.js';
import { asLearner, learner, learnerOcilab, learnersUsable, type AsLearnerResult, type Learner } from './learners.js';
import { expectNothingLeft, newContainerId } from './leftovers.js';
import { OcilabShell } from './ocilab-shell.js';
import { registryToolsUsable, skipUnless } from './services.js';
import { Terminal } from './terminal.js';

/** Whether to skip a lab's learner tests: they need root (to create learners), sudo, tmux and the registry tools. */
export async function skipLearnerLabTests(): Promise<boolean> {
  return skipUnless(
    (await learnersUsable()) && (await registryToolsUsable()),
    'needs root (to create learners), sudo, runuser, tmux, script, docker-registry, busybox-static, umoci and skopeo',
  );
}

/** `--var name=value` for each of a lab's variables. */
export const varArgs = (vars: Record<string, string>) => Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}=${value}`]);

/** The ways a learner with sudo picks in a lab whose first steps are lab 3's: ocilab's own rootfs, then root. */
export const builtinThenRoot = (step: string) => (step === 'A root filesystem to start from' ? 'builtin' : 'root');

export interface LabReport {
  id: string;
  state: string;
  steps: { id: string; kind: string; status: string; checks: { status: string }[] }[];
}

/** The lab's part of `ocilab report --json` as the learner runs it. */
export async function labReport(who: Learner, labId: string): Promise<LabReport | undefined> {
  const reported = await asLearner(who, [learnerOcilab, 'report', '--json']);
  expect(reported.exitCode, reported.all).toBe(0);
  return (JSON.parse(reported.stdout) as { labs: LabReport[] }).labs.find((l) => l.id === labId);
}

export interface FinishInTerminalOptions {
  /** The lab's number and id. */
  lab: number;
  labId: string;
  vars: Record<string, string>;
  /** The way to pick in the chooser of the step with this title. */
  wayFor: (step: string) => string;
  /** How often sudo asks for the password in the whole run: once, or never for a lab that needs no root. */
  passwordAsked: number;
  /** What every check of a step must end as (default `passed`). */
  checkStatus?: (stepId: string) => string | RegExp;
  timeoutMs: number;
}

/**
 * The lab done to the end in a real terminal by a learner whose sudo asks for a password, letting
 * ocilab run each step: ocilab exits with 0, sudo asked as often as `passwordAsked` says and the
 * password never shows; the report says the lab is finished, every task passed and every reading step
 * read; nothing of the container `vars.ctr` is left. Returns the learner, for what a lab checks further.
 */
export async function finishInTerminal(options: FinishInTerminalOptions): Promise<Learner> {
  const who = await learner('sudo-password');
  const terminal = await Terminal.open(who);
  try {
    await terminal.line(`${learnerOcilab} run ${options.lab} ${varArgs(options.vars).join(' ')}; echo "ocilab exited with $?"`);
    await driveLab(terminal, { who, timeoutMs: options.timeoutMs, wayFor: options.wayFor });
    const screen = await terminal.waitFor(/ocilab exited with \d+/, 1, options.timeoutMs);
    expect(screen).toContain('ocilab exited with 0');
    expect(await terminal.count('[sudo] password for')).toBe(options.passwordAsked);
    expect(screen).not.toContain(who.password);
  } finally {
    await terminal.close();
  }

  const lab = await labReport(who, options.labId);
  expect(lab?.state).toBe('finished');
  for (const step of lab?.steps ?? []) {
    expect(step.status, step.id).toBe(step.kind === 'task' ? 'passed' : 'read');
    const expected = options.checkStatus?.(step.id) ?? 'passed';
    for (const check of step.checks) {
      if (typeof expected === 'string') expect(check.status, step.id).toBe(expected);
      else expect(check.status, step.id).toMatch(expected);
    }
  }
  if (options.vars.ctr) await expectNothingLeft(options.vars.ctr);
  return who;
}

/** Headless, as a learner with sudo: the steps that need no root are done, and ocilab stops where sudo would ask (for a step or a probe). */
export async function runUntilSudoAsks(who: Learner, lab: number, vars: Record<string, string>): Promise<void> {
  const headless = await asLearner(who, [learnerOcilab, 'run', String(lab), '--yes', '--use', 'builtin', ...varArgs(vars)]);
  expect(headless.exitCode, headless.all).toBe(1);
  expect(headless.all).toMatch(/sudo wants your password/);
}

export interface TypedInShellOptions {
  lab: number;
  /** The lab's id, and how many steps its shell's banner counts. */
  labId: string;
  steps: number;
  /** The start of the container id, as newContainerId takes it. */
  idPrefix: string;
  image: string;
}

/**
 * Steps typed in ocilab's shell by a learner whose sudo asks for a password, with a container id of
 * their own: first the headless run that stops where sudo would ask, then `typing` in a terminal.
 * Afterwards the terminal is closed, and nothing of the container is left.
 */
export async function typedInShell(options: TypedInShellOptions, typing: (shell: OcilabShell, id: string) => Promise<void>): Promise<void> {
  const who = await learner('sudo-password');
  const id = newContainerId(options.idPrefix);
  const vars = { img: options.image, ctr: id };
  await runUntilSudoAsks(who, options.lab, vars);
  const shell = new OcilabShell(await Terminal.open(who), { lab: options.lab, id: options.labId, steps: options.steps, vars, sudo: who });
  try {
    await typing(shell, id);
  } finally {
    await shell.close();
  }
  await expectNothingLeft(id);
}

/** `ocilab run N --yes --use WAY...` as the learner, headless, to the end: exit 0, and no check failed or could not be made. */
export async function runHeadless(
  who: Learner,
  lab: number,
  uses: string[],
  vars: Record<string, string>,
  env?: Record<string, string>,
): Promise<AsLearnerResult> {
  const args = [learnerOcilab, 'run', String(lab), '--yes', ...uses.flatMap((way) => ['--use', way]), ...varArgs(vars)];
  const run = await asLearner(who, args, env ? { env } : {});
  expect(run.exitCode, run.all).toBe(0);
  expect(run.all).not.toMatch(/✗|could not check/);
  return run;
}

/**
 * The lab run headless to the end with `--use builtin --use rootless` by a learner without sudo, with a
 * container id of their own (see runHeadless). Returns the learner, the id, the variables and the run.
 */
export async function runRootless(options: { lab: number; idPrefix: string; image: string }) {
  const who = await learner('no-sudo');
  const id = newContainerId(options.idPrefix);
  const vars = { img: options.image, ctr: id };
  const run = await runHeadless(who, options.lab, ['builtin', 'rootless'], vars);
  return { who, id, vars, run };
}

/** `ocilab prove N --use WAY...` as the learner: exit 0, and no check is marked failed. */
export async function proveAs(who: Learner, lab: number, uses: string[], vars: Record<string, string>, env?: Record<string, string>) {
  const args = [learnerOcilab, 'prove', String(lab), ...uses.flatMap((way) => ['--use', way]), ...varArgs(vars)];
  const proved = await asLearner(who, args, env ? { env } : {});
  expect(proved.exitCode, proved.all).toBe(0);
  expect(proved.stdout).not.toMatch(/✗/);
}

/** Rootless runc keeps its state in the learner's own directory: nothing of this id is left there. */
export async function expectNoRootlessContainer(who: Learner, id: string): Promise<void> {
  const state = await asLearner(who, ['sh', '-c', 'runc --root "${XDG_RUNTIME_DIR:-/tmp/runc-$(id -u)}/runc" list --quiet']);
  expect(state.stdout.split('\n')).not.toContain(id);
}
