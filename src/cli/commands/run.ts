// ocilab run <lab>: a lab step by step, interactive on a terminal, headless otherwise.
import { CancelledError, EXIT, STOPPED } from '../../errors.js';
import type { Lab } from '../../lab/model.js';
import type { Mode } from '../../runner/events.js';
import { defineCommand, type Options } from '../command.js';
import { openCatalog, type Catalog } from '../workshop.js';
import { onCancel, openSession, out, useColor, widthOf, WORKSHOP_OPTION, WORKSPACE_OPTIONS } from './shared.js';

export const RUN_OPTIONS = {
  ...WORKSPACE_OPTIONS,
  workshop: WORKSHOP_OPTION,
  yes: { type: 'boolean', short: 'y', help: 'headless: run every step without asking' },
  'keep-going': { type: 'boolean', help: 'headless: go on after a failed step' },
} as const satisfies Options;

export default defineCommand({
  about: `Runs a lab step by step in its workspace. On a terminal you choose what to do at each step;
with --yes, or when input is not a terminal, every step runs in order (headless).
Progress is saved after every step; running the lab again goes on where you stopped.`,
  options: RUN_OPTIONS,
  args: { min: 1, max: 1, usage: '`ocilab run` takes one lab: a number, an id or a path, e.g. `ocilab run 2`.' },
  async run([reference], flags) {
    const catalog = await openCatalog(flags.workshop);
    return runLabCommand(await catalog.find(reference as string), catalog, flags);
  },
});

export async function runLabCommand(
  lab: Lab,
  catalog: Catalog,
  flags: { yes?: boolean; 'keep-going'?: boolean; use?: string[]; workdir?: string; var?: string[] },
): Promise<number> {
  const { workdir, progress, vars } = await openSession(lab, flags, catalog.presets(lab));
  const mode: Mode = flags.yes || !process.stdin.isTTY || !process.stdout.isTTY ? 'headless' : 'interactive';
  const [{ runLab }, { createRenderer }] = await Promise.all([import('../../runner/run.js'), import('../../render/terminal.js')]);
  const renderer = await createRenderer({
    color: useColor(),
    width: widthOf(process.stdout),
    write: out,
    prose: mode === 'interactive',
    vars,
  });
  const prompter = mode === 'interactive' ? (await import('../prompter.js')).createPrompter() : undefined;
  const { signal, dispose } = onCancel();
  try {
    const outcome = await runLab(lab, {
      workdir,
      vars,
      mode,
      keepGoing: flags['keep-going'] ?? false,
      ...(flags.use ? { use: flags.use } : {}),
      signal,
      emit: renderer.render,
      ...(prompter ? { prompter } : {}),
      progress,
    });
    return outcome.passed ? EXIT.ok : EXIT.failed;
  } catch (error) {
    if (signal.aborted && !(error instanceof CancelledError)) {
      throw new CancelledError(STOPPED(lab.id));
    }
    throw error;
  } finally {
    dispose();
  }
}
