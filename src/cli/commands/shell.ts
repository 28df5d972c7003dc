// ocilab shell [<lab>]: the learner's shell for the current step of a lab, checked when it ends.
import { CancelledError, EXIT, STOPPED, UsageError } from '../../errors.js';
import { defineCommand } from '../command.js';
import { openCatalog } from '../workshop.js';
import { lastLabWorkedOn, onCancel, openSession, out, useColor, widthOf, WORKSHOP_OPTION, WORKSPACE_OPTIONS } from './shared.js';

export const SHELL_NEEDS_TERMINAL = '`ocilab shell` opens a shell for you to type in, so it needs a terminal; this input is not one.';

export default defineCommand({
  about: `Opens ocilab's shell for the current step of a lab (the first one not done): bash in the lab's
workspace with the lab's variables set. Type the step's commands yourself; ocilab records each
command, its exit status and its output. \`ocilab check\` in the shell checks the step now; leaving
the shell (\`exit\` or Ctrl-D) checks it and keeps your progress. Without <lab>, the lab you worked
on last.`,
  options: { workdir: WORKSPACE_OPTIONS.workdir, var: WORKSPACE_OPTIONS.var, workshop: WORKSHOP_OPTION },
  args: { min: 0, max: 1, usage: '`ocilab shell` takes at most one lab: a number, an id or a path, e.g. `ocilab shell 2`.' },
  async run([reference], flags) {
    if (!process.stdin.isTTY || !process.stdout.isTTY) throw new UsageError(SHELL_NEEDS_TERMINAL);
    const catalog = await openCatalog(flags.workshop);
    const named = reference ?? (await lastLabWorkedOn(await catalog.labs()));
    if (named === undefined) throw new UsageError('You have not started a lab yet: name one, e.g. `ocilab shell 1`.');
    const lab = await catalog.find(named);
    const { workdir, progress, vars } = await openSession(lab, flags, catalog.presets(lab));
    const [{ shellLab }, { createRenderer }] = await Promise.all([import('../../runner/run.js'), import('../../render/terminal.js')]);
    const renderer = await createRenderer({ color: useColor(), width: widthOf(process.stdout), write: out, prose: true, vars });
    const { signal, dispose } = onCancel();
    try {
      const status = await shellLab(lab, { workdir, vars, mode: 'interactive', keepGoing: false, signal, emit: renderer.render, progress });
      if (status === undefined) {
        out(`Every step of ${lab.id} is done. \`ocilab reset ${lab.id}\` starts over.\n`);
        return EXIT.ok;
      }
      if (status === 'passed')
        out(`\`ocilab shell ${lab.id}\` opens the shell for the next step; \`ocilab run ${lab.id}\` goes on with it.\n`);
      return status === 'passed' ? EXIT.ok : EXIT.failed;
    } catch (error) {
      if (signal.aborted && !(error instanceof CancelledError)) throw new CancelledError(STOPPED(lab.id));
      throw error;
    } finally {
      dispose();
    }
  },
});
