// ocilab killed while its shell is open (SIGTERM), or its terminal closed under it (SIGHUP) with a
// container running in the shell: what the learner typed is in their progress, and no container is left.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { learner, learnerOcilab, learnersUsable, type Learner } from '../helpers/learners.js';
import { makeBusyboxRootfs } from '../helpers/rootfs.js';
import { skipUnless } from '../helpers/services.js';
import { Terminal } from '../helpers/terminal.js';

const unusable = skipUnless(await learnersUsable(), 'these tests need root, useradd, sudo, runuser, tmux and script');

const CONTAINER = 'ocilab-hup-test';
const GONE_WITHIN_MS = 30_000;

/** A lab of one step, run in a bundle the test made: the learner starts a container in it. */
const LAB = `---
ocilab: 1
id: hangup
title: A container in the shell
summary: One step that runs a container, for killing ocilab under it.
---

## Run a container

\`\`\`sh {"run": true, "interactive": true, "cleanup": "sudo -n runc delete --force ${CONTAINER} 2>/dev/null || true"}
sudo runc run ${CONTAINER}
\`\`\`

\`\`\`yaml {"checks": true}
- file: done
  title: The learner made a file called done
\`\`\`
`;

let dir: string;
let who: Learner;
let terminal: Terminal | undefined;

beforeAll(async () => {
  if (unusable) return;
  dir = await mkdtemp(join(tmpdir(), 'ocilab-kill-'));
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'lab.md'), LAB);
  who = await learner('sudo-nopasswd');
});

afterEach(async () => {
  await terminal?.close();
  terminal = undefined;
  await execa('runc', ['delete', '--force', CONTAINER], { reject: false });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function typedSoFar(): Promise<string[]> {
  const file = join(who.home, '.local', 'state', 'ocilab', 'progress', 'hangup.json');
  const progress = JSON.parse(await readFile(file, 'utf8')) as { steps: Record<string, { commands?: { line: string }[] }> };
  return progress.steps['run-a-container']?.commands?.map((c) => c.line) ?? [];
}

async function runcKnows(id: string): Promise<boolean> {
  const listed = await execa('runc', ['list', '--format', 'json'], { reject: false });
  return ((JSON.parse(listed.stdout || 'null') as { id: string }[] | null) ?? []).some((c) => c.id === id);
}

async function ocilabPids(): Promise<string[]> {
  const found = await execa('pgrep', ['-u', who.name, '-f', 'ocilab.js shell'], { reject: false });
  return found.stdout.split('\n').filter(Boolean);
}

/** Opens the learner's shell for the lab, in a bundle of their own, and types one command. */
async function shellWithOneCommand(t: Terminal): Promise<void> {
  const workdir = join(who.home, 'hangup');
  await t.waitFor('$ ');
  await t.line(
    `mkdir -p ${workdir} && cd ${workdir} && { [ -e config.json ] || runc spec; } && ${learnerOcilab} shell ${join(dir, 'lab.md')} --workdir .`,
  );
  await t.waitFor('[ocilab hangup 1/1');
  await t.line('echo before');
  await t.waitFor(/^before\s*$/m);
  // The prompt's check saved the command once it ended.
  const deadline = Date.now() + GONE_WITHIN_MS;
  while (!(await typedSoFar().catch((): string[] => [])).includes('echo before') && Date.now() < deadline) await sleep(200);
}

describe.skipIf(unusable)("ocilab's shell, killed", () => {
  beforeAll(async () => {
    const workdir = join(who.home, 'hangup');
    await makeBusyboxRootfs(join(workdir, 'rootfs'));
    await execa('chown', ['-R', `${who.uid}:${who.gid}`, workdir]);
  });

  it('SIGTERM: ocilab ends its shell and stops with progress saved', async () => {
    const t = (terminal = await Terminal.open(who));
    await shellWithOneCommand(t);
    const [pid] = await ocilabPids();
    expect(pid).toBeDefined();
    await execa('kill', ['-TERM', pid!]);
    await t.line('echo "ocilab exited with $?"');
    const end = await t.waitFor('ocilab exited with 130');
    expect(end).toContain('Stopped. Your progress is saved');
    expect(await typedSoFar()).toEqual(['echo before']);
    expect(await ocilabPids()).toEqual([]);
  });

  it('SIGHUP: the terminal closes with a container running in the shell, and none is left', async () => {
    const t = (terminal = await Terminal.open(who));
    await shellWithOneCommand(t);
    await t.line(`sudo runc run ${CONTAINER}`);
    await t.waitFor('/ # ');
    expect(await runcKnows(CONTAINER)).toBe(true);
    await t.close();
    terminal = undefined;
    const deadline = Date.now() + GONE_WITHIN_MS;
    while (((await runcKnows(CONTAINER)) || (await ocilabPids()).length > 0) && Date.now() < deadline) await sleep(250);
    expect(await runcKnows(CONTAINER), 'the container outlived the terminal').toBe(false);
    expect(await ocilabPids(), 'ocilab outlived its terminal').toEqual([]);
    expect(await typedSoFar()).toContain('echo before');
  });
});
