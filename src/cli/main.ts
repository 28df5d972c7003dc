#!/usr/bin/env node
// The ocilab command: finds the command, parses its options, runs it, and alone sets the exit status.
// Everything heavier than argument parsing is imported only when the command needs it.
import { parseArgs } from 'node:util';
import { CancelledError, EXIT, LabError, UsageError, WorkshopError } from '../errors.js';
import { GLOBAL_OPTIONS, parseArgsOptions, type AnyCommand } from './command.js';
import { COMMANDS } from './commands.js';

async function main(argv: string[]): Promise<number> {
  // The command comes first (`ocilab run 2 --yes`); without one, options go to the menu.
  const name = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  const entry = name === undefined ? undefined : COMMANDS[name];
  if (name !== undefined && !entry) {
    throw new UsageError(`Unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}. See \`ocilab --help\`.`);
  }
  if (!entry) {
    // --version and --help answer before any command module (and its dependencies) loads.
    const { values } = parseArgs({ args: argv, options: parseArgsOptions(GLOBAL_OPTIONS), allowPositionals: true, strict: false });
    if (values.version) return printVersion();
    if (values.help) return print((await import('./help.js')).mainHelp(COMMANDS));
  }
  // `ocilab` alone opens the menu, which takes the options of `run`.
  const command: AnyCommand = entry ? (await entry.load()).default : (await import('./commands/menu.js')).default;

  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: parseArgsOptions({ ...GLOBAL_OPTIONS, ...command.options }),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nSee \`ocilab ${name ?? ''} --help\`.`.replace('  ', ' '));
  }
  const { values, positionals: all } = parsed;
  if (values.version) return printVersion();
  if (values.help) {
    const { commandHelp, mainHelp } = await import('./help.js');
    return print(entry ? commandHelp(entry, command) : mainHelp(COMMANDS));
  }
  const args = entry ? all.slice(1) : all;
  if (args.length < command.args.min || args.length > command.args.max) throw new UsageError(command.args.usage);
  return command.run(args, values);
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return EXIT.ok;
}

async function printVersion(): Promise<number> {
  const { packageVersion } = await import('./paths.js');
  return print(packageVersion());
}

/** An error that says what went wrong for a user to act on, and the exit status it ends ocilab with. */
interface ExitingError extends Error {
  exitStatus: number;
}

function isExiting(error: unknown): error is ExitingError {
  return error instanceof Error && typeof (error as Partial<ExitingError>).exitStatus === 'number';
}

/** Says what went wrong, and returns the exit status the error carries. */
function report(error: unknown, debug: boolean): number {
  const say = (text: string) => process.stderr.write(`${text}\n`);
  if (isExiting(error)) {
    if (error instanceof CancelledError) say(error.message);
    else if (error instanceof LabError) say(`This lab file has problems:\n${error.message}`);
    else if (error instanceof WorkshopError)
      say(`The workshop file ${error.file} has problems (\`ocilab lint ${error.file}\` lists them):\n${error.message}`);
    else say(`ocilab: ${error.message}`);
    return error.exitStatus;
  }
  say(`ocilab: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  if (debug) say(error instanceof Error ? (error.stack ?? '') : '');
  else say('Run again with --debug to see where it happened, and please report it.');
  return EXIT.failed;
}

// Colour only on a terminal and only when NO_COLOR is unset; chalk reads FORCE_COLOR when it loads.
if (process.env.NO_COLOR || !process.stdout.isTTY) process.env.FORCE_COLOR = '0';

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error, argv.includes('--debug'));
  },
);
