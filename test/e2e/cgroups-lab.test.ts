// Lab 4 (cgroups) as root against a registry on loopback: proven with podman and with builtin, run
// to the end headless, verify on finished workspaces with a learner's mistake applied, and no
// container or cgroup of the lab's left behind, Ctrl-C included. Container ids start with `cg-`.
import { describe, expect, it } from 'vitest';
import { rootLabSkips, rootLabTests } from '../helpers/lab-tests.js';
import { failedChecks } from '../helpers/leftovers.js';

const { noLab, noPodman } = await rootLabSkips(4);

describe.skipIf(noLab)('lab 4: resource limits you can watch', () => {
  const lab = rootLabTests({ lab: 4, short: 'cg', containers: true, podman: !noPodman });

  async function proves(way: string): Promise<void> {
    // As root every check applies: none is skipped, each fails before its step and passes after.
    const report = await lab.proves(way);
    expect(report.steps.flatMap((s) => s.checks).filter((c) => c.kind === 'output').length).toBeGreaterThan(8);
  }

  it('proves every check with the builtin way', () => proves('builtin'), 320_000);

  it.skipIf(noPodman)('proves every check with the podman way', () => proves('podman'), 320_000);

  describe('a finished workspace', () => {
    const workspace = lab.finishedWorkspace({
      alsoExpect: (run) => {
        // The limits were hit for real: the fork refused, dd killed by the OOM killer.
        expect(run.stdout).toContain("can't fork");
        expect(run.stdout).toContain('dd ended with status 137');
      },
    });

    it('runs headless to the end, leaves no container or cgroup, and verify passes on it', () => workspace.expectVerifyPasses(), 220_000);

    it(
      'a memory limit written as a string: the limit check fails, and runc refuses to read config.json',
      () =>
        workspace.withMistake(
          'config.json',
          (text) => text.replace(/"limit": 33554432/, '"limit": "33554432"'),
          async () => {
            const { result, report } = await workspace.verify();
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
        workspace.withMistake(
          'config.json',
          (text) => text.replace(/"limit": 20\b/, '"limit": 40'),
          async () => {
            const { result, report } = await workspace.verify();
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

    // Interrupted once /proc/PID/cgroup has shown the container of the first hands-on step running.
    it('Ctrl-C during a run leaves no container and no cgroup behind', () => workspace.interruptedRun(/^\d+:pids:\/\S/m), 220_000);
  });
});
