// The text of `ocilab --help` and `ocilab <command> --help`, made from the commands' own declarations.
import { GLOBAL_OPTIONS, type AnyCommand, type Option, type Options } from './command.js';
import type { CommandEntry } from './commands.js';

/** Help lines are wrapped to this width, as the hand-written prose of the commands is. */
const WIDTH = 100;

const EXIT_STATUS = 'Exit status: 0 all checks passed, 1 a check failed, 2 bad usage or invalid lab, 130 cancelled.';

export function mainHelp(commands: Record<string, CommandEntry>): string {
  const width = Math.max(...Object.values(commands).map(({ usage }) => usage.length));
  const lines = Object.values(commands).map(({ usage, summary }) => `  ocilab ${usage.padEnd(width)}  ${summary}`);
  return `ocilab — hands-on OCI container labs in your terminal

Usage:
  ocilab ${''.padEnd(width)}  open the menu of labs
${lines.join('\n')}

<lab> is a number (2), an id (runc) or the path of a lab file.
Run \`ocilab <command> --help\` for a command's options.

Options:
${optionLines(GLOBAL_OPTIONS)}

${EXIT_STATUS}`;
}

export function commandHelp(entry: CommandEntry, command: AnyCommand): string {
  const options: Options = { ...command.options, help: { type: 'boolean', short: 'h', help: 'show this help' } };
  const usage = `Usage: ocilab ${entry.usage}${Object.keys(command.options).length > 0 ? ' [options]' : ''}`;
  return [usage, command.about, `Options:\n${optionLines(options)}`, ...(command.more !== undefined ? [command.more] : [])].join('\n\n');
}

/** One option a line (or more, when its help wraps), the help texts in one column. */
function optionLines(options: Options): string {
  const labels = Object.entries(options).map(([name, option]) => label(name, option));
  const column = Math.max(...labels.map((l) => l.length)) + 3;
  return Object.values(options)
    .map((option, i) => {
      const [first = '', ...rest] = wrap(option.help, WIDTH - column);
      return [`${(labels[i] ?? '').padEnd(column)}${first}`, ...rest.map((line) => `${' '.repeat(column)}${line}`)].join('\n');
    })
    .join('\n');
}

/** `  -y, --yes` or `      --workdir <dir>`: short options in their own column, as getopt programs print them. */
function label(name: string, option: Option): string {
  const short = option.short !== undefined ? `-${option.short}, ` : '    ';
  const value = option.type === 'string' ? ` ${option.value ?? '<value>'}` : '';
  return `  ${short}--${name}${value}`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}
