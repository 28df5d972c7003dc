// Lab 3 (namespaces) as root against a registry on loopback: proven with podman and with builtin,
// run to the end headless, verify on finished workspaces with a learner's mistake applied, and no
// container or cgroup of the lab's left behind, Ctrl-C included. Container ids start with `ns-`.
import { describe, expect, it } from 'vitest';
import { rootLabSkips, rootLabTests } from '../helpers/lab-tests.js';
import { failedChecks } from '../helpers/leftovers.js';

const { noLab, noPodman } = await rootLabSkips(3);

describe.skipIf(noLab)('lab 3: what a container cannot see', () => {
  const lab = rootLabTests({ lab: 3, short: 'ns', containers: true, podman: !noPodman });

  async function proves(way: string): Promise<void> {
    const report = await lab.proves(way);
    expect(report.steps.flatMap((s) => s.checks).filter((c) => c.kind === 'probe').length).toBeGreaterThan(5);
  }

  it('proves every check with the builtin way', () => proves('builtin'), 320_000);

  it.skipIf(noPodman)('proves every check with the podman way', () => proves('podman'), 320_000);

  describe('a finished workspace', () => {
    const workspace = lab.finishedWorkspace();

    it('runs headless to the end, leaves no container or cgroup, and verify passes on it', () => workspace.expectVerifyPasses(), 220_000);

    it(
      'the pid namespace left in no-pid/config.json: the PID checks fail and say the container does not share it',
      () =>
        workspace.withMistake(
          'no-pid/config.json',
          (text) => {
            const config = JSON.parse(text) as { linux: { namespaces: { type: string }[] } };
            config.linux.namespaces.push({ type: 'pid' });
            return JSON.stringify(config, null, 2);
          },
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            expect(new Set(wrong.map((c) => c.step))).toEqual(new Set(['without-a-pid-namespace']));
            expect(wrong.find((c) => c.kind === 'command')?.actual).toContain('still asks for a pid namespace');
            const probe = wrong.find((c) => c.kind === 'probe');
            expect(probe?.message).toMatch(/^`readlink \/proc\/self\/ns\/pid` prints one thing in the container and another on the host/);
            // ps reads /proc, which the copy binds from the host: only the namespace link tells.
            expect(wrong.map((c) => c.kind).sort()).toEqual(['command', 'probe']);
          },
        ),
      220_000,
    );

    it(
      'a detached container with terminal: true: the terminal check fails, and runc refuses to allocate a tty',
      () =>
        workspace.withMistake(
          'config.json',
          (text) => text.replace(/"terminal": false/, '"terminal": true'),
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            const terminal = wrong.find((c) => c.kind === 'json');
            expect(terminal).toMatchObject({ step: 'a-container-that-runs-in-the-background', expected: 'false', actual: 'true' });
            expect(terminal?.hint).toContain('cannot allocate tty');
            // Started with -d, it never ran: runc state finds no running container.
            const look = report.steps.find((s) => s.id === 'look-at-it-from-the-host');
            expect(look?.status).toBe('failed');
          },
        ),
      420_000,
    );

    it(
      'a hostname kept without a UTS namespace: the probes say runc refused to set it',
      () =>
        workspace.withMistake(
          'no-uts/config.json',
          (text) => text.replace(/"hostname": ""/, '"hostname": "inside"'),
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            expect(new Set(wrong.map((c) => c.step))).toEqual(new Set(['without-a-uts-namespace']));
            const probe = wrong.find((c) => c.kind === 'probe');
            expect(probe?.message).toContain('unable to set hostname without a private UTS namespace');
          },
        ),
      220_000,
    );

    // Interrupted once runc state has shown the container of the first hands-on step running.
    it('Ctrl-C during a run leaves no container behind', () => workspace.interruptedRun('"status": "running"'), 220_000);
  });
});
