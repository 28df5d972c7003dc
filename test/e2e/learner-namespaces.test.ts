// Lab 3 as a normal user with sudo, in a real terminal as a person would do it: the way chooser, the
// diffs of the three bundles, the password when sudo first asks; every step passes, and no container
// of the lab's is left. Container ids start with `ns-`, so other test runs' containers never clash.
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusybox } from '../helpers/image.js';
import { driveLab } from '../helpers/lab-driver.js';
import { asLearner, learner, learnerOcilab, learnersUsable } from '../helpers/learners.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';
import { Terminal } from '../helpers/terminal.js';

const skip = skipUnless(
  (await learnersUsable()) && (await registryToolsUsable()),
  'needs root (to create learners), sudo, runuser, tmux, script, docker-registry, busybox-static, umoci and skopeo',
);

const LAB_TIMEOUT_MS = 240_000;

interface ReportJson {
  labs: { id: string; state: string; steps: { id: string; kind: string; status: string; checks: { status: string }[] }[] }[];
}

describe.skipIf(skip)('lab 3 as a normal user with sudo', () => {
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
        await driveLab(terminal, { who, timeoutMs: LAB_TIMEOUT_MS, wayFor: () => 'builtin' });
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
});
