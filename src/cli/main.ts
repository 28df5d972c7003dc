#!/usr/bin/env node
// The ocilab command: parses the command line, runs one command, and alone decides the exit status.
// Everything heavier than argument parsing is imported only when the command needs it.
import { ACCEPTS, EXIT, HELP, parse, type OPTIONS } from './args.js';

async function main(argv: string[]): Promise<number> {
  const { UsageError } = await import('../errors.js');
  let parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun \`ocilab --help\` for the options.`);
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;

  if (values.version) {
    const { packageVersion } = await import('./paths.js');
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  if (command === undefined) {
    if (values.help) return help('main');
    const { menu } = await import('./commands.js');
    return menu(values);
  }
  const accepted = ACCEPTS[command];
  if (!accepted) throw new UsageError(`Unknown command '${command}'. Commands: ${Object.keys(ACCEPTS).join(', ')}. See \`ocilab --help\`.`);
  if (values.help) return help(command);
  const stray = (Object.keys(values) as (keyof typeof OPTIONS)[]).filter((k) => k !== 'debug' && !accepted.includes(k));
  if (stray.length > 0) throw new UsageError(`\`ocilab ${command}\` has no option --${stray[0]}. See \`ocilab ${command} --help\`.`);

  const commands = await import('./commands.js');
  switch (command) {
    case 'list':
      return commands.list();
    case 'lint':
      if (args.length === 0) throw new UsageError('Which lab files? e.g. `ocilab lint labs/*.md`');
      return commands.lint(args);
    case 'run':
    case 'verify':
    case 'reset': {
      if (args.length !== 1) throw new UsageError(`\`ocilab ${command}\` takes one lab: a number, an id or a path, e.g. \`ocilab ${command} 2\`.`);
      return commands[command](args[0] as string, values);
    }
    default:
      throw new UsageError(`Unknown command '${command}'.`);
  }
}

function help(topic: string): number {
  process.stdout.write(`${HELP[topic] ?? HELP.main}\n`);
  return EXIT.ok;
}

/** Maps what went wrong to a message a user can act on and an exit status. */
async function report(error: unknown, debug: boolean): Promise<number> {
  const { CancelledError, EnvironmentError, LabError, UsageError } = await import('../errors.js');
  const say = (text: string) => process.stderr.write(`${text}\n`);
  if (error instanceof CancelledError) {
    say(error.message);
    return EXIT.cancelled;
  }
  if (error instanceof LabError) {
    say(`This lab file has problems:\n${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof UsageError) {
    say(`ocilab: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof EnvironmentError) {
    say(`ocilab: ${error.message}`);
    return EXIT.failed;
  }
  say(`ocilab: unexpected error: ${(error as Error)?.message ?? String(error)}`);
  if (debug) say((error as Error)?.stack ?? '');
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
  async (error: unknown) => {
    process.exitCode = await report(error, argv.includes('--debug'));
  },
);
