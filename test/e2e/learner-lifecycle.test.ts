// Lab 5 as normal users. With sudo, in a real terminal as a person would do it: let ocilab run each
// step (the password when sudo first asks), or type the life of one container in ocilab's shell across
// five steps, keeping it between them (created, then running, then stopped), with the diagnoses of a
// taken id, of a TERM that PID 1 ignores and of hooks written into config.json after create. Without
// sudo, rootless, headless and proven. No container of the lab's is left. Container ids start with
// `lc-`, so other test runs' containers never clash.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusybox } from '../helpers/image.js';
import { driveLab } from '../helpers/lab-driver.js';
import { asLearner, learner, learnerOcilab, learnersUsable } from '../helpers/learners.js';
import { newContainerId, runcIds } from '../helpers/leftovers.js';
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

describe.skipIf(skip)('lab 5 as a normal user, with sudo or rootless', () => {
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
      const id = newContainerId('lc');
      const terminal = await Terminal.open(who);
      try {
        await terminal.line(`${learnerOcilab} run 5 --var img=${image} --var ctr=${id}; echo "ocilab exited with $?"`);
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
      const lab = (JSON.parse(reported.stdout) as ReportJson).labs.find((l) => l.id === 'lifecycle');
      expect(lab?.state).toBe('finished');
      for (const step of lab?.steps ?? []) {
        expect(step.status, step.id).toBe(step.kind === 'task' ? 'passed' : 'read');
        // Where systemd is not PID 1 (here, in CI), the systemctl step's checks do not apply.
        const expected = step.id === 'start-it-with-systemctl' && !existsSync('/run/systemd/system') ? 'skipped' : 'passed';
        for (const check of step.checks) expect(check.status, step.id).toBe(expected);
      }
      expect(await runcIds()).not.toContain(id);
    },
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    "passes five steps on one container's life typed in ocilab's shell, kept from step to step, with diagnoses for a taken id, a TERM that PID 1 ignores and hooks added after create",
    async () => {
      const who = await learner('sudo-password');
      const id = newContainerId('lc');
      const vars = `--var img=${image} --var ctr=${id}`;
      // Headless, the steps that need no root are done; it stops where sudo would ask.
      const headless = await asLearner(who, [
        learnerOcilab,
        'run',
        '5',
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
      const PROMPT = '~/ocilab/lifecycle $';
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
      const leaveShell = async (done: number) => {
        await t.line('exit');
        await t.waitFor('Step done.', done);
      };
      try {
        await t.waitFor('$ ');
        // Created: left so for the next step. The shell ends although runc init holds its terminal.
        await t.line(`${learnerOcilab} shell 5 ${vars}`);
        await t.waitFor('[ocilab lifecycle 4/12');
        await type('sudo runc create "$ctr"');
        await type('sudo runc state "$ctr"');
        await t.waitFor('"status": "created"');
        await typeUntilPassed('sudo runc ps "$ctr"');
        await leaveShell(1);

        // Running: a second create finds the id taken; start lets the created container go.
        await t.line(`${learnerOcilab} shell 5 ${vars}`);
        await t.waitFor('[ocilab lifecycle 5/12');
        await type('sudo runc create "$ctr"');
        await t.waitFor(`The container ${id} is still there from the previous step`);
        await type('sudo runc start "$ctr"');
        await type('sudo runc state "$ctr"');
        await typeUntilPassed('sudo runc ps "$ctr"');
        await leaveShell(2);

        // Signals: TERM is ignored, which the diagnosis explains; KILL stops it.
        await t.line(`${learnerOcilab} shell 5 ${vars}`);
        await t.waitFor('[ocilab lifecycle 6/12');
        await type('sudo runc kill "$ctr" TERM');
        await type('sudo runc ps "$ctr"');
        await type('sudo runc state "$ctr"');
        await t.waitFor('TERM will not, because its PID 1 is a shell with no handler for it');
        await type('sudo runc kill "$ctr" KILL');
        await typeUntilPassed('sleep 1; sudo runc state "$ctr"');
        await leaveShell(3);

        // Deleted: the stopped one goes quietly; a running one is refused until --force.
        await t.line(`${learnerOcilab} shell 5 ${vars}`);
        await t.waitFor('[ocilab lifecycle 7/12');
        await type('sudo runc delete "$ctr"');
        await type('sudo runc run -d "$ctr"');
        await type('sudo runc delete "$ctr"');
        await t.waitFor('that is not stopped: running');
        await type('sudo runc delete --force "$ctr"');
        await typeUntilPassed('sudo runc state "$ctr"');
        await leaveShell(4);

        // Hooks: written into config.json after the container was created, so its delete runs none;
        // created again, it runs both.
        await t.line(`${learnerOcilab} shell 5 ${vars}`);
        await t.waitFor('[ocilab lifecycle 8/12');
        await type('sudo runc create "$ctr"');
        await type(`printf '#!/bin/sh\\necho "$1 $(cat)" >> "$(dirname "$0")/hooks.log"\\n' > hook.sh && chmod +x hook.sh`);
        await type(
          `jq --arg hook "$PWD/hook.sh" '.hooks = {"poststart": [{"path": $hook, "args": ["hook.sh", "poststart"]}], "poststop": [{"path": $hook, "args": ["hook.sh", "poststop"]}]}' config.json > c.json && mv c.json config.json`,
        );
        await type('sudo runc start "$ctr"');
        await type('sudo runc kill "$ctr" KILL');
        await type('sleep 1; sudo runc delete "$ctr"');
        await t.waitFor('it was created before the hooks were in config.json');
        await type('sudo runc create "$ctr"');
        await type('sudo runc start "$ctr"');
        await type('sudo runc kill "$ctr" KILL');
        await typeUntilPassed('sleep 1; sudo runc delete "$ctr"');
        await leaveShell(5);
      } finally {
        await t.close();
        await execa('runc', ['delete', '--force', id], { reject: false });
      }
      expect(await runcIds()).not.toContain(id);
    },
    LAB_TIMEOUT_MS,
  );

  it(
    'is done to the end rootless by a learner without sudo, headless, and proves rootless too',
    async () => {
      const who = await learner('no-sudo');
      const id = newContainerId('lc');
      const vars = ['--var', `img=${image}`, '--var', `ctr=${id}`];
      const run = await asLearner(who, [learnerOcilab, 'run', '5', '--yes', '--use', 'builtin', '--use', 'rootless', ...vars]);
      expect(run.exitCode, run.all).toBe(0);
      expect(run.all).not.toMatch(/✗|could not check/);
      const proved = await asLearner(who, [learnerOcilab, 'prove', '5', '--use', 'builtin', '--use', 'rootless', ...vars]);
      expect(proved.exitCode, proved.all).toBe(0);
      expect(proved.stdout).not.toMatch(/✗/);
      // Rootless runc keeps its state in the learner's own directory: nothing of this id is left there.
      const state = await asLearner(who, ['sh', '-c', 'runc --root "${XDG_RUNTIME_DIR:-/tmp/runc-$(id -u)}/runc" list --quiet']);
      expect(state.stdout.split('\n')).not.toContain(id);
      expect(await runcIds()).not.toContain(id);
    },
    LAB_TIMEOUT_MS,
  );
});
