// Lab 7 as normal users. With sudo, in a real terminal as a person would do it: let ocilab run each
// step (the diffs of the bundles, the password when sudo first asks), or type the steps in ocilab's
// shell, a mistake and its diagnosis included. No container of the lab's is left. Without sudo,
// rootless, headless and proven. Container ids start with `gd-`, so other test runs' containers never clash.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusybox } from '../helpers/image.js';
import { driveLab } from '../helpers/lab-driver.js';
import { asLearner, learner, learnerOcilab, learnersUsable } from '../helpers/learners.js';
import { failedChecks, newContainerId, type VerifyReport } from '../helpers/leftovers.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';
import { Terminal } from '../helpers/terminal.js';

const STEP_PASSES = 'every check of this step passes';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const skip = skipUnless(
  (await learnersUsable()) && (await registryToolsUsable()),
  'needs root (to create learners), sudo, runuser, tmux, script, docker-registry, busybox-static, umoci and skopeo',
);

const LAB_TIMEOUT_MS = 240_000;

interface ReportJson {
  labs: { id: string; state: string; steps: { id: string; kind: string; status: string; checks: { status: string }[] }[] }[];
}

describe.skipIf(skip)('lab 7 as a normal user, with sudo or rootless', () => {
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
    'is done to the end in a terminal: sudo asks for the password once, every step passes or is skipped here, no container is left',
    async () => {
      const who = await learner('sudo-password');
      const id = newContainerId('gd');
      const terminal = await Terminal.open(who);
      try {
        await terminal.line(`${learnerOcilab} run 7 --var img=${image} --var ctr=${id}; echo "ocilab exited with $?"`);
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
      const lab = (JSON.parse(reported.stdout) as ReportJson).labs.find((l) => l.id === 'guards');
      expect(lab?.state).toBe('finished');
      for (const step of lab?.steps ?? []) {
        expect(step.status, step.id).toBe(step.kind === 'task' ? 'passed' : 'read');
        for (const check of step.checks) expect(check.status, step.id).toMatch(/^(passed|skipped)$/);
      }
      // The user namespace step: root in the container wrote a file that belongs to uid 100000.
      const owner = await asLearner(who, ['stat', '-c', '%u', `/home/${who.name}/ocilab/guards/rootfs/tmp/from-userns`]);
      expect(owner.stdout.trim()).toBe('100000');
      const listed = await execa('runc', ['list', '--quiet'], { reject: false });
      expect(listed.stdout.split('\n')).not.toContain(id);
    },
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    "passes the first steps on what the learner typed in ocilab's shell, with a diagnosis for CAP_CHOWN taken out of effective only",
    async () => {
      const who = await learner('sudo-password');
      const id = newContainerId('gd');
      const vars = `--var img=${image} --var ctr=${id}`;
      // Headless, the steps that need no root are done; it stops where a probe needs sudo's password.
      const headless = await asLearner(who, [
        learnerOcilab,
        'run',
        '7',
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
      const PROMPT = '~/ocilab/guards $';
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
      try {
        await t.waitFor('$ ');
        // The spec's probes wait for sudo: the password typed once, and they pass at the next prompt.
        await t.line(`${learnerOcilab} shell 7 ${vars}`);
        await t.waitFor('[ocilab guards 3/13');
        await typeUntilPassed('sudo -v');
        await t.line('exit');
        await t.waitFor('Step done.', 1);

        await t.line(`${learnerOcilab} shell 7 ${vars}`);
        await t.waitFor('[ocilab guards 4/13');
        await type('sudo runc run -d "$ctr"');
        await type('sudo runc exec "$ctr" grep Cap /proc/1/status');
        await t.waitFor(/CapEff:\s+00000000a80425fb/);
        await typeUntilPassed(`sudo runc exec "$ctr" sh -c 'touch /tmp/mine && chown 1:1 /tmp/mine && ls -ln /tmp/mine'`);
        await type('sudo runc delete --force "$ctr"');
        await t.line('exit');
        await t.waitFor('Step done.', 2);

        // Take away a capability: first out of effective only, which root gets back at execve.
        await t.line(`${learnerOcilab} shell 7 ${vars}`);
        await t.waitFor('[ocilab guards 5/13');
        await type(
          `mkdir -p caps && jq '.root.path = "../rootfs" | .process.capabilities.effective -= ["CAP_CHOWN"]' config.json > caps/config.json`,
        );
        await type('sudo runc run -d --bundle caps "$ctr"');
        await type('sudo runc exec "$ctr" grep Cap /proc/1/status');
        await t.waitFor('or CAP_CHOWN is still in its permitted set');
        await type('sudo runc delete --force "$ctr"');
        await type(`jq '.root.path = "../rootfs" | .process.capabilities |= map_values(. - ["CAP_CHOWN"])' config.json > caps/config.json`);
        await type('sudo runc run -d --bundle caps "$ctr"');
        await type(`sudo runc exec "$ctr" sh -c 'touch /tmp/mine && chown 1:1 /tmp/mine'`);
        await t.waitFor(/chown: \/tmp\/mine: Operation not permitted/);
        await typeUntilPassed('sudo runc exec "$ctr" grep Cap /proc/1/status');
        await type('sudo runc delete --force "$ctr"');
        await t.line('exit');
        await t.waitFor('Step done.', 3);
      } finally {
        await t.close();
        await execa('runc', ['delete', '--force', id], { reject: false });
      }
      const listed = await execa('runc', ['list', '--quiet'], { reject: false });
      expect(listed.stdout.split('\n')).not.toContain(id);
    },
    LAB_TIMEOUT_MS,
  );

  it(
    'is done to the end rootless by a learner without sudo, headless, and proves rootless too',
    async () => {
      const who = await learner('no-sudo');
      const id = newContainerId('gd');
      const vars = ['--var', `img=${image}`, '--var', `ctr=${id}`];
      const run = await asLearner(who, [learnerOcilab, 'run', '7', '--yes', '--use', 'builtin', '--use', 'rootless', ...vars]);
      expect(run.exitCode, run.all).toBe(0);
      expect(run.all).not.toMatch(/✗|could not check/);
      // Rootless, root in the container is the learner: the file it wrote is the learner's.
      const owner = await asLearner(who, ['sh', '-c', 'test "$(stat -c %u ~/ocilab/guards/rootfs/tmp/from-userns)" = "$(id -u)"']);
      expect(owner.exitCode, owner.all).toBe(0);
      const proved = await asLearner(who, [learnerOcilab, 'prove', '7', '--use', 'builtin', '--use', 'rootless', ...vars]);
      expect(proved.exitCode, proved.all).toBe(0);
      expect(proved.stdout).not.toMatch(/✗/);

      // A mapping of a range that /etc/subuid does not give this learner: runc cannot set it up.
      const mapped = await asLearner(who, [
        'sh',
        '-c',
        `cd ~/ocilab/guards && jq '.linux.uidMappings += [{"containerID": 1, "hostID": 100000, "size": 65536}]' userns/config.json > mapped.json && mv mapped.json userns/config.json`,
      ]);
      expect(mapped.exitCode, mapped.all).toBe(0);
      const verified = await asLearner(who, [learnerOcilab, 'verify', '7', '--json', '--use', 'rootless', ...vars]);
      expect(verified.exitCode, verified.all).toBe(1);
      const report = JSON.parse(verified.stdout) as VerifyReport;
      const wrong = failedChecks(report);
      expect(new Set(wrong.map((c) => c.step))).toEqual(
        new Set(['root-inside-an-ordinary-uid-outside', 'who-owns-what-the-container-writes']),
      );
      expect(wrong.find((c) => c.kind === 'probe')?.message).toMatch(/^runc could not run `cat \/proc\/self\/uid_map` in the container/);
      expect(verified.stderr).toContain('Rootless, runc may map only your own uid');
      // Rootless runc keeps its state in the learner's own directory: nothing of this id is left there.
      const state = await asLearner(who, ['sh', '-c', 'runc --root "${XDG_RUNTIME_DIR:-/tmp/runc-$(id -u)}/runc" list --quiet']);
      expect(state.stdout.split('\n')).not.toContain(id);
    },
    LAB_TIMEOUT_MS,
  );
});
