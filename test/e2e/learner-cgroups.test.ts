// Lab 4 as normal users. With sudo, in a real terminal as a person would do it: let ocilab run each
// step (the two diffs of config.json, the password when sudo first asks), or type the steps in
// ocilab's shell, mistakes and their diagnoses included. No container of the lab's is left.
// Without sudo, rootless, headless and proven: runc refuses the limits (no cgroup at the top of the
// tree for a normal user), and the checks that need them are skipped with the reason. Container ids start with `cg-`.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusybox } from '../helpers/image.js';
import { driveLab } from '../helpers/lab-driver.js';
import { asLearner, learner, learnerOcilab, learnersUsable } from '../helpers/learners.js';
import { expectNothingLeft, newContainerId } from '../helpers/leftovers.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';
import { Terminal } from '../helpers/terminal.js';

const STEP_PASSES = 'every check of this step passes';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const skip = skipUnless(
  (await learnersUsable()) && (await registryToolsUsable()),
  'needs root (to create learners), sudo, runuser, tmux, script, docker-registry, busybox-static, umoci and skopeo',
);
const cgroupV2 = (await execa('test', ['-f', '/sys/fs/cgroup/cgroup.controllers'], { reject: false })).exitCode === 0;

const LAB_TIMEOUT_MS = 240_000;

interface ReportJson {
  labs: { id: string; state: string; steps: { id: string; kind: string; status: string; checks: { status: string }[] }[] }[];
}

describe.skipIf(skip)('lab 4 as a normal user, with sudo or rootless', () => {
  let registry: Registry;
  let image: string;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it(
    'is done to the end in a terminal: sudo asks for the password once, every step passes, no container or cgroup is left',
    async () => {
      const who = await learner('sudo-password');
      const id = newContainerId('cg');
      const terminal = await Terminal.open(who);
      try {
        await terminal.line(`${learnerOcilab} run 4 --var img=${image} --var ctr=${id}; echo "ocilab exited with $?"`);
        await driveLab(terminal, {
          who,
          timeoutMs: LAB_TIMEOUT_MS,
          wayFor: (step) => (step === 'A root filesystem to start from' ? 'builtin' : 'root'),
        });
        const screen = await terminal.waitFor(/ocilab exited with \d+/, 1, LAB_TIMEOUT_MS);
        expect(screen).toContain('ocilab exited with 0');
        expect(await terminal.count('[sudo] password for')).toBe(1);
        expect(screen).not.toContain(who.password);
      } finally {
        await terminal.close();
      }

      const reported = await asLearner(who, [learnerOcilab, 'report', '--json']);
      expect(reported.exitCode, reported.all).toBe(0);
      const lab = (JSON.parse(reported.stdout) as ReportJson).labs.find((l) => l.id === 'cgroups');
      expect(lab?.state).toBe('finished');
      for (const step of lab?.steps ?? []) {
        expect(step.status, step.id).toBe(step.kind === 'task' ? 'passed' : 'read');
        for (const check of step.checks) expect(check.status, step.id).toBe('passed');
      }
      await expectNothingLeft(id);
    },
    LAB_TIMEOUT_MS + 30_000,
  );

  it.skipIf(cgroupV2)(
    "passes the hands-on steps on what the learner typed in ocilab's shell (cgroup v1), with diagnoses for a guessed cgroup path, a taken id, a dd that fits, the limit read before runc update and runc update --memory alone",
    async () => {
      const who = await learner('sudo-password');
      const id = newContainerId('cg');
      const vars = `--var img=${image} --var ctr=${id}`;
      // Headless, the steps that need no root are done; it stops where sudo would ask.
      const headless = await asLearner(who, [
        learnerOcilab,
        'run',
        '4',
        '--yes',
        '--use',
        'builtin',
        '--var',
        `img=${image}`,
        '--var',
        `ctr=${id}`,
      ]);
      expect(headless.exitCode, headless.all).toBe(1);
      expect(headless.all).toMatch(/sudo wants your password/);

      const t = await Terminal.open(who);
      // The shell's prompt runs the checks before it reads the next line: type only at the prompt.
      const PROMPT = '~/ocilab/cgroups $';
      // Each of ocilab's shells has a terminal of its own, so sudo asks for the password again in each.
      const ASKS = `[sudo] password for ${who.name}:`;
      const type = async (line: string) => {
        const prompts = await t.count(PROMPT);
        const asks = await t.count(ASKS);
        await t.line(line);
        const shown = await t.waitFor(new RegExp(`${escape(PROMPT)}|${escape(ASKS)}`), prompts + asks + 1, 120_000);
        if (shown.split(ASKS).length - 1 > asks) {
          await t.line(who.password);
          await t.waitFor(PROMPT, prompts + 1, 120_000);
        }
      };
      const typeUntilPassed = async (line: string) => {
        const passes = await t.next(STEP_PASSES);
        await type(line);
        await passes(120_000);
      };
      const pid = `pid=$(sudo runc state "$ctr" | sed -n 's/^ *"pid": *\\([0-9]*\\).*/\\1/p')`;
      try {
        await t.waitFor('$ ');
        // The limits are written; the probes that read them inside need root, through sudo's timestamp
        // of this terminal, which the first sudo typed here gives them.
        await t.line(`${learnerOcilab} shell 4 ${vars}`);
        await t.waitFor('[ocilab cgroups 4/10');
        await typeUntilPassed('sudo true');
        await t.line('exit');
        await t.waitFor('Step done.', 1);

        // Run it and find its limits: a guessed v1 path first, then the one /proc/PID/cgroup gives.
        await t.line(`${learnerOcilab} shell 4 ${vars}`);
        await t.waitFor('[ocilab cgroups 5/10');
        await type('sudo runc run -d "$ctr"');
        await type(pid);
        await type('cat /proc/$pid/cgroup');
        await t.waitFor(new RegExp(`^\\d+:pids:/\\S*${id}\\s*$`, 'm'));
        await type('cat /sys/fs/cgroup/pids$(sed -n "s/^[0-9]*:pids://p" /proc/$pid/cgroup)/pids.max');
        await type(`cat /sys/fs/cgroup/memory/does-not-exist/${id}/memory.limit_in_bytes`);
        await t.waitFor('There is no such file. On cgroup v2 there is no /sys/fs/cgroup/pids/');
        await type('cat /sys/fs/cgroup/memory$(sed -n "s/^[0-9]*:memory://p" /proc/$pid/cgroup)/memory.limit_in_bytes');
        await typeUntilPassed('sudo runc exec "$ctr" cat /sys/fs/cgroup/pids/pids.max');
        // Still running: the next step's first try finds the id taken.
        await t.line('exit');
        await t.waitFor('Step done.', 2);

        await t.line(`${learnerOcilab} shell 4 ${vars}`);
        await t.waitFor('[ocilab cgroups 6/10');
        await type('sudo runc run -d "$ctr"');
        await t.waitFor(`runc already knows a container named ${id}, from an earlier step`);
        await type(`sudo runc exec "$ctr" sh -c 'i=0; while [ $i -lt 30 ]; do sleep 1000 >/dev/null 2>&1 & i=$((i+1)); done'`);
        await t.waitFor("can't fork");
        await type(pid);
        await typeUntilPassed('cat /sys/fs/cgroup/pids$(sed -n "s/^[0-9]*:pids://p" /proc/$pid/cgroup)/pids.events');
        await type('sudo runc delete --force "$ctr"');
        await t.line('exit');
        await t.waitFor('Step done.', 3);

        // Hit the memory limit: a dd whose buffer fits first, then one that does not.
        await t.line(`${learnerOcilab} shell 4 ${vars}`);
        await t.waitFor('[ocilab cgroups 7/10');
        await type('sudo runc run -d "$ctr"');
        await type('sudo runc exec "$ctr" dd if=/dev/zero of=/dev/null bs=1M count=1');
        await t.waitFor('dd finished, so its buffer fitted under the limit');
        await type('sudo runc exec "$ctr" dd if=/dev/zero of=/dev/null bs=64M count=1');
        await type(pid);
        await type('cat /sys/fs/cgroup/memory$(sed -n "s/^[0-9]*:memory://p" /proc/$pid/cgroup)/memory.oom_control');
        await t.waitFor(/^oom_kill 1\s*$/m);
        await typeUntilPassed('sudo runc state "$ctr"');
        await t.line('exit');
        await t.waitFor('Step done.', 4);

        // Change a limit while it runs: the old limit read first, then --memory without --memory-swap.
        await t.line(`${learnerOcilab} shell 4 ${vars}`);
        await t.waitFor('[ocilab cgroups 8/10');
        await type(pid);
        await type('cat /sys/fs/cgroup/pids$(sed -n "s/^[0-9]*:pids://p" /proc/$pid/cgroup)/pids.max');
        await t.waitFor('The running container still has the limit it was created with');
        await type('sudo runc update --memory 48M "$ctr"');
        await t.waitFor('The new memory limit is higher than the memory-plus-swap limit of 32 MiB');
        await type('sudo runc update --pids-limit 40 --memory 48M --memory-swap 48M "$ctr"');
        await type('cat /sys/fs/cgroup/memory$(sed -n "s/^[0-9]*:memory://p" /proc/$pid/cgroup)/memory.limit_in_bytes');
        await typeUntilPassed('cat /sys/fs/cgroup/pids$(sed -n "s/^[0-9]*:pids://p" /proc/$pid/cgroup)/pids.max');
        await type('sudo runc delete --force "$ctr"');
        await t.line('exit');
        await t.waitFor('Step done.', 5);
      } finally {
        await t.close();
        await execa('runc', ['delete', '--force', id], { reject: false });
      }
      await expectNothingLeft(id);
    },
    LAB_TIMEOUT_MS,
  );

  it(
    'is done to the end rootless by a learner without sudo, headless, and proves rootless too: runc refuses the limits, and the checks that need them are skipped with the reason',
    async () => {
      const who = await learner('no-sudo');
      const id = newContainerId('cg');
      const vars = ['--var', `img=${image}`, '--var', `ctr=${id}`];
      const run = await asLearner(who, [learnerOcilab, 'run', '4', '--yes', '--use', 'builtin', '--use', 'rootless', ...vars]);
      expect(run.exitCode, run.all).toBe(0);
      expect(run.all).not.toMatch(/✗|could not check/);
      // runc refuses to make the container's cgroup at the top of the tree, on v1 and v2 alike.
      expect(run.all).toContain('runc refused: a container you start as yourself gets no cgroup of its own');
      expect(run.all).toContain(`Started as yourself, a container gets no limits: runc refuses to make its cgroup /${id}`);
      const proved = await asLearner(who, [learnerOcilab, 'prove', '4', '--use', 'builtin', '--use', 'rootless', ...vars, '--json']);
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
      // Rootless runc keeps its state in the learner's own directory: nothing of this id is left there.
      const state = await asLearner(who, ['sh', '-c', 'runc --root "${XDG_RUNTIME_DIR:-/tmp/runc-$(id -u)}/runc" list --quiet']);
      expect(state.stdout.split('\n')).not.toContain(id);
      await expectNothingLeft(id);
    },
    LAB_TIMEOUT_MS,
  );
});
