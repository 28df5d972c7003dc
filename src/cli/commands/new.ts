// ocilab new <LAB.md>: writes a lab to start authoring from, which lints and proves as it is.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { EXIT, UsageError } from '../../errors.js';
import { labScaffold, namesFromFile } from '../../lab/scaffold.js';
import { slug } from '../../lab/schema.js';
import { defineCommand } from '../command.js';
import { CANNOT_WRITE, out } from './shared.js';

export default defineCommand({
  about: `Writes a new lab file to start from: front matter, a reading step, a step with a command and two
checks, and a hint. It lints and proves as it is (\`ocilab lint FILE\`, \`ocilab prove FILE\`). The id
and title come from the file's name unless given. An existing file is never overwritten.`,
  options: {
    id: { type: 'string', value: '<id>', help: "the lab's id (default: from the file name, e.g. our-registry for 03-our-registry.md)" },
    title: { type: 'string', value: '<text>', help: "the lab's title (default: from the id)" },
  },
  args: { min: 1, max: 1, usage: '`ocilab new` takes the file to write, e.g. `ocilab new our-labs/03-our-registry.md`.' },
  async run([file = ''], flags) {
    if (!file.endsWith('.md')) throw new UsageError(`A lab is a Markdown file: name it NAME.md (got ${file}).`);
    const names = namesFromFile(basename(file));
    const id = flags.id ?? names.id;
    if (!slug.safeParse(id).success)
      throw new UsageError(`'${id}' cannot be a lab's id: use lower-case letters, digits and dashes, e.g. our-registry.`);
    const title = flags.title ?? (flags.id ? namesFromFile(`${id}.md`).title : names.title);
    const path = resolve(file);
    try {
      // A workshop keeps its own labs in a directory of their own (`./our-labs/`): make it, as mkdir -p would.
      await mkdir(dirname(path), { recursive: true });
      // `wx`: fails when the file exists, with nothing written.
      await writeFile(path, labScaffold({ id, title }), { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new UsageError(`${file} exists already: ocilab new never overwrites a file.`);
      throw new UsageError(CANNOT_WRITE(path, error));
    }
    out(
      `Wrote the lab '${id}' to ${file}.\nNext: edit it, then \`ocilab lint ${file}\` and \`ocilab prove ${file}\`; \`ocilab run ${file}\` runs it.\n`,
    );
    return EXIT.ok;
  },
});
