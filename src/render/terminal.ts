// Turns runner events into terminal output. One formatter per event kind: the mapped type makes a new
// kind fail to compile until it is rendered here. Markdown goes through marked-terminal, loaded only
// when prose is shown (interactive mode), so headless runs and quick commands start fast.
import { Chalk } from 'chalk';
import type { Token } from 'marked';
import { describeCheck } from '../checks/index.js';
import type { Segment } from '../lab/model.js';
import type { EventOf, EventType, RunnerEvent, StepStatus } from '../runner/events.js';
import { drawTable } from './table.js';

export interface RenderOptions {
  color: boolean;
  /** Terminal width for wrapping prose. */
  width: number;
  write: (text: string) => void;
  /** Show the lab's prose (interactive mode); headless runs show commands, output and checks only. */
  prose: boolean;
  /** The lab's variables, for describing checks that use them. */
  vars: Record<string, string>;
}

type Formatters = { [T in EventType]: (event: EventOf<T>) => void };

export interface Renderer {
  render: (event: RunnerEvent) => void;
}

export type MarkdownToText = (markdown: string) => string;

/** Prose wraps at the terminal's width, but no wider than this: long lines are hard to read. */
const PROSE_MAX_WIDTH = 100;

export async function loadMarkdown(color: boolean, width: number): Promise<MarkdownToText> {
  const [{ Marked }, { markedTerminal }] = await Promise.all([import('marked'), import('marked-terminal')]);
  const marked = new Marked();
  const chalk = new Chalk({ level: color ? 1 : 0 });
  const proseWidth = Math.min(width, PROSE_MAX_WIDTH);
  marked.use(
    // The types of marked-terminal lag behind marked's extension type.
    markedTerminal({
      reflowText: true,
      width: proseWidth,
      tab: 2,
      showSectionPrefix: false,
      emoji: false,
      firstHeading: chalk.bold,
      heading: chalk.bold,
    }) as never,
  );
  marked.use({
    renderer: {
      // marked-terminal renders the text of tight list items raw, so **bold** and `code` showed their
      // markers (marked-terminal issue #371); render such text's inline tokens instead.
      text(token) {
        return 'tokens' in token && token.tokens ? this.parser.parseInline(token.tokens) : false;
      },
      // marked-terminal draws a table as wide as its longest cells; fit it to the prose instead.
      table(token) {
        const inline = (cell: { tokens: Token[] }) => this.parser.parseInline(cell.tokens);
        return `${drawTable(
          token.header.map(inline),
          token.rows.map((row) => row.map(inline)),
          proseWidth,
          color,
        )}\n\n`;
      },
    },
  });
  return (markdown) => (marked.parse(markdown) as string).replace(/\n+$/, '\n');
}

export async function createRenderer(options: RenderOptions): Promise<Renderer> {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const markdown = options.prose ? await loadMarkdown(options.color, options.width) : undefined;
  const proseWidth = Math.min(options.width, PROSE_MAX_WIDTH);
  /**
   * A sentence for the learner after `first`, its lines indented under it. Where prose is shown (a
   * terminal), long lines are wrapped at words; in a pipe or a log each stays one line, for grep.
   */
  const wrapped = (text: string, first: string): string => {
    const rest = ' '.repeat(first.length);
    if (!markdown) return `${first}${indentBy(text, rest)}`;
    return text
      .split('\n')
      .map((part, i) => hanging(part, i === 0 ? first : rest, proseWidth))
      .join('\n');
  };
  const out = options.write;
  const line = (text = '') => out(`${text}\n`);
  const { vars } = options;
  let atLineStart = true;
  /** The last check's reason for not running: the next check that cannot run for the same reason says "as above". */
  let lastError: string | undefined;
  // Checks skipped here over the whole run, for the summary at its end.
  let checksSkipped = 0;

  const formatters: Formatters = {
    'lab-start': ({ lab, workdir, mode, resumeAt }) => {
      line(c.bold(lab.title));
      if (markdown) {
        line(c.dim(`${lab.summary}${lab.duration ? ` · ${lab.duration}` : ''}`));
        line();
        if (resumeAt === 0 && lab.intro) out(`${markdown(lab.intro)}\n`);
      }
      line(c.dim(`Workspace: ${workdir}${mode === 'headless' ? ' · headless' : ''}`));
      if (resumeAt > 0 && resumeAt < lab.steps.length)
        line(c.dim(`Resuming at step ${resumeAt + 1} (\`ocilab reset ${lab.id}\` starts over).`));
      if (resumeAt >= lab.steps.length) line(c.green(`Every step of this lab is done. \`ocilab reset ${lab.id}\` starts over.`));
    },
    notice: ({ level, message }) => line(level === 'warn' ? c.yellow(`! ${message}`) : c.dim(message)),
    'step-start': ({ step, index, total }) => {
      line();
      line(c.cyan.bold(`Step ${index + 1}/${total} · ${step.title}`) + (step.root ? c.dim(' (needs root)') : ''));
      if (markdown) for (const segment of step.content) out(showSegment(segment, markdown));
    },
    hint: ({ text, number, of }) => {
      line(c.yellow(`Hint ${number}/${of}:`));
      out(markdown ? markdown(text) : `${text}\n`);
    },
    'way-chosen': ({ way, reason }) => line(c.dim(`Using ${way.name} (${reason}).`)),
    'command-start': ({ command }) => {
      line(c.dim(`$ ${command.script.split('\n').join('\n  ')}`));
      atLineStart = true;
    },
    output: ({ chunk }) => {
      out(chunk);
      atLineStart = chunk.endsWith('\n');
    },
    'command-end': ({ exitCode, timedOut, startError }) => {
      if (!atLineStart) line();
      atLineStart = true;
      if (startError) line(c.red(`✗ could not start: ${startError}`));
      else if (timedOut) line(c.red('✗ stopped: the command took longer than its timeout'));
      else if (exitCode === undefined) line(c.red('✗ the command was ended by a signal'));
      else if (exitCode !== 0) line(c.red(`✗ the command exited with status ${exitCode}`));
    },
    'command-skipped': ({ command, reason }) => line(c.dim(`↷ not run here: ${command.script.split('\n')[0]} — ${reason}`)),
    edit: ({ edit, diff, applied }) => {
      line(c.dim(`Changes to ${edit.file}:`));
      for (const row of diff.split('\n')) line(row.startsWith('+') ? c.green(row) : row.startsWith('-') ? c.red(row) : c.dim(row));
      if (applied) line(c.green(`✓ ${edit.file} updated`));
    },
    'checks-start': () => {
      lastError = undefined;
      line(c.bold('Checks'));
    },
    'check-result': ({ result, label }) => {
      const repeated = result.status === 'error' && result.message === lastError;
      lastError = result.status === 'error' ? result.message : undefined;
      if (result.status === 'passed') {
        line(`  ${c.green('✓')} ${label}`);
        return;
      }
      if (result.status === 'skipped') {
        checksSkipped++;
        line(`  ${c.dim('–')} ${label}: skipped here — ${result.message}`);
        return;
      }
      if (result.status === 'error') {
        line(`  ${c.yellow('!')} ${label}: could not check — ${repeated ? 'as above' : result.message}`);
        if (result.hint) line(c.dim(wrapped(result.hint, '      hint: ')));
        return;
      }
      line(`  ${c.red('✗')} ${label}`);
      if (result.message) line(wrapped(result.message, '      '));
      line(`      expected: ${c.green(indent(result.expected))}`);
      line(`      actual:   ${c.red(indent(result.actual))}`);
      if (result.hint) line(c.dim(wrapped(result.hint, '      hint: ')));
    },
    diagnosis: ({ text }) => line(c.yellow(wrapped(text, '  → '))),
    'shell-start': ({ step, index, total }) => {
      line();
      line(
        c.cyan(`ocilab shell for step ${index + 1}/${total}, ${step.title}`) + c.dim(' · ocilab check: check now · exit or Ctrl-D: back'),
      );
    },
    'shell-end': ({ commands }) =>
      line(c.dim(`Back in ocilab (${commands === 1 ? '1 command' : `${commands} commands`} recorded in the shell).`)),
    'step-end': ({ status }) => {
      const text: Record<StepStatus, string> = {
        passed: c.green('Step done.'),
        failed: c.red('Step not done yet.'),
        error: c.yellow('Some checks could not run.'),
        skipped: c.dim('Skipped.'),
        read: '',
        started: '',
      };
      if (text[status]) line(text[status]);
    },
    'lab-end': ({ lab, passed, counts }) => {
      line();
      // The counts are of steps; skipped checks are counted apart, or a run with many would read as fully checked.
      const notHere =
        checksSkipped > 0 ? `; ${checksSkipped === 1 ? '1 check does' : `${checksSkipped} checks do`} not apply on this machine` : '';
      const summary = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.error} could not be checked${notHere}`;
      line(passed ? c.green.bold(`✓ ${lab.title}: done (${summary}).`) : c.bold(`${lab.title}: ${summary}.`));
    },
  };

  function showSegment(segment: Segment, toText: MarkdownToText): string {
    switch (segment.kind) {
      case 'markdown':
        return toText(segment.text);
      case 'command': {
        const command = segment.command;
        // The learner types it in ocilab's shell, or lets ocilab run it: the block is the command either way.
        const label = 'name' in command ? `The command (way: ${command.name})` : 'The command';
        return `${c.dim(`${label}:`)}\n${command.script
          .split('\n')
          .map((l) => `  ${c.yellow(l)}`)
          .join('\n')}\n\n`;
      }
      case 'edit':
        return `${c.dim(`The change to ${segment.edit.file} (Run it shows the diff and makes it):`)}\n${Object.entries(segment.edit.set)
          .map(([path, value]) => `  ${path} = ${JSON.stringify(value)}`)
          .join('\n')}\n\n`;
      case 'checks':
        return `${c.dim('ocilab checks:')}\n${segment.checks.map((check) => hanging(describeCheck(check, vars), '  • ', proseWidth)).join('\n')}\n\n`;
    }
  }

  return {
    render(event) {
      (formatters[event.type] as (e: RunnerEvent) => void)(event);
    },
  };
}

/** Multi-line values line up under the label. */
/** `text` wrapped at word boundaries within `width`, after `first`, with the lines after it indented as far. */
export function hanging(text: string, first: string, width: number): string {
  const rest = ' '.repeat(first.length);
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const prefix = lines.length === 0 ? first : rest;
    if (current !== '' && prefix.length + current.length + 1 + word.length > width) {
      lines.push(prefix + current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  lines.push((lines.length === 0 ? first : rest) + current);
  return lines.join('\n');
}

function indent(text: string): string {
  return indentBy(text, '                ');
}

function indentBy(text: string, by: string): string {
  return text.replace(/\n/g, `\n${by}`);
}
