// ocilab check: inside ocilab's shell, the step's checks now, on the workspace and on what was typed.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSettled, type JudgedCheck } from '../../checks/types.js';
import { EXIT, UsageError } from '../../errors.js';
import type { RunnerEvent } from '../../runner/events.js';
import { defineCommand } from '../command.js';
import { readLab } from '../catalog.js';
import { onCancel, openSession, out, useColor, widthOf } from './shared.js';

export const CHECK_OUTSIDE_SHELL =
  "`ocilab check` checks the step of ocilab's shell, and this is not one: open it from a step (`ocilab run LAB`, then “Open a shell”) or with `ocilab shell LAB`; `ocilab verify LAB` checks a workspace from anywhere.";

/** The last news line shown in the prompt, kept in the session so a line is printed only when it changes. */
const NEWS_FILE = 'news';

export default defineCommand({
  about: `Inside ocilab's shell: runs the checks of the shell's step now, against the workspace and the
commands you typed, explains each one that fails, and keeps the result in your progress.`,
  options: {
    prompt: {
      type: 'boolean',
      help: "print only the step's state for the prompt (e.g. ✓ 2/4), and one line of news on stderr when it changed (the shell runs this after every command)",
    },
  },
  args: { min: 0, max: 0, usage: '`ocilab check` takes no arguments: it checks the step of the shell it runs in.' },
  async run(_args, flags) {
    const { currentSession, readShellCommands, writeVerdict } = await import('../../runner/shell.js');
    const current = await currentSession();
    if (!current) throw new UsageError(CHECK_OUTSIDE_SHELL);
    const { dir, session } = current;
    const lab = await readLab(session.labFile);
    const step = lab.steps.find((s) => s.id === session.stepId);
    if (!step) throw new UsageError(`The lab ${lab.id} has no step '${session.stepId}' any more; leave the shell and run the lab again.`);
    if (step.checks.length === 0) {
      if (!flags.prompt) out('This step has no checks: leave the shell (`exit`) when you are done with it.\n');
      return EXIT.ok;
    }
    const { progress } = await openSession(lab, { workdir: session.workdir });
    const { vars } = session;
    const { checkTypedStep } = await import('../../runner/run.js');
    const results: { result: JudgedCheck; label: string }[] = [];
    const said: string[] = [];
    const collect = (event: RunnerEvent) => {
      if (event.type === 'check-result') results.push(event);
      if (event.type === 'diagnosis') said.push(event.text);
    };
    const render = flags.prompt
      ? collect
      : await (async () => {
          const { createRenderer } = await import('../../render/terminal.js');
          const width = widthOf(process.stdout);
          const renderer = await createRenderer({ color: useColor(), width, write: out, prose: false, vars });
          return (event: RunnerEvent) => {
            collect(event);
            renderer.render(event);
          };
        })();
    const { signal, dispose } = onCancel();
    const typed = await readShellCommands(dir);
    try {
      const status = await checkTypedStep(
        lab,
        step,
        {
          workdir: session.workdir,
          vars,
          // In the prompt nothing may ask; typed by the learner, sudo may ask for the password once.
          mode: !flags.prompt && process.stdin.isTTY ? 'interactive' : 'headless',
          keepGoing: true,
          signal,
          emit: render,
          progress,
        },
        typed,
      );
      const outcomes = results.map(({ result: { check: _check, ...outcome } }) => outcome);
      await writeVerdict(dir, { commands: typed.length, outcomes });
      const passed = results.filter(({ result }) => isSettled(result)).length;
      if (flags.prompt) {
        out(`${passed === results.length ? '✓' : '✗'} ${passed}/${results.length}`);
        await news(dir, promptNews(status, results, said));
      } else if (status === 'passed') {
        out('\nEvery check of this step passes: `exit` takes you back to ocilab and on to the next step.\n');
      }
      return status === 'passed' ? EXIT.ok : EXIT.failed;
    } finally {
      dispose();
    }
  },
});

function promptNews(status: string, results: { result: JudgedCheck; label: string }[], said: string[]): string {
  const diagnosis = said[0] ? `\n  → ${said[0].split('\n')[0]}` : '';
  if (status === 'passed') return `ocilab: ✓ every check of this step passes — type \`exit\` to go on.${diagnosis}`;
  const first = results.find(({ result }) => !isSettled(result));
  const passed = results.filter(({ result }) => isSettled(result)).length;
  const next = first ? ` · ${first.result.status === 'error' ? 'could not check' : 'not yet'}: ${first.label}` : '';
  return `ocilab: ${passed} of ${results.length} checks pass${next} — \`ocilab check\` says why.${diagnosis}`;
}

/** Prints `text` on stderr unless it is what the prompt said last time. */
async function news(dir: string, text: string): Promise<void> {
  const file = join(dir, NEWS_FILE);
  if ((await readFile(file, 'utf8').catch(() => '')) === text) return;
  await writeFile(file, text);
  process.stderr.write(`${text}\n`);
}
