// ocilab report: what this learner did in every lab on this machine, for the terminal, a CI grader
// (JUnit), an instructor (one HTML file) or `ocilab class` (JSON).
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Chalk } from 'chalk';
import { EXIT, UsageError } from '../../errors.js';
import { defineCommand } from '../command.js';
import { parseLabFile } from '../catalog.js';
import { openCatalog } from '../workshop.js';
import { packageVersion } from '../paths.js';
import { CANNOT_WRITE, out, useColor, WORKSHOP_OPTION } from './shared.js';

export default defineCommand({
  about: `Summarises your progress in every lab on this machine (the workshop's, else the shipped ones, then
any other lab file you worked on): each step's status, attempts, hints opened and time spent, with
your user and host named. Without options it prints a summary.`,
  more: `--junit and --html can be given together, and with --json.`,
  options: {
    json: { type: 'boolean', help: 'print the report as JSON (for `ocilab class`: e.g. ocilab report --json > $(hostname).json)' },
    junit: { type: 'string', value: '<file>', help: 'write it as JUnit XML, one testcase per check (for CI graders)' },
    html: { type: 'string', value: '<file>', help: 'write it as one self-contained HTML page (for an instructor)' },
    workshop: WORKSHOP_OPTION,
  },
  args: { min: 0, max: 0, usage: '`ocilab report` takes no arguments: it reports every lab. See `ocilab report --help`.' },
  async run(_args, flags) {
    const { collectReport } = await import('../../report/collect.js');
    const catalog = await openCatalog(flags.workshop);
    const { workshop } = catalog;
    const { report, ignored } = await collectReport(await catalog.labs(), packageVersion(), new Date(), {
      ...(workshop ? { workshop: { title: workshop.title, file: workshop.file }, presets: (lab) => workshop.presets(lab) } : {}),
      readLab: async (file) => {
        const read = await parseLabFile(file);
        return read?.ok ? read.lab : undefined;
      },
    });
    for (const { file, reason } of ignored) process.stderr.write(`ocilab: not in the report: ${file}: ${reason}\n`);
    // With --json, stdout is the JSON alone: notes about written files go to stderr.
    const note = (text: string) => (flags.json ? process.stderr.write(text) : out(text));
    if (flags.junit !== undefined) {
      const { reportJunit } = await import('../../report/junit.js');
      note(`Wrote the JUnit report to ${await write(flags.junit, reportJunit(report))}\n`);
    }
    if (flags.html !== undefined) {
      const { reportHtml } = await import('../../report/html.js');
      note(`Wrote the HTML report to ${await write(flags.html, reportHtml(report))}\n`);
    }
    if (flags.json) {
      const { reportJson } = await import('../../report/json.js');
      out(reportJson(report));
    } else if (flags.junit === undefined && flags.html === undefined) {
      const { reportText } = await import('../../report/text.js');
      out(reportText(report, new Chalk({ level: useColor() ? 1 : 0 })));
    }
    return EXIT.ok;
  },
});

async function write(file: string, text: string): Promise<string> {
  const path = resolve(file);
  try {
    await writeFile(path, text);
  } catch (error) {
    throw new UsageError(CANNOT_WRITE(path, error));
  }
  return path;
}
