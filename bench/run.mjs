// npm run bench: runs every benchmark section and writes bench/results.md with the machine's description.
// A section is a module exporting `run()`, which measures and returns its Markdown.
import { writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './common.mjs';

const SECTIONS = ['./startup.mjs', './oci.mjs'];

const parts = [];
for (const section of SECTIONS) parts.push(await (await import(section)).run());

const report = `# ocilab benchmark results

Written by \`npm run bench\` on ${new Date().toISOString()}.
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node.js ${process.version}.
The machines are shared and noisy: compare each figure with its reference from the same run.

${parts.join('\n')}`;
writeFileSync(join(ROOT, 'bench', 'results.md'), report);
process.stdout.write(report);
