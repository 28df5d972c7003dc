// A normal user whose sudo asks for a password does labs 1 and 2 by typing every command in ocilab's
// shell, in a real terminal (tmux), as a learner would: the shipped diagnoses appear for the typical
// mistakes, the steps pass on what they typed, and the report shows how each step was done.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startK8sLike, type K8sLike } from '../helpers/fake-registries.js';
import { pushBusybox, pushTags } from '../helpers/image.js';
import { asLearner, learner, learnerOcilab, learnersUsable, type Learner } from '../helpers/learners.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { makeBusyboxRootfs } from '../helpers/rootfs.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';
import { Terminal } from '../helpers/terminal.js';

const unusable = skipUnless(
  (await learnersUsable()) && (await registryToolsUsable()),
  'the learner tests need root, useradd, sudo, runuser, tmux, script and the registry tools',
);

const TAGS = ['1.35', '1.36', 'latest'];
const CURL_OK = `curl -sL "$scheme://$host/v2/$path/tags/list" | jq -r '.tags[]'`;
const STEP_PASSES = 'every check of this step passes';

let registry: Registry;
let who: Learner;
let terminal: Terminal | undefined;

beforeAll(async () => {
  if (unusable) return;
  registry = await startRegistry();
  await pushTags(registry.host, 'library/busybox', TAGS);
  who = await learner('sudo-password');
});

afterEach(async () => {
  await terminal?.close();
  terminal = undefined;
});

afterAll(async () => {
  await registry?.stop();
});

async function progressOf(
  lab: string,
): Promise<Record<string, { status: string; how?: string; commands?: { line: string; exit: number; at: string }[] }>> {
  const file = join(who.home, '.local', 'state', 'ocilab', 'progress', `${lab}.json`);
  return (JSON.parse(await readFile(file, 'utf8')) as { steps: Record<string, never> }).steps;
}

/** A container named `id` left running by an earlier, interrupted run (started by root, as sudo would). */
async function leftoverContainer(id: string): Promise<{ remove(): Promise<void> }> {
  const bundle = await mkdtemp(join(tmpdir(), 'ocilab-leftover-'));
  // The test busybox has sleep among its applets.
  await makeBusyboxRootfs(join(bundle, 'rootfs'));
  await execa('runc', ['spec', '--bundle', bundle]);
  const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { terminal: boolean; args: string[] } };
  config.process = { ...config.process, terminal: false, args: ['sleep', '600'] };
  await writeFile(join(bundle, 'config.json'), JSON.stringify(config));
  // The container keeps the stdio it is given: none, or execa would wait for it to end.
  await execa('runc', ['run', '--detach', '--bundle', bundle, id], { reject: false, stdio: 'ignore' });
  const state = await execa('runc', ['state', id], { reject: false });
  if (!/"status": "running"/.test(state.stdout)) throw new Error(`the leftover container did not start: ${state.stdout}${state.stderr}`);
  return {
    async remove() {
      await execa('runc', ['delete', '--force', id], { reject: false });
      await rm(bundle, { recursive: true, force: true });
    },
  };
}

/**
 * One step of lab 2 in ocilab's shell: opens it with `open`, waits for step `n`'s prompt, types what
 * `body` types, leaves the shell, and waits for the `done`-th "Step done." on this terminal.
 */
async function labTwoStep(t: Terminal, open: string, n: number, done: number, body: () => Promise<void>): Promise<void> {
  await t.line(open);
  await t.waitFor(`[ocilab runc ${n}/13`);
  await body();
  await t.line('exit');
  await t.waitFor('Step done.', done);
}

/** Types a command and waits for the prompt to say the step now passes (not for an earlier step's news). */
async function typeUntilPassed(t: Terminal, line: string, timeoutMs?: number): Promise<void> {
  const passes = await t.next(STEP_PASSES);
  await t.line(line);
  await passes(timeoutMs);
}

/** Answers the step menus `from` to `to` (counted on this terminal's screen) with their first choice. */
async function answerFirst(t: Terminal, from: number, to = from): Promise<void> {
  for (let n = from; n <= to; n++) {
    await t.waitFor('What next?', n);
    await t.press('Enter');
  }
}

describe.skipIf(unusable)("lab 1 typed in ocilab's shell", () => {
  it('judges the curl line the learner typed, with a diagnosis for each mistake on the way', async () => {
    const t = (terminal = await Terminal.open(who));
    await t.waitFor('$ ');
    await t.line(`${learnerOcilab} run 1 --var scheme=http --var host=${registry.host} --var path=library/busybox`);
    await answerFirst(t, 1, 2);
    const menu = await t.waitFor('What next?', 3);
    expect(menu.slice(menu.lastIndexOf('What next?'))).toContain('▸ Open a shell and type it yourself');
    await t.press('Enter');
    await t.waitFor('[ocilab tags 3/5 ✗ 0/2]');

    await t.line(`curl -s "https://$host/v2/$path/tags/list" | jq -r '.tags[]'`);
    await t.waitFor(`This lab's registry, ${registry.host}, speaks plain HTTP`);
    await t.line('crane ls $img:1.36');
    await t.waitFor('crane ls lists a repository, and the :TAG you added');
    await t.line(CURL_OK);
    await t.waitFor(STEP_PASSES);
    await t.waitFor('[ocilab tags 3/5 ✓ 2/2]');
    const checked = await t.next('Every check of this step passes: `exit`');
    await t.line('ocilab check');
    expect(await checked()).toMatch(/✓ Every line printed is a tag the registry really has/);

    await t.line('exit');
    const done = await t.waitFor('Step done.');
    for (const tag of TAGS) expect(done).toMatch(new RegExp(`^${tag.replace('.', '\\.')}\\s*$`, 'm'));
    await answerFirst(t, 4, 5);
    await t.waitFor('List every tag of an image repository: done');

    const steps = await progressOf('tags');
    expect(steps['list-the-tags']).toMatchObject({ status: 'passed', how: 'shell' });
    expect(steps['list-the-tags']?.commands?.map((c) => c.line)).toEqual([
      `curl -s "https://$host/v2/$path/tags/list" | jq -r '.tags[]'`,
      'crane ls $img:1.36',
      CURL_OK,
    ]);
    expect(steps['list-the-tags']?.commands?.[1]?.exit).toBe(127);

    // What the instructor sees: how the step was done and what was tried, without the output.
    const report = await asLearner(who, [learnerOcilab, 'report', '--json']);
    expect(report.exitCode, report.all).toBe(0);
    const lab = (JSON.parse(report.stdout) as { labs: { id: string; steps: Record<string, unknown>[] }[] }).labs.find(
      (l) => l.id === 'tags',
    );
    const reported = lab?.steps.find((s) => s.id === 'list-the-tags');
    expect(reported).toMatchObject({ status: 'passed', how: 'shell' });
    expect(reported?.commands).toEqual(steps['list-the-tags']?.commands?.map(({ line, exit, at }) => ({ line, exit, at })));
    expect(report.stdout).not.toContain('latest\n1.35');
    // verify judges the output checks on what was typed, without running anything again.
    const verified = await asLearner(who, [learnerOcilab, 'verify', '1', '--json']);
    expect(verified.exitCode, verified.all).toBe(0);
    const tagsStep = (JSON.parse(verified.stdout) as { steps: { id: string; how?: string; commands?: unknown[] }[] }).steps.find(
      (s) => s.id === 'list-the-tags',
    );
    expect(tagsStep).toMatchObject({ how: 'shell', commands: reported?.commands });
  });

  describe('against a registry that redirects, as registry.k8s.io does', () => {
    let k8s: K8sLike;
    beforeAll(async () => {
      k8s = await startK8sLike('sig-storage/smbplugin', ['v1.0.0', 'v1.1.0']);
    });
    afterAll(async () => {
      await k8s?.close();
    });

    it('says curl needs -L only when it did not have it', async () => {
      const t = (terminal = await Terminal.open(who));
      await t.waitFor('$ ');
      await t.line(`${learnerOcilab} reset 1 && ${learnerOcilab} shell 1 --var scheme=http --var host=${new URL(k8s.front.url).host}`);
      await t.waitFor('[ocilab tags 3/5');
      await t.line(`curl -s "$scheme://$host/v2/$path/tags/list" | jq -r '.tags[]'`);
      await t.waitFor('The registry answered your request with a redirect');
      await t.line(CURL_OK);
      await t.waitFor(STEP_PASSES);
      await t.line('exit');
      const end = await t.waitFor(/Step done\.[^]*\$ $/m);
      expect(end.slice(end.lastIndexOf('Back in ocilab'))).not.toMatch(/redirect/);
    });
  });
});

describe.skipIf(unusable)("lab 2 typed in ocilab's shell, with sudo asking for a password", () => {
  let image: string;
  beforeAll(async () => {
    image = await pushBusybox(registry.host);
  });
  afterAll(async () => {
    await execa('runc', ['delete', '--force', 'demo'], { reject: false });
  });

  it('passes every step on what the learner typed, the container run with sudo included', async () => {
    const t = (terminal = await Terminal.open(who));
    await t.waitFor('$ ');
    const shell = `${learnerOcilab} shell 2 --var img=${image}`;

    // runc is installed
    await labTwoStep(t, shell, 7, 1, async () => {
      // This check passes before the step (runc is installed), so the prompt said so when it opened.
      await t.line('runc --version');
      await t.waitFor(/^runc version \S+\s*$/m);
    });

    // The root filesystem: first unpacked into the workspace itself (no -C rootfs), then right.
    await labTwoStep(t, shell, 9, 2, async () => {
      await t.line(`mkdir -p rootfs; ocilab pull "$img" --rootfs /tmp/$USER-img >/dev/null && tar -C /tmp/$USER-img -cf - . | tar -xf -`);
      await t.waitFor('Your tar ran without -C rootfs');
      await typeUntilPassed(t, 'rm -rf bin && ocilab pull "$img" --rootfs rootfs');
    });

    // The spec, and runc spec typed once more over it.
    await labTwoStep(t, shell, 10, 3, async () => {
      await typeUntilPassed(t, 'runc spec');
      await t.line('runc spec');
      await t.waitFor('runc spec does not overwrite the config.json that is already here');
    });

    // The edit, typed with jq.
    await labTwoStep(t, shell, 11, 4, async () => {
      await typeUntilPassed(t, `jq '.root.readonly = false | .hostname = "runc-demo"' config.json > c.json && mv c.json config.json`);
    });

    // The container: without sudo first; then with it, the password typed where sudo asks, while
    // a container of that name is still there; then again once it is gone.
    await t.line(shell);
    await t.waitFor('[ocilab runc 12/13');
    await t.line('runc run demo');
    await t.waitFor('runc needs root to create the namespaces');
    const stale = await leftoverContainer('demo');
    await t.line('sudo runc run demo');
    await t.waitFor(`[sudo] password for ${who.name}:`);
    await t.line(who.password);
    await t.waitFor('runc already knows a container named demo');
    await stale.remove();
    await t.line('sudo runc run demo');
    await t.waitFor('/ # ');
    await t.line('hostname');
    await t.waitFor(/^runc-demo\s*$/m);
    await t.line('ps');
    await t.waitFor(/^\s*1 \S+\s+.*sh\s*$/m);
    const passes = await t.next(STEP_PASSES);
    await t.line('exit');
    await passes(120_000);
    // sudo's timestamp belongs to the shell's terminal: out here, the container checks take the
    // shell's last verdict instead of having sudo ask for the password a second time.
    await t.line('exit');
    const done = await t.waitFor('Step done.', 5);
    const afterShell = done.slice(done.lastIndexOf('Back in ocilab'));
    expect(afterShell).not.toContain('[sudo] password');
    expect(afterShell).toMatch(/✓ The container has its own hostname/);

    const steps = await progressOf('runc');
    for (const id of [
      'check-that-runc-is-installed',
      'build-the-root-filesystem',
      'generate-the-runtime-spec',
      'edit-config-json',
      'run-the-container',
    ]) {
      expect(steps[id], id).toMatchObject({ status: 'passed', how: 'shell' });
    }
    const run = steps['run-the-container']?.commands ?? [];
    expect(run.map((c) => [c.line, c.exit === 0])).toEqual([
      ['runc run demo', false],
      ['sudo runc run demo', false],
      ['sudo runc run demo', true],
    ]);
    // What sudo was answered is in no file ocilab keeps.
    const state = join(who.home, '.local', 'state', 'ocilab');
    for (const name of await readdir(join(state, 'progress'))) {
      expect(await readFile(join(state, 'progress', name), 'utf8'), name).not.toContain(who.password);
    }
    const report = await asLearner(who, [learnerOcilab, 'report', '--json']);
    expect(report.exitCode, report.all).toBe(0);
    expect(report.stdout).not.toContain(who.password);
  }, 300_000);
});

describe.skipIf(unusable)("lab 2 typed in ocilab's shell by a learner without sudo, rootless", () => {
  let nosudo: Learner;
  beforeAll(async () => {
    nosudo = await learner('no-sudo');
  });

  it('passes every step on what they typed: runc spec --rootless, and runc run with a --root of their own', async () => {
    const t = (terminal = await Terminal.open(nosudo));
    await t.waitFor('$ ');
    const shell = `${learnerOcilab} shell 2 --var img=${registry.host}/library/busybox:1.36`;
    const runRoot = '"${XDG_RUNTIME_DIR:-/tmp/runc-$(id -u)}/runc"';

    await labTwoStep(t, shell, 7, 1, async () => {
      await t.line('runc --version');
      await t.waitFor(/^runc version \S+\s*$/m);
    });

    await labTwoStep(t, shell, 9, 2, async () => {
      await typeUntilPassed(t, 'mkdir -p rootfs && ocilab pull "$img" --rootfs rootfs');
    });

    await labTwoStep(t, shell, 10, 3, async () => {
      await typeUntilPassed(t, 'runc spec --rootless');
    });

    await labTwoStep(t, shell, 11, 4, async () => {
      await typeUntilPassed(t, `jq '.root.readonly = false | .hostname = "runc-demo"' config.json > c.json && mv c.json config.json`);
    });

    await t.line(shell);
    await t.waitFor('[ocilab runc 12/13');
    await t.line('runc run demo');
    await t.waitFor('runc keeps what it knows about containers in /run/runc');
    await t.line(`runc --root ${runRoot} run demo`);
    await t.waitFor('/ # ');
    await t.line('hostname');
    await t.waitFor(/^runc-demo\s*$/m);
    const passes = await t.next(STEP_PASSES);
    await t.line('exit');
    await passes(120_000);
    await t.line('exit');
    await t.waitFor('Step done.', 5);

    const file = join(nosudo.home, '.local', 'state', 'ocilab', 'progress', 'runc.json');
    const steps = (JSON.parse(await readFile(file, 'utf8')) as { steps: Record<string, { status: string; how?: string }> }).steps;
    for (const id of ['build-the-root-filesystem', 'generate-the-runtime-spec', 'edit-config-json', 'run-the-container']) {
      expect(steps[id], id).toMatchObject({ status: 'passed', how: 'shell' });
    }
    const left = await asLearner(nosudo, ['sh', '-c', `runc --root /tmp/runc-$(id -u)/runc list -q`]);
    expect(left.stdout.trim()).toBe('');
  });
});

describe.skipIf(unusable)("ocilab's shell for a learner whose shell is zsh", () => {
  it('is zsh, recording what was typed; a lab whose variables clash with zsh gets bash, and says so', async () => {
    const t = (terminal = await Terminal.open(who, { env: { SHELL: '/usr/bin/zsh' } }));
    await t.waitFor('$ ');
    await t.line(`${learnerOcilab} reset 2; ${learnerOcilab} shell 2 --var img=${registry.host}/library/busybox:1.36`);
    // zsh's prompt ends in %, bash's in $.
    await t.waitFor(/\[ocilab runc 7\/13 ✓ 1\/1\] ~\/ocilab\/runc % $/m);
    await t.line('runc --version | head -n 1');
    await t.waitFor(/^runc version \S+\s*$/m);
    await t.line('exit');
    await t.waitFor('Step done.');
    expect((await progressOf('runc'))['check-that-runc-is-installed']).toMatchObject({
      status: 'passed',
      how: 'shell',
      commands: [{ line: 'runc --version | head -n 1', exit: 0 }],
    });

    await t.line(
      `${learnerOcilab} reset 1; ${learnerOcilab} shell 1 --var scheme=http --var host=${registry.host} --var path=library/busybox`,
    );
    await t.waitFor("This lab's variable $path means something else in zsh");
    await t.waitFor(/\[ocilab tags 3\/5 ✗ 0\/2\] ~\/ocilab\/tags \$ $/m);
    // Keys typed while a command runs are echoed into its output, as on any terminal: wait first.
    const passes = await t.next(STEP_PASSES);
    await t.line(CURL_OK);
    await passes();
    await t.line('exit');
    await t.waitFor('Step done.', 2);
  });
});
