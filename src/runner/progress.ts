// Progress per lab, kept in the XDG state directory and written atomically after every step.
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LearnerCommand } from '../checks/types.js';
import { giveToLearner, learner, makeLearnerDirectory } from '../sys/learner.js';
import type { How, StepStatus } from './events.js';

export interface StepRecord {
  status: StepStatus;
  attempts: number;
  hints: number;
  /** Time spent on the step, summed over visits, in tenths of a second. */
  seconds: number;
  /** ISO time of the first attempt. */
  startedAt?: string;
  /** ISO time of the last change. */
  at: string;
  /** The way used, when the step offered several. */
  way?: string;
  /** How the last attempt was made. */
  how?: How;
  /** What the learner typed for this step in ocilab's shell, oldest first; bounded (see keepCommands). */
  commands?: LearnerCommand[];
  /** The results of the step's checks, the last time they ran. */
  checks?: CheckRecord[];
}

export interface CheckRecord {
  kind: string;
  label: string;
  status: 'passed' | 'failed' | 'error' | 'skipped';
  message: string;
  expected?: string;
  actual?: string;
  hint?: string;
}

export interface LabProgress {
  version: 1;
  lab: string;
  /** The lab file, so that a lab given by path or by a workshop can be read again (absent in older files). */
  file?: string;
  workdir: string;
  /** The --var values the lab was started with, reused when it is resumed without them. */
  vars: Record<string, string>;
  steps: Record<string, StepRecord>;
}

const DONE: ReadonlySet<StepStatus> = new Set(['passed', 'skipped', 'read']);

/**
 * `$XDG_STATE_HOME/ocilab`, by default `~/.local/state/ocilab`. Under sudo it is the learner's default
 * one: root's XDG_STATE_HOME, if any, is not theirs, and theirs cannot be known.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const { home, sudoFrom } = learner();
  return join((!sudoFrom && env.XDG_STATE_HOME) || join(home, '.local', 'state'), 'ocilab');
}

const progressDir = () => join(stateDir(), 'progress');

/** Where a lab's progress is kept. */
export function progressFile(labId: string): string {
  return join(progressDir(), `${labId}.json`);
}

/** The ids of the labs with a progress file, shipped or not, in name order. */
export async function savedLabIds(): Promise<string[]> {
  const names = await readdir(progressDir()).catch(() => [] as string[]);
  return names
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

export function newProgress(labId: string, workdir: string, vars: Record<string, string> = {}): LabProgress {
  return { version: 1, lab: labId, workdir, vars, steps: {} };
}

/** A progress file as read: it may be another version's or damaged, and files from before lab variables have no `vars`. */
interface ProgressFile extends Omit<LabProgress, 'version' | 'steps' | 'vars'> {
  version: unknown;
  steps?: unknown;
  vars?: Record<string, string>;
}

/** The steps of saved progress are a table by step id; JSON's null and lists are objects too. */
const isStepTable = (steps: unknown): steps is LabProgress['steps'] => typeof steps === 'object' && steps !== null && !Array.isArray(steps);

/** The saved progress, or undefined when there is none (or it is unreadable: starting over loses nothing). */
export async function loadProgress(labId: string): Promise<LabProgress | undefined> {
  try {
    const data = JSON.parse(await readFile(progressFile(labId), 'utf8')) as ProgressFile;
    if (data.version !== 1 || data.lab !== labId || !isStepTable(data.steps)) return undefined;
    return { ...data, version: data.version, steps: data.steps, vars: data.vars ?? {} };
  } catch {
    return undefined;
  }
}

/** Writes to a temporary file and renames it, so a crash or Ctrl-C never leaves half a file. */
export async function saveProgress(progress: LabProgress): Promise<void> {
  const file = progressFile(progress.lab);
  await makeLearnerDirectory(dirname(file));
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(progress, null, 2)}\n`);
  await giveToLearner(temp);
  await rename(temp, file);
}

export async function resetProgress(labId: string): Promise<boolean> {
  const existed = (await loadProgress(labId)) !== undefined;
  await rm(progressFile(labId), { force: true });
  return existed;
}

export function isDone(record: StepRecord | undefined): boolean {
  return record !== undefined && DONE.has(record.status);
}

/** Index of the first step not done yet; `stepIds.length` when all are. */
export function resumeIndex(progress: LabProgress, stepIds: readonly string[]): number {
  const index = stepIds.findIndex((id) => !isDone(progress.steps[id]));
  return index < 0 ? stepIds.length : index;
}

export function record(progress: LabProgress, stepId: string, update: Partial<StepRecord> & { status: StepStatus }): void {
  const previous = progress.steps[stepId] ?? { status: update.status, attempts: 0, hints: 0, seconds: 0, at: '' };
  progress.steps[stepId] = { ...previous, ...update, at: new Date().toISOString() };
}
