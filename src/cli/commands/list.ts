// ocilab list: the labs that come with ocilab, with progress.
import { Chalk } from 'chalk';
import { EXIT } from '../../errors.js';
import { defineCommand } from '../command.js';
import { shippedLabs } from '../catalog.js';
import { out, progressText, useColor } from './shared.js';

export default defineCommand({
  about: `Lists the labs that come with ocilab, with your progress in each.`,
  options: {},
  args: { min: 0, max: 0, usage: '`ocilab list` takes no arguments.' },
  async run() {
    const c = new Chalk({ level: useColor() ? 1 : 0 });
    for (const [index, lab] of (await shippedLabs()).entries()) {
      out(`${c.bold(`${index + 1}  ${lab.id}`)}  ${lab.title}  ${c.dim(await progressText(lab))}\n   ${lab.summary}\n`);
    }
    out(c.dim('\nStart one with `ocilab run <number or id>`.\n'));
    return EXIT.ok;
  },
});
