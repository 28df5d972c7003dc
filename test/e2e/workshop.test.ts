// A workshop as an instructor writes one: a shipped lab and a directory of their own labs (made with
// `ocilab new`), variables for all labs and per lab. Its labs are listed, run, resumed, reported and
// rolled up like the shipped ones; --var still wins; which workshop is in effect; broken files named
// file:line:col; and `ocilab new` output lints and proves.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { repoRoot, runCli, shippedLabs, type CliOptions } from '../helpers/cli.js';

let dir: string;
let workshop: string;
let ownLab: string;

const WORKSHOP = `ocilab-workshop: 1
title: SA onboarding, day 1
labs: [tags, ./our-labs/]
variables: { scheme: http }
lab-variables:
  tags: { host: "registry.lan:5000", path: library/busybox }
  our-registry: { greeting: from-the-workshop }
`;

/** The CLI with its own state directory, no workshop from this machine, and a workspace under `dir`. */
const cli = (args: string[], state: string, env: CliOptions['env'] = {}) =>
  runCli(args, { env: { XDG_STATE_HOME: state, OCILAB_WORKSHOP: undefined, ...env }, cwd: dir });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-workshop-'));
  await mkdir(join(dir, 'our-labs'));
  const made = await runCli(['new', 'our-labs/03-our-registry.md'], { cwd: dir });
  expect(made.exitCode, made.all).toBe(0);
  ownLab = join(dir, 'our-labs', '03-our-registry.md');
  workshop = join(dir, 'workshop.yml');
  await writeFile(workshop, WORKSHOP);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const state = () => mkdtemp(join(dir, 'state-'));
const workspace = () => mkdtemp(join(dir, 'work-'));

describe("a workshop's labs", () => {
  it('are listed under its title, numbered in its order: the shipped lab, then the directory of labs', async () => {
    const result = await cli(['list', '--workshop', workshop], await state());
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`SA onboarding, day 1  (${workshop})`);
    expect([...result.stdout.matchAll(/^(\d+) {2}(\S+) {2}/gm)].map((m) => `${m[1]} ${m[2]}`)).toEqual(['1 tags', '2 our-registry']);
  });

  it("run by number with the workshop's variables, record the lab file in progress, and are listed as done", async () => {
    const home = await state();
    const workdir = await workspace();
    const run = await cli(['run', '2', '--yes', '--workshop', workshop, '--workdir', workdir], home);
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain('✓ greeting.txt holds the greeting');
    expect(await readFile(join(workdir, 'greeting.txt'), 'utf8')).toBe('from-the-workshop\n');
    const progress = JSON.parse(await readFile(join(home, 'ocilab', 'progress', 'our-registry.json'), 'utf8')) as Record<string, unknown>;
    // The workshop's values are not saved: a changed workshop file reaches the learner at once.
    expect(progress).toMatchObject({ version: 1, lab: 'our-registry', file: ownLab, workdir, vars: {} });

    const again = await cli(['run', 'our-registry', '--yes', '--workshop', workshop], home);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toContain('Every step of this lab is done.');
    expect((await cli(['list', '--workshop', workshop], home)).stdout).toMatch(/^2 {2}our-registry {2}Our registry {2}\(done\)$/m);
  });

  it('are reset by their number, alone or with --all, as the shipped labs are', async () => {
    const home = await state();
    const run = await cli(['run', '2', '--yes', '--workshop', workshop, '--workdir', await workspace()], home);
    expect(run.exitCode, run.all).toBe(0);
    const reset = await cli(['reset', '2', '--workshop', workshop], home);
    expect(reset.exitCode, reset.all).toBe(0);
    expect(reset.stdout).toContain("Progress in 'our-registry' cleared");
    expect((await cli(['list', '--workshop', workshop], home)).stdout).not.toMatch(/^2 {2}our-registry .*\(done\)$/m);

    expect((await cli(['run', '2', '--yes', '--workshop', workshop, '--workdir', await workspace()], home)).exitCode).toBe(0);
    const all = await cli(['reset', '--all'], home, { OCILAB_WORKSHOP: workshop });
    expect(all.exitCode, all.all).toBe(0);
    expect(all.stdout).toContain("'our-registry'");
    expect((await cli(['list', '--workshop', workshop], home)).stdout).not.toContain('(done)');
  });

  it("take the learner's --var over the workshop's, and keep it for the next run", async () => {
    const home = await state();
    const workdir = await workspace();
    const run = await cli(['run', '2', '--yes', '--workshop', workshop, '--workdir', workdir, '--var', 'greeting=mine'], home);
    expect(run.exitCode, run.all).toBe(0);
    expect(await readFile(join(workdir, 'greeting.txt'), 'utf8')).toBe('mine\n');
    const verified = await cli(['verify', '2', '--json', '--workshop', workshop], home);
    expect(verified.exitCode, verified.all).toBe(0);
  });

  it('are reported with their file and the workshop, and rolled up by `ocilab class`', async () => {
    const home = await state();
    const run = await cli(['run', '2', '--yes', '--workshop', workshop, '--workdir', await workspace()], home);
    expect(run.exitCode, run.all).toBe(0);
    const reported = await cli(['report', '--json'], home, { OCILAB_WORKSHOP: workshop });
    expect(reported.exitCode, reported.all).toBe(0);
    const report = JSON.parse(reported.stdout) as Report;
    expect(report.workshop).toEqual({ title: 'SA onboarding, day 1', file: workshop });
    expect(report.labs.map(({ number, id, file, state }) => ({ number, id, file, state }))).toEqual([
      { number: 1, id: 'tags', file: join(repoRoot, 'labs', '01-tags.md'), state: 'not-started' },
      { number: 2, id: 'our-registry', file: ownLab, state: 'finished' },
    ]);

    const file = join(dir, 'learner.json');
    await writeFile(file, reported.stdout);
    const rolled = await runCli(['class', file]);
    expect(rolled.exitCode, rolled.all).toBe(0);
    expect(rolled.stdout).toMatch(/^\s*\d+\s+our-registry\s+Write a file\s+0 of 1 stuck/m);
    expect(rolled.stdout).toMatch(/✓\s+1\/2/);
  });

  it('are reported without a workshop too, once worked on: progress names their file', async () => {
    const home = await state();
    const run = await cli(['run', ownLab, '--yes', '--workdir', await workspace()], home);
    expect(run.exitCode, run.all).toBe(0);
    const report = JSON.parse((await cli(['report', '--json'], home)).stdout) as Report;
    expect(report.workshop).toBeUndefined();
    const shipped = shippedLabs();
    expect(report.labs.map((lab) => [lab.number, lab.id, lab.state])).toEqual([
      ...shipped.map(({ number, id }) => [number, id, 'not-started']),
      [shipped.length + 1, 'our-registry', 'finished'],
    ]);
  });
});

describe('which workshop is in effect', () => {
  let other: string;
  beforeAll(async () => {
    other = join(dir, 'other.yml');
    await writeFile(other, 'ocilab-workshop: 1\ntitle: Day 2\nlabs: [runc]\n');
  });
  const firstLine = async (args: string[], env: CliOptions['env']) =>
    (await cli(['list', ...args], await state(), env)).stdout.split('\n')[0];

  it.each([
    ['$OCILAB_WORKSHOP alone', [], () => workshop, 'SA onboarding, day 1'],
    ['--workshop over $OCILAB_WORKSHOP', ['--workshop', 'other.yml'], () => workshop, 'Day 2'],
    [
      '--workshop none over $OCILAB_WORKSHOP: the shipped labs',
      ['--workshop', 'none'],
      () => workshop,
      '1  tags  List every tag of an image repository  (10 min)',
    ],
    ['$OCILAB_WORKSHOP=none: the shipped labs', [], () => 'none', '1  tags  List every tag of an image repository  (10 min)'],
  ])('%s', async (_name, args, env, first) => {
    const line = await firstLine(args, { OCILAB_WORKSHOP: env() });
    expect(line?.startsWith(first), line).toBe(true);
  });

  it('names a workshop file that cannot be read, and how it was named', async () => {
    const result = await cli(['run', '1'], await state(), { OCILAB_WORKSHOP: join(dir, 'gone.yml') });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`Cannot read the workshop file ${join(dir, 'gone.yml')} (named by $OCILAB_WORKSHOP): ENOENT.`);
  });
});

describe('a broken workshop', () => {
  /** One row per broken workshop: its text, and the problems every command and lint give, as line:column: message. */
  const cases: [string, string, string[]][] = [
    ['a YAML syntax error', 'ocilab-workshop: 1\ntitle: T\nlabs: [tags\n', ['4:1: workshop file: Flow sequence in block collection']],
    [
      'a newer format',
      'ocilab-workshop: 3\ntitle: T\nlabs: [tags]\n',
      ['1:1: this workshop file is written for workshop format 3', 'upgrade ocilab'],
    ],
    ['an unknown field', 'ocilab-workshop: 1\ntitle: T\nlabs: [tags]\nlab-vars: {}\n', ["4:1: workshop file: unknown field 'lab-vars'"]],
    [
      'a lab file that is not there',
      'ocilab-workshop: 1\ntitle: T\nlabs:\n  - tags\n  - ./our-labs/04-gone.md\n',
      ['5:5: ./our-labs/04-gone.md: no such file or directory'],
    ],
    [
      'a shipped lab that does not exist',
      'ocilab-workshop: 1\ntitle: T\nlabs: [tags, registry]\n',
      [
        `3:14: no lab shipped with ocilab has the id 'registry' (they are: ${shippedLabs()
          .map((lab) => lab.id)
          .join(', ')})`,
      ],
    ],
    [
      'lab-variables of a lab not in the workshop, and of a variable its lab lacks',
      'ocilab-workshop: 1\ntitle: T\nlabs: [tags]\nlab-variables:\n  runc: { img: x }\n  tags: { image: x }\n',
      [
        "5:3: lab-variables: 'runc' is not a lab of this workshop; its labs are: tags",
        "6:11: lab-variables: lab 'tags' has no variable 'image'",
      ],
    ],
    [
      'a variable no lab has',
      'ocilab-workshop: 1\ntitle: T\nlabs: [runc]\nvariables: { imag: x }\n',
      ["4:14: variables: no lab of this workshop has a variable 'imag'"],
    ],
  ];

  it.each(cases)('%s: every command refuses it with file:line:col, exit 2, and lint says the same', async (name, text, expected) => {
    const file = join(dir, `broken-${name.replace(/\W+/g, '-')}.yml`);
    await writeFile(file, text);
    // A problem starting with line:column is at that place of the file; the rest are words it says too.
    const said = (problem: string) => (/^\d+:\d+: /.test(problem) ? `${file}:${problem}` : problem);
    for (const args of [['list'], ['run', '1', '--yes'], ['report'], ['doctor']]) {
      const result = await cli([...args, '--workshop', file], await state());
      expect(result.exitCode, `${args[0]}: ${result.all}`).toBe(2);
      expect(result.stderr).toContain(`The workshop file ${file} has problems`);
      for (const problem of expected) expect(result.stderr).toContain(said(problem));
    }
    const linted = await runCli(['lint', file]);
    expect(linted.exitCode).toBe(2);
    for (const problem of expected) expect(linted.stderr).toContain(said(problem));
  });

  it('with two labs of one id: lint names the clash with both files, and each lab problem in its own file', async () => {
    await mkdir(join(dir, 'clash'));
    await writeFile(join(dir, 'clash', 'a-tags.md'), (await readFile(ownLab, 'utf8')).replace('id: our-registry', 'id: tags'));
    await writeFile(join(dir, 'clash', 'b-broken.md'), (await readFile(ownLab, 'utf8')).replace('id: our-registry', 'id: Broken'));
    const file = join(dir, 'clash.yml');
    await writeFile(file, 'ocilab-workshop: 1\ntitle: T\nlabs:\n  - tags\n  - ./clash\n');
    const result = await runCli(['lint', 'clash.yml'], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toContain("✗ clash.yml: workshop 'T', 2 labs");
    expect(result.stderr).toContain(
      `clash.yml:5:5: two labs have the id 'tags': ${join(repoRoot, 'labs', '01-tags.md')} and ${join(dir, 'clash', 'a-tags.md')}`,
    );
    expect(result.stderr).toMatch(/^clash\/b-broken\.md:3: front matter: id: use lower-case letters/m);
  });
});

describe('ocilab lint of a workshop', () => {
  it('knows one by its first line when its name does not say, and checks the labs it names', async () => {
    const file = join(dir, 'classroom');
    await writeFile(file, `# day 1\n${WORKSHOP}`);
    const result = await runCli(['lint', 'classroom'], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe("✓ classroom: workshop 'SA onboarding, day 1', 2 labs");
    expect(lines[1]).toMatch(new RegExp(`^  ✓ ${join(repoRoot, 'labs', '01-tags.md')}: \\d+ steps`));
    expect(lines[2]).toBe('  ✓ our-labs/03-our-registry.md: 2 steps, 2 checks, 0 diagnoses');
  });
});

describe('ocilab new', () => {
  it('writes a lab that lints and proves as it is, and never overwrites a file', async () => {
    const file = join(dir, 'fresh', 'first-lab.md');
    await mkdir(join(dir, 'fresh'));
    const made = await runCli(['new', file, '--title', 'My first lab']);
    expect(made.exitCode, made.all).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^---\nocilab: 1\nid: first-lab\ntitle: My first lab\n/);

    const linted = await runCli(['lint', file]);
    expect(linted.exitCode, linted.all).toBe(0);
    expect(linted.stdout).toBe(`✓ ${file}: 2 steps, 2 checks, 0 diagnoses\n`);
    const proved = await runCli(['prove', file, '--json']);
    expect(proved.exitCode, proved.all).toBe(0);
    expect(JSON.parse(proved.stdout)).toMatchObject({ proven: true });

    const again = await runCli(['new', file]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('exists already: ocilab new never overwrites a file');
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('makes the directory the lab goes in, as a workshop keeps its own labs in one', async () => {
    const made = await runCli(['new', 'new-labs/deeper/04-more.md'], { cwd: dir });
    expect(made.exitCode, made.all).toBe(0);
    expect(made.stdout).toContain("Wrote the lab 'more' to new-labs/deeper/04-more.md.");
    expect((await runCli(['lint', join(dir, 'new-labs', 'deeper', '04-more.md')])).exitCode).toBe(0);
  });
});
