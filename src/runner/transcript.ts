// What the learner did in ocilab's shell: the hooks' command records joined with the terminal output
// util-linux `script` recorded. Pure, so each oddity of a real terminal can be tested as a string.
import type { LearnerCommand } from '../checks/types.js';

/**
 * The shell's hooks write these into the terminal stream (private OSC sequences, which terminals
 * ignore): BEGIN before a command runs, END with its history number once it has finished.
 */
export const MARK = { begin: '\u001b]6973;B', end: '\u001b]6973;E;' } as const;
// eslint-disable-next-line no-control-regex -- the marks are terminal escape sequences: ESC and BEL are what they are made of.
const MARKER = /\u001b\]6973;(B|E;(\d+))[^\u0007]*\u0007/g;

/** `ocilab check` typed in the shell is ocilab's, not one of the step's commands. */
const OWN_COMMAND = /^\s*ocilab\s+check(\s|$)/;

/** Output kept per command; what lies between head and tail is replaced by a note. */
export const OUTPUT_LIMIT = { head: 48 * 1024, tail: 16 * 1024 } as const;
/** Commands kept per step, the latest ones. */
export const COMMANDS_KEPT = 100;

interface HookRecord {
  n: number;
  exit: number;
  start: string;
  end: string;
  line: string;
}

/** Joins the hooks' records (JSON lines) with the output between each command's markers. */
export function parseTranscript(records: string, typescript: string): LearnerCommand[] {
  const outputs = outputsByNumber(typescript);
  const commands: LearnerCommand[] = [];
  for (const text of records.split('\n')) {
    const record = parseRecord(text);
    if (!record || OWN_COMMAND.test(record.line)) continue;
    const start = epochSeconds(record.start);
    const end = epochSeconds(record.end);
    commands.push({
      line: record.line,
      exit: record.exit,
      seconds: start !== undefined && end !== undefined ? Math.max(0, Math.round((end - start) * 10) / 10) : 0,
      at: new Date((start ?? end ?? 0) * 1000).toISOString(),
      output: bound(outputs.get(record.n) ?? ''),
    });
  }
  return commands.slice(-COMMANDS_KEPT);
}

function parseRecord(text: string): HookRecord | undefined {
  if (text.trim() === '') return undefined;
  try {
    // Written by the shell's hooks: the times are strings there, but no field is taken on trust.
    const value = JSON.parse(text) as { [K in keyof HookRecord]?: unknown };
    if (typeof value.n !== 'number' || typeof value.exit !== 'number' || typeof value.line !== 'string') return undefined;
    return { n: value.n, exit: value.exit, start: time(value.start), end: time(value.end), line: value.line };
  } catch {
    // A record the shell could not write whole (the shell was killed mid-line) is left out.
    return undefined;
  }
}

/** A time as the hooks wrote it (a string), or read as one; anything else is no time. */
function time(field: unknown): string {
  return typeof field === 'string' || typeof field === 'number' ? String(field) : '';
}

/** bash's EPOCHREALTIME follows the locale's decimal point. */
function epochSeconds(text: string): number | undefined {
  const value = Number(text.replace(',', '.'));
  return text !== '' && Number.isFinite(value) ? value : undefined;
}

/** The terminal text between each END marker and the BEGIN marker before it, by history number. */
function outputsByNumber(typescript: string): Map<number, string> {
  const outputs = new Map<number, string>();
  let begin: number | undefined;
  for (const match of typescript.matchAll(MARKER)) {
    if (match[1] === 'B') {
      begin = match.index + match[0].length;
    } else if (begin !== undefined) {
      outputs.set(Number(match[2]), terminalText(typescript.slice(begin, match.index)));
      begin = undefined;
    }
  }
  return outputs;
}

// CSI (colours, cursor moves, bracketed paste), OSC (titles), and two-character escapes.
const ESCAPES =
  // eslint-disable-next-line no-control-regex -- matching control characters is this expression's job.
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Text as a reader of the terminal saw it: escapes removed, CRLF as LF, a line redrawn after CR shows its last form. */
export function terminalText(raw: string): string {
  return raw
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => {
      // A progress bar rewrites its line after each CR; what stays on screen is its last drawing.
      const drawings = line.split('\r').filter((part) => part !== '');
      return (drawings[drawings.length - 1] ?? '').replace(ESCAPES, '');
    })
    .join('\n');
}

/** At most OUTPUT_LIMIT of `text`: its head and tail, with a note of what was left out between them. */
export function bound(text: string): string {
  const { head, tail } = OUTPUT_LIMIT;
  if (text.length <= head + tail) return text;
  const left = text.length - head - tail;
  return `${text.slice(0, head)}\n[… ${left} characters left out by ocilab …]\n${text.slice(-tail)}`;
}

/** Output kept in the progress of one step, over all its commands; older outputs go first. */
export const STEP_OUTPUT_LIMIT = 256 * 1024;
const OUTPUT_DROPPED = '[output not kept: later commands filled the room ocilab keeps per step]';

/** The commands a step keeps: the earlier ones and those just added, the latest COMMANDS_KEPT, bounded in output. */
export function keepCommands(earlier: readonly LearnerCommand[], added: readonly LearnerCommand[]): LearnerCommand[] {
  let room = STEP_OUTPUT_LIMIT;
  const newestFirst = [...earlier, ...added]
    .slice(-COMMANDS_KEPT)
    .reverse()
    .map((command) => {
      if (command.output.length <= room) {
        room -= command.output.length;
        return command;
      }
      room = 0;
      return { ...command, output: OUTPUT_DROPPED };
    });
  return newestFirst.reverse();
}
