// The command line: options, help texts, exit codes. Cheap to import: main.ts loads it on every start.
import { parseArgs } from 'node:util';

export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

export const HELP: Record<string, string> = {
  main: `ocilab — hands-on OCI container labs in your terminal

Usage:
  ocilab                      open the menu of labs
  ocilab list                 list the labs and your progress
  ocilab run <lab>            do a lab, step by step
  ocilab verify <lab>         check the workspace without running anything
  ocilab reset <lab>          forget your progress in a lab
  ocilab lint <file>...       check lab files for mistakes

<lab> is a number (2), an id (runc) or the path of a lab file.
Run \`ocilab <command> --help\` for a command's options.

Options:
  -h, --help                  show help
  -V, --version               show the version
      --debug                 show stack traces of unexpected errors

Exit status: 0 all checks passed, 1 a check failed, 2 bad usage or invalid lab, 130 cancelled.`,
  run: `Usage: ocilab run <lab> [options]

Runs a lab step by step in its workspace. On a terminal you choose what to do at each step;
with --yes, or when input is not a terminal, every step runs in order (headless).
Progress is saved after every step; running the lab again goes on where you stopped.

Options:
  -y, --yes                   headless: run every step without asking
      --keep-going            headless: go on after a failed step
      --use <way>             use this way wherever a step offers it (e.g. podman, docker, curl)
      --workdir <dir>         the workspace (default ~/ocilab/<lab-id>)
      --var <name=value>      set a lab variable (repeatable)
  -h, --help                  show this help`,
  verify: `Usage: ocilab verify <lab> [options]

Runs only the checks of a lab against what is in the workspace: for a learner who typed the
commands by hand, or an instructor checking a machine. Container probes need root.

Options:
      --workdir <dir>         the workspace (default: the lab's saved one, else ~/ocilab/<lab-id>)
      --var <name=value>      set a lab variable (repeatable)
      --use <way>             the way to re-run read-only commands with
      --json                  print one JSON object instead of a report
  -h, --help                  show this help`,
  list: `Usage: ocilab list

Lists the labs that come with ocilab, with your progress in each.`,
  reset: `Usage: ocilab reset <lab>

Forgets your progress in a lab, so the next \`ocilab run\` starts at step 1.
The workspace is left as it is.`,
  lint: `Usage: ocilab lint <file>...

Checks lab files and reports every problem as file:line: message.`,
};

export const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  debug: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  'keep-going': { type: 'boolean' },
  use: { type: 'string' },
  workdir: { type: 'string' },
  var: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

/** Which options each command accepts (help is accepted everywhere). */
export const ACCEPTS: Record<string, readonly (keyof typeof OPTIONS)[]> = {
  run: ['yes', 'keep-going', 'use', 'workdir', 'var'],
  verify: ['workdir', 'var', 'use', 'json'],
  list: [],
  reset: [],
  lint: [],
};

export type Flags = ReturnType<typeof parse>['values'];

export function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

