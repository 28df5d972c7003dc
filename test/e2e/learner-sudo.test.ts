// Lab 2 as the normal users of a workshop machine: one whose sudo asks for a password drives it in a
// real terminal as a person would (the way chooser, the diff prompt, the password when sudo asks, the
// shell in the container); one with passwordless sudo runs it headless; the first one headless gets
// told what to do. Then ocilab started with sudo anyway, and what doctor says for each of them.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusybox } from '../helpers/image.js';
import { asLearner, learner, learnerOcilab, learnersUsable, type Learner } from '../helpers/learners.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';
import { driveLab } from '../helpers/lab-driver.js';
import { Terminal } from '../helpers/terminal.js';

const skip = skipUnless(
  (await learnersUsable()) && (await registryToolsUsable()),
  'needs root (to create learners), sudo, runuser, tmux, script, docker-registry, busybox-static, umoci and skopeo',
);

const LAB_TIMEOUT_MS = 240_000;

interface ReportJson {
  user: string;
  labs: { id: string; state: string; steps: { id: string; kind: string; status: string; checks: { status: string }[] }[] }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The command lines of the learner's running processes (zombies, which this machine's init may never reap, aside). */
async function processesOf(who: Learner): Promise<string[]> {
  const listed = await execa('ps', ['-u', String(who.uid), '-o', 'stat=,args='], { reject: false });
  return listed.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('Z') && !line.includes('tmux'))
    .map((line) => line.replace(/^\S+\s+/, ''));
}

/** Containers runc (as root, where `sudo runc` keeps them) knows from bundles in the learner's home. */
async function containersOf(who: Learner): Promise<string[]> {
  const listed = await execa('runc', ['list', '--format', 'json'], { reject: false });
  const containers = (JSON.parse(listed.stdout || 'null') ?? []) as { id: string; bundle: string }[];
  return containers.filter((c) => c.bundle.startsWith(`${who.home}/`)).map((c) => `${c.id} (${c.bundle})`);
}

/** Files under `dir`, recursively (what the learner's state directory holds). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** The learner's report of lab 2: finished, every task step passed with every check, reading steps read. */
async function expectLabDone(who: Learner): Promise<void> {
  const reported = await asLearner(who, [learnerOcilab, 'report', '--json']);
  expect(reported.exitCode, reported.all).toBe(0);
  const report = JSON.parse(reported.stdout) as ReportJson;
  expect(report.user).toBe(who.name);
  const lab = report.labs.find((l) => l.id === 'runc');
  expect(lab?.state).toBe('finished');
  for (const step of lab?.steps ?? []) {
    expect(step.status, step.id).toBe(step.kind === 'task' ? 'passed' : 'read');
    for (const check of step.checks) expect(check.status, step.id).toBe('passed');
  }
}

describe.skipIf(skip)('lab 2 as a normal user with sudo', () => {
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
    'is done to the end in a terminal: sudo asks for the password once, the container shell answers, every step passes',
    async () => {
      const who = await learner('sudo-password');
      const terminal = await Terminal.open(who);
      try {
        await terminal.line(`${learnerOcilab} run 2 --var img=${image}; echo "ocilab exited with $?"`);
        await driveLab(terminal, {
          who,
          timeoutMs: LAB_TIMEOUT_MS,
          wayFor: (step) => (step === 'Build the root filesystem' ? 'builtin' : 'root'),
        });
        const screen = await terminal.waitFor(/ocilab exited with \d+/, 1, LAB_TIMEOUT_MS);
        expect(screen).toContain('ocilab exited with 0');
        // What the learner typed in the container, and what it answered.
        expect(screen).toMatch(/^runc-demo\s*$/m);
        expect(screen).toMatch(/PID\s+USER\s+(TIME\s+)?COMMAND/);
        // sudo asked once, for `sudo runc run demo`; the checks after it used its timestamp.
        expect(await terminal.count('[sudo] password for')).toBe(1);
        expect(screen).not.toContain(who.password);
        expect(screen).not.toMatch(/sudo ocilab/);
      } finally {
        await terminal.close();
      }

      await expectLabDone(who);
      const state = join(who.home, '.local', 'state', 'ocilab');
      const files = await filesUnder(state);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(await readFile(file, 'utf8'), file).not.toContain(who.password);
    },
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    'runs headless for a user with passwordless sudo, probes and all',
    async () => {
      const who = await learner('sudo-nopasswd');
      const result = await asLearner(who, [learnerOcilab, 'run', '2', '--yes', '--use', 'builtin', '--var', `img=${image}`]);
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).not.toMatch(/could not check/);
      await expectLabDone(who);
    },
    LAB_TIMEOUT_MS,
  );

  it(
    'stops headless where sudo wants a password, saying what to do, and never to run ocilab with sudo; verify in a terminal then passes',
    async () => {
      const who = await learner('sudo-password');
      const result = await asLearner(who, [learnerOcilab, 'run', '2', '--yes', '--use', 'builtin', '--var', `img=${image}`]);
      expect(result.exitCode, result.all).toBe(1);
      expect(result.all).toMatch(/sudo wants your password, and this run has no terminal to ask on/);
      expect(result.all).toMatch(/`ocilab run( runc)?`.* in a terminal/);
      expect(result.all).not.toMatch(/sudo ocilab/);
      // The steps before it were done and kept.
      expect((await stat(join(who.home, 'ocilab', 'runc', 'config.json'))).uid).toBe(who.uid);

      // What the message advises works: `ocilab verify` in a terminal lets sudo ask, then checks it all.
      const terminal = await Terminal.open(who);
      try {
        await terminal.line(`${learnerOcilab} verify 2 --var img=${image}; echo "verify exited with $?"`);
        await terminal.waitFor('[sudo] password for');
        await terminal.line(who.password);
        const screen = await terminal.waitFor(/verify exited with \d+/, 1, LAB_TIMEOUT_MS);
        expect(screen).toContain('Every check passed.');
        expect(screen).toContain('verify exited with 0');
        expect(await terminal.count('[sudo] password for')).toBe(1);
      } finally {
        await terminal.close();
      }
    },
    LAB_TIMEOUT_MS,
  );

  it(
    "started with sudo anyway, uses the learner's workspace and progress, gives them what it makes there, and says so",
    async () => {
      const who = await learner('sudo-nopasswd');
      const result = await asLearner(who, ['sudo', '-n', learnerOcilab, 'run', '2', '--yes', '--use', 'builtin', '--var', `img=${image}`]);
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stderr).toMatch(
        new RegExp(`ocilab runs as root under sudo for ${who.name}: it uses ${who.name}'s workspace \\(${who.home}/ocilab/runc\\)`),
      );
      expect(result.all).not.toMatch(/sudo ocilab/);
      const state = join(who.home, '.local', 'state', 'ocilab');
      for (const path of [
        join(who.home, 'ocilab'),
        join(who.home, 'ocilab', 'runc'),
        join(who.home, '.local'),
        join(who.home, '.local', 'state'),
        state,
        join(state, 'progress'),
        join(state, 'progress', 'runc.json'),
      ]) {
        const owner = await stat(path);
        expect([owner.uid, owner.gid], path).toEqual([who.uid, who.gid]);
      }
      // The learner goes on without sudo: their own ocilab sees the lab done.
      await expectLabDone(who);
    },
    LAB_TIMEOUT_MS,
  );

  it(
    'keeps the progress and leaves no container when the terminal closes while the container shell is open',
    async () => {
      const who = await learner('sudo-password');
      const terminal = await Terminal.open(who);
      try {
        await terminal.line(`${learnerOcilab} run 2 --var img=${image}`);
        await driveLab(terminal, {
          who,
          timeoutMs: LAB_TIMEOUT_MS,
          untilShell: true,
          wayFor: (step) => (step === 'Build the root filesystem' ? 'builtin' : 'root'),
        });
      } finally {
        await terminal.close();
      }
      // ocilab got SIGHUP, wrote to a terminal that is gone, and still went on to save and clean up.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (await processesOf(who)).some((p) => p.includes('ocilab'))) await sleep(200);
      expect(await processesOf(who)).toEqual([]);
      const progress = JSON.parse(await readFile(join(who.home, '.local', 'state', 'ocilab', 'progress', 'runc.json'), 'utf8')) as {
        steps: Record<string, { status: string }>;
      };
      expect(progress.steps['edit-config-json']?.status).toBe('passed');
      expect(await containersOf(who)).toEqual([]);
    },
    LAB_TIMEOUT_MS,
  );

  describe('doctor', () => {
    interface DoctorJson {
      ok: boolean;
      checks: { id: string; status: string; found: string; fix: string }[];
    }

    async function doctor(who: Learner): Promise<DoctorJson> {
      const result = await asLearner(who, [learnerOcilab, 'doctor', '2', '--json', '--var', `img=${image}`]);
      expect(result.exitCode === 0 || result.exitCode === 1, result.all).toBe(true);
      return JSON.parse(result.stdout) as DoctorJson;
    }
    const finding = (report: DoctorJson, id: string) => report.checks.find((c) => c.id === id);
    const blockers = (report: DoctorJson) => finding(report, 'lab.runc')?.fix.replace(/^see /, '').split(', ') ?? [];

    it('says root steps and container checks run with sudo without a password, for that learner', async () => {
      const report = await doctor(await learner('sudo-nopasswd'));
      expect(finding(report, 'user')).toMatchObject({ status: 'ok' });
      expect(finding(report, 'lab.runc.root')).toMatchObject({ status: 'ok' });
      expect(finding(report, 'lab.runc.root')?.found).toMatch(/^sudo without a password: .*container checks of lab runc run with sudo/);
      expect(blockers(report)).not.toContain('lab.runc.root');
    });

    it('says sudo will ask, in a terminal only, and that it cannot tell whether sudo then lets the learner', async () => {
      for (const kind of ['sudo-password', 'no-sudo'] as const) {
        // The learner without sudo rights gets the same answer from sudo: doctor cannot tell them apart.
        const report = await doctor(await learner(kind));
        expect(finding(report, 'user'), kind).toMatchObject({ status: 'warn' });
        expect(finding(report, 'user')?.found, kind).toMatch(
          /sudo asks for your password, and doctor cannot tell whether it then lets you/,
        );
        expect(finding(report, 'lab.runc.root'), kind).toMatchObject({ status: 'warn' });
        expect(finding(report, 'lab.runc.root')?.found, kind).toMatch(/^sudo asking for a password: .*a headless run/);
        expect(blockers(report), kind).not.toContain('lab.runc.root');
        for (const c of report.checks) expect(`${c.found} ${c.fix}`, c.id).not.toMatch(/sudo ocilab/);
      }
    });
  });
});
