// ocilab lint <file>...: every problem of every lab file, and of every workshop file with the labs it
// names, as file:line: message.
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative } from 'node:path';
import { EXIT, formatProblem } from '../../errors.js';
import type { Lab, Problem } from '../../lab/model.js';
import { parseLab } from '../../lab/parse.js';
import { defineCommand } from '../command.js';
import { readWorkshop } from '../workshop.js';
import { out } from './shared.js';

export default defineCommand({
  about: `Checks lab files and workshop files and reports every problem as file:line: message. A workshop file
(YAML starting with \`ocilab-workshop:\`, or named *.yml or *.yaml) is checked with every lab it names:
that each can be found and is valid, that their ids are unique, and that its variables are theirs.`,
  options: {},
  args: { min: 1, max: Infinity, usage: 'Which lab or workshop files? e.g. `ocilab lint labs/*.md` or `ocilab lint workshop.yml`' },
  async run(files) {
    let problems = 0;
    const report = (found: Problem[]) => {
      for (const problem of found) process.stderr.write(`${formatProblem(problem)}\n`);
      problems += found.length;
    };
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        process.stderr.write(`${file}: cannot read this file\n`);
        problems++;
        continue;
      }
      if (isWorkshop(file, text)) {
        const read = await readWorkshop({ file, namedBy: 'given to lint' });
        if (read.workshop)
          out(`${read.problems.length > 0 ? '✗' : '✓'} ${file}: workshop '${read.workshop.title}', ${count(read.labs.length, 'lab')}\n`);
        // The labs it names are found from its directory: named here as seen from where lint was started.
        for (const lab of read.labs) out(`  ${summary({ ...lab, file: shown(lab.file) })}\n`);
        report(read.problems.map((problem) => (problem.file === file ? problem : { ...problem, file: shown(problem.file) })));
        continue;
      }
      const result = parseLab(text, file);
      if (result.ok) out(`${summary(result.lab)}\n`);
      else report(result.problems);
    }
    return problems > 0 ? EXIT.usage : EXIT.ok;
  },
});

/** By its name (`.md` a lab, `.yml` or `.yaml` a workshop), else by its first line that says something. */
function isWorkshop(file: string, text: string): boolean {
  const ext = extname(file).toLowerCase();
  if (ext === '.md') return false;
  if (ext === '.yml' || ext === '.yaml') return true;
  const first = text.split('\n').find((line) => line.trim() !== '' && !line.startsWith('#') && line.trim() !== '---');
  return first?.startsWith('ocilab-workshop') ?? false;
}

function summary(lab: Lab): string {
  const checks = lab.steps.reduce((n, s) => n + s.checks.length, 0);
  const diagnoses = lab.steps.reduce((n, s) => n + s.diagnoses.length, 0);
  return `✓ ${lab.file}: ${lab.steps.length} steps, ${checks} checks, ${diagnoses} diagnoses`;
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** A file as the author sees it: relative to where lint was started when it is below it. */
function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}
