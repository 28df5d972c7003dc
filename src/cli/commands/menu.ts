// `ocilab` alone: a menu of labs on a terminal, the list otherwise.
import { CancelledError } from '../../errors.js';
import { defineCommand } from '../command.js';
import { shippedLabs } from '../catalog.js';
import list from './list.js';
import { RUN_OPTIONS, runLabCommand } from './run.js';
import { progressText } from './shared.js';

export default defineCommand({
  about: '',
  options: RUN_OPTIONS,
  args: { min: 0, max: 0, usage: '' },
  async run(_args, flags) {
    if (!process.stdin.isTTY || !process.stdout.isTTY) return list.run([], {});
    const labs = await shippedLabs();
    const { default: enquirer } = await import('enquirer');
    const choices = await Promise.all(
      labs.map(async (lab, index) => ({ name: lab.id, message: `${index + 1}  ${lab.title}`, hint: await progressText(lab) })),
    );
    let id: string;
    try {
      ({ id } = await enquirer.prompt<{ id: string }>({ type: 'select', name: 'id', message: 'Which lab?', choices }));
    } catch {
      throw new CancelledError('Bye.');
    }
    return runLabCommand(id, flags);
  },
});
