// ocilab class: the instructor's roll-up of the students' `ocilab report --json` files. A file that is
// not a report this ocilab reads is named with the reason and left out; the others still count.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Chalk } from 'chalk';
import { EXIT, UsageError } from '../../errors.js';
import type { Report } from '../../report/model.js';
import { defineCommand } from '../command.js';
import { packageVersion } from '../paths.js';
import { CANNOT_WRITE, out, useColor } from './shared.js';

export default defineCommand({
  about: `Rolls up the students' reports (each made with \`ocilab report --json > NAME.json\`) into one matrix,
students × task steps (✓ done, ✗ failed, ↷ skipped, · not reached), the steps where most students are
stuck or spent the longest first. Files that are not ocilab reports are named and skipped.`,
  more: `Exit status: 0 when at least one report was read, 2 when none was.`,
  options: { html: { type: 'string', value: '<file>', help: 'also write the roll-up as one self-contained HTML page' } },
  args: { min: 1, max: Infinity, usage: '`ocilab class` takes the report files to roll up, e.g. `ocilab class reports/*.json`.' },
  async run(files, flags) {
    const { readReport } = await import('../../report/json.js');
    const { rollUp } = await import('../../report/class.js');
    const reports: { file: string; report: Report }[] = [];
    const unread: { file: string; reason: string }[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        unread.push({ file, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
        continue;
      }
      const read = readReport(text);
      if (read.ok) reports.push({ file, report: read.report });
      else unread.push({ file, reason: read.reason });
    }
    for (const { file, reason } of unread) process.stderr.write(`ocilab: skipped ${file}: ${reason}\n`);
    if (reports.length === 0) {
      throw new UsageError(
        `None of the ${files.length === 1 ? 'file' : `${files.length} files`} given is an ocilab report; make them with \`ocilab report --json\`.`,
      );
    }
    const roll = rollUp(reports);
    const { classText } = await import('../../report/text.js');
    out(classText(roll, new Chalk({ level: useColor() ? 1 : 0 })));
    if (unread.length > 0)
      out(`\nSkipped ${unread.length === 1 ? '1 file' : `${unread.length} files`}: ${unread.map((u) => u.file).join(', ')}\n`);
    if (flags.html !== undefined) {
      const { classHtml } = await import('../../report/class-html.js');
      const path = resolve(flags.html);
      const html = classHtml(roll, { unread, generatedAt: new Date().toISOString(), ocilab: packageVersion() });
      try {
        await writeFile(path, html);
      } catch (error) {
        throw new UsageError(CANNOT_WRITE(path, error));
      }
      out(`Wrote the HTML roll-up to ${path}\n`);
    }
    return EXIT.ok;
  },
});
