// `ocilab` alone: a menu of labs on a terminal, the list otherwise.
import { Chalk } from 'chalk';
import { CancelledError } from '../../errors.js';
import { defineCommand } from '../command.js';
import { openCatalog } from '../workshop.js';
import list from './list.js';
import { RUN_OPTIONS, runLabCommand } from './run.js';
import { out, progressText, useColor } from './shared.js';

export default defineCommand({
  about: '',
  options: RUN_OPTIONS,
  args: { min: 0, max: 0, usage: '' },
  async run(_args, flags) {
    if (!process.stdin.isTTY || !process.stdout.isTTY)
      return list.run([], flags.workshop === undefined ? {} : { workshop: flags.workshop });
    const catalog = await openCatalog(flags.workshop);
    const labs = await catalog.labs();
    if (catalog.workshop) out(`${new Chalk({ level: useColor() ? 1 : 0 }).bold(catalog.workshop.title)}\n`);
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
    // Ids are unique among the labs listed: a workshop whose ids clash is refused.
    const lab = labs.find((l) => l.id === id);
    if (!lab) throw new Error(`the menu chose '${id}', which is none of its labs`);
    return runLabCommand(lab, catalog, flags);
  },
});
