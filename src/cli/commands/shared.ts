// What several commands share: the lab's workspace and variables, Ctrl-C, colour.
import { join, resolve } from 'node:path';
import type { Lab } from '../../lab/model.js';
import type { Option, Options } from '../command.js';
import { loadProgress, newProgress, resumeIndex, stateDir, type LabProgress } from '../../runner/progress.js';
import { learner } from '../../sys/learner.js';
import { labVariables, parseVarFlags } from '../vars.js';

/**
 * Set once stdout or stderr failed: a terminal that closed answers writes with EIO, a pipe whose reader
 * left with EPIPE. Nobody is there to read, and the run must still save progress and clean up.
 */
let outputClosed = false;

export const out = (text: string) => {
  // `ocilab list | head`: the reader may leave before ocilab has written everything.
  survive(process.stdout);
  if (!outputClosed) process.stdout.write(text);
};

function survive(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount('error') > 0) return;
  stream.on('error', () => {
    outputClosed = true;
  });
}

/** Node types every standard stream as a terminal with a width; a pipe or a file has neither. */
interface Stream {
  isTTY?: boolean;
  columns?: number;
}

export const isTerminal = (stream: Stream) => stream.isTTY === true;

/** The terminal's width, or 80 columns for a pipe or a file. */
export const widthOf = (stream: Stream) => stream.columns ?? 80;

export const useColor = () => !process.env.NO_COLOR && isTerminal(process.stdout);

/** Options of commands that work in a lab's workspace. */
export const WORKSPACE_OPTIONS = {
  workdir: { type: 'string', value: '<dir>', help: "the workspace (default: the lab's saved one, else ~/ocilab/<lab-id>)" },
  var: { type: 'string', multiple: true, value: '<name=value>', help: 'set a lab variable (repeatable)' },
  use: {
    type: 'string',
    multiple: true,
    value: '<way>',
    help: 'use this way wherever a step offers it (e.g. podman, docker, curl); repeatable: each step takes the first it offers (--use builtin --use rootless)',
  },
} as const satisfies Options;

/** For commands that use labs: whose labs, and the variables they run with. */
export const WORKSHOP_OPTION = {
  type: 'string',
  value: '<file>',
  help: 'the workshop file whose labs and variables to use (default: $OCILAB_WORKSHOP, else /etc/ocilab/workshop.yml if there is one; `none`: the shipped labs alone)',
} as const satisfies Option;

/** For commands that ask a registry. */
export const INSECURE_OPTION = { type: 'boolean', help: 'use plain HTTP (loopback registries always do)' } as const satisfies Option;

/** A file the user named could not be written: which, why (the errno code), and what to look at. */
export const CANNOT_WRITE = (path: string, error: unknown) =>
  `Cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error))}. Is the directory there, and yours?`;

export function defaultWorkdir(lab: Lab): string {
  return join(learner().home, 'ocilab', lab.id);
}

const UNDER_SUDO = (name: string, workdir: string, state: string) =>
  `ocilab runs as root under sudo for ${name}: it uses ${name}'s workspace (${workdir}) and progress (${state}), and gives ${name} what it creates there. ` +
  `There is no need to start ocilab with sudo: run as ${name}, it calls sudo itself where a step needs root.`;

let toldUnderSudo = false;

export interface Session {
  workdir: string;
  progress: LabProgress;
  vars: Record<string, string>;
}

/**
 * The lab's workspace and progress: --workdir wins, then the saved workspace, then the default. Its
 * variables: the lab's defaults, then what the workshop presets, then the learner's --var (now or saved).
 */
export async function openSession(
  lab: Lab,
  flags: { workdir?: string; var?: string[] },
  presets: Record<string, string> = {},
): Promise<Session> {
  const overrides = parseVarFlags(flags.var ?? []);
  const saved = await loadProgress(lab.id);
  const workdir = flags.workdir ? resolve(flags.workdir) : (saved?.workdir ?? defaultWorkdir(lab));
  // Progress belongs to a workspace: another one starts afresh.
  const progress = saved && saved.workdir === workdir ? saved : newProgress(lab.id, workdir);
  // Only the learner's own values are saved: a changed workshop file reaches every machine at once.
  progress.vars = { ...progress.vars, ...overrides };
  progress.file = lab.file;
  const under = learner().sudoFrom;
  // Once, on stderr, so that --json output stays one document.
  if (under && !toldUnderSudo) process.stderr.write(`${UNDER_SUDO(under.name, workdir, stateDir())}\n`);
  toldUnderSudo ||= under !== undefined;
  return { workdir, progress, vars: labVariables(lab, { ...presets, ...progress.vars }) };
}

const CANCEL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Aborts on Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed), so running children are ended,
 * cleanups run and progress is saved; output that can no longer be written is dropped rather than fatal.
 */
export function onCancel(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = (signal: NodeJS.Signals) => {
    // After a hangup the terminal is gone: writing to it would only fail.
    if (signal === 'SIGHUP') outputClosed = true;
    controller.abort();
  };
  survive(process.stdout);
  survive(process.stderr);
  for (const signal of CANCEL_SIGNALS) process.on(signal, abort);
  return {
    signal: controller.signal,
    dispose() {
      for (const signal of CANCEL_SIGNALS) process.off(signal, abort);
    },
  };
}

/** The id of the lab among `labs` whose progress changed last, or undefined when none was started. */
export async function lastLabWorkedOn(labs: readonly Lab[]): Promise<string | undefined> {
  let latest: { id: string; at: string } | undefined;
  for (const lab of labs) {
    const progress = await loadProgress(lab.id);
    for (const step of Object.values(progress?.steps ?? {})) if (!latest || step.at > latest.at) latest = { id: lab.id, at: step.at };
  }
  return latest?.id;
}

/** "(step 3 of 7)", "(done)" or the lab's duration when it was never started. */
export async function progressText(lab: Lab): Promise<string> {
  const progress = await loadProgress(lab.id);
  if (!progress) return lab.duration ? `(${lab.duration})` : '';
  const done = resumeIndex(
    progress,
    lab.steps.map((s) => s.id),
  );
  return done >= lab.steps.length ? '(done)' : `(step ${done + 1} of ${lab.steps.length})`;
}
