// verify: runs only the checks of a lab against what is already in the workspace, through the
// runner's own path (ways, sudo, cleanups). For a learner who did the steps elsewhere, or an instructor.
import type { Lab, Step } from '../lab/model.js';
import type { How, RunnerEvent } from './events.js';
import { toCheckRecord } from './judge.js';
import { newProgress, type CheckRecord, type LabProgress } from './progress.js';
import { verifySteps } from './run.js';

export interface VerifiedStep {
  id: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped' | 'error';
  checks: CheckRecord[];
  /** From the progress: how the learner last did the step, and what they typed in ocilab's shell. */
  how?: How;
  commands?: { line: string; exit: number; at: string }[];
}

export interface VerifyReport {
  lab: string;
  passed: boolean;
  steps: VerifiedStep[];
}

export interface VerifyOptions {
  workdir: string;
  vars: Record<string, string>;
  /** As `ocilab run --use`: each step that offers one of these ways takes the first it offers. */
  use?: readonly string[];
  signal: AbortSignal;
  /** On a terminal: sudo may ask for the password there before checks that need root. */
  interactive: boolean;
  /** Called as each check finishes, for live output. */
  onResult?: (step: Step, check: CheckRecord) => void;
  /** The learner's progress: output checks of a step typed in ocilab's shell judge what was typed. */
  progress?: LabProgress;
  /** Called with what the learner should know beyond the checks (sudo about to ask, say). */
  onNotice?: (level: 'info' | 'warn', message: string) => void;
}

export async function verifyLab(lab: Lab, options: VerifyOptions): Promise<VerifyReport> {
  // What verify does to the progress (how, the checks' results) is not saved: it only looks.
  const progress = structuredClone(options.progress ?? newProgress(lab.id, options.workdir));
  const checks = new Map<string, CheckRecord[]>();
  let current: Step | undefined;
  const emit = (event: RunnerEvent) => {
    if (event.type === 'notice') options.onNotice?.(event.level, event.message);
    if (event.type === 'diagnosis') options.onNotice?.('info', `→ ${event.text}`);
    if (event.type === 'checks-start') current = event.step;
    if (event.type !== 'check-result' || !current) return;
    const check = toCheckRecord(event.result, event.label);
    checks.set(current.id, [...(checks.get(current.id) ?? []), check]);
    options.onResult?.(current, check);
  };
  const statuses = await verifySteps(lab, {
    workdir: options.workdir,
    vars: options.vars,
    // On a terminal sudo may ask for the password there; no prompter, so no way is asked about.
    mode: options.interactive ? 'interactive' : 'headless',
    keepGoing: true,
    ...(options.use ? { use: options.use } : {}),
    signal: options.signal,
    emit,
    progress,
    save: () => Promise.resolve(),
  });
  const steps = lab.steps.map((step): VerifiedStep => {
    const record = options.progress?.steps[step.id];
    const status = statuses.get(step.id);
    return {
      id: step.id,
      title: step.title,
      status: status === 'passed' || status === 'failed' || status === 'error' ? status : 'skipped',
      checks: checks.get(step.id) ?? [],
      ...(record?.how ? { how: record.how } : {}),
      ...(record?.commands ? { commands: record.commands.map(({ line, exit, at }) => ({ line, exit, at })) } : {}),
    };
  });
  return { lab: lab.id, passed: steps.every((s) => s.status === 'passed' || s.status === 'skipped'), steps };
}
