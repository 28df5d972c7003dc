// Dependencies point one way (docs/architecture.md). These rules fail the build when a module reaches
// for something it must not, the way go-containerregistry's depcheck test guards crane.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const SRC = join(import.meta.dirname, '..', 'src');

function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

const files = sources().map((file) => {
  const text = readFileSync(file, 'utf8');
  // `import x from '…'`, `export … from '…'`, `import '…'` (for its effects) and `import('…')`.
  const imports = [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => (m[1] ?? m[2] ?? m[3]) as string);
  return { path: relative(SRC, file), text, imports };
});

const inside = (dir: string) => files.filter((f) => f.path.startsWith(`${dir}/`));

/** The module an import names, as a path under src/ (`oci/pull.ts`), or the package it names (`tar`). */
function target(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return join(dirname(from), specifier).replace(/\.js$/, '.ts');
}

/** Every module of src/ and the modules of src/ it imports, type-only imports included. */
const graph = new Map(files.map((f) => [f.path, f.imports.map((i) => target(f.path, i)).filter((t) => t.endsWith('.ts'))]));

/** The circles in the graph: strongly connected groups of more than one module, or a module importing itself. */
function circles(): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (module: string): void => {
    index.set(module, counter);
    low.set(module, counter);
    counter++;
    stack.push(module);
    for (const next of graph.get(module) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(module, Math.min(low.get(module) ?? 0, low.get(next) ?? 0));
      } else if (stack.includes(next)) low.set(module, Math.min(low.get(module) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(module) !== index.get(module)) return;
    const group: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member !== undefined) group.push(member);
    } while (member !== module && member !== undefined);
    if (group.length > 1 || (graph.get(module) ?? []).includes(module)) found.push(group.sort());
  };
  for (const module of graph.keys()) if (!index.has(module)) visit(module);
  return found;
}

/** Every module `from` reaches through its imports. */
function reachable(from: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...from];
  for (let module = todo.pop(); module !== undefined; module = todo.pop()) {
    for (const next of graph.get(module) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      todo.push(next);
    }
  }
  return seen;
}

/**
 * What each folder of src/ may import besides Node built-ins and its own modules, as the table in
 * docs/architecture.md states it: a folder (`sys/`), one module (`runner/ways.ts`) or a package.
 */
const ALLOWED: Record<string, string[]> = {
  lab: ['errors.ts', 'yaml', 'zod'],
  sys: ['execa'],
  oci: ['tar'],
  checks: ['lab/model.ts', 'lab/variables.ts', 'sys/', 'oci/'],
  runner: ['lab/', 'checks/', 'sys/', 'errors.ts'],
  render: ['runner/events.ts', 'oci/', 'lab/model.ts', 'checks/index.ts', 'chalk', 'marked', 'marked-terminal', 'cli-table3'],
  doctor: ['lab/', 'runner/ways.ts', 'runner/prompter.ts', 'sys/', 'oci/', 'chalk'],
  report: ['lab/', 'runner/progress.ts', 'checks/index.ts', 'sys/learner.ts', 'zod', 'chalk'],
  cli: ['errors.ts', 'lab/', 'sys/', 'oci/', 'checks/', 'runner/', 'render/', 'doctor/', 'report/', 'enquirer', 'chalk'],
};

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

  it('has no import circle anywhere in src/', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(circles()).toEqual([]);
  });

  it("keeps doctor/ away from the step loop, even through another module's imports", () => {
    const reached = reachable(inside('doctor').map((f) => f.path));
    expect(reached.has('doctor/plan.ts')).toBe(true);
    expect([...reached].filter((m) => m === 'runner/run.ts' || m === 'runner/actions.ts' || m.startsWith('cli/'))).toEqual([]);
  });

  it('lets every folder import only what docs/architecture.md says it may', () => {
    expect(Object.keys(ALLOWED).sort()).toEqual(
      [...new Set(files.map((f) => f.path.split('/')[0] ?? '').filter((dir) => !dir.endsWith('.ts')))].sort(),
    );
    for (const [dir, allowed] of Object.entries(ALLOWED)) {
      for (const file of inside(dir)) {
        const foreign = file.imports
          .filter((i) => !i.startsWith('node:'))
          .map((i) => target(file.path, i))
          .filter((t) => !t.startsWith(`${dir}/`) && !allowed.some((a) => (a.endsWith('/') ? t.startsWith(a) : t === a)));
        expect(foreign, file.path).toEqual([]);
      }
    }
  });

  it('starts every subprocess through sys/exec.ts', () => {
    for (const file of files.filter((f) => f.path !== 'sys/exec.ts')) {
      const spawners = file.imports.filter((i) => i === 'execa' || i === 'node:child_process');
      expect(spawners, file.path).toEqual([]);
    }
  });
});
