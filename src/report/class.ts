// The instructor's roll-up of many students' reports: one row per student, one column per task step,
// the steps where most students are stuck (or spent the longest) first. Pure: files are read elsewhere.
import { basename } from 'node:path';
import { isDoneStatus, type LabState, type Report, type ReportStepStatus } from './model.js';

export interface ClassStep {
  lab: string;
  labNumber: number;
  labTitle: string;
  id: string;
  /** Position in its lab. */
  number: number;
  title: string;
  /** Students who failed it or have not reached it. */
  stuck: number;
  skipped: number;
  /** Median time spent on it by the students who spent any. */
  medianSeconds: number;
}

export interface ClassStudent {
  /** `user@host`, with the file name added when two reports share it. */
  name: string;
  file: string;
  /** One per step of the roll-up, in its order; `pending` where the report lacks the step. */
  cells: ReportStepStatus[];
  /** Task steps done (passed or skipped). */
  done: number;
  seconds: number;
  /** Where the student is in each lab of their report: which step is next when it is not finished. */
  labs: ClassLab[];
}

export interface ClassLab {
  id: string;
  state: LabState;
  /** The first step not done yet, while the lab is not finished. */
  current?: string;
}

export interface ClassRollUp {
  steps: ClassStep[];
  students: ClassStudent[];
}

const STUCK: ReadonlySet<ReportStepStatus> = new Set(['failed', 'error', 'started', 'pending']);

export function rollUp(reports: readonly { file: string; report: Report }[]): ClassRollUp {
  // Every task step any report has, in lab and step order.
  const byKey = new Map<string, Omit<ClassStep, 'stuck' | 'skipped' | 'medianSeconds'>>();
  for (const { report } of reports) {
    for (const lab of report.labs) {
      for (const step of lab.steps) {
        if (step.kind !== 'task' || byKey.has(key(lab.id, step.id))) continue;
        byKey.set(key(lab.id, step.id), {
          lab: lab.id,
          labNumber: lab.number,
          labTitle: lab.title,
          id: step.id,
          number: step.number,
          title: step.title,
        });
      }
    }
  }
  const inLabOrder = [...byKey.values()].sort((a, b) => a.labNumber - b.labNumber || a.number - b.number);

  const cellsOf = (report: Report) => new Map(report.labs.flatMap((lab) => lab.steps.map((step) => [key(lab.id, step.id), step] as const)));
  const rows = reports.map(({ file, report }) => ({ file, report, cells: cellsOf(report) }));

  const ranked = inLabOrder.map((step, order) => {
    const found = rows.map((row) => row.cells.get(key(step.lab, step.id)));
    const stats = {
      stuck: found.filter((s) => STUCK.has(s?.status ?? 'pending')).length,
      skipped: found.filter((s) => s?.status === 'skipped').length,
      medianSeconds: median(found.flatMap((s) => (s && s.seconds > 0 ? [s.seconds] : []))),
    };
    return { step: { ...step, ...stats }, order };
  });
  ranked.sort((a, b) => b.step.stuck - a.step.stuck || b.step.medianSeconds - a.step.medianSeconds || a.order - b.order);
  const steps: ClassStep[] = ranked.map((r) => r.step);

  const names = rows.map(({ report }) => `${report.user}@${report.host}`);
  const students = rows.map(({ file, report, cells }, index): ClassStudent => {
    const name = names[index] as string;
    const statuses = steps.map((step) => cells.get(key(step.lab, step.id))?.status ?? 'pending');
    return {
      name: names.indexOf(name) === names.lastIndexOf(name) ? name : `${name} (${basename(file)})`,
      file,
      cells: statuses,
      done: statuses.filter(isDoneStatus).length,
      seconds: [...cells.values()].reduce((sum, s) => sum + s.seconds, 0),
      labs: report.labs.map(({ id, state, current }) => ({ id, state, ...(current !== undefined ? { current } : {}) })),
    };
  });
  return { steps, students };
}

const key = (lab: string, step: string) => `${lab}\u0000${step}`;

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
