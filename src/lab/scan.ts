// Scanning a lab's Markdown line by line: where the front matter is, the intro, and each `## step` as
// its prose, fenced blocks with attributes and `> [!TIP]` hints, with the lines they are on.
import type { Report } from './problems.js';

const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})\s*$/;
const STEP_HEADING = /^##\s+(.+?)\s*#*\s*$/;
const TITLE_HEADING = /^#\s+(.+?)\s*#*\s*$/;
const TIP = /^>\s*\[!TIP\]\s*(.*)$/i;

export interface FrontMatterText {
  source: string;
  /** 1-based line of the first line of `source`. */
  firstLine: number;
  /** 1-based line of the closing `---`. */
  endLine: number;
}

/** A fenced block whose info string carries JSON attributes, e.g. ```sh {"run": true}. */
export interface Block {
  line: number;
  /** The JSON text of the attributes, and the column it starts at. */
  attributes: string;
  column: number;
  body: string;
  /** The block as written, fences included, for a block that turns out to be only shown. */
  raw: string;
}

/** What a step is written as, in document order; prose includes the blocks without attributes. */
export type Part = { kind: 'prose'; text: string } | { kind: 'block'; block: Block } | { kind: 'hint'; text: string };

export interface ScannedStep {
  title: string;
  line: number;
  parts: Part[];
}

export interface ScannedBody {
  intro: string;
  steps: ScannedStep[];
}

export function splitLines(text: string): string[] {
  return text.replace(/\r\n?/g, '\n').split('\n');
}

export function findFrontMatter(lines: string[], report: Report): FrontMatterText | undefined {
  if (lines[0]?.trim() !== '---') {
    report(
      1,
      'a lab starts with YAML front matter between two `---` lines',
      '--- / ocilab: 1 / id: my-lab / title: ... / summary: ... / ---',
    );
    return undefined;
  }
  const close = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
  if (close < 0) {
    report(1, 'the front matter is not closed: add a line `---` after it');
    return undefined;
  }
  return { source: lines.slice(1, close).join('\n'), firstLine: 2, endLine: close + 1 };
}

/** Scans the lines after the front matter, which ends on line `frontEnd`. */
export function scanBody(lines: string[], frontEnd: number, report: Report): ScannedBody {
  const intro: string[] = [];
  const steps: ScannedStep[] = [];
  let current: ScannedStep | undefined;
  let sawTitle = false;
  const prose = (text: string) => {
    if (current) current.parts.push({ kind: 'prose', text });
    else intro.push(text);
  };

  for (let i = frontEnd; i < lines.length; i++) {
    const line = lineAt(lines, i);
    const lineNo = i + 1;

    const fence = FENCE.exec(line);
    if (fence) {
      const [, indent = '', marker = '```', info = ''] = fence;
      const closeAt = findFenceClose(lines, i + 1, marker);
      if (closeAt < 0) report(lineNo, `this code block is never closed: add a line \`${marker}\``);
      const end = closeAt < 0 ? lines.length : closeAt;
      const raw = lines.slice(i, Math.min(end + 1, lines.length)).join('\n');
      const brace = info.trim().indexOf('{');
      if (current && brace >= 0) {
        const attributes = info.trim().slice(brace);
        const column = indent.length + marker.length + 1 + (info.length - info.trimStart().length) + brace;
        current.parts.push({ kind: 'block', block: { line: lineNo, attributes, column, body: lines.slice(i + 1, end).join('\n'), raw } });
      } else {
        prose(raw);
      }
      i = end;
      continue;
    }

    const heading = STEP_HEADING.exec(line);
    if (heading?.[1] !== undefined) {
      current = { title: heading[1].trim(), line: lineNo, parts: [] };
      steps.push(current);
      continue;
    }

    if (!current && !sawTitle && TITLE_HEADING.test(line)) {
      sawTitle = true; // The `# Title` repeats the front matter's title for readers on GitHub.
      continue;
    }

    const tip = TIP.exec(line);
    if (tip && current) {
      const hint: string[] = tip[1] ? [tip[1]] : [];
      while (i + 1 < lines.length && lineAt(lines, i + 1).startsWith('>')) {
        i++;
        hint.push(lineAt(lines, i).replace(/^>\s?/, ''));
      }
      const text = hint.join('\n').trim();
      if (text) current.parts.push({ kind: 'hint', text });
      else report(lineNo, 'this hint is empty: write the hint on the `>` lines below `> [!TIP]`');
      continue;
    }

    prose(line);
  }
  return { intro: intro.join('\n').trim(), steps };
}

function findFenceClose(lines: string[], from: number, marker: string): number {
  for (let i = from; i < lines.length; i++) {
    const close = FENCE_CLOSE.exec(lineAt(lines, i))?.[1];
    if (close?.startsWith(marker.charAt(0)) && close.length >= marker.length) return i;
  }
  return -1;
}

function lineAt(lines: string[], index: number): string {
  return lines[index] ?? '';
}
