// The ocilab commands. Each returns the exit status; main.ts sets it.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Chalk } from 'chalk';
import { CancelledError, formatProblem } from '../errors.js';
import type { Lab } from '../lab/model.js';
import { parseLab } from '../lab/parse.js';
import { parseVarFlags, resolveVariables } from '../lab/variables.js';
import type { Mode } from '../runner/events.js';
import { loadProgress, newProgress, resetProgress, resumeIndex, type LabProgress } from '../runner/progress.js';
import { findLab, shippedLabs } from './catalog.js';
import { EXIT, type Flags } from './args.js';

const color = () => !process.env.NO_COLOR && process.stdout.isTTY === true;
const out = (text: string) => process.stdout.write(text);

function defaultWorkdir(lab: Lab): string {
  return join(homedir(), 'ocilab', lab.id);
}

/** The lab's workspace and progress: --workdir wins, then the saved workspace, then the default. */
async function session(lab: Lab, flags: Flags): Promise<{ workdir: string; progress: LabProgress; vars: Record<string, string> }> {
  const overrides = parseVarFlags(flags.var ?? []);
  const saved = await loadProgress(lab.id);
  const workdir = flags.workdir ? resolve(flags.workdir) : (saved?.workdir ?? defaultWorkdir(lab));
  // Progress belongs to a workspace: another one starts afresh.
  const progress = saved && saved.workdir === workdir ? saved : newProgress(lab.id, workdir);
  progress.vars = { ...progress.vars, ...overrides };
  return { workdir, progress, vars: resolveVariables(lab, progress.vars) };
}

/** Aborts on Ctrl-C (SIGINT) and on SIGTERM, so running children are ended and progress is saved. */
function cancellation(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.on('SIGINT', abort);
  process.on('SIGTERM', abort);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}

export async function run(reference: string, flags: Flags): Promise<number> {
  const lab = await findLab(reference);
  const { workdir, progress, vars } = await session(lab, flags);
  const mode: Mode = flags.yes || !process.stdin.isTTY || !process.stdout.isTTY ? 'headless' : 'interactive';
  const [{ runLab }, { createRenderer }] = await Promise.all([import('../runner/run.js'), import('../render/terminal.js')]);
  const renderer = await createRenderer({ color: color(), width: process.stdout.columns ?? 80, write: out, prose: mode === 'interactive', vars });
  const prompter = mode === 'interactive' ? (await import('./prompter.js')).createPrompter() : undefined;
  const { signal, dispose } = cancellation();
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
    if (signal.aborted && !(error instanceof CancelledError)) throw new CancelledError(`Stopped. Your progress is saved; \`ocilab run ${lab.id}\` goes on from here.`);
    throw error;
  } finally {
    dispose();
  }
}

export async function verify(reference: string, flags: Flags): Promise<number> {
  const lab = await findLab(reference);
  const { workdir, vars } = await session(lab, flags);
  const { verifyLab } = await import('../runner/verify.js');
  const c = new Chalk({ level: color() ? 1 : 0 });
  const { signal, dispose } = cancellation();
  try {
    if (!flags.json) out(`${c.bold(lab.title)}\n${c.dim(`Workspace: ${workdir}`)}\n`);
    let current = '';
    const report = await verifyLab(lab, {
      workdir,
      vars,
      signal,
      ...(flags.use ? { use: flags.use } : {}),
      onResult: flags.json
        ? undefined
        : (step, check) => {
            if (step.id !== current) out(`\n${c.cyan(step.title)}\n`);
            current = step.id;
            const mark = { passed: c.green('✓'), failed: c.red('✗'), error: c.yellow('!') }[check.status];
            out(`  ${mark} ${check.label}\n`);
            if (check.status === 'failed') out(`      expected: ${check.expected}\n      actual:   ${check.actual}\n`);
            if (check.status === 'error') out(`      could not check: ${check.message}\n`);
            if (check.hint && check.status !== 'passed') out(c.dim(`      hint: ${check.hint}\n`));
          },
    });
    if (signal.aborted) throw new CancelledError();
    if (flags.json) {
      const steps = report.steps.map(({ id, title, status, checks }) => ({
        id,
        title,
        status,
        checks: checks.map(({ kind, status: s, message, expected, actual, hint }) => ({ kind, status: s, message, expected, actual, hint })),
      }));
      out(`${JSON.stringify({ lab: report.lab, passed: report.passed, steps }, null, 2)}\n`);
    } else {
      out(report.passed ? c.green('\nEvery check passed.\n') : '\nSome checks did not pass.\n');
    }
    return report.passed ? EXIT.ok : EXIT.failed;
  } finally {
    dispose();
  }
}

export async function list(): Promise<number> {
  const c = new Chalk({ level: color() ? 1 : 0 });
  const labs = await shippedLabs();
  for (const [index, lab] of labs.entries()) {
    out(`${c.bold(`${index + 1}  ${lab.id}`)}  ${lab.title}  ${c.dim(await progressText(lab))}\n   ${lab.summary}\n`);
  }
  out(c.dim(`\nStart one with \`ocilab run <number or id>\`.\n`));
  return EXIT.ok;
}

async function progressText(lab: Lab): Promise<string> {
  const progress = await loadProgress(lab.id);
  if (!progress) return lab.duration ? `(${lab.duration})` : '';
  const done = resumeIndex(progress, lab.steps.map((s) => s.id));
  return done >= lab.steps.length ? '(done)' : `(step ${done + 1} of ${lab.steps.length})`;
}

export async function reset(reference: string): Promise<number> {
  const lab = await findLab(reference);
  const saved = await loadProgress(lab.id);
  const existed = await resetProgress(lab.id);
  out(existed ? `Progress in '${lab.id}' cleared; \`ocilab run ${lab.id}\` starts at step 1.\n` : `There was no progress in '${lab.id}' to clear.\n`);
  if (saved) out(`The workspace ${saved.workdir} is left as it is; remove it too for a clean start.\n`);
  return EXIT.ok;
}

export async function lint(files: string[]): Promise<number> {
  let problems = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      process.stderr.write(`${file}: cannot read this file\n`);
      problems++;
      continue;
    }
    const result = parseLab(text, file);
    if (result.ok) out(`✓ ${file}: ${result.lab.steps.length} steps, ${result.lab.steps.reduce((n, s) => n + s.checks.length, 0)} checks\n`);
    else {
      for (const problem of result.problems) process.stderr.write(`${formatProblem(problem)}\n`);
      problems += result.problems.length;
    }
  }
  return problems > 0 ? EXIT.usage : EXIT.ok;
}

/** `ocilab` alone: a menu of labs on a terminal, the list otherwise. */
export async function menu(flags: Flags): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return list();
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
  return run(id, flags);
}
