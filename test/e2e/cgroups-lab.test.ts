// Lab 4 (cgroups) as root against a registry on loopback: proven with podman and with builtin, run
// to the end headless, verify on finished workspaces with a learner's mistake applied, and no
// container or cgroup of the lab's left behind, Ctrl-C included. Container ids start with `cg-`.
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
  'lab 4 needs root (runc) and docker-registry, busybox-static, umoci and skopeo',
);
const noPodman = noLab || skipUnless(await podmanUsable(), 'podman is not usable here (`podman info` fails)');

/** A container id of these tests: never the lab's default, never another test run's. */
const newId = () => newContainerId('cg');

describe.skipIf(noLab)('lab 4: resource limits you can watch', () => {
  let registry: Registry;
  let dir: string;
  let image: string;
  let registriesConf: string;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-cg-lab-'));
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
    const result = await runCli(['prove', '4', '--use', way, ...vars(id), '--json'], { env: env(), timeoutMs: 300_000 });
    const report = JSON.parse(result.stdout) as ProveReport;
    // As root every check applies: none is skipped, each fails before its step and passes after.
    for (const check of report.steps.flatMap((s) => s.checks)) expect(check.verdict, `${check.at} ${check.label}`).toBe('ok');
    expect(result.exitCode, result.all).toBe(0);
    expect(report.proven).toBe(true);
    expect(report.steps.flatMap((s) => s.checks).filter((c) => c.kind === 'output').length).toBeGreaterThan(8);
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
      const result = await runCli(['run', '4', '--yes', '--use', 'builtin', '--workdir', workdir, ...vars(id)], {
        env: env(),
        timeoutMs: 300_000,
      });
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stdout).not.toMatch(/✗/);
      // The limits were hit for real: the fork refused, dd killed by the OOM killer.
      expect(result.stdout).toContain("can't fork");
      expect(result.stdout).toContain('dd ended with status 137');
    }, 320_000);

    const verify = async () => {
      const result = await runCli(['verify', '4', '--json', '--workdir', workdir, ...vars(id)], { env: env(), timeoutMs: 200_000 });
      return { result, report: JSON.parse(result.stdout) as VerifyReport };
    };

    /** Runs `check` with config.json changed by `change`, and puts the file back afterwards. */
    async function withConfig(change: (text: string) => string, check: () => Promise<void>): Promise<void> {
      const file = join(workdir, 'config.json');
      const original = await readFile(file, 'utf8');
      await writeFile(file, change(original));
      try {
        await check();
      } finally {
        await writeFile(file, original);
      }
      await expectNothingLeft(id);
    }

    it('runs headless to the end, leaves no container or cgroup, and verify passes on it', async () => {
      await expectNothingLeft(id);
      const { result, report } = await verify();
      expect(failedChecks(report)).toEqual([]);
      expect(result.exitCode, result.all).toBe(0);
      await expectNothingLeft(id);
    }, 220_000);

    it(
      'a memory limit written as a string: the limit check fails, and runc refuses to read config.json',
      () =>
        withConfig(
          (text) => text.replace(/"limit": 33554432/, '"limit": "33554432"'),
          async () => {
            const { result, report } = await verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            const limit = wrong.find((c) => c.kind === 'json');
            expect(limit).toMatchObject({ step: 'write-the-limits-into-config-json', expected: '33554432', actual: '"33554432"' });
            expect(limit?.hint).toContain('cannot unmarshal string');
            const probes = wrong.filter((c) => c.kind === 'probe');
            expect(probes.map((c) => c.step)).toEqual(['write-the-limits-into-config-json', 'write-the-limits-into-config-json']);
            for (const probe of probes) {
              expect(probe.message).toMatch(
                /runc could not run .* json: cannot unmarshal string into Go struct field LinuxMemory\.linux\.resources\.memory\.limit of type int64/,
              );
            }
            // No container starts from this file, so nothing the later steps look for is printed.
            expect(new Set(wrong.filter((c) => c.kind === 'output').map((c) => c.step))).toEqual(
              new Set([
                'run-it-and-find-its-limits',
                'hit-the-process-limit',
                'hit-the-memory-limit',
                'change-a-limit-while-it-runs',
                'watch-the-usage',
              ]),
            );
          },
        ),
      220_000,
    );

    it(
      'the pids limit raised in config.json instead of with runc update: the limit checks say 40, and the loop is not stopped',
      () =>
        withConfig(
          (text) => text.replace(/"limit": 20\b/, '"limit": 40'),
          async () => {
            const { result, report } = await verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            const at = (step: string) => wrong.filter((c) => c.step === step);
            expect(at('write-the-limits-into-config-json').find((c) => c.kind === 'json')).toMatchObject({ expected: '20', actual: '40' });
            expect(at('write-the-limits-into-config-json').find((c) => c.kind === 'probe')?.actual).toBe('40');
            // 30 sleeps fit under 40: the shell never fails to fork.
            expect(at('hit-the-process-limit').map((c) => c.kind)).toEqual(['output', 'output']);
            // runc update still makes it 40 on the running container; only the file is wrong there.
            expect(at('change-a-limit-while-it-runs')).toMatchObject([{ kind: 'json', expected: '20', actual: '40' }]);
            expect(at('watch-the-usage').map((c) => c.kind)).toEqual(['output']);
            expect(at('hit-the-memory-limit')).toEqual([]);
          },
        ),
      220_000,
    );

    it('Ctrl-C during a run leaves no container and no cgroup behind', async () => {
      const work = await mkdtemp(join(dir, 'work-'));
      const ctrlC = new AbortController();
      let seen = '';
      const running = runCli(['run', '4', '--yes', '--use', 'builtin', '--workdir', work, ...vars(id)], {
        env: env(),
        signal: ctrlC.signal,
        timeoutMs: 200_000,
        onStdout: (chunk) => {
          // Interrupt once /proc/PID/cgroup has shown the container of the first hands-on step running.
          seen += chunk;
          if (/^\d+:pids:\/\S/m.test(seen)) ctrlC.abort();
        },
      });
      const result = await running;
      expect(seen, 'the container was running when Ctrl-C came').toMatch(/^\d+:pids:\/\S/m);
      expect(result.exitCode, result.all).toBe(130);
      await expectNothingLeft(id);
    }, 220_000);
  });
});
