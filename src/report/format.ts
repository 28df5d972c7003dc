// Words and numbers every report format shares: durations, counts, and what each status is called.
import type { LabState, ReportStepStatus } from './model.js';

/** `0s`, `42s`, `3m 05s`, `1h 02m` */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** `1 attempt`, `2 attempts` */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export const STATUS_WORDS: Record<ReportStepStatus, string> = {
  passed: 'passed',
  read: 'read',
  skipped: 'skipped',
  failed: 'failed',
  error: 'could not be checked',
  started: 'started, not tried yet',
  pending: 'not reached',
};

export const STATE_WORDS: Record<LabState, string> = {
  'not-started': 'not started',
  'in-progress': 'in progress',
  failed: 'stuck',
  finished: 'finished',
};

/** One character per step status, as in `ocilab class`: ✓ done, ✗ failed, ↷ skipped, · not reached. */
export const STATUS_MARKS: Record<ReportStepStatus, string> = {
  passed: '✓',
  read: '✓',
  skipped: '↷',
  failed: '✗',
  error: '✗',
  started: '·',
  pending: '·',
};

/** `2025-03-14 09:26` in the reader's local time; the ISO text itself when it is not a date. */
export function when(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** Only the time of day when `iso` falls on the same day as `reference`, else as `when` writes it. */
export function whenNear(iso: string, reference: string): string {
  const full = when(iso);
  return full.slice(0, 10) === when(reference).slice(0, 10) ? full.slice(11) : full;
}

// Characters neither XML 1.0 nor HTML can carry, even escaped: C0 controls other than tab and line
// breaks (terminal colour codes in a command's output, say), lone surrogates, U+FFFE and U+FFFF.
const CONTROLS =
  // eslint-disable-next-line no-control-regex -- finding control characters is what this expression is for
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Writes those characters out as `\x1b` or `\ud800`, so the reader sees they were there. */
export function visibleControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
