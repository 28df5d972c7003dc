// The command line: exit codes, the list of commands and how a command declares its options.
// Cheap to import: main.ts loads it on every start, and command modules only when they run.
import type { ParseArgsConfig } from 'node:util';

export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

type OptionConfigs = NonNullable<ParseArgsConfig['options']>;

type FlagValue<C> = C extends { type: 'string'; multiple: true }
  ? string[]
  : C extends { type: 'string' }
    ? string
    : C extends { type: 'boolean' }
      ? boolean
      : never;

/** The parsed values of a command's options, typed from its option declarations. */
export type FlagsOf<O extends OptionConfigs> = { [K in keyof O]?: FlagValue<O[K]> };

export interface Command<O extends OptionConfigs> {
  /** The text of `ocilab <command> --help`. */
  help: string;
  options: O;
  /** How many arguments it takes, and what to say when the count is wrong. */
  args: { min: number; max: number; usage: string };
  run(args: string[], flags: FlagsOf<O>): Promise<number>;
}

/** Any command, as main.ts sees it before it knows which. */
export interface AnyCommand {
  help: string;
  options: OptionConfigs;
  args: { min: number; max: number; usage: string };
  run(args: string[], flags: Record<string, unknown>): Promise<number>;
}

/** Declares a command with its options typed. */
export function defineCommand<const O extends OptionConfigs>(command: Command<O>): Command<O> {
  return command;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  debug: { type: 'boolean' },
} as const satisfies OptionConfigs;

/** Every command: a line for the main help, and how to load it (only when it runs). */
export const COMMANDS: Record<string, { usage: string; summary: string; load: () => Promise<{ default: AnyCommand }> }> = {
  list: { usage: 'list', summary: 'list the labs and your progress', load: () => import('./commands/list.js') },
  run: { usage: 'run <lab>', summary: 'do a lab, step by step', load: () => import('./commands/run.js') },
  shell: { usage: 'shell [<lab>]', summary: "type a step yourself in ocilab's shell", load: () => import('./commands/shell.js') },
  check: { usage: 'check', summary: "in ocilab's shell: check the step now", load: () => import('./commands/check.js') },
  verify: { usage: 'verify <lab>', summary: 'check the workspace without running anything', load: () => import('./commands/verify.js') },
  reset: { usage: 'reset <lab>', summary: 'forget your progress in a lab', load: () => import('./commands/reset.js') },
  prove: { usage: 'prove <lab>', summary: "show that a lab's checks can fail and do pass", load: () => import('./commands/prove.js') },
  lint: { usage: 'lint <file>...', summary: 'check lab files for mistakes', load: () => import('./commands/lint.js') },
  doctor: { usage: 'doctor [<lab>...]', summary: 'check that this machine can do the labs', load: () => import('./commands/doctor.js') },
  tags: { usage: 'tags <repository>', summary: 'list every tag of an image repository', load: () => import('./commands/tags.js') },
  pull: {
    usage: 'pull <image> --rootfs DIR',
    summary: "unpack an image's layers into a directory",
    load: () => import('./commands/pull.js'),
  },
  report: {
    usage: 'report',
    summary: 'summarise your progress (--json, --junit FILE, --html FILE)',
    load: () => import('./commands/report.js'),
  },
  class: {
    usage: 'class <report.json>...',
    summary: "roll up students' reports into one matrix",
    load: () => import('./commands/class.js'),
  },
};

export function mainHelp(): string {
  const width = Math.max(...Object.values(COMMANDS).map(({ usage }) => usage.length));
  const lines = Object.values(COMMANDS).map(({ usage, summary }) => `  ocilab ${usage.padEnd(width)}  ${summary}`);
  return `ocilab — hands-on OCI container labs in your terminal

Usage:
  ocilab ${''.padEnd(width)}  open the menu of labs
${lines.join('\n')}

<lab> is a number (2), an id (runc) or the path of a lab file.
Run \`ocilab <command> --help\` for a command's options.

Options:
  -h, --help      show help
  -V, --version   show the version
      --debug     show stack traces of unexpected errors

Exit status: 0 all checks passed, 1 a check failed, 2 bad usage or invalid lab, 130 cancelled.`;
}
