// ocilab list: the labs of the workshop, or those that come with ocilab, with progress.
import { Chalk } from 'chalk';
import { EXIT } from '../../errors.js';
import { defineCommand } from '../command.js';
import { openCatalog } from '../workshop.js';
import { out, progressText, useColor, WORKSHOP_OPTION } from './shared.js';

export default defineCommand({
  about: `Lists the labs, numbered, with your progress in each: the labs of the workshop when there is one,
else the labs that come with ocilab.`,
  options: { workshop: WORKSHOP_OPTION },
  args: { min: 0, max: 0, usage: '`ocilab list` takes no arguments.' },
  async run(_args, flags) {
    const c = new Chalk({ level: useColor() ? 1 : 0 });
    const catalog = await openCatalog(flags.workshop);
    if (catalog.workshop) out(`${c.bold(catalog.workshop.title)}  ${c.dim(`(${catalog.workshop.file})`)}\n\n`);
    for (const [index, lab] of (await catalog.labs()).entries()) {
      out(`${c.bold(`${index + 1}  ${lab.id}`)}  ${lab.title}  ${c.dim(await progressText(lab))}\n   ${lab.summary}\n`);
    }
    out(c.dim('\nStart one with `ocilab run <number or id>`.\n'));
    return EXIT.ok;
  },
});
