// ocilab reset <lab> | --all: forget the progress in a lab, or in every lab (as between two groups of learners).
import { loadProgress, resetProgress, savedLabIds } from '../../runner/progress.js';
import { EXIT, UsageError } from '../../errors.js';
import { defineCommand } from '../command.js';
import { openCatalog, type Catalog } from '../workshop.js';
import { out, WORKSHOP_OPTION } from './shared.js';

const USAGE = '`ocilab reset` takes one lab (a number, an id or a path, e.g. `ocilab reset 2`), or --all for every lab.';

const WORKSPACE_LEFT = (workdir: string) => `The workspace ${workdir} is left as it is; remove it too for a clean start.\n`;

export default defineCommand({
  about: `Forgets your progress in a lab, so the next \`ocilab run\` starts at step 1; with --all, in every lab
(as between two groups of learners on one machine). Workspaces are left as they are.`,
  options: {
    all: {
      type: 'boolean',
      help: "forget the progress in every lab: the workshop's (or the shipped ones) and any other lab with progress saved",
    },
    workshop: WORKSHOP_OPTION,
  },
  args: { min: 0, max: 1, usage: USAGE },
  async run([reference], flags) {
    if (flags.all === true) {
      if (reference !== undefined) throw new UsageError(`--all resets every lab: give it no lab ('${reference}' was given).`);
      return resetAll(await openCatalog(flags.workshop));
    }
    if (reference === undefined) throw new UsageError(USAGE);
    const lab = await (await openCatalog(flags.workshop)).find(reference);
    const saved = await loadProgress(lab.id);
    const existed = await resetProgress(lab.id);
    out(
      existed
        ? `Progress in '${lab.id}' cleared; \`ocilab run ${lab.id}\` starts at step 1.\n`
        : `There was no progress in '${lab.id}' to clear.\n`,
    );
    if (saved) out(WORKSPACE_LEFT(saved.workdir));
    return EXIT.ok;
  },
});

async function resetAll(catalog: Catalog): Promise<number> {
  // A lab given by path has its progress saved under its id too, so the saved ids cover it.
  const ids = [...new Set([...(await catalog.labs()).map((lab) => lab.id), ...(await savedLabIds())])];
  const workdirs: string[] = [];
  const cleared: string[] = [];
  for (const id of ids) {
    const saved = await loadProgress(id);
    if (await resetProgress(id)) cleared.push(id);
    if (saved) workdirs.push(saved.workdir);
  }
  out(
    cleared.length > 0
      ? `Progress cleared in ${cleared.map((id) => `'${id}'`).join(', ')}; every lab starts at step 1.\n`
      : 'There was no progress in any lab to clear.\n',
  );
  for (const workdir of workdirs) out(WORKSPACE_LEFT(workdir));
  return EXIT.ok;
}
