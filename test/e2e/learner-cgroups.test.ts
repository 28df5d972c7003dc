// Lab 4 as normal users. With sudo, in a real terminal as a person would do it: let ocilab run each
// step (the two diffs of config.json, the password when sudo first asks), or type the steps in
// ocilab's shell, mistakes and their diagnoses included. No container of the lab's is left.
// Without sudo, rootless, headless and proven: runc refuses the limits (no cgroup at the top of the
// tree for a normal user), and the checks that need them are skipped with the reason. Container ids start with `cg-`.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { servedBusybox } from '../helpers/image.js';
import {
  builtinThenRoot,
  expectNoRootlessContainer,
  finishInTerminal,
  runRootless,
  skipLearnerLabTests,
  typedInShell,
  varArgs,
} from '../helpers/learner-lab-tests.js';
import { asLearner, learnerOcilab } from '../helpers/learners.js';
import { expectNothingLeft, newContainerId } from '../helpers/leftovers.js';

const skip = await skipLearnerLabTests();
const cgroupV2 = (await execa('test', ['-f', '/sys/fs/cgroup/cgroup.controllers'], { reject: false })).exitCode === 0;

const LAB_TIMEOUT_MS = 240_000;

describe.skipIf(skip)('lab 4 as a normal user, with sudo or rootless', () => {
  const served = servedBusybox();

  it(
    'is done to the end in a terminal: sudo asks for the password once, every step passes, no container or cgroup is left',
    () =>
      finishInTerminal({
        lab: 4,
        labId: 'cgroups',
        vars: { img: served.image, ctr: newContainerId('cg') },
        wayFor: builtinThenRoot,
        passwordAsked: 1,
        timeoutMs: LAB_TIMEOUT_MS,
      }),
    LAB_TIMEOUT_MS + 30_000,
  );

  it.skipIf(cgroupV2)(
    "passes the hands-on steps on what the learner typed in ocilab's shell (cgroup v1), with diagnoses for a guessed cgroup path, a taken id, a dd that fits, the limit read before runc update and runc update --memory alone",
    () =>
      typedInShell({ lab: 4, labId: 'cgroups', steps: 10, idPrefix: 'cg', image: served.image }, async (shell, id) => {
        const t = shell.terminal;
        const pid = `pid=$(sudo runc state "$ctr" | sed -n 's/^ *"pid": *\\([0-9]*\\).*/\\1/p')`;
        // The limits are written; the probes that read them inside need root, through sudo's timestamp
        // of this terminal, which the first sudo typed here gives them.
        await shell.enter(4);
        await shell.typeUntilPassed('sudo true');
        await shell.leave();

        // Run it and find its limits: a guessed v1 path first, then the one /proc/PID/cgroup gives.
        await shell.enter(5);
        await shell.type('sudo runc run -d "$ctr"');
        await shell.type(pid);
        await shell.type('cat /proc/$pid/cgroup');
        await t.waitFor(new RegExp(`^\\d+:pids:/\\S*${id}\\s*$`, 'm'));
        await shell.type('cat /sys/fs/cgroup/pids$(sed -n "s/^[0-9]*:pids://p" /proc/$pid/cgroup)/pids.max');
        await shell.type(`cat /sys/fs/cgroup/memory/does-not-exist/${id}/memory.limit_in_bytes`);
        await t.waitFor('There is no such file. On cgroup v2 there is no /sys/fs/cgroup/pids/');
        await shell.type('cat /sys/fs/cgroup/memory$(sed -n "s/^[0-9]*:memory://p" /proc/$pid/cgroup)/memory.limit_in_bytes');
        await shell.typeUntilPassed('sudo runc exec "$ctr" cat /sys/fs/cgroup/pids/pids.max');
        // Still running: the next step's first try finds the id taken.
        await shell.leave();

        await shell.enter(6);
        await shell.type('sudo runc run -d "$ctr"');
        await t.waitFor(`runc already knows a container named ${id}, from an earlier step`);
        await shell.type(`sudo runc exec "$ctr" sh -c 'i=0; while [ $i -lt 30 ]; do sleep 1000 >/dev/null 2>&1 & i=$((i+1)); done'`);
        await t.waitFor("can't fork");
        await shell.type(pid);
        await shell.typeUntilPassed('cat /sys/fs/cgroup/pids$(sed -n "s/^[0-9]*:pids://p" /proc/$pid/cgroup)/pids.events');
        await shell.type('sudo runc delete --force "$ctr"');
        await shell.leave();

        // Hit the memory limit: a dd whose buffer fits first, then one that does not.
        await shell.enter(7);
        await shell.type('sudo runc run -d "$ctr"');
        await shell.type('sudo runc exec "$ctr" dd if=/dev/zero of=/dev/null bs=1M count=1');
        await t.waitFor('dd finished, so its buffer fitted under the limit');
        await shell.type('sudo runc exec "$ctr" dd if=/dev/zero of=/dev/null bs=64M count=1');
        await shell.type(pid);
        await shell.type('cat /sys/fs/cgroup/memory$(sed -n "s/^[0-9]*:memory://p" /proc/$pid/cgroup)/memory.oom_control');
        await t.waitFor(/^oom_kill 1\s*$/m);
        await shell.typeUntilPassed('sudo runc state "$ctr"');
        await shell.leave();

        // Change a limit while it runs: the old limit read first, then --memory without --memory-swap.
        await shell.enter(8);
        await shell.type(pid);
        await shell.type('cat /sys/fs/cgroup/pids$(sed -n "s/^[0-9]*:pids://p" /proc/$pid/cgroup)/pids.max');
        await t.waitFor('The running container still has the limit it was created with');
        await shell.type('sudo runc update --memory 48M "$ctr"');
        await t.waitFor('The new memory limit is higher than the memory-plus-swap limit of 32 MiB');
        await shell.type('sudo runc update --pids-limit 40 --memory 48M --memory-swap 48M "$ctr"');
        await shell.type('cat /sys/fs/cgroup/memory$(sed -n "s/^[0-9]*:memory://p" /proc/$pid/cgroup)/memory.limit_in_bytes');
        await shell.typeUntilPassed('cat /sys/fs/cgroup/pids$(sed -n "s/^[0-9]*:pids://p" /proc/$pid/cgroup)/pids.max');
        await shell.type('sudo runc delete --force "$ctr"');
        await shell.leave();
      }),
    LAB_TIMEOUT_MS,
  );

  it(
    'is done to the end rootless by a learner without sudo, headless, and proves rootless too: runc refuses the limits, and the checks that need them are skipped with the reason',
    async () => {
      const { who, id, vars, run } = await runRootless({ lab: 4, idPrefix: 'cg', image: served.image });
      // runc refuses to make the container's cgroup at the top of the tree, on v1 and v2 alike.
      expect(run.all).toContain('runc refused: a container you start as yourself gets no cgroup of its own');
      expect(run.all).toContain(`Started as yourself, a container gets no limits: runc refuses to make its cgroup /${id}`);
      const proved = await asLearner(who, [
        learnerOcilab,
        'prove',
        '4',
        '--use',
        'builtin',
        '--use',
        'rootless',
        ...varArgs(vars),
        '--json',
      ]);
      expect(proved.exitCode, proved.all).toBe(0);
      const report = JSON.parse(proved.stdout) as {
        proven: boolean;
        steps: { id: string; checks: { kind: string; verdict?: string }[] }[];
      };
      expect(report.proven).toBe(true);
      const verdicts = report.steps.flatMap((s) => s.checks.map((c) => `${s.id} ${c.kind} ${c.verdict}`));
      // Without a cgroup there is nothing for a probe or an output check to judge; the bundle's files are checked.
      expect(verdicts.filter((v) => / (probe|output) /.test(v)).every((v) => v.endsWith(' skipped'))).toBe(true);
      expect(verdicts.filter((v) => v.endsWith(' skipped'))).toHaveLength(14);
      expect(verdicts.filter((v) => v.includes(' json ')).every((v) => v.endsWith(' ok'))).toBe(true);
      await expectNoRootlessContainer(who, id);
      await expectNothingLeft(id);
    },
    LAB_TIMEOUT_MS,
  );
});
