// Lab 2 for a learner with neither root nor sudo: the rootless way, to the end. Headless with
// `--use builtin --use rootless`, and in a real terminal as a person does it (the way choosers, the diff
// prompt, `hostname`, `ps` and `exit` typed in the container); then the report shows every step passed
// and runc, asked as that user, knows no container. Where sudo is not installed at all, ocilab takes
// the rootless ways by itself. And `ocilab prove 2 --use rootless`, as root and as the learner.
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { which } from '../../src/sys/host.js';
import { runCli } from '../helpers/cli.js';
import { pushBusybox } from '../helpers/image.js';
import { asLearner, learner, learnerOcilab, learnersUsable, type Learner } from '../helpers/learners.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';
import { Terminal } from '../helpers/terminal.js';

const skip = skipUnless(
  (await learnersUsable()) && (await registryToolsUsable()),
  'needs root (to create learners), sudo, runuser, tmux, script, docker-registry, busybox-static, umoci and skopeo',
);

const LAB_TIMEOUT_MS = 240_000;

interface ReportJson {
  user: string;
  labs: {
    id: string;
    state: string;
    steps: { id: string; kind: string; status: string; way?: string; checks: { status: string; label: string }[] }[];
  }[];
}

interface VerifyJson {
  passed: boolean;
  steps: { id: string; status: string; checks: { status: string; actual?: string; hint?: string }[] }[];
}

/** The learner's report of lab 2: finished, every task step passed with every check, reading steps read. */
async function expectLabDone(who: Learner): Promise<ReportJson['labs'][number]> {
  const reported = await asLearner(who, [learnerOcilab, 'report', '--json']);
  expect(reported.exitCode, reported.all).toBe(0);
  const report = JSON.parse(reported.stdout) as ReportJson;
  expect(report.user).toBe(who.name);
  const lab = report.labs.find((l) => l.id === 'runc');
  expect(lab?.state).toBe('finished');
  for (const step of lab?.steps ?? []) {
    expect(step.status, step.id).toBe(step.kind === 'task' ? 'passed' : 'read');
    for (const check of step.checks) expect(check.status, `${step.id}: ${check.label}`).toBe('passed');
  }
  return lab as ReportJson['labs'][number];
}

/** What lab 2's commands, checks and ways call, and the node that runs ocilab: no sudo, no container tool. */
const LAB_COMMANDS = ['bash', 'sh', 'runc', 'tar', 'mkdir', 'grep', 'cat', 'ls', 'rm', 'env', 'id', 'true', 'unshare', 'node'];

/** A directory of links to `commands` as found on this machine's PATH, to be a learner's whole PATH. */
async function bareMachine(commands: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ocilab-bare-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  for (const command of commands) {
    const path = command === 'node' ? process.execPath : await which(command, process.env.PATH ?? '');
    if (!path) throw new Error(`${command} is not on PATH, and lab 2 needs it`);
    await symlink(path, join(dir, command));
  }
  return dir;
}

/** Ids of the containers runc knows about in the state directory `root`, asked as the learner. */
async function containersIn(who: Learner, root: string): Promise<string[]> {
  // `runc list` would create a missing state directory; one that is not there holds no container.
  if (!existsSync(root)) return [];
  const listed = await asLearner(who, ['runc', '--root', root, 'list', '--format', 'json']);
  expect(listed.exitCode, listed.all).toBe(0);
  return ((JSON.parse(listed.stdout || 'null') as { id: string }[] | null) ?? []).map((c) => c.id);
}

describe.skipIf(skip)('lab 2 for a learner with neither root nor sudo', () => {
  let registry: Registry;
  let image: string;
  let who: Learner;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it(
    'runs headless to the end with --use builtin --use rootless, probes and all, and leaves no container',
    async () => {
      who = await learner('no-sudo');
      const sudo = await asLearner(who, ['sudo', '-n', 'true']);
      expect(sudo.exitCode, 'this learner has no sudo').not.toBe(0);

      const result = await asLearner(who, [
        learnerOcilab,
        'run',
        '2',
        '--yes',
        '--use',
        'builtin',
        '--use',
        'rootless',
        '--var',
        `img=${image}`,
      ]);
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).toContain('$ runc spec --rootless');
      expect(result.all).toMatch(/not run here: runc --root "\$\{XDG_RUNTIME_DIR:-\/tmp\/runc-\$\(id -u\)\}\/runc" run demo/);
      expect(result.all).not.toMatch(/could not check|needs root|\[sudo\]/);

      const lab = await expectLabDone(who);
      const ways = Object.fromEntries(lab.steps.filter((s) => s.way).map((s) => [s.id, s.way]));
      expect(ways).toEqual({
        'build-the-root-filesystem': 'builtin',
        'generate-the-runtime-spec': 'rootless',
        'run-the-container': 'rootless',
      });
      // verify judges the same workspace again: the probes of the rootless bundle run rootless.
      const verified = await asLearner(who, [learnerOcilab, 'verify', '2', '--json']);
      expect(verified.exitCode, verified.all).toBe(0);
      expect((JSON.parse(verified.stdout) as VerifyJson).passed).toBe(true);
      // Without XDG_RUNTIME_DIR: the lab's own state directory, and the one the probes fall back to.
      expect(await containersIn(who, `/tmp/runc-${who.uid}/runc`)).toEqual([]);
      expect(await containersIn(who, `/tmp/ocilab-runc-${who.uid}`)).toEqual([]);

      // A rootless config.json made by someone else (root, through sudo) maps their uid: the spec step says so.
      const config = join(who.home, 'ocilab', 'runc', 'config.json');
      await writeFile(config, (await readFile(config, 'utf8')).replaceAll(`"hostID": ${who.uid}`, '"hostID": 0'));
      const other = await asLearner(who, [learnerOcilab, 'verify', '2', '--json']);
      expect(other.exitCode, other.all).toBe(1);
      const spec = (JSON.parse(other.stdout) as VerifyJson).steps.find((step) => step.id === 'generate-the-runtime-spec');
      expect(spec?.status).toBe('failed');
      expect(spec?.checks.find((c) => c.status === 'failed')).toMatchObject({
        actual: expect.stringContaining(`rootless, but for another user: its mappings do not name your uid ${who.uid}`),
        hint: expect.stringContaining('run that as yourself, without sudo'),
      });
    },
    LAB_TIMEOUT_MS,
  );

  it(
    'takes the rootless ways by itself where sudo is not installed, and says why the root ways are not offered',
    async () => {
      who = await learner('no-sudo');
      const bin = await bareMachine(LAB_COMMANDS);
      const result = await asLearner(who, [learnerOcilab, 'run', '2', '--yes', '--use', 'builtin', '--var', `img=${image}`], {
        env: { PATH: bin },
      });
      expect(result.exitCode, result.all).toBe(0);
      expect(
        result.all.match(/Way 'root' is not available: it needs root, and you are neither root nor can use sudo here\./g),
      ).toHaveLength(2);
      expect(result.all.match(/Using rootless \(the only one that works here\)\./g)).toHaveLength(2);
      await expectLabDone(who);
    },
    LAB_TIMEOUT_MS,
  );

  it(
    'is done to the end in a terminal: the rootless ways chosen, the container shell answers, every step passes',
    async () => {
      who = await learner('no-sudo');
      // What a login through systemd-logind gives: a runtime directory of the learner's own, mode 0700.
      const runtime = await mkdtemp(join(tmpdir(), 'ocilab-xdg-'));
      onTestFinished(() => rm(runtime, { recursive: true, force: true }));
      await chown(runtime, who.uid, who.gid);
      const terminal = await Terminal.open(who, { env: { XDG_RUNTIME_DIR: runtime } });
      try {
        await terminal.line(`${learnerOcilab} run 2 --var img=${image}; echo "ocilab exited with $?"`);
        const chosen = await driveLab(terminal);
        expect(chosen).toEqual([
          'Build the root filesystem: builtin',
          'Generate the runtime spec: rootless',
          'Run the container: rootless',
        ]);
        const screen = await terminal.waitFor(/ocilab exited with \d+/, 1, LAB_TIMEOUT_MS);
        expect(screen).toContain('ocilab exited with 0');
        // What the learner typed in the container, and what it answered.
        expect(screen).toMatch(/^runc-demo\s*$/m);
        expect(screen).toMatch(/PID\s+USER\s+(TIME\s+)?COMMAND/);
        expect(screen).not.toMatch(/\[sudo\] password|could not check/);
        expect(screen).not.toMatch(/\(needs root\)/);
      } finally {
        await terminal.close();
      }

      const lab = await expectLabDone(who);
      expect(lab.steps.find((s) => s.id === 'run-the-container')?.way).toBe('rootless');
      // runc run and the probes kept their state in the runtime directory, and removed every container.
      expect(await containersIn(who, join(runtime, 'runc'))).toEqual([]);
    },
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    'proves lab 2 with --use rootless, as the learner and as root',
    async () => {
      who = await learner('no-sudo');
      const asTheLearner = await asLearner(who, [
        learnerOcilab,
        'prove',
        '2',
        '--use',
        'builtin',
        '--use',
        'rootless',
        '--var',
        `img=${image}`,
      ]);
      expect(asTheLearner.exitCode, asTheLearner.all).toBe(0);
      expect(asTheLearner.stdout).toMatch(/^Proven: \d+ checks in \d+ steps/m);

      // builtin too, so that no docker or podman container is left behind by the rootfs step.
      const asRoot = await runCli(['prove', '2', '--use', 'rootless', '--use', 'builtin', '--var', `img=${image}`, '--json']);
      expect(asRoot.exitCode, asRoot.all).toBe(0);
      const report = JSON.parse(asRoot.stdout) as {
        proven: boolean;
        steps: { id: string; way?: string; checks: { verdict?: string }[] }[];
      };
      expect(report.proven).toBe(true);
      expect(report.steps.filter((s) => s.id === 'generate-the-runtime-spec' || s.id === 'run-the-container').map((s) => s.way)).toEqual([
        'rootless',
        'rootless',
      ]);
      for (const check of report.steps.flatMap((s) => s.checks)) expect(check.verdict).toBe('ok');
    },
    LAB_TIMEOUT_MS,
  );
});

/**
 * Answers ocilab's prompts as a learner without sudo would until the lab ends: Enter on each step's
 * first choice (Run it, or Continue), builtin for the rootfs and rootless for the spec and the run in
 * the way choosers, Yes to the diff, and `hostname`, `ps`, `exit` in the container's shell. Returns
 * what it chose in each chooser, as "step: way".
 */
async function driveLab(terminal: Terminal): Promise<string[]> {
  const markers = {
    step: 'What next?',
    chooser: 'can be done in several ways',
    edit: 'Change config.json as shown?',
    shell: /^\/ # ?$/m,
    end: /ocilab exited with \d+/,
  };
  const seen = Object.fromEntries(Object.keys(markers).map((k) => [k, 0])) as Record<keyof typeof markers, number>;
  const chosen: string[] = [];
  const deadline = Date.now() + LAB_TIMEOUT_MS;
  let steps = 0;
  while (Date.now() < deadline) {
    const screen = await terminal.screen();
    const count = (marker: string | RegExp) =>
      typeof marker === 'string' ? screen.split(marker).length - 1 : (screen.match(new RegExp(marker.source, 'gm')) ?? []).length;
    const fresh = (Object.keys(markers) as (keyof typeof markers)[]).find((k) => count(markers[k]) > seen[k]);
    if (!fresh) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      continue;
    }
    seen[fresh] = count(markers[fresh]);
    switch (fresh) {
      case 'end':
        return chosen;
      case 'step':
        if (++steps > 30) throw new Error(`ocilab keeps asking "What next?": a step does not pass. The screen:\n${screen}`);
        await terminal.press('Enter');
        break;
      case 'chooser': {
        const step = [...screen.matchAll(/"([^"]+)" can be done in several ways/g)].at(-1)?.[1];
        const way = step === 'Build the root filesystem' ? 'builtin' : 'rootless';
        await chooseWay(terminal, way);
        chosen.push(`${step}: ${way}`);
        break;
      }
      case 'edit':
        await terminal.press('Enter');
        break;
      case 'shell':
        await terminal.line('hostname');
        await terminal.waitFor(/^runc-demo\s*$/m);
        await terminal.line('ps');
        await terminal.waitFor(/PID\s+USER\s+(TIME\s+)?COMMAND/);
        seen.shell = Number.POSITIVE_INFINITY;
        await terminal.line('exit');
        break;
    }
  }
  throw new Error(`the lab did not end within ${LAB_TIMEOUT_MS / 1000} s:\n${await terminal.screen()}`);
}

/** Moves the chooser's cursor to `name` and picks it. */
async function chooseWay(terminal: Terminal, name: string): Promise<void> {
  for (let moves = 0; moves < 8; moves++) {
    const screen = await terminal.screen();
    const menu = screen.slice(screen.lastIndexOf('can be done in several ways'));
    if (new RegExp(`^\\s*[❯▸>]\\s*${name}\\b`, 'm').test(menu)) {
      await terminal.press('Enter');
      return;
    }
    await terminal.press('Down');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the way chooser never pointed at ${name}:\n${await terminal.screen()}`);
}
