// `ocilab report` after a learner ran the first three shipped labs headless, in a workshop of those
// three, against a loopback registry (lab 1 with curl, labs 2 and 3 with podman): the summary, JSON,
// JUnit XML (read back and checked for structure) and the HTML page, opened in a real headless
// Chromium with every network request failed. Then lab 1 again with a registry host where nothing
// listens, so the report has a failure to show.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { chromiumUsable, openPage, outputDir } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { pushBusybox, removeLocalCopies } from '../helpers/image.js';
import { startRegistry, writeRegistriesConf, type Registry } from '../helpers/registry.js';
import { isRoot, podmanUsable, registryToolsUsable, skipUnless } from '../helpers/services.js';
import { readJunit } from '../report/junit-xml.js';

const noLabs = skipUnless(
  isRoot() && (await registryToolsUsable()) && (await podmanUsable()),
  'running both labs needs root, podman, docker-registry, busybox-static, umoci and skopeo',
);
const noBrowser = noLabs || skipUnless(await chromiumUsable(), 'chromium is not installed (apt-get install chromium)');

const REPOSITORY = 'library/busybox';

describe.skipIf(noLabs)('ocilab report after headless runs of the shipped labs', () => {
  let registry: Registry;
  let dir: string;
  let image: string;
  let env: Record<string, string>;
  let screenshots: string;

  const runLab1 = async (host: string) => {
    const workdir = await mkdtemp(join(dir, 'tags-'));
    const vars = ['scheme=http', `host=${host}`, `path=${REPOSITORY}`].flatMap((v) => ['--var', v]);
    return runCli(['run', '1', '--yes', ...vars, '--use', 'curl', '--workdir', workdir], { env });
  };

  const report = async (): Promise<Report> => {
    const result = await runCli(['report', '--json'], { env });
    expect(result.exitCode, result.all).toBe(0);
    return JSON.parse(result.stdout) as Report;
  };

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host, REPOSITORY);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-report-'));
    // The report covers the labs of the workshop in effect: these three, whatever else ships.
    const workshop = join(dir, 'workshop.yml');
    await writeFile(workshop, 'ocilab-workshop: 1\ntitle: Report test\nlabs: [tags, runc, namespaces]\n');
    env = {
      XDG_STATE_HOME: join(dir, 'state'),
      CONTAINERS_REGISTRIES_CONF: await writeRegistriesConf(registry.host, dir),
      OCILAB_WORKSHOP: workshop,
    };
    screenshots = await outputDir('report');

    const tags = await runLab1(registry.host);
    expect(tags.exitCode, tags.all).toBe(0);
    const runc = await runCli(['run', '2', '--yes', '--use', 'podman', '--workdir', join(dir, 'runc'), '--var', `img=${image}`], { env });
    expect(runc.exitCode, runc.all).toBe(0);
    const namespaces = await runCli(
      [
        'run',
        '3',
        '--yes',
        '--use',
        'podman',
        '--workdir',
        join(dir, 'namespaces'),
        '--var',
        `img=${image}`,
        '--var',
        `ctr=ns-report-${process.pid}`,
      ],
      { env },
    );
    expect(namespaces.exitCode, namespaces.all).toBe(0);
  });

  afterAll(async () => {
    if (image) await removeLocalCopies('podman', image);
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--json names the user and host and gives every step of every lab the status the runs left', async () => {
    const { format, version, user, host, labs } = await report();
    expect({ format, version, user, host }).toEqual({ format: 'ocilab-report', version: 1, user: userInfo().username, host: hostname() });
    expect(labs.map((l) => [l.id, l.state])).toEqual([
      ['tags', 'finished'],
      ['runc', 'finished'],
      ['namespaces', 'finished'],
    ]);
    for (const lab of labs) {
      for (const step of lab.steps) {
        expect(step.status, `${lab.id}/${step.id}`).toBe(step.kind === 'task' ? 'passed' : 'read');
        if (step.kind === 'task') expect(step.attempts, `${lab.id}/${step.id}`).toBe(1);
        for (const check of step.checks) expect(check.status, `${lab.id}/${step.id}: ${check.label}`).toBe('passed');
      }
    }
    const listTags = labs[0]?.steps.find((s) => s.id === 'list-the-tags');
    expect(listTags?.way).toBe('curl');
    expect(listTags?.checks.map((c) => c.kind)).toEqual(['output', 'tags']);
    expect(labs[1]?.steps.find((s) => s.id === 'build-the-root-filesystem')?.way).toBe('podman');
  });

  it('prints a summary naming the user, the host, each lab and its task steps', async () => {
    const result = await runCli(['report'], { env });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(`Progress of ${userInfo().username} on ${hostname()}`);
    expect(result.stdout).toMatch(/^1 {2}tags {2}List every tag of an image repository$/m);
    expect(result.stdout).toMatch(/^ {3}finished · 1 of 1 task passed/m);
    expect(result.stdout).toMatch(/^ {3}✓ List the tags\b.*with curl/m);
    expect(result.stdout).toMatch(/^ {3}✓ Run the container\b/m);
    expect(result.stdout).not.toContain('✗');
  });

  it('--junit writes JUnit XML with a testsuite per lab and a passing testcase per check', async () => {
    const file = join(dir, 'passed.xml');
    const result = await runCli(['report', '--junit', file], { env });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(file);
    const junit = readJunit(await readFile(file, 'utf8'));
    const { labs } = await report();
    expect(junit.suites.map((s) => s.name)).toEqual([
      '1 tags: List every tag of an image repository',
      '2 runc: Run busybox with bare runc',
      '3 namespaces: What a container cannot see',
    ]);
    for (const [i, lab] of labs.entries()) {
      const suite = junit.suites[i];
      const checks = lab.steps.flatMap((s) => s.checks);
      expect(suite?.cases.length, lab.id).toBe(checks.length);
      expect(suite?.cases.every((c) => c.outcome === 'passed')).toBe(true);
      expect(suite?.hostname).toBe(hostname());
      expect(suite?.properties.user).toBe(userInfo().username);
      // JUnit times are written with three decimals: 0.1 + 0.2 + 0.3 is 0.6000000000000001 in floating point.
      const spent = lab.steps.filter((s) => s.kind === 'task').reduce((sum, s) => sum + s.seconds, 0);
      expect(suite?.time).toBe(Number(spent.toFixed(3)));
    }
    expect(junit.suites[0]?.cases.map((c) => c.classname)).toEqual(['tags.list-the-tags', 'tags.list-the-tags']);
  });

  it.skipIf(noBrowser)('--html shows every step with its status in Chromium, and fetches nothing', async () => {
    const file = join(dir, 'passed.html');
    const result = await runCli(['report', '--html', file], { env });
    expect(result.exitCode, result.all).toBe(0);
    const { labs } = await report();

    const visit = await openPage(file, async (page) => {
      const shown = await page.locator('li.step').evaluateAll((items) =>
        items.map((li) => ({
          lab: li.closest('section')?.getAttribute('data-lab'),
          step: li.getAttribute('data-step'),
          status: li.getAttribute('data-status'),
          text: (li as HTMLElement).innerText,
        })),
      );
      await page.screenshot({ path: join(screenshots, 'report-passed.png'), fullPage: true });
      return { title: await page.title(), heading: await page.locator('h1').innerText(), shown };
    });
    expect(visit.requested).toEqual([]);
    expect(visit.errors).toEqual([]);
    expect(visit.result.title).toBe(`ocilab report: ${userInfo().username} on ${hostname()}`);
    expect(visit.result.heading).toBe(`${userInfo().username} on ${hostname()}`);
    expect(visit.result.shown.map(({ lab, step, status }) => ({ lab, step, status }))).toEqual(
      labs.flatMap((lab) => lab.steps.map((step) => ({ lab: lab.id, step: step.id, status: step.status }))),
    );
    for (const { text, step, status } of visit.result.shown) {
      const title = labs.flatMap((l) => l.steps).find((s) => s.id === step)?.title ?? '?';
      expect(text, step ?? '').toContain(title);
      expect(text, step ?? '').toContain(status === 'passed' ? 'Passed' : 'Read');
    }
  });

  describe('after lab 1 failed against a registry host where nothing listens', () => {
    beforeAll(async () => {
      // Port 1 (tcpmux) is closed: curl -s prints nothing, so both checks fail with expected and actual.
      const failed = await runLab1('127.0.0.1:1');
      expect(failed.exitCode, failed.all).toBe(1);
    });

    it('--json and the summary show the failed step with what its checks expected', async () => {
      const { labs } = await report();
      const tags = labs[0];
      expect(tags?.state).toBe('failed');
      expect(tags?.current).toBe('list-the-tags');
      const step = tags?.steps.find((s) => s.id === 'list-the-tags');
      expect(step?.status).toBe('failed');
      expect(step?.checks.map((c) => c.status)).toEqual(['failed', 'failed']);
      expect(labs[1]?.state).toBe('finished');

      const summary = await runCli(['report'], { env });
      expect(summary.stdout).toMatch(/^ {3}stuck at “List the tags”/m);
      expect(summary.stdout).toMatch(/^ {3}✗ List the tags/m);
      expect(summary.stdout).toMatch(/^ {11}expected: /m);
    });

    it('--junit counts the failures, each with its expected and actual values', async () => {
      const file = join(dir, 'failed.xml');
      expect((await runCli(['report', '--junit', file], { env })).exitCode).toBe(0);
      const junit = readJunit(await readFile(file, 'utf8'));
      const failures = junit.suites[0]?.cases.filter((c) => c.outcome === 'failure') ?? [];
      expect(failures.length).toBe(2);
      for (const failure of failures) expect(failure.detail).toMatch(/^expected: .*\nactual: /s);
      expect(junit.suites[1]?.cases.every((c) => c.outcome === 'passed')).toBe(true);
    });

    it.skipIf(noBrowser)('--html marks the step failed and shows expected and actual in Chromium', async () => {
      const file = join(dir, 'failed.html');
      expect((await runCli(['report', '--html', file], { env })).exitCode).toBe(0);
      const visit = await openPage(file, async (page) => {
        const step = page.locator('section[data-lab="tags"] li[data-step="list-the-tags"]');
        const seen = {
          status: await step.getAttribute('data-status'),
          badge: await step.locator('.badge').innerText(),
          failedChecks: await step.locator('.check[data-status="failed"]').count(),
          diff: await step.locator('.diff').first().innerText(),
          labBadge: await page.locator('section[data-lab="tags"] .lab-head .badge').innerText(),
        };
        await page.screenshot({ path: join(screenshots, 'report-failed.png'), fullPage: true });
        await page.emulateMedia({ media: 'print' });
        await page.pdf({ path: join(screenshots, 'report-failed.pdf'), format: 'A4', printBackground: true });
        return seen;
      });
      expect(visit.requested).toEqual([]);
      expect(visit.errors).toEqual([]);
      expect(visit.result.status).toBe('failed');
      expect(visit.result.badge).toContain('Failed');
      expect(visit.result.failedChecks).toBe(2);
      expect(visit.result.diff).toMatch(/expected[\s\S]*actual/);
      expect(visit.result.labBadge).toMatch(/Stuck at step 3/);
    });
  });
});
