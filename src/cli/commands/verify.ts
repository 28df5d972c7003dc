// ocilab verify <lab>: only the checks, against what is already in the workspace.
import { existsSync } from 'node:fs';
import { Chalk } from 'chalk';
import { isSettled } from '../../checks/types.js';
import { CancelledError, EXIT } from '../../errors.js';
import { defineCommand } from '../command.js';
import { openCatalog } from '../workshop.js';
import { isTerminal, onCancel, openSession, out, useColor, WORKSHOP_OPTION, WORKSPACE_OPTIONS } from './shared.js';

export default defineCommand({
  about: `Runs only the checks of a lab against what is in the workspace: for a learner who typed the
commands by hand, or an instructor checking a machine. Container probes need root: as a normal
user they run runc with sudo, which on a terminal may ask for your password once.`,
  options: {
    ...WORKSPACE_OPTIONS,
    use: { ...WORKSPACE_OPTIONS.use, help: 'the way to re-run read-only commands with (repeatable, as for run)' },
    json: { type: 'boolean', help: 'print one JSON object instead of a report' },
    workshop: WORKSHOP_OPTION,
  },
  args: { min: 1, max: 1, usage: '`ocilab verify` takes one lab: a number, an id or a path, e.g. `ocilab verify 2`.' },
  async run([reference], flags) {
    const catalog = await openCatalog(flags.workshop);
    const lab = await catalog.find(reference as string);
    const { workdir, vars, progress } = await openSession(lab, flags, catalog.presets(lab));
    const { verifyLab } = await import('../../runner/verify.js');
    const c = new Chalk({ level: useColor() ? 1 : 0 });
    const { signal, dispose } = onCancel();
    try {
      if (!flags.json) {
        out(`${c.bold(lab.title)}\n${c.dim(`Workspace: ${workdir}`)}\n`);
        if (!existsSync(workdir)) out(c.yellow(`! ${workdir} does not exist: do the lab first, or name the workspace with --workdir.\n`));
      }
      let current = '';
      const report = await verifyLab(lab, {
        workdir,
        vars,
        signal,
        progress,
        interactive: isTerminal(process.stdin),
        // With --json, stdout is for the JSON alone.
        onNotice: (level, message) =>
          flags.json ? process.stderr.write(`${message}\n`) : out(level === 'warn' ? c.yellow(`! ${message}\n`) : c.dim(`${message}\n`)),
        ...(flags.use ? { use: flags.use } : {}),
        ...(flags.json
          ? {}
          : {
              onResult: (step, check) => {
                if (step.id !== current) out(`\n${c.cyan(step.title)}\n`);
                current = step.id;
                const mark = { passed: c.green('✓'), failed: c.red('✗'), error: c.yellow('!'), skipped: c.dim('–') }[check.status];
                out(`  ${mark} ${check.label}\n`);
                if (check.status === 'skipped') out(c.dim(`      skipped here: ${check.message}\n`));
                if (check.status === 'failed') out(`      expected: ${check.expected}\n      actual:   ${check.actual}\n`);
                if (check.status === 'error') out(`      could not check: ${check.message}\n`);
                if (check.hint && !isSettled(check)) out(c.dim(`      hint: ${check.hint}\n`));
              },
            }),
      });
      if (signal.aborted) throw new CancelledError();
      if (flags.json) {
        const steps = report.steps.map(({ id, title, status, checks, how, commands }) => ({
          id,
          title,
          status,
          how,
          commands,
          checks: checks.map(({ kind, status: s, message, expected, actual, hint }) => ({
            kind,
            status: s,
            message,
            expected,
            actual,
            hint,
          })),
        }));
        out(`${JSON.stringify({ lab: report.lab, passed: report.passed, steps }, null, 2)}\n`);
      } else {
        out(report.passed ? c.green('\nEvery check passed.\n') : '\nSome checks did not pass.\n');
      }
      return report.passed ? EXIT.ok : EXIT.failed;
    } finally {
      dispose();
    }
  },
});
