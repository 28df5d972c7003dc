// Lab 3 (namespaces) as root against a registry on loopback: proven with podman and with builtin,
// run to the end headless, verify on finished workspaces with a learner's mistake applied, and no
// container or cgroup of the lab's left behind, Ctrl-C included. Container ids start with `ns-`.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pushBusybox, removeLocalCopies } from '../helpers/image.js';
import { expectNothingLeft, failedChecks, newContainerId, type ProveReport, type VerifyReport } from '../helpers/leftovers.js';
import { startRegistry, writeRegistriesConf, type Registry } from '../helpers/registry.js';
import { isRoot, podmanUsable, registryToolsUsable, skipUnless } from '../helpers/services.js';

const noLab = skipUnless(
  isRoot() && (await registryToolsUsable()),
  'lab 3 needs root (runc) and docker-registry, busybox-static, umoci and skopeo',
);
const noPodman = noLab || skipUnless(await podmanUsable(), 'podman is not usable here (`podman info` fails)');

/** A container id of these tests: never the lab's default, never another test run's. */
const newId = () => newContainerId('ns');

describe.skipIf(noLab)('lab 3: what a container cannot see', () => {
  let registry: Registry;
  let dir: string;
  let image: string;
  let registriesConf: string;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-ns-lab-'));
    registriesConf = await writeRegistriesConf(registry.host, dir);
  });

  afterAll(async () => {
    if (!noPodman && image) await removeLocalCopies('podman', image);
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ CONTAINERS_REGISTRIES_CONF: registriesConf, XDG_STATE_HOME: join(dir, 'state') });
  const vars = (id: string) => ['--var', `img=${image}`, '--var', `ctr=${id}`];

  async function proves(way: string): Promise<void> {
    const id = newId();
    const result = await runCli(['prove', '3', '--use', way, ...vars(id), '--json'], { env: env(), timeoutMs: 300_000 });
    const report = JSON.parse(result.stdout) as ProveReport;
    for (const check of report.steps.flatMap((s) => s.checks)) expect(check.verdict, `${check.at} ${check.label}`).toBe('ok');
    expect(result.exitCode, result.all).toBe(0);
    expect(report.proven).toBe(true);
    expect(report.steps.flatMap((s) => s.checks).filter((c) => c.kind === 'probe').length).toBeGreaterThan(5);
    expect(existsSync(report.workdir), 'the throwaway workspace is removed').toBe(false);
    await expectNothingLeft(id);
  }

  it('proves every check with the builtin way', () => proves('builtin'), 320_000);

  it.skipIf(noPodman)('proves every check with the podman way', () => proves('podman'), 320_000);

  describe('a finished workspace', () => {
    let workdir: string;
    let id: string;

    beforeAll(async () => {
      id = newId();
      workdir = await mkdtemp(join(dir, 'work-'));
      const result = await runCli(['run', '3', '--yes', '--use', 'builtin', '--workdir', workdir, ...vars(id)], {
        env: env(),
        timeoutMs: 300_000,
      });
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stdout).not.toMatch(/✗/);
    }, 320_000);

    const verify = async () => {
      const result = await runCli(['verify', '3', '--json', '--workdir', workdir, ...vars(id)], { env: env(), timeoutMs: 200_000 });
      return { result, report: JSON.parse(result.stdout) as VerifyReport };
    };

    it('runs headless to the end, leaves no container or cgroup, and verify passes on it', async () => {
      await expectNothingLeft(id);
      const { result, report } = await verify();
      expect(failedChecks(report)).toEqual([]);
      expect(result.exitCode, result.all).toBe(0);
      await expectNothingLeft(id);
    }, 220_000);

    it('the pid namespace left in no-pid/config.json: the PID checks fail and say the container does not share it', async () => {
      const file = join(workdir, 'no-pid', 'config.json');
      const original = await readFile(file, 'utf8');
      const config = JSON.parse(original) as { linux: { namespaces: { type: string }[] } };
      config.linux.namespaces.push({ type: 'pid' });
      await writeFile(file, JSON.stringify(config, null, 2));
      try {
        const { result, report } = await verify();
        expect(result.exitCode).toBe(1);
        const wrong = failedChecks(report);
        expect(new Set(wrong.map((c) => c.step))).toEqual(new Set(['without-a-pid-namespace']));
        expect(wrong.find((c) => c.kind === 'command')?.actual).toContain('still asks for a pid namespace');
        const probe = wrong.find((c) => c.kind === 'probe');
        expect(probe?.message).toMatch(/^`readlink \/proc\/self\/ns\/pid` prints one thing in the container and another on the host/);
        // ps reads /proc, which the copy binds from the host: only the namespace link tells.
        expect(wrong.map((c) => c.kind).sort()).toEqual(['command', 'probe']);
      } finally {
        await writeFile(file, original);
      }
      await expectNothingLeft(id);
    }, 220_000);

    it('a detached container with terminal: true: the terminal check fails, and runc refuses to allocate a tty', async () => {
      const file = join(workdir, 'config.json');
      const original = await readFile(file, 'utf8');
      await writeFile(file, original.replace(/"terminal": false/, '"terminal": true'));
      try {
        const { result, report } = await verify();
        expect(result.exitCode).toBe(1);
        const wrong = failedChecks(report);
        const terminal = wrong.find((c) => c.kind === 'json');
        expect(terminal).toMatchObject({ step: 'a-container-that-runs-in-the-background', expected: 'false', actual: 'true' });
        expect(terminal?.hint).toContain('cannot allocate tty');
        // Started with -d, it never ran: runc state finds no running container.
        const look = report.steps.find((s) => s.id === 'look-at-it-from-the-host');
        expect(look?.status).toBe('failed');
      } finally {
        await writeFile(file, original);
      }
      await expectNothingLeft(id);
    }, 420_000);

    it('a hostname kept without a UTS namespace: the probes say runc refused to set it', async () => {
      const file = join(workdir, 'no-uts', 'config.json');
      const original = await readFile(file, 'utf8');
      await writeFile(file, original.replace(/"hostname": ""/, '"hostname": "inside"'));
      try {
        const { result, report } = await verify();
        expect(result.exitCode).toBe(1);
        const wrong = failedChecks(report);
        expect(new Set(wrong.map((c) => c.step))).toEqual(new Set(['without-a-uts-namespace']));
        const probe = wrong.find((c) => c.kind === 'probe');
        expect(probe?.message).toContain('unable to set hostname without a private UTS namespace');
      } finally {
        await writeFile(file, original);
      }
      await expectNothingLeft(id);
    }, 220_000);

    it('Ctrl-C during a run leaves no container behind', async () => {
      const work = await mkdtemp(join(dir, 'work-'));
      const ctrlC = new AbortController();
      let seen = '';
      const running = runCli(['run', '3', '--yes', '--use', 'builtin', '--workdir', work, ...vars(id)], {
        env: env(),
        signal: ctrlC.signal,
        timeoutMs: 200_000,
        onStdout: (chunk) => {
          // Interrupt once runc state has shown the container of the first hands-on step running.
          seen += chunk;
          if (seen.includes('"status": "running"')) ctrlC.abort();
        },
      });
      const result = await running;
      expect(seen, 'the container was running when Ctrl-C came').toContain('"status": "running"');
      expect(result.exitCode, result.all).toBe(130);
      await expectNothingLeft(id);
    }, 220_000);
  });
});
