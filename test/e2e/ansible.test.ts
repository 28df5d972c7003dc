// A classroom prepared and checked with the playbooks of ansible/, for real: Debian's ansible-playbook
// reaches three student hosts (an sshd each on loopback, with a learner account each) and one host that
// is down. prepare.yml installs ocilab from `npm pack`; the learners do different amounts of lab 1
// against a CNCF registry on loopback; collect.yml and `ocilab class` say who is where; prepare.yml
// again changes nothing and fails only the host doctor says no for; reset.yml leaves nobody any progress.
// prepare.yml also imports the image cache the instructor exported into each learner's own cache.
// First, the playbooks pass ansible-playbook --syntax-check and ansible-lint.
import { access, chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ansibleLintUsable, ansibleUsable, inAnsibleDir, recap, runPlaybook } from '../helpers/ansible.js';
import { cliMain, repoRoot, runCli } from '../helpers/cli.js';
import { closedPort } from '../helpers/fake-registries.js';
import { pushTags } from '../helpers/image.js';
import { asLearner } from '../helpers/learners.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { isRoot, registryToolsUsable, skipUnless } from '../helpers/services.js';
import { startRoom, type Room, type StudentHost } from '../helpers/ssh-hosts.js';

const noLint = skipUnless(await ansibleLintUsable(), 'ansible-lint is not installed (apt-get install ansible-lint)');
const skip =
  skipUnless(isRoot(), 'the Ansible test makes accounts and starts sshd: it must run as root') ||
  skipUnless(await ansibleUsable(), 'ansible-playbook or openssh-server is not installed (apt-get install ansible openssh-server)') ||
  skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');

describe.skipIf(noLint)('the playbooks of ansible/', () => {
  it('pass ansible-playbook --syntax-check and ansible-lint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocilab-ansible-lint-'));
    try {
      for (const playbook of PLAYBOOKS) {
        const syntax = await inAnsibleDir('ansible-playbook', ['-i', 'localhost,', '--syntax-check', `${playbook}.yml`], dir);
        expect(syntax.exitCode, syntax.all).toBe(0);
      }
      const lint = await inAnsibleDir('ansible-lint', ['--nocolor', ...PLAYBOOKS.map((p) => `${p}.yml`)], dir);
      expect(lint.exitCode, lint.all).toBe(0);
      expect(lint.all).toContain('0 failure(s), 0 warning(s)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const STEP_TIMEOUT_MS = 420_000;
const REPOSITORY = 'library/busybox';
const TAGS = ['1.36', 'latest'];
/** The down host: in the inventory, with nothing listening at its port. */
const DOWN = 'ws4';
const PLAYBOOKS = ['prepare', 'collect', 'reset'];

interface ClassJson {
  students: { name: string; file: string; cells: string[]; labs: { id: string; state: string; current?: string }[] }[];
  steps: { lab: string; id: string }[];
  unread: unknown[];
}

describe.skipIf(skip)('a classroom prepared, checked and reset with ansible/', () => {
  let dir: string;
  let registry: Registry;
  let room: Room;
  let inventory: string;
  let tarball: string;
  let version: string;
  /** The instructor's image cache, exported after one pull of busybox. */
  let images: string;
  const host = (name: string): StudentHost => {
    const found = room.hosts.find((h) => h.name === name);
    if (!found) throw new Error(`no host ${name}`);
    return found;
  };
  const labVars = (path: string) => ['scheme=http', `host=${registry.host}`, `path=${path}`];
  /** ocilab as the host's learner types it: `ocilab` found on the PATH prepare.yml put it on. */
  const asStudent = (name: string, args: string[]) =>
    asLearner(host(name).learner, ['ocilab', ...args], { env: { PATH: `${join(dir, name, 'bin')}:/usr/bin:/bin:/usr/sbin:/sbin` } });

  /** The inventory, in YAML so that lists stay lists; `perHost` adds or overrides host variables. */
  async function writeInventory(file: string, perHost: Record<string, Record<string, unknown>> = {}): Promise<string> {
    const downPort = await closedPort();
    const hosts = Object.fromEntries(
      [...room.hosts.map((h) => [h.name, h.port, h.learner.name] as const), [DOWN, downPort, `${room.admin.name}-nobody`] as const].map(
        ([name, port, learner]) => [
          name,
          {
            ansible_port: port,
            ocilab_learner: learner,
            // Each host its own install, so three hosts on one machine do not share (or race for) one.
            ocilab_prefix: join(dir, name, 'opt', 'ocilab'),
            ocilab_bin_dir: join(dir, name, 'bin'),
            ocilab_stage_dir: join(dir, name, 'stage'),
            ocilab_workshop_dest: join(dir, name, 'etc', 'ocilab', 'workshop.yml'),
            // Never this machine's /run/runc: other tests' containers may be there.
            ocilab_runc_state_dirs: [join(dir, 'runc-root'), join(dir, name, 'runc')],
            ...perHost[name],
          },
        ],
      ),
    );
    const vars = {
      ansible_host: '127.0.0.1',
      ansible_user: room.admin.name,
      ansible_ssh_private_key_file: room.key,
      ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
      ocilab_doctor_args: ['tags', ...labVars(REPOSITORY).flatMap((v) => ['--var', v])],
    };
    const path = join(dir, file);
    await writeFile(path, stringify({ students: { hosts, vars } }));
    return path;
  }

  beforeAll(async () => {
    dir = await mkdtemp('/tmp/ocilab-ansible-');
    // The learners run the ocilab installed under it, and must be able to reach it.
    await chmod(dir, 0o755);
    registry = await startRegistry();
    await pushTags(registry.host, REPOSITORY, TAGS);
    // npm pack packs what is built: without the bundle the hosts would get an ocilab that cannot start.
    await access(cliMain).catch(() => {
      throw new Error(`${cliMain} does not exist: build it with \`npm run build\` (\`npm test\` does this first).`);
    });
    const packed = await execa('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, stdin: 'ignore' });
    const [info] = JSON.parse(packed.stdout) as { filename: string; version: string }[];
    if (!info) throw new Error(`npm pack printed no package:\n${packed.stdout}`);
    tarball = join(dir, info.filename);
    version = info.version;
    const instructor = { XDG_CACHE_HOME: join(dir, 'instructor-cache') };
    const pulled = await runCli(['pull', `${registry.host}/${REPOSITORY}:1.36`, '--rootfs', join(dir, 'instructor-rootfs')], {
      env: instructor,
    });
    expect(pulled.exitCode, pulled.all).toBe(0);
    images = join(dir, 'images.tar');
    const exported = await runCli(['cache', 'export', images], { env: instructor });
    expect(exported.exitCode, exported.all).toBe(0);
    room = await startRoom(['ws1', 'ws2', 'ws3'], dir);
    for (const h of room.hosts) {
      await mkdir(join(dir, h.name, 'runc'), { recursive: true });
      await chown(join(dir, h.name, 'runc'), h.learner.uid, h.learner.gid);
    }
    inventory = await writeInventory('inventory.yml');
    // A workshop file and the lab directory it names by relative path, as an instructor keeps them.
    await mkdir(join(dir, 'workshop', 'our-labs'), { recursive: true });
    await writeFile(join(dir, 'workshop', 'workshop.yml'), 'ocilab-workshop: 1\ntitle: Room test\nlabs: [tags, ./our-labs]\n');
    await cp(join(repoRoot, 'labs', '01-tags.md'), join(dir, 'workshop', 'our-labs', '01-our-tags.md'));
  }, STEP_TIMEOUT_MS);

  afterAll(async () => {
    await room?.stop();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'prepare.yml installs ocilab and the workshop on every host that answers, and names the one that is down',
    async () => {
      const result = await runPlaybook('prepare', inventory, dir, [
        '-e',
        JSON.stringify({
          ocilab_source: tarball,
          ocilab_workshop: join(dir, 'workshop', 'workshop.yml'),
          ocilab_workshop_files: ['./our-labs/'],
          ocilab_cache: images,
        }),
      ]);
      expect(result.exitCode, result.all).toBe(4);
      const hosts = recap(result.all);
      for (const name of ['ws1', 'ws2', 'ws3']) expect(hosts[name], result.all).toMatchObject({ unreachable: 0, failed: 0 });
      expect(hosts[DOWN]).toMatchObject({ unreachable: 1, failed: 0 });
      expect(result.all).toMatch(new RegExp(`fatal: \\[${DOWN}\\]: UNREACHABLE!`));

      for (const name of ['ws1', 'ws2', 'ws3']) {
        expect(await readlink(join(dir, name, 'bin', 'ocilab'))).toBe(join(dir, name, 'opt', 'ocilab', 'bin', 'ocilab'));
        const learnerRuns = await asStudent(name, ['--version']);
        expect(learnerRuns.all.trim(), learnerRuns.all).toBe(version);
        const etc = join(dir, name, 'etc', 'ocilab');
        expect(await readFile(join(etc, 'workshop.yml'), 'utf8')).toContain('title: Room test');
        expect(await readdir(join(etc, 'our-labs'))).toEqual(['01-our-tags.md']);
      }
      // The image came into the learner's own cache: pulled with --offline, it needs no registry.
      const offline = await asStudent('ws3', ['pull', `${registry.host}/${REPOSITORY}:1.36`, '--rootfs', 'offline-rootfs', '--offline']);
      expect(offline.exitCode, offline.all).toBe(0);
      expect(await readFile(join(host('ws3').learner.home, 'offline-rootfs', 'bin', 'busybox'))).toEqual(
        await readFile(join(dir, 'instructor-rootfs', 'bin', 'busybox')),
      );
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'the learners work as themselves: ws1 finishes lab 1, ws2 is stuck at its task step, ws3 does nothing',
    async () => {
      const done = await asStudent('ws1', ['run', 'tags', '--yes', '--use', 'curl', ...labVars(REPOSITORY).flatMap((v) => ['--var', v])]);
      expect(done.exitCode, done.all).toBe(0);
      const stuck = await asStudent('ws2', [
        'run',
        'tags',
        '--yes',
        '--use',
        'curl',
        ...labVars('library/nothing-here').flatMap((v) => ['--var', v]),
      ]);
      expect(stuck.exitCode, stuck.all).toBe(1);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'collect.yml fetches one report per host that answers, names the down host, and `ocilab class` says who is where',
    async () => {
      const reports = join(dir, 'reports');
      await mkdir(reports);
      // Left from an earlier collect: a host that does not answer now must not be counted from it.
      await writeFile(join(reports, `${DOWN}.json`), '{"format": "ocilab-report"}');
      const result = await runPlaybook('collect', inventory, dir, ['-e', `reports_dir=${reports}`]);
      expect(result.exitCode, result.all).toBe(4);
      const hosts = recap(result.all);
      for (const name of ['ws1', 'ws2', 'ws3']) expect(hosts[name], result.all).toMatchObject({ unreachable: 0, failed: 0 });
      expect(hosts[DOWN]).toMatchObject({ unreachable: 1 });
      expect(result.all).toContain(`3 of 4 hosts reported into ${reports}; no report from: ${DOWN}.`);
      expect((await readdir(reports)).sort()).toEqual(['ws1.json', 'ws2.json', 'ws3.json']);

      const json = await runCli(['class', reports, '--json']);
      expect(json.exitCode, json.all).toBe(0);
      const roll = JSON.parse(json.stdout) as ClassJson;
      expect(roll.unread).toEqual([]);
      const byHost = Object.fromEntries(roll.students.map((s) => [s.file.slice(reports.length + 1), s]));
      expect(Object.keys(byHost)).toEqual(['ws1.json', 'ws2.json', 'ws3.json']);
      expect(byHost['ws1.json']?.name).toMatch(new RegExp(`^${host('ws1').learner.name}@`));
      const tags = (file: string) => byHost[file]?.labs.find((lab) => lab.id === 'tags');
      expect(tags('ws1.json')).toEqual({ id: 'tags', state: 'finished' });
      expect(tags('ws2.json')).toEqual({ id: 'tags', state: 'failed', current: 'list-the-tags' });
      expect(tags('ws3.json')).toEqual({ id: 'tags', state: 'not-started', current: 'full-scope-tools-and-a-narrower-question' });
      const column = roll.steps.findIndex((s) => s.lab === 'tags' && s.id === 'list-the-tags');
      expect(['ws1.json', 'ws2.json', 'ws3.json'].map((file) => byHost[file]?.cells[column])).toEqual(['passed', 'failed', 'pending']);
      for (const student of roll.students) expect(student.labs.find((lab) => lab.id === 'runc')?.state).toBe('not-started');

      const text = await runCli(['class', reports]);
      expect(text.exitCode, text.all).toBe(0);
      expect(text.stdout).toMatch(/^3 students × \d+ task steps/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'prepare.yml again changes nothing, and fails only the host whose doctor says a lab cannot run there, with its fixes',
    async () => {
      const closed = `127.0.0.1:${await closedPort()}`;
      const broken = await writeInventory('inventory-broken.yml', {
        ws3: { ocilab_doctor_args: ['tags', '--var', 'scheme=http', '--var', `host=${closed}`] },
      });
      // The same cache tarball again: its import adds nothing, so it changes nothing either.
      const result = await runPlaybook('prepare', broken, dir, ['-e', JSON.stringify({ ocilab_source: tarball, ocilab_cache: images })]);
      const hosts = recap(result.all);
      expect(hosts.ws1, result.all).toMatchObject({ failed: 0, changed: 0 });
      expect(hosts.ws2, result.all).toMatchObject({ failed: 0, changed: 0 });
      expect(hosts.ws3, result.all).toMatchObject({ failed: 1 });
      expect(result.all).toContain(`ocilab doctor says ${host('ws3').learner.name} cannot do every lab on ws3.`);
      expect(result.all).toContain(`[lab.tags.registry.${closed}] ${closed} (the lab's scheme and host) cannot be reached`);
      expect(result.all).toContain('fix: check the address, this machine');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'reset.yml leaves every learner with no progress, no workspace and no runc container left behind',
    async () => {
      const root = join(dir, 'runc-root');
      await leaveRootContainer(join(dir, 'bundle-root'), root, `${room.admin.name}-left`);
      const rootless = await leaveRootlessContainer(host('ws2'), join(dir, 'ws2'));

      const result = await runPlaybook('reset', inventory, dir, ['-e', JSON.stringify({ ocilab_remove_workspaces: true })]);
      expect(result.exitCode, result.all).toBe(4);
      const hosts = recap(result.all);
      for (const name of ['ws1', 'ws2', 'ws3']) expect(hosts[name], result.all).toMatchObject({ unreachable: 0, failed: 0 });

      const files = (await readdir(join(repoRoot, 'labs'))).filter((file) => /^\d+-.*\.md$/.test(file)).sort();
      const shipped = await Promise.all(
        files.map(async (file) => /^id: (\S+)$/m.exec(await readFile(join(repoRoot, 'labs', file), 'utf8'))?.[1]),
      );
      expect(shipped.length).toBeGreaterThan(2);
      for (const name of ['ws1', 'ws2', 'ws3']) {
        const report = await asStudent(name, ['report', '--json']);
        expect(report.exitCode, report.all).toBe(0);
        const labs = (JSON.parse(report.stdout) as { labs: { id: string; state: string }[] }).labs;
        // Every shipped lab is in the report, and none is started any more.
        expect(labs.map((lab) => lab.id)).toEqual(shipped);
        expect(labs.map((lab) => lab.state)).toEqual(shipped.map(() => 'not-started'));
        expect(await readdir(host(name).learner.home)).not.toContain('ocilab');
      }
      expect(await runcList(root)).toEqual([]);
      if (rootless) expect(await runcList(join(dir, 'ws2', 'runc'), host('ws2').learner.name)).toEqual([]);
    },
    STEP_TIMEOUT_MS,
  );
});

/** The ids of the containers runc knows in this state directory, asked as root or as `user`. */
async function runcList(root: string, user?: string): Promise<string[]> {
  const list = ['runc', '--root', root, 'list', '--quiet'];
  const { stdout } = await execa(user ? 'runuser' : 'runc', user ? ['-u', user, '--', ...list] : list.slice(1), { stdin: 'ignore' });
  return stdout.split('\n').filter(Boolean);
}

/** A bundle whose process is busybox sleeping, from a `runc spec` made by whoever runs `spec`. */
async function bundle(at: string, spec: (bundleDir: string) => Promise<unknown>): Promise<void> {
  await mkdir(join(at, 'rootfs', 'bin'), { recursive: true });
  await cp('/bin/busybox', join(at, 'rootfs', 'bin', 'busybox'));
  await spec(at);
  const config = JSON.parse(await readFile(join(at, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean } };
  config.process.args = ['/bin/busybox', 'sleep', '600'];
  config.process.terminal = false;
  await writeFile(join(at, 'config.json'), JSON.stringify(config));
}

/** A container started as root with its state in `root`, and never deleted: what a lab left behind. */
async function leaveRootContainer(at: string, root: string, id: string): Promise<void> {
  await bundle(at, (b) => execa('runc', ['spec', '--bundle', b]));
  await execa('runc', ['--root', root, 'run', '--detach', '--bundle', at, id], { stdio: 'ignore' });
  expect(await runcList(root)).toEqual([id]);
}

/**
 * The same, rootless, as the host's learner, in the state directory the inventory names for it; false
 * when this machine does not let a normal user make a user namespace.
 */
async function leaveRootlessContainer(h: StudentHost, hostDir: string): Promise<boolean> {
  const as = (args: string[]) => execa('runuser', ['-u', h.learner.name, '--', ...args], { stdio: 'ignore', reject: false });
  if ((await as(['unshare', '--user', '--map-root-user', 'true'])).exitCode !== 0) {
    console.warn('not leaving a rootless runc container for reset.yml: this machine gives normal users no user namespace');
    return false;
  }
  const at = join(hostDir, 'bundle-rootless');
  await mkdir(at);
  await chown(at, h.learner.uid, h.learner.gid);
  await bundle(at, async (b) => {
    await chown(join(b, 'rootfs'), h.learner.uid, h.learner.gid);
    await as(['runc', 'spec', '--rootless', '--bundle', b]);
  });
  const id = `${h.learner.name}-left`;
  await as(['runc', '--root', join(hostDir, 'runc'), 'run', '--detach', '--bundle', at, id]);
  expect(await runcList(join(hostDir, 'runc'), h.learner.name)).toEqual([id]);
  return true;
}
