// What a command is: its options, declared once with their help, and how many arguments it takes.
// A leaf: commands import it, and it imports nothing of theirs, so the command graph stays a tree.
import type { ParseArgsConfig } from 'node:util';

/** One option: how node:util parseArgs reads it, and the line `--help` shows for it. */
export interface Option {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value's name in the help, e.g. `<dir>` in `--workdir <dir>` (string options). */
  value?: string;
  /** What it does, in the words of the help; wrapped to fit beside the option. */
  help: string;
}

export type Options = Record<string, Option>;

type FlagValue<O> = O extends { type: 'string'; multiple: true }
  ? string[]
  : O extends { type: 'string' }
    ? string
    : O extends { type: 'boolean' }
      ? boolean
      : never;

/** The parsed values of a command's options, typed from its option declarations. */
export type FlagsOf<O extends Options> = { [K in keyof O]?: FlagValue<O[K]> };

export interface Command<O extends Options> {
  /** What the command does: the paragraphs of its help between the usage line and the options. */
  about: string;
  options: O;
  /** How many arguments it takes, and what to say when the count is wrong. */
  args: { min: number; max: number; usage: string };
  /** The last paragraph of its help, when there is more to say after the options (e.g. exit statuses). */
  more?: string;
  run(args: string[], flags: FlagsOf<O>): Promise<number>;
}

/** Any command, as main.ts sees it before it knows which. */
export interface AnyCommand {
  about: string;
  options: Options;
  args: { min: number; max: number; usage: string };
  more?: string;
  run(args: string[], flags: Record<string, unknown>): Promise<number>;
}

/** Declares a command with its options typed. */
export function defineCommand<const O extends Options>(command: Command<O>): Command<O> {
  return command;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h', help: 'show help' },
  version: { type: 'boolean', short: 'V', help: 'show the version' },
  debug: { type: 'boolean', help: 'show stack traces of unexpected errors' },
} as const satisfies Options;

/** The options as parseArgs takes them: their help left out. */
export function parseArgsOptions(options: Options): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(options).map(([name, { type, short, multiple }]) => [
      name,
      { type, ...(short !== undefined ? { short } : {}), ...(multiple !== undefined ? { multiple } : {}) },
    ]),
  );
}
