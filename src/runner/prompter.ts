// How the runner asks the learner. The CLI injects an enquirer-backed prompter; tests inject a script.
import type { Edit, Step, Way } from '../lab/model.js';

export type StepChoice = 'shell' | 'run' | 'self' | 'hint' | 'skip' | 'next' | 'quit';
export type EditChoice = 'apply' | 'editor' | 'skip';

export interface WayOption {
  way: Way;
  usable: boolean;
  reason: string;
}

export interface Prompter {
  /** What to do with a step; `choices` lists what makes sense now, in the order to offer them. */
  stepAction(step: Step, choices: StepChoice[]): Promise<StepChoice>;
  /** Which way to do a step; only called with at least two usable ways. */
  chooseWay(step: Step, options: WayOption[]): Promise<Way>;
  /** What to do with an edit, after its diff was shown. */
  editAction(edit: Edit, diff: string): Promise<EditChoice>;
}
