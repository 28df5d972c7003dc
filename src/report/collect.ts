// Gathers a report: the labs, the progress kept for each on this machine, and who and where the learner
// is. `buildReport` is a pure function of those; `collectReport` reads them from the machine.
import { arch, hostname, platform, release, userInfo } from 'node:os';
import { describeCheck } from '../checks/index.js';
import type { Lab, Step } from '../lab/model.js';
import { resolveVariables, unknownVariables } from '../lab/variables.js';
import { loadProgress, progressFile, savedLabIds, type LabProgress, type StepRecord } from '../runner/progress.js';
import { learner } from '../sys/learner.js';
import {
  isDoneStatus,
  REPORT_FORMAT,
  REPORT_VERSION,
  type CheckReport,
  type LabReport,
  type LabState,
  type Machine,
  type Report,
  type ReportStepStatus,
  type StepReport,
  type TypedCommand,
  type WorkshopRef,
} from './model.js';

export interface ReportInput {
  /** The labs in `ocilab list` order. */
  labs: readonly Lab[];
  /** Saved progress by lab id; a lab without any was not started. */
  progress: ReadonlyMap<string, LabProgress>;
  user: string;
  host: string;
  machine: Machine;
  ocilab: string;
  now: Date;
  workshop?: WorkshopRef;
  /** The variables the workshop gives a lab, under the learner's own, for the labels of checks never run. */
  presets?: (lab: Lab) => Record<string, string>;
}

export function buildReport(input: ReportInput): Report {
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    generatedAt: input.now.toISOString(),
    ocilab: input.ocilab,
    user: input.user,
    host: input.host,
    machine: input.machine,
    ...(input.workshop ? { workshop: input.workshop } : {}),
    labs: input.labs.map((lab, index) => labReport(lab, index + 1, input.progress.get(lab.id), input.presets?.(lab) ?? {})),
  };
}

function labReport(lab: Lab, number: number, progress: LabProgress | undefined, presets: Record<string, string>): LabReport {
  const vars = labelVariables(lab, progress, presets);
  const steps = lab.steps.map((step, index) => stepReport(step, index + 1, progress?.steps[step.id], vars));
  const current = steps.find((s) => !isDoneStatus(s.status));
  const times = steps.flatMap((s) => (s.at ? [s.at] : [])).sort();
  const lastActivity = times[times.length - 1];
  return {
    id: lab.id,
    number,
    file: lab.file,
    title: lab.title,
    summary: lab.summary,
    ...(lab.duration ? { duration: lab.duration } : {}),
    state: labState(progress, current),
    ...(current ? { current: current.id } : {}),
    seconds: steps.reduce((sum, s) => sum + s.seconds, 0),
    ...(lastActivity ? { lastActivity } : {}),
    steps,
  };
}

function labState(progress: LabProgress | undefined, current: StepReport | undefined): LabState {
  if (!progress || Object.keys(progress.steps).length === 0) return 'not-started';
  if (!current) return 'finished';
  return current.status === 'failed' || current.status === 'error' ? 'failed' : 'in-progress';
}

function stepReport(step: Step, number: number, record: StepRecord | undefined, vars: Record<string, string>): StepReport {
  return {
    id: step.id,
    number,
    title: step.title,
    kind: step.actions.length > 0 || step.checks.length > 0 ? 'task' : 'reading',
    status: stepStatus(record),
    attempts: record?.attempts ?? 0,
    hints: record?.hints ?? 0,
    hintsAvailable: step.hints.length,
    seconds: record?.seconds ?? 0,
    ...(record?.at ? { at: record.at } : {}),
    ...(record?.way ? { way: record.way } : {}),
    ...(record?.how ? { how: record.how } : {}),
    ...(record?.commands ? { commands: typedCommands(record.commands) } : {}),
    checks: step.checks.map((check, index): CheckReport => {
      // The runner records every check of an attempt, in the lab's order.
      const ran = record?.checks?.[index];
      if (ran && ran.kind === check.kind) return { ...ran };
      return { kind: check.kind, label: describeCheck(check, vars), status: 'not-run' };
    }),
  };
}

/** What an instructor sees of the learner's commands: what they tried, not what it printed. */
export function typedCommands(commands: NonNullable<StepRecord['commands']>): TypedCommand[] {
  return commands.map(({ line, exit, at }) => ({ line, exit, at }));
}

function stepStatus(record: StepRecord | undefined): ReportStepStatus {
  return record ? record.status : 'pending';
}

/** The values check labels are written with; a lab whose variables changed since falls back to the workshop's and defaults. */
function labelVariables(lab: Lab, progress: LabProgress | undefined, presets: Record<string, string>): Record<string, string> {
  const saved = progress?.vars ?? {};
  return resolveVariables(lab, { ...presets, ...(unknownVariables(lab, saved).length > 0 ? {} : saved) });
}

export interface Collected {
  report: Report;
  /** Progress files that are not in the report, and why. */
  ignored: { file: string; reason: string }[];
}

export interface CollectOptions {
  workshop?: WorkshopRef;
  presets?: ReportInput['presets'];
  /**
   * Reads a lab file again, for progress in a lab not given whose file the progress records (a lab
   * given by path); undefined when the file is gone or is no longer a lab.
   */
  readLab?: (file: string) => Promise<Lab | undefined>;
}

const NO_FILE =
  'progress in a lab that is not one of the labs shipped with ocilab or of the workshop, made by an ocilab that did not record its lab file; its steps are unknown here';

/**
 * The report of this machine: every lab given, with the progress saved for it in the state directory,
 * then the labs of other progress there whose lab file can still be read.
 */
export async function collectReport(
  labs: readonly Lab[],
  ocilab: string,
  now = new Date(),
  options: CollectOptions = {},
): Promise<Collected> {
  const progress = new Map<string, LabProgress>();
  for (const lab of labs) {
    const saved = await loadProgress(lab.id);
    if (saved) progress.set(lab.id, saved);
  }
  const known = new Set(labs.map((lab) => lab.id));
  const more: Lab[] = [];
  const ignored: Collected['ignored'] = [];
  for (const id of (await savedLabIds()).filter((saved) => !known.has(saved))) {
    const saved = await loadProgress(id);
    const lab = saved?.file !== undefined && options.readLab ? await options.readLab(saved.file) : undefined;
    if (saved && lab?.id === id) {
      progress.set(id, saved);
      more.push(lab);
    } else {
      const reason =
        saved?.file === undefined ? NO_FILE : `progress in the lab file ${saved.file}, which is no longer a lab with the id '${id}'`;
      ignored.push({ file: progressFile(id), reason });
    }
  }
  const report = buildReport({
    labs: [...labs, ...more],
    progress,
    user: userName(),
    host: hostname(),
    machine: machine(),
    ocilab,
    now,
    ...(options.workshop ? { workshop: options.workshop } : {}),
    ...(options.presets ? { presets: options.presets } : {}),
  });
  return { report, ignored };
}

function userName(): string {
  const under = learner().sudoFrom;
  if (under) return under.name;
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for this uid, as in some containers.
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

function machine(): Machine {
  return { platform: platform(), release: release(), arch: arch() };
}
