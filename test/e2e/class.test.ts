// `ocilab class` as an instructor runs it on the files students sent: alice failed "Edit config.json"
// and has not reached "Run the container", bob skipped "Generate the runtime spec" and finished, and
// carol's file was cut off in the middle. The matrix, its order of steps, the HTML page in Chromium.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumUsable, openPage, outputDir } from '../helpers/browser.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { skipUnless } from '../helpers/services.js';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'class');
const noBrowser = skipUnless(await chromiumUsable(), 'chromium is not installed (apt-get install chromium)');

let dir: string;
let alice: string;
let bob: string;
let carol: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-class-'));
  alice = join(dir, 'alice.json');
  bob = join(dir, 'bob.json');
  carol = join(dir, 'carol.json');
  await copyFile(join(FIXTURES, 'alice.json'), alice);
  await copyFile(join(FIXTURES, 'bob.json'), bob);
  // What an interrupted copy leaves: the first part of a good report.
  await writeFile(carol, (await readFile(join(FIXTURES, 'bob.json'), 'utf8')).slice(0, 400).replace('"bob"', '"carol"'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The steps in the order `class` must give them: most stuck first, then longest median time, then lab order. */
const ORDER = [
  ['runc', 'edit-config-json', 'Edit config.json', '1 of 2 stuck, median 7m 05s'],
  ['runc', 'run-the-container', 'Run the container', '1 of 2 stuck, median 3m 00s'],
  ['runc', 'build-the-root-filesystem', 'Build the root filesystem', '0 of 2 stuck, median 5m 50s'],
  ['tags', 'list-the-tags', 'List the tags', '0 of 2 stuck, median 1m 50s'],
  ['runc', 'generate-the-runtime-spec', 'Generate the runtime spec', '0 of 2 stuck, 1 skipped, median 1m 45s'],
  ['runc', 'check-that-runc-is-installed', 'Check that runc is installed', '0 of 2 stuck, median 25s'],
] as const;

describe('ocilab class', () => {
  it('prints the students × steps matrix, stuck steps first, and names the malformed file without failing', async () => {
    const result = await runCli(['class', alice, bob, carol]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`^ocilab: skipped ${carol}: not valid JSON \\(.+\\)$`, 'm'));
    expect(result.stderr).not.toContain(alice);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('2 students × 6 task steps, where most are stuck first');
    const header = lines.findIndex((line) => /^ +1 {2}2 {2}3 {2}4 {2}5 {2}6$/.test(line));
    expect(header, result.stdout).toBeGreaterThan(0);
    expect(lines.slice(header + 1, header + 3)).toEqual([
      'alice@ws-07  ✗  ·  ✓  ✓  ✓  ✓   4/6  26m 20s',
      'bob@ws-12    ✓  ✓  ✓  ✓  ↷  ✓   6/6  22m 00s',
    ]);
    const steps = lines.slice(lines.indexOf('Steps') + 1, lines.indexOf('Steps') + 1 + ORDER.length);
    expect(steps.map((line) => line.trim().split(/ {2,}/))).toEqual(
      ORDER.map(([lab, , title, stats], i) => [String(i + 1), lab, title, stats]),
    );
    expect(result.stdout).toContain(`Skipped 1 file: ${carol}`);
  });

  it('names every file that is not a report, and exits 2 when none is', async () => {
    const foreign = join(dir, 'package.json');
    const newer = join(dir, 'newer.json');
    await copyFile(join(repoRoot, 'package.json'), foreign);
    const report = JSON.parse(await readFile(alice, 'utf8')) as Record<string, unknown>;
    await writeFile(newer, JSON.stringify({ ...report, version: 2 }));
    const missing = join(dir, 'missing.json');

    const result = await runCli(['class', foreign, newer, carol, missing]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(`skipped ${foreign}: not an ocilab report: it has no "format": "ocilab-report"`);
    expect(result.stderr).toContain(`skipped ${newer}: a report of version 2, newer than this ocilab reads (1): upgrade ocilab`);
    expect(result.stderr).toContain(`skipped ${carol}: not valid JSON`);
    expect(result.stderr).toContain(`skipped ${missing}: cannot be read (ENOENT)`);
    expect(result.stderr).toContain('None of the 4 files given is an ocilab report');
    expect(result.stdout).toBe('');
  });

  it('reads every *.json file of a directory given, in name order, as if each were named', async () => {
    const reports = join(dir, 'reports');
    await mkdir(reports);
    await copyFile(bob, join(reports, 'ws-12.json'));
    await copyFile(alice, join(reports, 'ws-07.json'));
    await writeFile(join(reports, 'notes.txt'), 'not a report, and not named *.json');
    const result = await runCli(['class', reports]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('alice@ws-07  ✗  ·  ✓  ✓  ✓  ✓   4/6  26m 20s\nbob@ws-12    ✓  ✓  ✓  ✓  ↷  ✓   6/6  22m 00s');
  });

  it('names a directory with no report in it as skipped', async () => {
    const empty = await mkdtemp(join(dir, 'empty-'));
    const result = await runCli(['class', empty, alice]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stderr).toContain(`ocilab: skipped ${empty}: a directory with no *.json file in it`);
  });

  it("--json prints the same roll-up for scripts: the steps in order, each student's cells and labs, the files skipped", async () => {
    const result = await runCli(['class', alice, bob, carol, '--json']);
    expect(result.exitCode, result.all).toBe(0);
    const roll = JSON.parse(result.stdout) as {
      format: string;
      version: number;
      steps: { lab: string; id: string; stuck: number }[];
      students: { name: string; file: string; cells: string[]; done: number; labs: { id: string; state: string; current?: string }[] }[];
      unread: { file: string; reason: string }[];
    };
    expect([roll.format, roll.version]).toEqual(['ocilab-class', 1]);
    expect(roll.steps.map(({ lab, id }) => [lab, id])).toEqual(ORDER.map(([lab, step]) => [lab, step]));
    expect(roll.students.map(({ name, file, cells, done }) => ({ name, file, cells, done }))).toEqual([
      { name: 'alice@ws-07', file: alice, cells: ['failed', 'pending', 'passed', 'passed', 'passed', 'passed'], done: 4 },
      { name: 'bob@ws-12', file: bob, cells: ['passed', 'passed', 'passed', 'passed', 'skipped', 'passed'], done: 6 },
    ]);
    expect(roll.students.map(({ labs }) => labs)).toEqual([
      [
        { id: 'tags', state: 'finished' },
        { id: 'runc', state: 'failed', current: 'edit-config-json' },
      ],
      [
        { id: 'tags', state: 'finished' },
        { id: 'runc', state: 'finished' },
      ],
    ]);
    expect(roll.unread).toEqual([{ file: carol, reason: expect.stringMatching(/^not valid JSON/) as unknown }]);
    expect(result.stderr).toContain(`ocilab: skipped ${carol}`);
  });

  it.skipIf(noBrowser)('--html shows the same matrix in Chromium, fetching nothing', async () => {
    const file = join(dir, 'class.html');
    const result = await runCli(['class', alice, bob, carol, '--html', file]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(`Wrote the HTML roll-up to ${file}`);
    const screenshots = await outputDir('class');
    const visit = await openPage(file, async (page) => {
      const seen = {
        columns: await page.locator('thead th.step-col').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-step'))),
        rows: await page
          .locator('tbody tr[data-student]')
          .evaluateAll((trs) =>
            trs.map((tr) => [
              tr.getAttribute('data-student'),
              ...[...tr.querySelectorAll('td.cell')].map((td) => td.getAttribute('data-status')),
            ]),
          ),
        unread: await page.locator('.problems').innerText(),
        ranking: await page.locator('ol.hot li .what strong').allInnerTexts(),
      };
      await page.screenshot({ path: join(screenshots, 'class.png'), fullPage: true });
      return seen;
    });
    expect(visit.requested).toEqual([]);
    expect(visit.errors).toEqual([]);
    expect(visit.result.columns).toEqual(ORDER.map(([lab, step]) => `${lab}/${step}`));
    expect(visit.result.rows).toEqual([
      ['alice@ws-07', 'failed', 'pending', 'passed', 'passed', 'passed', 'passed'],
      ['bob@ws-12', 'passed', 'passed', 'passed', 'passed', 'skipped', 'passed'],
    ]);
    expect(visit.result.unread).toContain('carol.json');
    expect(visit.result.ranking).toEqual(ORDER.map(([, , title]) => title));
  });
});
