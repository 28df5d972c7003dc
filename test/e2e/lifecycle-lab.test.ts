// Lab 5 (a container's life cycle) as root against a registry on loopback: proven with podman and
// with builtin, run to the end headless, verify on a finished workspace with a learner's mistake
// applied (with and without systemd-analyze for the unit file), and no container of the lab's left
// behind, in whatever state, Ctrl-C included. Container ids start with `lc-`.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pushBusybox, removeLocalCopies } from '../helpers/image.js';
import { expectNothingLeft, failedChecks, newContainerId, type ProveReport, type VerifyReport } from '../helpers/leftovers.js';
import { pathWithout } from '../helpers/path-without.js';
import { startRegistry, writeRegistriesConf, type Registry } from '../helpers/registry.js';
import { isRoot, podmanUsable, registryToolsUsable, skipUnless } from '../helpers/services.js';

const noLab = skipUnless(
  isRoot() && (await registryToolsUsable()),
  'lab 5 needs root (runc) and docker-registry, busybox-static, umoci and skopeo',
);
const noPodman = noLab || skipUnless(await podmanUsable(), 'podman is not usable here (`podman info` fails)');
const noAnalyze = skipUnless(existsSync('/usr/bin/systemd-analyze'), 'systemd-analyze is not installed (Debian package systemd)');

/** A container id of these tests: never the lab's default, never another test run's. */
const newId = () => newContainerId('lc');

const HOOKS = 'hooks-the-host-sees-the-start-and-the-stop';
const UNIT = 'a-unit-file-for-the-container';
const SYSTEMCTL = 'start-it-with-systemctl';
const systemdRuns = existsSync('/run/systemd/system');

describe.skipIf(noLab)("lab 5: a container's life, like a service's", () => {
  let registry: Registry;
  let dir: string;
  let image: string;
  let registriesConf: string;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-lc-lab-'));
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
    const result = await runCli(['prove', '5', '--use', way, ...vars(id), '--json'], { env: env(), timeoutMs: 300_000 });
    const report = JSON.parse(result.stdout) as ProveReport;
    for (const step of report.steps) {
      // Where systemd is not PID 1 (here, in CI) no unit can start: those checks say so and are skipped.
      const verdict = step.id === SYSTEMCTL && !systemdRuns ? 'skipped' : 'ok';
      for (const check of step.checks) expect(check.verdict, `${check.at} ${check.label}`).toBe(verdict);
    }
    expect(result.exitCode, result.all).toBe(0);
    expect(report.proven).toBe(true);
    expect(report.steps.map((s) => s.id)).toContain(UNIT);
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
      const result = await runCli(['run', '5', '--yes', '--use', 'builtin', '--workdir', workdir, ...vars(id)], {
        env: env(),
        timeoutMs: 300_000,
      });
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stdout).not.toMatch(/✗/);
    }, 320_000);

    /** The checks of the systemctl step, skipped where systemd is not PID 1. */
    const skippedHere = (report: VerifyReport) => failedChecks(report).filter((c) => c.step === SYSTEMCTL && c.status === 'skipped');
    /** What failed, the checks skipped on a machine without systemd aside. */
    const wrongIn = (report: VerifyReport) => failedChecks(report).filter((c) => c.status !== 'skipped');

    const verify = async (extraEnv: Record<string, string> = {}) => {
      const result = await runCli(['verify', '5', '--json', '--workdir', workdir, ...vars(id)], {
        env: { ...env(), ...extraEnv },
        timeoutMs: 200_000,
      });
      return { result, report: JSON.parse(result.stdout) as VerifyReport };
    };

    /** Changes a file of the workspace for one test, and puts it back however the test ends. */
    async function withFile(name: string, change: (text: string) => string, test: () => Promise<void>): Promise<void> {
      const file = join(workdir, name);
      const original = await readFile(file, 'utf8');
      const changed = change(original);
      expect(changed, `the mistake changes ${name}`).not.toBe(original);
      await writeFile(file, changed);
      try {
        await test();
      } finally {
        await writeFile(file, original);
      }
      await expectNothingLeft(id);
    }

    it('runs headless to the end, leaves no container or cgroup, and verify passes on it', async () => {
      await expectNothingLeft(id);
      const hooks = await readFile(join(workdir, 'hooks.log'), 'utf8');
      expect(hooks).toMatch(new RegExp(`^poststart .*"id":"${id}"`, 'm'));
      expect(hooks).toMatch(new RegExp(`^poststop .*"id":"${id}".*"status":"stopped"`, 'm'));
      const { result, report } = await verify();
      expect(failedChecks(report)).toEqual(systemdRuns ? [] : skippedHere(report));
      if (!systemdRuns) {
        for (const check of skippedHere(report)) expect(check.message).toMatch(/^systemd is not PID 1 on this machine/);
      }
      expect(result.exitCode, result.all).toBe(0);
      await expectNothingLeft(id);
    }, 220_000);

    it(
      "a hook at a path inside the rootfs instead of the host's: every create fails with runc's message, and the hook check says why",
      () =>
        withFile(
          'config.json',
          (text) => text.replace(/"path": "[^"]*\/hook\.sh"/g, '"path": "/bin/hook.sh"'),
          async () => {
            const { result, report } = await verify();
            expect(result.exitCode).toBe(1);
            const wrong = wrongIn(report);
            // Every step that creates a container from config.json fails; the trap bundle has its own copy.
            expect(new Set(wrong.map((c) => c.step))).toEqual(
              new Set([
                'created-the-process-exists-and-waits',
                'running-runc-start',
                'signals-term-then-kill',
                'deleted-gone-for-good',
                HOOKS,
              ]),
            );
            const created = wrong.find((c) => c.step === 'created-the-process-exists-and-waits' && c.kind === 'output');
            expect(created?.actual).toContain('error running hook #0: fork/exec /bin/hook.sh: no such file or directory');
            const path = wrong.find((c) => c.step === HOOKS && c.kind === 'command');
            expect(path?.actual).toContain("the poststart hook's path /bin/hook.sh is not an executable file on the host");
            // The log keeps the lines of the finished run: only the path check of the hooks step fails.
            expect(wrong.filter((c) => c.step === HOOKS)).toHaveLength(1);
          },
        ),
      300_000,
    );

    it(
      "a trap with sleep in the foreground: TERM does not stop the container, and sleep's PID is still there",
      () =>
        withFile(
          'trap/config.json',
          (text) => text.replace('sleep 1000 & wait', 'sleep 1000'),
          async () => {
            const { result, report } = await verify();
            expect(result.exitCode).toBe(1);
            const wrong = wrongIn(report);
            expect(new Set(wrong.map((c) => c.step))).toEqual(new Set(['pid-1-and-its-children']));
            // The config still has its trap; what it does with TERM is what fails.
            expect(wrong.map((c) => c.kind)).toEqual(['output', 'output']);
            expect(wrong[0]?.actual).toContain('"status": "running"');
            expect(wrong[1]?.message).toMatch(/does not match/);
          },
        ),
      220_000,
    );

    it(
      'a unit that runs runc run -d: the ExecStart check says systemd would take the service for ended',
      () =>
        withFile(
          `ocilab-${id}.service`,
          (text) => text.replace(/ run --bundle/, ' run -d --bundle'),
          async () => {
            const { result, report } = await verify();
            expect(result.exitCode).toBe(1);
            const wrong = wrongIn(report);
            expect(wrong.map((c) => [c.step, c.kind])).toEqual([[UNIT, 'command']]);
            expect(wrong[0]?.actual).toContain('ExecStart= runs runc run detached (-d): systemd would take the service for ended at once');
          },
        ),
      220_000,
    );

    it.skipIf(noAnalyze)(
      'a misspelt section, with systemd-analyze: the check shows what systemd-analyze verify says about the unit',
      () =>
        withFile(
          `ocilab-${id}.service`,
          (text) => text.replace('[Service]', '[Servcie]'),
          async () => {
            const { result, report } = await verify();
            expect(result.exitCode).toBe(1);
            const wrong = wrongIn(report);
            expect(new Set(wrong.map((c) => c.step))).toEqual(new Set([UNIT]));
            expect(wrong[0]?.actual).toContain("Unknown section 'Servcie'. Ignoring.");
            expect(wrong[0]?.actual).toContain('systemd-analyze verify exited with status 1');
          },
        ),
      220_000,
    );

    it('a misspelt section, without systemd-analyze: the check parses the unit and names the section', async () => {
      const path = await pathWithout(['systemd-analyze'], dir);
      await withFile(
        `ocilab-${id}.service`,
        (text) => text.replace('[Service]', '[Servcie]'),
        async () => {
          const { result, report } = await verify({ PATH: path });
          expect(result.exitCode).toBe(1);
          const wrong = wrongIn(report);
          expect(new Set(wrong.map((c) => c.step))).toEqual(new Set([UNIT]));
          expect(wrong[0]?.actual).toBe('unknown section [Servcie]');
        },
      );
    }, 220_000);

    it('Ctrl-C while a container is only created leaves no container behind', async () => {
      const work = await mkdtemp(join(dir, 'work-'));
      const ctrlC = new AbortController();
      let seen = '';
      const running = runCli(['run', '5', '--yes', '--use', 'builtin', '--workdir', work, ...vars(id)], {
        env: env(),
        signal: ctrlC.signal,
        timeoutMs: 200_000,
        onStdout: (chunk) => {
          // Interrupt once runc state has shown the container of the first hands-on step created.
          seen += chunk;
          if (seen.includes('"status": "created"')) ctrlC.abort();
        },
      });
      const result = await running;
      expect(seen, 'the container was created when Ctrl-C came').toContain('"status": "created"');
      expect(result.exitCode, result.all).toBe(130);
      await expectNothingLeft(id);
    }, 220_000);
  });
});
