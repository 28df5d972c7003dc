// `ocilab prove` as a lab author runs it: on fixture labs whose checks are wrong, and on both shipped
// labs against a registry on loopback (lab 2 as root, with podman), which must prove clean.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { pushBusybox, pushTags, removeLocalCopies } from '../helpers/image.js';
import { startRegistry, writeRegistriesConf, type Registry } from '../helpers/registry.js';
import { isRoot, podmanUsable, registryToolsUsable, skipUnless } from '../helpers/services.js';

const noRegistry = skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');
const noLab2 =
  noRegistry ||
  skipUnless(isRoot(), 'lab 2 needs root (runc probes)') ||
  skipUnless(await podmanUsable(), 'podman is not usable here (`podman info` fails)');

const FIXTURES = 'test/fixtures/prove';

/** `ocilab prove --json`, as much of it as these tests read. */
interface ProveReport {
  lab: string;
  workdir: string;
  kept: boolean;
  proven: boolean;
  steps: {
    id: string;
    status: string;
    checks: { kind: string; label: string; at: string; passesBefore: boolean; verdict?: string }[];
  }[];
  notices: string[];
}

/** `file:line` of the first line of a fixture that is exactly `text`. */
async function lineOf(file: string, text: string): Promise<string> {
  const lines = (await readFile(join(repoRoot, file), 'utf8')).split('\n');
  const index = lines.indexOf(text);
  if (index < 0) throw new Error(`${file} has no line '${text}'`);
  return `${file}:${index + 1}`;
}

describe('prove on labs whose checks are wrong', () => {
  it('reports a check that cannot fail by its label and file:line, and exits 1', async () => {
    const result = await runCli(['prove', `${FIXTURES}/cannot-fail.md`]);
    expect(result.exitCode, result.all).toBe(1);
    const exit0 = await lineOf(`${FIXTURES}/cannot-fail.md`, '- command: exit 0');
    expect(result.stdout).toContain(`${exit0}: cannot fail: The greeting was written`);
    // A file check on a file an earlier step made cannot fail either.
    const earlier = await lineOf(`${FIXTURES}/cannot-fail.md`, '- file: greeting.txt');
    expect(result.stdout).toContain(`✓ greeting.txt holds the greeting\n      ${earlier} · fails before, passes after`);
    expect(result.stdout).toMatch(/: cannot fail: The workspace has been stamped$/m);
    expect(result.stdout).toContain('Not proven: 2 checks cannot fail.');
  });

  it('reports a check that never passes, and stops there', async () => {
    const result = await runCli(['prove', `${FIXTURES}/never-passes.md`]);
    expect(result.exitCode, result.all).toBe(1);
    const json = await lineOf(`${FIXTURES}/never-passes.md`, '- json: greeting.txt');
    expect(result.stdout).toContain(`${json}: never passes: greeting.txt is valid JSON`);
    expect(result.stdout).toContain('Not reached (the run stopped at an earlier step; --keep-going goes on): Stamp the workspace');
    expect(result.stdout).toContain('Not proven: 1 check never passes, 1 step not reached.');
  });

  it('goes on with --keep-going and says the same in JSON, keeping the workspace with --keep', async () => {
    const result = await runCli(['prove', `${FIXTURES}/never-passes.md`, '--keep-going', '--keep', '--json']);
    expect(result.exitCode, result.all).toBe(1);
    const report = JSON.parse(result.stdout) as ProveReport;
    try {
      expect(report).toMatchObject({ lab: 'prove-never-passes', proven: false, kept: true });
      expect(report.steps.map((s) => [s.id, s.status])).toEqual([
        ['write-a-greeting', 'unproven'],
        ['stamp-the-workspace', 'proven'],
      ]);
      expect(report.steps[0]?.checks.map((c) => [c.label, c.verdict])).toEqual([
        ['greeting.txt holds the greeting', 'ok'],
        ['greeting.txt is valid JSON', 'never-passes'],
      ]);
      expect(existsSync(join(report.workdir, 'stamp'))).toBe(true);
    } finally {
      await rm(report.workdir, { recursive: true, force: true });
    }
  });

  it('exits 2 on a way the lab does not offer, and on an invalid lab file', async () => {
    const unknownWay = await runCli(['prove', '1', '--use', 'wget']);
    expect(unknownWay.exitCode, unknownWay.all).toBe(2);
    expect(unknownWay.stderr).toContain("Lab 'tags' has no way named 'wget'; its ways are: crane, curl.");

    const dir = await mkdtemp(join(tmpdir(), 'ocilab-prove-invalid-'));
    try {
      const file = join(dir, 'broken.md');
      await writeFile(file, '---\nocilab: 1\nid: Broken Id\n---\n# Broken\n');
      const invalid = await runCli(['prove', file]);
      expect(invalid.exitCode, invalid.all).toBe(2);
      expect(invalid.stderr).toContain('This lab file has problems');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(noRegistry)('prove on lab 1 (tags) against a registry on loopback', () => {
  let registry: Registry;
  let dir: string;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushTags(registry.host, 'library/busybox', ['1.36', '1.35', 'latest']);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-prove-tags-'));
  });

  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('proves every check, and keeps no progress', async () => {
    const stateHome = await mkdtemp(join(dir, 'state-'));
    const vars = ['scheme=http', `host=${registry.host}`, 'path=library/busybox'].flatMap((v) => ['--var', v]);
    const result = await runCli(['prove', '1', '--use', 'curl', ...vars, '--json'], { env: { XDG_STATE_HOME: stateHome } });
    expect(result.exitCode, result.all).toBe(0);
    const report = JSON.parse(result.stdout) as ProveReport;
    expect(report.proven).toBe(true);
    const checks = report.steps.flatMap((s) => s.checks);
    expect(checks.map((c) => c.kind).sort()).toEqual(['output', 'tags']);
    for (const check of checks) expect(check.verdict, check.at).toBe('ok');
    expect(existsSync(report.workdir), 'the throwaway workspace is removed').toBe(false);
    expect(existsSync(join(stateHome, 'ocilab')), 'no progress written').toBe(false);
  });
});

describe.skipIf(noLab2)('prove on lab 2 (runc) as root, with podman', () => {
  let registry: Registry;
  let dir: string;
  let image: string;
  let registriesConf: string;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-prove-runc-'));
    registriesConf = await writeRegistriesConf(registry.host, dir);
  });

  afterAll(async () => {
    if (image) await removeLocalCopies('podman', image);
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('proves every check: each fails before its step, or is marked passesBefore, and passes after', async () => {
    const result = await runCli(['prove', '2', '--use', 'podman', '--var', `img=${image}`], {
      env: { CONTAINERS_REGISTRIES_CONF: registriesConf },
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/^Proven: \d+ checks in \d+ steps fail before their step and pass after it \(\d+ marked passesBefore/m);
    expect(result.stdout).not.toMatch(/✗/);

    const json = await runCli(['prove', '2', '--use', 'podman', '--var', `img=${image}`, '--json'], {
      env: { CONTAINERS_REGISTRIES_CONF: registriesConf },
    });
    expect(json.exitCode, json.all).toBe(0);
    const report = JSON.parse(json.stdout) as ProveReport;
    const checks = report.steps.flatMap((s) => s.checks);
    for (const check of checks) expect(check.verdict, `${check.at} ${check.label}`).toBe('ok');
    // The checks of the interactive shell step are probes of what earlier steps built.
    const probes = checks.filter((c) => c.kind === 'probe');
    expect(probes.length).toBeGreaterThan(0);
    for (const probe of probes) expect(probe.passesBefore, probe.at).toBe(true);
    expect(existsSync(report.workdir), 'the throwaway workspace is removed').toBe(false);
  });
});
