// Lab 5 (a container's life cycle) as root against a registry on loopback: proven with podman and
// with builtin, run to the end headless, verify on a finished workspace with a learner's mistake
// applied (with and without systemd-analyze for the unit file), and no container of the lab's left
// behind, in whatever state, Ctrl-C included. Container ids start with `lc-`.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootLabSkips, rootLabTests } from '../helpers/lab-tests.js';
import { failedChecks } from '../helpers/leftovers.js';
import { pathWithout } from '../helpers/path-without.js';
import { skipUnless } from '../helpers/services.js';

const { noLab, noPodman } = await rootLabSkips(5);
const noAnalyze = skipUnless(existsSync('/usr/bin/systemd-analyze'), 'systemd-analyze is not installed (Debian package systemd)');

const HOOKS = 'hooks-the-host-sees-the-start-and-the-stop';
const UNIT = 'a-unit-file-for-the-container';
const SYSTEMCTL = 'start-it-with-systemctl';
const systemdRuns = existsSync('/run/systemd/system');

describe.skipIf(noLab)("lab 5: a container's life, like a service's", () => {
  const lab = rootLabTests({ lab: 5, short: 'lc', containers: true, podman: !noPodman });

  async function proves(way: string): Promise<void> {
    const report = await lab.proves(way, {
      // Where systemd is not PID 1 (here, in CI) no unit can start: those checks say so and are skipped.
      verdict: (_check, step) => (step.id === SYSTEMCTL && !systemdRuns ? 'skipped' : 'ok'),
    });
    expect(report.steps.map((s) => s.id)).toContain(UNIT);
  }

  it('proves every check with the builtin way', () => proves('builtin'), 320_000);

  it.skipIf(noPodman)('proves every check with the podman way', () => proves('podman'), 320_000);

  describe('a finished workspace', () => {
    const workspace = lab.finishedWorkspace();

    it('runs headless to the end, leaves no container or cgroup, and verify passes on it', async () => {
      const { id } = workspace;
      const hooks = await readFile(join(workspace.workdir, 'hooks.log'), 'utf8');
      expect(hooks).toMatch(new RegExp(`^poststart .*"id":"${id}"`, 'm'));
      expect(hooks).toMatch(new RegExp(`^poststop .*"id":"${id}".*"status":"stopped"`, 'm'));
      const report = await workspace.expectVerifyPasses();
      // Where systemd is not PID 1 the systemctl step's checks do not apply, and say why.
      const systemctl = report.steps.find((s) => s.id === SYSTEMCTL)?.checks ?? [];
      expect(systemctl.length).toBeGreaterThan(0);
      for (const check of systemctl) {
        if (systemdRuns) expect(check.status).toBe('passed');
        else expect(check).toMatchObject({ status: 'skipped', message: expect.stringMatching(/^systemd is not PID 1 on this machine/) });
      }
    }, 220_000);

    it(
      "a hook at a path inside the rootfs instead of the host's: every create fails with runc's message, and the hook check says why",
      () =>
        workspace.withMistake(
          'config.json',
          (text) => text.replace(/"path": "[^"]*\/hook\.sh"/g, '"path": "/bin/hook.sh"'),
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
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
        workspace.withMistake(
          'trap/config.json',
          (text) => text.replace('sleep 1000 & wait', 'sleep 1000'),
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
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
        workspace.withMistake(
          `ocilab-${workspace.id}.service`,
          (text) => text.replace(/ run --bundle/, ' run -d --bundle'),
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            expect(wrong.map((c) => [c.step, c.kind])).toEqual([[UNIT, 'command']]);
            expect(wrong[0]?.actual).toContain('ExecStart= runs runc run detached (-d): systemd would take the service for ended at once');
          },
        ),
      220_000,
    );

    it.skipIf(noAnalyze)(
      'a misspelt section, with systemd-analyze: the check shows what systemd-analyze verify says about the unit',
      () =>
        workspace.withMistake(
          `ocilab-${workspace.id}.service`,
          (text) => text.replace('[Service]', '[Servcie]'),
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            expect(new Set(wrong.map((c) => c.step))).toEqual(new Set([UNIT]));
            expect(wrong[0]?.actual).toContain("Unknown section 'Servcie'. Ignoring.");
            expect(wrong[0]?.actual).toContain('systemd-analyze verify exited with status 1');
          },
        ),
      220_000,
    );

    it('a misspelt section, without systemd-analyze: the check parses the unit and names the section', async () => {
      const path = await pathWithout(['systemd-analyze'], lab.dir);
      await workspace.withMistake(
        `ocilab-${workspace.id}.service`,
        (text) => text.replace('[Service]', '[Servcie]'),
        async () => {
          const { result, report } = await workspace.verify({ PATH: path });
          expect(result.exitCode).toBe(1);
          const wrong = failedChecks(report);
          expect(new Set(wrong.map((c) => c.step))).toEqual(new Set([UNIT]));
          expect(wrong[0]?.actual).toBe('unknown section [Servcie]');
        },
      );
    }, 220_000);

    // Interrupted once runc state has shown the container of the first hands-on step created.
    it(
      'Ctrl-C while a container is only created leaves no container behind',
      () => workspace.interruptedRun('"status": "created"', 'created'),
      220_000,
    );
  });
});
