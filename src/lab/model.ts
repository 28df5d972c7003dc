// The lab model: what `parseLab` makes of a Markdown lab file.
// Plain data only, so the runner, the checks and the renderer can share it without sharing behaviour.

/** The newest lab format this ocilab understands; a lab declaring a higher one is refused. */
export const LAB_FORMAT_VERSION = 1;

export interface Lab {
  /** The file the lab was read from, as given to the parser (used in messages). */
  file: string;
  format: number;
  id: string;
  title: string;
  summary: string;
  /** Free text such as "20 min". */
  duration?: string;
  variables: Variable[];
  requires: Requirements;
  /** Markdown between the front matter and the first step. */
  intro: string;
  steps: Step[];
}

export interface Variable {
  name: string;
  /** May refer to earlier variables as `${name}`; expanded by `resolveVariables`. */
  default: string;
  description: string;
}

export interface Requirements {
  /** Commands that must be on PATH for the lab to make sense at all. */
  commands: string[];
  /** True when some step cannot be done without root (directly or through sudo); a step with a rootless way can. */
  root: boolean;
}

export interface Step {
  /** Stable slug of the title; progress is stored under it. */
  id: string;
  title: string;
  line: number;
  /** What the step shows, in document order. */
  content: Segment[];
  /** What the step does, in document order. */
  actions: Action[];
  hints: string[];
  checks: Check[];
  /** What to tell the learner when a check fails and what they typed shows why, in the order written. */
  diagnoses: Diagnosis[];
  /** The step cannot be done without root: a command of it needs root, or every way of doing it does. */
  root: boolean;
}

/** A sentence for one typical mistake: shown when its conditions all hold after a failed attempt. */
export interface Diagnosis {
  line: number;
  when: DiagnosisCondition;
  /** May refer to lab variables as `${name}`. */
  say: string;
}

/**
 * Every condition given must hold. `typed`, `lacks`, `exit` and `output` are about one command of the
 * learner's: the last whose line matches `typed`, or the last command of the attempt without `typed`.
 */
export interface DiagnosisCondition {
  /** A check of the step that did not pass, by kind (`tags`) or title; without it, any check, or a failed command. */
  check?: string;
  /** Something the failed check found out (see CHECK_FACTS). */
  fact?: CheckFact;
  /** A regular expression the command line matches. */
  typed?: string;
  /** A regular expression the command line does not match. */
  lacks?: string;
  /** The command's exit status, or `nonzero` for any failure. */
  exit?: number | 'nonzero';
  /** A regular expression the command's output matches. */
  output?: string;
  /** A path, relative to the workspace, that exists. */
  exists?: string;
  /** Lab variables with these values. */
  vars?: Record<string, string>;
  /** Who the learner is: `root`, or a `normal` user. */
  user?: 'root' | 'normal';
}

/** A piece of a step as it is shown to the learner. */
export type Segment =
  | { kind: 'markdown'; text: string }
  | { kind: 'command'; command: Command | Way }
  | { kind: 'edit'; edit: Edit }
  | { kind: 'checks'; checks: Check[] };

/** The ways of a step form one action, placed where the first of them is written. */
export type Action = { kind: 'command'; command: Command } | { kind: 'ways'; ways: Way[] } | { kind: 'edit'; edit: Edit };

/** A runnable shell block. It runs as `bash -c` in the workspace with the lab variables in its environment. */
export interface Command {
  line: number;
  script: string;
  /** Needs the learner's terminal (e.g. a shell inside a container); headless runs skip it and rely on checks. */
  interactive: boolean;
  /** Needs root; written with `sudo` in the lab. */
  root: boolean;
  /** Seconds before the command is stopped. */
  timeout: number;
  /** Runs after the command however it ended (also on Ctrl-C), e.g. to delete a container. */
  cleanup?: string;
  /** Only reads; safe for `verify` to run again to see its output. */
  readonly: boolean;
}

/** One of several ways to do the same thing (docker, podman, nerdctl...). */
export interface Way extends Command {
  name: string;
  /** Commands that must be on PATH for this way to be offered. */
  needs: string[];
  /** A quick command that succeeds only when the way really works here (daemon reachable...). */
  probe?: string;
  /** What to tell the learner when the way is missing. */
  install?: string;
}

/** Set JSON values in a file; keys are dotted paths such as `process.args`. */
export interface Edit {
  line: number;
  file: string;
  set: Record<string, unknown>;
}

export type Check = CommandCheck | OutputCheck | FileCheck | JsonCheck | ProbeCheck | TagsCheck;

interface CheckBase {
  line: number;
  /** What the check is about, in the learner's words. Defaults to a description built from the fields. */
  title?: string;
  /** Shown when the check fails. */
  hint?: string;
  /** The check already passes before the step's commands run (`ocilab prove` accepts that). */
  passesBefore?: boolean;
  /** When the script `if` succeeds, the check does not apply on this machine and is skipped, `because` says why. */
  skip?: CheckSkip;
}

export interface CheckSkip {
  if: string;
  because: string;
}

/** Expectations on the text and exit status of a process. Text comparisons ignore trailing whitespace. */
export interface TextExpectations {
  exit?: number;
  equals?: string;
  contains?: string;
  matches?: string;
  lines?: LineCount;
}

export type LineCount = number | { min?: number; max?: number };

/** Runs a shell script in the workspace and judges its result. */
export interface CommandCheck extends CheckBase, TextExpectations {
  kind: 'command';
  run: string;
}

/**
 * Judges the output of the step's own command: the one ocilab ran (the chosen way, or the last command),
 * or, when the learner typed the step in ocilab's shell, their last command matching `typed` (without
 * `typed`, their last command that succeeded).
 */
export interface OutputCheck extends CheckBase, TextExpectations {
  kind: 'output';
  /** A regular expression naming the learner's command of this step, e.g. `\\b(curl|crane)\\b`. */
  typed?: string;
}

export interface FileCheck extends CheckBase {
  kind: 'file';
  path: string;
  /** Resolve `path` and its symlinks inside this directory (a rootfs), never on the host. */
  root?: string;
  /** Expect the path to exist (default) or to be absent. */
  exists: boolean;
  type?: 'file' | 'directory' | 'symlink';
  notEmpty?: boolean;
  executable?: boolean;
}

export interface JsonCheck extends CheckBase {
  kind: 'json';
  file: string;
  /** Dotted path; absent means only "the file is valid JSON". */
  path?: string;
  /** Compared with types: "false" is not false. */
  equals?: unknown;
}

/** Runs a short process inside a copy of the learner's runc bundle and judges what it prints. */
export interface ProbeCheck extends CheckBase, TextExpectations {
  kind: 'probe';
  bundle: string;
  args: string[];
  /** The output, one name a line, must list exactly the entries of this directory (relative to the bundle). */
  listsDirectory?: string;
  /** The same arguments run on the host (no container) must print the `same` output, or output that `differs`. */
  host?: 'same' | 'differs';
}

/** The step's output must be a non-empty list of tags of this repository, as the registry reports them. */
export interface TagsCheck extends CheckBase {
  kind: 'tags';
  /** As for an output check: which of the learner's commands printed the tags. */
  typed?: string;
  /** e.g. `${scheme}://${host}` */
  registry: string;
  /** e.g. `${path}` */
  repository: string;
}

export type CheckKind = Check['kind'];

/** The check judges the output of the step's command (so `verify` needs that output, and the command must only read). */
export function judgesOutput(check: Check): check is OutputCheck | TagsCheck {
  return check.kind === 'output' || check.kind === 'tags';
}

/**
 * What a check can find out beyond passed or failed, which a lab's diagnoses can name (`fact:`):
 * - `registry-unreachable`: ocilab itself could not reach the registry the check asks;
 * - `registry-redirects`: the registry answers the request with a redirect (to another host).
 */
export const CHECK_FACTS = ['registry-unreachable', 'registry-redirects'] as const;
export type CheckFact = (typeof CHECK_FACTS)[number];

/** Where in a file something is; `column` is 1-based and optional. */
export interface Position {
  line: number;
  column?: number;
}

export interface Problem extends Position {
  file: string;
  message: string;
  /** An example of the right form, when one helps. */
  example?: string;
}
