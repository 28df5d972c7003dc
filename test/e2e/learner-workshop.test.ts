// A learner on a classroom machine types `ocilab`, and nothing else, in a real terminal (tmux): the menu
// shows the workshop's title and labs, lab 1 runs against the classroom registry the workshop names,
// and the instructor's own lab is the next in the menu and runs with the workshop's variables.
import { chmod, chown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pushTags } from '../helpers/image.js';
import { pick } from '../helpers/lab-driver.js';
import { learner, learnerOcilab, learnersUsable, type Learner } from '../helpers/learners.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';
import { Terminal } from '../helpers/terminal.js';

const unusable = skipUnless(
  (await learnersUsable()) && (await registryToolsUsable()),
  'the learner tests need root, useradd, sudo, runuser, tmux, script and the registry tools',
);

const TAGS = ['1.35', '1.36', 'latest'];

describe.skipIf(unusable)('a learner who types only `ocilab` on a workshop machine', () => {
  let registry: Registry;
  let dir: string;
  let workshop: string;
  let who: Learner;
  let terminal: Terminal | undefined;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushTags(registry.host, 'library/busybox', TAGS);
    who = await learner('no-sudo');
    // ocilab on the learner's PATH, as an install puts it there: ~/bin, which Debian's ~/.profile adds.
    await mkdir(join(who.home, 'bin'));
    await symlink(learnerOcilab, join(who.home, 'bin', 'ocilab'));
    await chown(join(who.home, 'bin'), who.uid, who.gid);
    // Where an instructor would install it, readable by every learner.
    dir = await mkdtemp(join(tmpdir(), 'ocilab-classroom-'));
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'our-labs'), { mode: 0o755 });
    const made = await runCli(['new', join(dir, 'our-labs', '03-our-registry.md'), '--title', 'Our own registry']);
    expect(made.exitCode, made.all).toBe(0);
    workshop = join(dir, 'workshop.yml');
    await writeFile(
      workshop,
      [
        'ocilab-workshop: 1',
        'title: SA onboarding, day 1',
        'labs: [tags, ./our-labs/]',
        'variables: { scheme: http }',
        'lab-variables:',
        `  tags: { host: "${registry.host}", path: library/busybox }`,
        '  our-registry: { greeting: welcome-to-the-workshop }',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await terminal?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("sees the workshop's labs in the menu, and does both with the workshop's variables", async () => {
    // The machine names the workshop (one in /etc/ocilab would do the same, for every test on it).
    const t = (terminal = await Terminal.open(who, { env: { OCILAB_WORKSHOP: workshop } }));
    await t.waitFor('$ ');
    // Every step asks "What next?" once; the screen keeps them all, so the n-th answer waits for the n-th.
    let prompts = 0;
    const answer = async (choice: string) => {
      await t.waitFor('What next?', ++prompts);
      await pick(t, 'What next?', choice);
    };

    await t.line('ocilab; echo "ocilab exited with $?"');
    const menu = await t.waitFor(/1 {2}List every tag of an image repository[^]*2 {2}Our own registry/);
    expect(menu.slice(0, menu.indexOf('Which lab?'))).toContain('SA onboarding, day 1');
    await pick(t, 'Which lab?', '1');
    // Lab 1: two reading steps, the step that lists the tags (ocilab runs it), two more reading steps.
    await answer('Continue');
    await answer('Continue');
    await answer('Run it');
    const listed = await t.waitFor('Step done.');
    for (const tag of TAGS) expect(listed).toMatch(new RegExp(`^${tag.replace('.', '\\.')}$`, 'm'));
    expect(listed).toMatch(/✓ Every line printed is a tag/);
    await answer('Continue');
    await answer('Continue');
    await t.waitFor('ocilab exited with 0');

    // `ocilab` again: lab 1 is done, and the instructor's lab comes next.
    await t.line('ocilab; echo "ocilab exited with $?"');
    const again = await t.waitFor('Which lab?', 2);
    expect(again.slice(again.lastIndexOf('Which lab?'))).toMatch(/1 {2}List every tag of an image repository.*\(done\)/);
    await pick(t, 'Which lab?', '2');
    await answer('Continue');
    await answer('Run it');
    const done = await t.waitFor('Step done.', 2);
    expect(done.slice(done.lastIndexOf('Which lab?'))).toContain('✓ greeting.txt holds the greeting');
    await t.waitFor('ocilab exited with 0', 2);
    expect(await readFile(join(who.home, 'ocilab', 'our-registry', 'greeting.txt'), 'utf8')).toBe('welcome-to-the-workshop\n');
  });
});
