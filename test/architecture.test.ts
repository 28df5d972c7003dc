// Dependencies point one way (docs/architecture.md). These rules fail the build when a module reaches
// for something it must not, the way go-containerregistry's depcheck test guards crane.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(import.meta.dirname, '..', 'src');

function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

const files = sources().map((file) => {
  const text = readFileSync(file, 'utf8');
  const imports = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => (m[1] ?? m[2]) as string,
  );
  return { path: relative(SRC, file), text, imports };
});

const inside = (dir: string) => files.filter((f) => f.path.startsWith(`${dir}/`));

describe('module boundaries', () => {
  it('finds the source files', () => {
    expect(inside('lab').length).toBeGreaterThan(2);
    expect(inside('cli').length).toBeGreaterThan(2);
  });

  it('keeps lab/ pure: no file system, process or terminal', () => {
    for (const file of inside('lab')) {
      const foreign = file.imports.filter((i) => !i.startsWith('./') && i !== '../errors.js' && i !== 'yaml' && i !== 'zod');
      expect(foreign, file.path).toEqual([]);
      expect(file.text, file.path).not.toMatch(/\bprocess\.(env|argv|cwd|std(in|out|err)|on|exit)\b/);
    }
  });

  it('lets oci/ import only Node built-ins, tar and its own modules', () => {
    for (const file of inside('oci')) {
      const foreign = file.imports.filter((i) => !i.startsWith('node:') && !i.startsWith('./') && i !== 'tar');
      expect(foreign, file.path).toEqual([]);
    }
  });

  it('lets sys/ import only Node built-ins, execa and its own modules', () => {
    for (const file of inside('sys')) {
      const foreign = file.imports.filter((i) => !i.startsWith('node:') && !i.startsWith('./') && i !== 'execa');
      expect(foreign, file.path).toEqual([]);
    }
  });

  it('leaves enquirer, argv and the exit status to cli/', () => {
    for (const file of files.filter((f) => !f.path.startsWith('cli/'))) {
      expect(file.imports, file.path).not.toContain('enquirer');
      expect(file.text, file.path).not.toMatch(/process\.(argv|exitCode)/);
    }
  });

  it('never calls process.exit', () => {
    for (const file of files) expect(file.text, file.path).not.toMatch(/process\.exit\(/);
  });

  it('keeps the runner and the checks silent: output goes through events', () => {
    for (const file of [...inside('runner'), ...inside('checks')]) {
      expect(file.text, file.path).not.toMatch(/console\.|process\.std(out|err)\.write/);
    }
  });

  it('starts every subprocess through sys/exec.ts', () => {
    for (const file of files.filter((f) => f.path !== 'sys/exec.ts')) {
      const spawners = file.imports.filter((i) => i === 'execa' || i === 'node:child_process');
      expect(spawners, file.path).toEqual([]);
    }
  });
});
