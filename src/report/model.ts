// The report model: what one learner did in every lab on one machine, as plain data. `ocilab report`
// writes it as JSON, JUnit, HTML or text; `ocilab class` reads many of them back, so it is versioned.

/** Marks a JSON file as an ocilab report, so `ocilab class` can tell it from any other JSON. */
export const REPORT_FORMAT = 'ocilab-report';
/** The newest report version this ocilab reads; a newer one is refused with "upgrade ocilab". */
export const REPORT_VERSION = 1;

export interface Report {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  /** ISO time the report was made. */
  generatedAt: string;
  /** The ocilab version that made it. */
  ocilab: string;
  /** The learner: the account that ran the labs. */
  user: string;
  host: string;
  machine: Machine;
  /** The workshop whose labs these are, when there was one (absent in reports from before workshops). */
  workshop?: WorkshopRef;
  labs: LabReport[];
}

export interface WorkshopRef {
  title: string;
  /** The workshop file on the learner's machine. */
  file: string;
}

export interface Machine {
  /** `linux` */
  platform: string;
  /** Kernel release, e.g. `6.1.0-18-amd64`. */
  release: string;
  arch: string;
}

/**
 * Where the learner is in a lab: not started, going on (the next step not tried yet), failed (the next
 * step failed or could not be checked), or finished (every step passed, read or skipped).
 */
export type LabState = 'not-started' | 'in-progress' | 'failed' | 'finished';

export interface LabReport {
  id: string;
  /** Its number in `ocilab list`. */
  number: number;
  /** The lab file on the learner's machine (absent in reports from before workshops). */
  file?: string;
  title: string;
  summary: string;
  /** The lab's own estimate, e.g. "30 min". */
  duration?: string;
  state: LabState;
  /** The first step not done yet, while the lab is not finished. */
  current?: string;
  /** Time spent in the lab, summed over its steps. */
  seconds: number;
  /** ISO time of the learner's last action in the lab. */
  lastActivity?: string;
  steps: StepReport[];
}

/**
 * A step's status in a report: the runner's own (`passed`, `failed`, `error`, `skipped`, `read`), or
 * `started` (hints looked at, never tried) or `pending` (not reached).
 */
export type ReportStepStatus = 'passed' | 'read' | 'skipped' | 'failed' | 'error' | 'started' | 'pending';

export interface StepReport {
  id: string;
  /** 1-based position in the lab. */
  number: number;
  title: string;
  /** `reading` steps only explain; `task` steps have commands to run or checks to pass. */
  kind: 'reading' | 'task';
  status: ReportStepStatus;
  attempts: number;
  /** Hints the learner opened, and how many the step offers. */
  hints: number;
  hintsAvailable: number;
  /** Time spent on the step, summed over attempts. */
  seconds: number;
  /** ISO time of the last change to the step. */
  at?: string;
  /** The way used (podman, curl...), when the step offers several. */
  way?: string;
  /** How the last attempt was made: ocilab ran it, the learner typed it in ocilab's shell, or did it elsewhere. */
  how?: 'run' | 'shell' | 'self';
  /** What the learner typed in ocilab's shell for this step, oldest first: lines and exit statuses, never output. */
  commands?: TypedCommand[];
  checks: CheckReport[];
}

export interface TypedCommand {
  line: string;
  exit: number;
  /** ISO time it started. */
  at: string;
}

/** A check as it last ran (`skipped`: it does not apply on that machine), or `not-run` (with its label from the lab) when it never has. */
export interface CheckReport {
  kind: string;
  label: string;
  status: 'passed' | 'failed' | 'error' | 'skipped' | 'not-run';
  message?: string;
  expected?: string;
  actual?: string;
}

/** Steps that count as done: the runner moves past them. */
export const DONE_STATUSES: ReadonlySet<ReportStepStatus> = new Set(['passed', 'read', 'skipped']);

export function isDoneStatus(status: ReportStepStatus): boolean {
  return DONE_STATUSES.has(status);
}

/**
 * A step that failed though none of its checks did: one of its commands failed. Progress records
 * check results but not command results, so this is how a report can tell.
 */
export function failedByCommand(step: StepReport): boolean {
  return (step.status === 'failed' || step.status === 'error') && !step.checks.some((c) => c.status === 'failed' || c.status === 'error');
}
