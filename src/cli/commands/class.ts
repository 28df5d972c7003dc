// ocilab class: the instructor's roll-up of the students' `ocilab report --json` files, given one by one or
// as directories of them (what `ansible/collect.yml` fetches). A file that is not a report this ocilab
// reads is named with the reason and left out; the others still count.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Chalk } from 'chalk';
import { EXIT, UsageError } from '../../errors.js';
import type { Report } from '../../report/model.js';
import { defineCommand } from '../command.js';
import { packageVersion } from '../paths.js';
import { CANNOT_WRITE, out, useColor } from './shared.js';

interface Unread {
  file: string;
  reason: string;
}

export default defineCommand({
  about: `Rolls up the students' reports (each made with \`ocilab report --json > NAME.json\`) into one matrix,
students × task steps (✓ done, ✗ failed, ↷ skipped, · not reached), the steps where most students are
stuck or spent the longest first. A directory stands for every *.json file in it. Files that are not
ocilab reports are named and skipped.`,
  more: `Exit status: 0 when at least one report was read, 2 when none was.`,
  options: {
    html: { type: 'string', value: '<file>', help: 'also write the roll-up as one self-contained HTML page' },
    json: {
      type: 'boolean',
      help: 'print the roll-up as JSON instead of the matrix: {"steps", "students": [{"name", "cells", "labs"}], "unread"}',
    },
  },
  args: {
    min: 1,
    max: Infinity,
    usage: '`ocilab class` takes the report files to roll up, or directories of them, e.g. `ocilab class reports/`.',
  },
  async run(args, flags) {
    const { readReport } = await import('../../report/json.js');
    const { rollUp } = await import('../../report/class.js');
    const reports: { file: string; report: Report }[] = [];
    const { files, unread } = await reportFiles(args);
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        unread.push({ file, reason: cannotRead(error) });
        continue;
      }
      const read = readReport(text);
      if (read.ok) reports.push({ file, report: read.report });
      else unread.push({ file, reason: read.reason });
    }
    for (const { file, reason } of unread) process.stderr.write(`ocilab: skipped ${file}: ${reason}\n`);
    if (reports.length === 0) {
      const given = unread.length === 1 ? 'The file given is not' : `None of the ${unread.length} files given is`;
      throw new UsageError(`${given} an ocilab report; make them with \`ocilab report --json\`.`);
    }
    const roll = rollUp(reports);
    const meta = { unread, generatedAt: new Date().toISOString(), ocilab: packageVersion() };
    // With --json, stdout is the JSON alone: the note about the HTML file goes to stderr.
    const note = (text: string) => (flags.json ? process.stderr.write(text) : out(text));
    if (flags.json) {
      const { classJson } = await import('../../report/class-json.js');
      out(classJson(roll, meta));
    } else {
      const { classText } = await import('../../report/text.js');
      out(classText(roll, new Chalk({ level: useColor() ? 1 : 0 })));
      if (unread.length > 0)
        out(`\nSkipped ${unread.length === 1 ? '1 file' : `${unread.length} files`}: ${unread.map((u) => u.file).join(', ')}\n`);
    }
    if (flags.html !== undefined) {
      const { classHtml } = await import('../../report/class-html.js');
      const path = resolve(flags.html);
      const html = classHtml(roll, meta);
      try {
        await writeFile(path, html);
      } catch (error) {
        throw new UsageError(CANNOT_WRITE(path, error));
      }
      note(`Wrote the HTML roll-up to ${path}\n`);
    }
    return EXIT.ok;
  },
});

const cannotRead = (error: unknown) => `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;

/**
 * The files to read: each argument, or every *.json file in it (in name order) when it is a directory.
 * A directory with none is named as unread, so a wrong path is not silently an empty class.
 */
async function reportFiles(args: readonly string[]): Promise<{ files: string[]; unread: Unread[] }> {
  const files: string[] = [];
  const unread: Unread[] = [];
  for (const arg of args) {
    const isDirectory = await stat(arg).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDirectory) {
      files.push(arg);
      continue;
    }
    let names: string[];
    try {
      names = await readdir(arg);
    } catch (error) {
      unread.push({ file: arg, reason: cannotRead(error) });
      continue;
    }
    const inside = names.filter((name) => name.endsWith('.json')).sort();
    if (inside.length === 0) unread.push({ file: arg, reason: 'a directory with no *.json file in it' });
    files.push(...inside.map((name) => join(arg, name)));
  }
  return { files, unread };
}
