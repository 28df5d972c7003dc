// Lab 7 (guards) as root against a registry on loopback: proven with podman and with builtin, run to
// the end headless with every config.json it wrote valid against the runtime-spec schema, verify on a
// finished workspace with a learner's mistake applied, and no container or cgroup of the lab's left
// behind, Ctrl-C included. Container ids start with `gd-`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootLabSkips, rootLabTests } from '../helpers/lab-tests.js';
import { failedChecks } from '../helpers/leftovers.js';
import { configValidator } from '../helpers/runtime-schema.js';

const { noLab, noPodman } = await rootLabSkips(7);

/** The bundles the lab makes, each with a config.json of its own. */
const BUNDLES = ['.', 'caps', 'nnp', 'ro', 'seccomp', 'masked', 'userns', 'apparmor', 'selinux'];

/** The checks that cannot apply on a host without /proc/kcore, AppArmor or SELinux, as this one may be. */
const HOST_DEPENDENT = /\/proc\/kcore|docker-default|container_t/;

describe.skipIf(noLab)('lab 7: what stops a root process in a container', () => {
  // The user-namespace step's root is uid 100000 on the host, and it must walk to the rootfs.
  const lab = rootLabTests({ lab: 7, short: 'gd', containers: true, podman: !noPodman, dirMode: 0o711 });

  async function proves(way: string): Promise<void> {
    const report = await lab.proves(way, {
      // Only the checks about what this host may lack are skipped, and those only where it lacks them.
      verdict: (check) => (check.verdict === 'skipped' && HOST_DEPENDENT.test(check.label) ? 'skipped' : 'ok'),
    });
    const checks = report.steps.flatMap((s) => s.checks);
    expect(checks.filter((c) => c.kind === 'probe' && c.verdict === 'ok').length).toBeGreaterThan(10);
  }

  it('proves every check with the builtin way', () => proves('builtin'), 320_000);

  it.skipIf(noPodman)('proves every check with the podman way', () => proves('podman'), 320_000);

  describe('a finished workspace', () => {
    const workspace = lab.finishedWorkspace();

    it('runs headless to the end, leaves no container or cgroup, and verify passes on it', () => workspace.expectVerifyPasses(), 220_000);

    it('writes every config.json valid against the OCI runtime-spec schema', async () => {
      const validate = await configValidator();
      for (const bundle of BUNDLES) {
        const config = JSON.parse(await readFile(join(workspace.workdir, bundle, 'config.json'), 'utf8')) as unknown;
        expect(validate(config), `${bundle}/config.json`).toEqual([]);
      }
      // The user namespace step made root inside an ordinary uid outside, and the file it wrote says so.
      const userns = JSON.parse(await readFile(join(workspace.workdir, 'userns', 'config.json'), 'utf8')) as {
        linux: { uidMappings: { containerID: number; hostID: number; size: number }[] };
      };
      expect(userns.linux.uidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
      // Every bundle is written by one edit but userns/, whose root way then adds the two mappings
      // with jq: what the edit alone wrote is valid too.
      const { uidMappings: _uid, gidMappings: _gid, ...linux } = userns.linux as Record<string, unknown>;
      expect(validate({ ...userns, linux }), 'userns/config.json before the mappings').toEqual([]);
    });

    it(
      'CAP_CHOWN taken out of effective only: root gets it back at execve, chown works, and the sets check names the others',
      () =>
        workspace.withMistake(
          'caps/config.json',
          (text) => {
            const config = JSON.parse(text) as { process: { capabilities: Record<string, string[]> } };
            for (const set of ['bounding', 'permitted']) config.process.capabilities[set]?.unshift('CAP_CHOWN');
            return JSON.stringify(config, null, 2);
          },
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            expect(new Set(wrong.map((c) => c.step))).toEqual(new Set(['take-away-a-capability']));
            expect(wrong.map((c) => c.kind).sort()).toEqual(['command', 'output', 'probe', 'probe']);
            const sets = wrong.find((c) => c.kind === 'command');
            expect(sets?.actual).toMatch(/"bounding"\s+"permitted"/);
            expect(sets?.hint).toContain('execve puts what is left in permitted back into effective');
            // Every mask has bit 0 again, effective included, and chown to uid 1 is allowed.
            expect(wrong.find((c) => c.kind === 'probe' && c.actual?.includes('CapPrm'))?.actual).toMatch(
              /CapPrm:\s+00000000a80425fb\nCapEff:\s+00000000a80425fb\nCapBnd:\s+00000000a80425fb/,
            );
            expect(wrong.find((c) => c.kind === 'output')?.actual).toMatch(/CapEff:\s+00000000a80425fb/);
            expect(result.stderr).toContain('or CAP_CHOWN is still in its permitted set');
          },
        ),
      220_000,
    );

    it(
      'a seccomp profile that refuses execve: nothing starts, and the diagnosis says why',
      () =>
        workspace.withMistake(
          'seccomp/config.json',
          (text) => text.replace('"mkdirat"', '"mkdirat",\n          "execve"'),
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            expect(new Set(wrong.map((c) => c.step))).toEqual(new Set(['a-seccomp-filter']));
            // Both probes and the step's own output: the container's first program never ran.
            expect(wrong.filter((c) => c.kind === 'probe').map((c) => c.actual)).toEqual([
              expect.stringMatching(/exec \S*grep: operation not permitted/),
              expect.stringMatching(/exec \S*mkdir: operation not permitted/),
            ]);
            expect(wrong.filter((c) => c.kind === 'output')).toHaveLength(1);
            expect(result.stderr).toContain('because the seccomp profile in seccomp/config.json fails execve');
          },
        ),
      220_000,
    );

    it(
      'capability names without CAP_, as docker run --cap-add takes them: the name check fails, and runc is said to ignore them',
      () =>
        workspace.withMistake(
          'config.json',
          (text) => text.replace(/"CAP_(CHOWN|KILL)"/g, '"$1"'),
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            expect(new Set(wrong.map((c) => c.step))).toEqual(new Set(['a-spec-with-the-guards-down', 'what-root-may-do-in-it']));
            const names = wrong.find((c) => c.step === 'a-spec-with-the-guards-down' && c.kind === 'command');
            expect(names?.actual?.split(/\s+/).sort()).toEqual(['"CHOWN"', '"CHOWN"', '"CHOWN"', '"KILL"', '"KILL"', '"KILL"']);
            expect(wrong.find((c) => c.kind === 'probe')?.actual).toMatch(/CapEff:\s+00000000a80425da/);
            expect(result.stderr).toContain('runc did not know some capability names in config.json and ignored them');
          },
        ),
      220_000,
    );

    it(
      'a read-only root without the tmpfs on /tmp: /tmp is read-only too, and the diagnosis names the missing mount',
      () =>
        workspace.withMistake(
          'ro/config.json',
          (text) => {
            const config = JSON.parse(text) as { mounts: { destination: string }[] };
            config.mounts = config.mounts.filter((m) => m.destination !== '/tmp');
            return JSON.stringify(config, null, 2);
          },
          async () => {
            const { result, report } = await workspace.verify();
            expect(result.exitCode).toBe(1);
            const wrong = failedChecks(report);
            expect(wrong.map((c) => [c.step, c.kind])).toEqual([['a-read-only-root', 'probe']]);
            expect(wrong[0]?.actual).toContain('/tmp/probe: Read-only file system');
            expect(result.stderr).toContain('ro/config.json has no tmpfs mount on /tmp');
          },
        ),
      220_000,
    );

    // Interrupted once the first container runs and has shown its capabilities.
    it('Ctrl-C during a run leaves no container behind', () => workspace.interruptedRun(/CapEff:\s+00000000a80425fb/), 220_000);
  });
});
