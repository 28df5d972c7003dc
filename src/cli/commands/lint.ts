// ocilab lint <file>...: every problem of every lab file, as file:line: message.
import { readFile } from 'node:fs/promises';
import { EXIT, formatProblem } from '../../errors.js';
import { parseLab } from '../../lab/parse.js';
import { defineCommand } from '../command.js';
import { out } from './shared.js';

export default defineCommand({
  about: `Checks lab files and reports every problem as file:line: message.`,
  options: {},
  args: { min: 1, max: Infinity, usage: 'Which lab files? e.g. `ocilab lint labs/*.md`' },
  async run(files) {
    let problems = 0;
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        process.stderr.write(`${file}: cannot read this file\n`);
        problems++;
        continue;
      }
      const result = parseLab(text, file);
      if (result.ok) {
        const checks = result.lab.steps.reduce((n, s) => n + s.checks.length, 0);
        const diagnoses = result.lab.steps.reduce((n, s) => n + s.diagnoses.length, 0);
        out(`✓ ${file}: ${result.lab.steps.length} steps, ${checks} checks, ${diagnoses} diagnoses\n`);
      } else {
        for (const problem of result.problems) process.stderr.write(`${formatProblem(problem)}\n`);
        problems += result.problems.length;
      }
    }
    return problems > 0 ? EXIT.usage : EXIT.ok;
  },
});
