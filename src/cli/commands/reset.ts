// ocilab reset <lab>: forget the progress in a lab.
import { loadProgress, resetProgress } from '../../runner/progress.js';
import { EXIT } from '../../errors.js';
import { defineCommand } from '../command.js';
import { findLab } from '../catalog.js';
import { out } from './shared.js';

export default defineCommand({
  about: `Forgets your progress in a lab, so the next \`ocilab run\` starts at step 1.
The workspace is left as it is.`,
  options: {},
  args: { min: 1, max: 1, usage: '`ocilab reset` takes one lab: a number, an id or a path, e.g. `ocilab reset 2`.' },
  async run([reference]) {
    const lab = await findLab(reference as string);
    const saved = await loadProgress(lab.id);
    const existed = await resetProgress(lab.id);
    out(
      existed
        ? `Progress in '${lab.id}' cleared; \`ocilab run ${lab.id}\` starts at step 1.\n`
        : `There was no progress in '${lab.id}' to clear.\n`,
    );
    if (saved) out(`The workspace ${saved.workdir} is left as it is; remove it too for a clean start.\n`);
    return EXIT.ok;
  },
});
