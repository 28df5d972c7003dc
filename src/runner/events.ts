// The events a lab run emits. The runner never prints: a renderer maps each event kind to output.
import type { JudgedCheck } from '../checks/types.js';
import type { Command, Edit, Lab, Step, Way } from '../lab/model.js';

export type Mode = 'interactive' | 'headless';
/** How the learner did a step: ocilab ran it, they typed it in ocilab's shell, or did it elsewhere. */
export type How = 'run' | 'shell' | 'self';
/** `started`: the learner opened a hint or began an attempt that has not ended (yet). */
export type StepStatus = 'passed' | 'failed' | 'skipped' | 'error' | 'read' | 'started';

export type RunnerEvent =
  | { type: 'lab-start'; lab: Lab; workdir: string; mode: Mode; resumeAt: number }
  | { type: 'notice'; level: 'info' | 'warn'; message: string }
  | { type: 'step-start'; step: Step; index: number; total: number; mode: Mode }
  | { type: 'hint'; text: string; number: number; of: number }
  | { type: 'way-chosen'; way: Way; reason: string }
  | { type: 'command-start'; command: Command | Way }
  | { type: 'output'; chunk: string; stream: 'stdout' | 'stderr' }
  | { type: 'command-end'; command: Command | Way; exitCode: number | undefined; timedOut: boolean; startError?: string }
  | { type: 'command-skipped'; command: Command | Way; reason: string }
  | { type: 'edit'; edit: Edit; diff: string; applied: boolean }
  | { type: 'checks-start'; step: Step }
  | { type: 'check-result'; result: JudgedCheck; label: string }
  | { type: 'diagnosis'; text: string }
  | { type: 'shell-start'; step: Step; index: number; total: number; workdir: string }
  | { type: 'shell-end'; step: Step; commands: number }
  | { type: 'step-end'; step: Step; status: StepStatus }
  | { type: 'lab-end'; lab: Lab; passed: boolean; counts: Record<StepStatus, number> };

export type EventType = RunnerEvent['type'];
export type EventOf<T extends EventType> = Extract<RunnerEvent, { type: T }>;
export type Emit = (event: RunnerEvent) => void;
