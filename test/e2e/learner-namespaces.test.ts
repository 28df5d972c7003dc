// Lab 3 as normal users. With sudo, in a real terminal as a person would do it: let ocilab run each
// step (the diffs of the three bundles, the password when sudo first asks), or type the steps in
// ocilab's shell, mistakes and their diagnoses included. No container of the lab's is left.
// Without sudo, rootless, headless and proven. Container ids start with `ns-`, so other test runs' containers never clash.
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusybox } from '../helpers/image.js';
import { driveLab } from '../helpers/lab-driver.js';
import { asLearner, learner, learnerOcilab, learnersUsable } from '../helpers/learners.js';
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

describe.skipIf(skip)('lab 3 as a normal user, with sudo or rootless', () => {
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
    'is done to the end in a terminal: sudo asks for the password once, every step passes, no container is left',
    async () => {
      const who = await learner('sudo-password');
      const id = `ns-${randomBytes(4).toString('hex')}`;
      const terminal = await Terminal.open(who);
      try {
        await terminal.line(`${learnerOcilab} run 3 --var img=${image} --var ctr=${id}; echo "ocilab exited with $?"`);
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
      const lab = (JSON.parse(reported.stdout) as ReportJson).labs.find((l) => l.id === 'namespaces');
      expect(lab?.state).toBe('finished');
      for (const step of lab?.steps ?? []) {
        expect(step.status, step.id).toBe(step.kind === 'task' ? 'passed' : 'read');
        for (const check of step.checks) expect(check.status, step.id).toBe('passed');
      }
      const listed = await execa('runc', ['list', '--quiet'], { reject: false });
      expect(listed.stdout.split('\n')).not.toContain(id);
    },
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    "passes the hands-on steps on what the learner typed in ocilab's shell, with a diagnosis for a taken id and for a container started before the edit",
    async () => {
      const who = await learner('sudo-password');
      const id = `ns-${randomBytes(4).toString('hex')}`;
      const vars = `--var img=${image} --var ctr=${id}`;
      // Headless, the steps that need no root are done; it stops where sudo would ask.
      const headless = await asLearner(who, [
        learnerOcilab,
        'run',
        '3',
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
      const PROMPT = '~/ocilab/namespaces $';
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
        // Look at it from the host: the password typed where sudo first asks.
        await t.line(`${learnerOcilab} shell 3 ${vars}`);
        await t.waitFor('[ocilab namespaces 4/9');
        await type('sudo runc run -d "$ctr"');
        await type('sudo runc state "$ctr"');
        await t.waitFor('"status": "running"');
        await type(`pid=$(sudo runc state "$ctr" | sed -n 's/^ *"pid": *\\([0-9]*\\).*/\\1/p')`);
        await typeUntilPassed('sudo ls -l /proc/$pid/ns');
        // Still running: the next step's first try finds the id taken.
        await t.line('exit');
        await t.waitFor('Step done.', 1);

        await t.line(`${learnerOcilab} shell 3 ${vars}`);
        await t.waitFor('[ocilab namespaces 5/9');
        await type('sudo runc run -d "$ctr"');
        await t.waitFor(`runc already knows a container named ${id}`);
        await type('sudo runc exec "$ctr" hostname');
        await t.waitFor(/^inside\s*$/m);
        await typeUntilPassed('sudo runc exec "$ctr" ps');
        await t.line('exit');
        await t.waitFor('Step done.', 2);

        // Without a PID namespace: the copy edited with jq, but ps typed in the container that still
        // runs from the first bundle; then deleted and started again from the copy.
        await t.line(`${learnerOcilab} shell 3 ${vars}`);
        await t.waitFor('[ocilab namespaces 6/9');
        await type(
          `mkdir -p no-pid && jq '.root.path = "../rootfs" | .linux.namespaces |= map(select(.type != "pid"))' config.json > no-pid/config.json`,
        );
        await type('sudo runc exec "$ctr" ps');
        await t.waitFor('The container you looked into still has a PID namespace of its own');
        await type('sudo runc delete --force "$ctr"');
        await type('sudo runc run -d --bundle no-pid "$ctr"');
        await typeUntilPassed('sudo runc exec "$ctr" ps');
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
      const id = `ns-${randomBytes(4).toString('hex')}`;
      const vars = ['--var', `img=${image}`, '--var', `ctr=${id}`];
      const run = await asLearner(who, [learnerOcilab, 'run', '3', '--yes', '--use', 'builtin', '--use', 'rootless', ...vars]);
      expect(run.exitCode, run.all).toBe(0);
      expect(run.all).not.toMatch(/✗|could not check/);
      const proved = await asLearner(who, [learnerOcilab, 'prove', '3', '--use', 'builtin', '--use', 'rootless', ...vars]);
      expect(proved.exitCode, proved.all).toBe(0);
      expect(proved.stdout).not.toMatch(/✗/);
      // Rootless runc keeps its state in the learner's own directory: nothing of this id is left there.
      const state = await asLearner(who, ['sh', '-c', 'runc --root "${XDG_RUNTIME_DIR:-/tmp/runc-$(id -u)}/runc" list --quiet']);
      expect(state.stdout.split('\n')).not.toContain(id);
    },
    LAB_TIMEOUT_MS,
  );
});
