// The interactive prompter, on enquirer. Ctrl-C or Esc in a prompt means Quit.
import enquirer from 'enquirer';
import type { Edit, Step, Way } from '../lab/model.js';
import type { EditChoice, Prompter, StepChoice, WayOption } from '../runner/prompter.js';

const STEP_LABELS: Record<StepChoice, string> = {
  shell: 'Open a shell and type it yourself',
  run: 'Run it',
  self: "I'll do it myself — check my work",
  hint: 'Show a hint',
  skip: 'Skip this step',
  next: 'Continue',
  quit: 'Quit (progress is saved)',
};

async function select<T extends string>(
  message: string,
  choices: { name: T; message: string; disabled?: boolean | string }[],
  fallback: T,
): Promise<T> {
  try {
    // enquirer shows the chosen name once answered, so the label is the name and the key is looked up.
    const labelled = choices.map(({ message: label, disabled }) => ({ name: label, ...(disabled ? { disabled } : {}) }));
    const answer = await enquirer.prompt<{ choice: string }>({ type: 'select', name: 'choice', message, choices: labelled });
    return choices.find((c) => c.message === answer.choice)?.name ?? fallback;
  } catch {
    return fallback; // enquirer rejects on Ctrl-C and Esc
  }
}

export function createPrompter(): Prompter {
  return {
    stepAction: (step: Step, choices: StepChoice[]) =>
      select(
        'What next?',
        choices.map((name) => ({ name, message: STEP_LABELS[name] })),
        'quit',
      ),
    async chooseWay(step: Step, options: WayOption[]): Promise<Way> {
      // The runner asks only when a way can be used; the first usable one is the default.
      const first = options.find((o) => o.usable) ?? options[0];
      if (!first) throw new Error(`chooseWay was given no way for "${step.title}"`);
      const name = await select(
        `"${step.title}" can be done in several ways. Which one?`,
        options.map((o) => ({ name: o.way.name, message: o.way.name, ...(o.usable ? {} : { disabled: o.reason }) })),
        first.way.name,
      );
      return (options.find((o) => o.way.name === name) ?? first).way;
    },
    editAction: (edit: Edit) =>
      select<EditChoice>(
        `Change ${edit.file} as shown?`,
        [
          { name: 'apply', message: 'Yes, apply these changes' },
          { name: 'editor', message: `No, I'll edit it myself in ${process.env.VISUAL || process.env.EDITOR || 'vi'}` },
          { name: 'skip', message: 'Leave it as it is' },
        ],
        'skip',
      ),
  };
}
