// Drives ocilab through a real pseudo-terminal with tmux, as a learner would: the menu, a step's
// prompt, its checks. Lab 01 runs against a loopback registry (the labs' defaults need the internet).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { cliMain, freshStateHome } from '../helpers/cli.js';
import { pushTags } from '../helpers/image.js';
import { startRegistry, type Registry } from '../helpers/registry.js';

const TAGS = ['1.35', '1.36', 'latest'];
const SCREEN_TIMEOUT_MS = 30_000;

let registry: Registry;
let dir: string;
const session = `ocilab-test-${process.pid}`;

const tmux = (...args: string[]) => execa('tmux', args, { reject: false });

async function screen(): Promise<string> {
  const { stdout } = await tmux('capture-pane', '-p', '-J', '-S', '-2000', '-t', session);
  return stdout;
}

/** Waits until the pane shows `text` (counting from the `seen`-th occurrence), and returns the screen. */
async function waitFor(text: string | RegExp, occurrence = 1): Promise<string> {
  const deadline = Date.now() + SCREEN_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    last = await screen();
    const count = typeof text === 'string' ? last.split(text).length - 1 : (last.match(new RegExp(text, 'g')) ?? []).length;
    if (count >= occurrence) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the terminal never showed ${String(text)} (x${occurrence}); it shows:\n${last}`);
}

beforeAll(async () => {
  registry = await startRegistry();
  await pushTags(registry.host, 'library/busybox', TAGS);
  dir = await mkdtemp(join(tmpdir(), 'ocilab-pty-'));
});

afterAll(async () => {
  await tmux('kill-session', '-t', session);
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('interactive mode in a terminal', () => {
  it('opens the menu, runs a step and shows its checks pass', async () => {
    const command = [
      'env',
      'NO_COLOR=1',
      `XDG_STATE_HOME=${freshStateHome()}`,
      process.execPath,
      cliMain,
      '--workdir',
      join(dir, 'work'),
      '--var',
      'scheme=http',
      '--var',
      `host=${registry.host}`,
      '--var',
      'path=library/busybox',
    ].join(' ');
    // The pane stays open after ocilab exits so its exit status can be read.
    await execa('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '120',
      '-y',
      '50',
      `${command}; echo "ocilab exited with $?"; sleep 60`,
    ]);

    await waitFor('Which lab?');
    await tmux('send-keys', '-t', session, 'Enter'); // lab 1: tags

    // Each step asks "What next?" once: Continue on reading steps; on the step that lists the tags,
    // the shell comes first and Run it second.
    let prompts = 0;
    const answer = async (choice: string, downs = 0) => {
      prompts++;
      await waitFor('What next?', prompts);
      for (let i = 0; i < downs; i++) await tmux('send-keys', '-t', session, 'Down');
      const shown = await waitFor(new RegExp(`What next\\?[^]*▸ ${choice}`));
      expect(shown.slice(shown.lastIndexOf('What next?'))).toContain(`▸ ${choice}`);
      await tmux('send-keys', '-t', session, 'Enter');
    };
    await answer('Continue');
    await answer('Continue');
    await answer('Run it', 1);
    const afterRun = await waitFor('Step done.');
    for (const tag of TAGS) expect(afterRun).toMatch(new RegExp(`^${tag.replace('.', '\\.')}$`, 'm'));
    expect(afterRun).toMatch(/✓ The registry returned at least one tag/);
    expect(afterRun).toMatch(/✓ Every line printed is a tag/);
    expect(afterRun).not.toMatch(/✗/);
    await answer('Continue');
    await answer('Continue');
    const end = await waitFor('ocilab exited with');
    expect(end).toMatch(/done \(1 passed, 0 failed/);
    expect(end).toContain('ocilab exited with 0');
  });
});
