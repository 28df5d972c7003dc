// Lab 2 on a machine without docker, podman or nerdctl: ocilab runs with a PATH that holds only links
// to what the lab needs (bash, runc, coreutils, node...), so the `builtin` way, `ocilab pull`, makes the
// rootfs, found through ocilab's own bin/ directory; and the container's probes see hostname runc-demo.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/sys/host.js';
import { runCli } from '../helpers/cli.js';
import { pushBusybox } from '../helpers/image.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { isRoot, registryToolsUsable, skipUnless } from '../helpers/services.js';

const noLab = skipUnless(
  isRoot() && (await registryToolsUsable()),
  'lab 2 needs root (runc probes) and docker-registry, busybox-static, umoci and skopeo',
);

/** What lab 2's commands, checks and cleanups call, and the node the `ocilab` command runs on. */
const LAB_COMMANDS = ['bash', 'sh', 'runc', 'tar', 'mkdir', 'grep', 'cat', 'ls', 'rm', 'env', 'node'];
const CONTAINER_TOOLS = ['docker', 'podman', 'nerdctl'];

/** A directory of links to `commands` as found on this machine's PATH, to be the whole PATH. */
async function bareMachine(dir: string, commands: readonly string[]): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  for (const command of commands) {
    const path = command === 'node' ? process.execPath : await which(command, process.env.PATH ?? '');
    if (!path) throw new Error(`${command} is not on PATH, and lab 2 needs it`);
    await symlink(path, join(bin, command));
  }
  return bin;
}

describe.skipIf(noLab)('lab 2 without docker, podman or nerdctl', () => {
  let registry: Registry;
  let image: string;
  let dir: string;
  let path: string;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-pull-lab-'));
    path = await bareMachine(dir, LAB_COMMANDS);
  });

  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function runLab(extra: string[]) {
    const workdir = await mkdtemp(join(dir, 'work-'));
    const env = { PATH: path, XDG_CACHE_HOME: join(dir, 'cache'), XDG_STATE_HOME: await mkdtemp(join(dir, 'state-')) };
    const result = await runCli(['run', '2', '--yes', '--workdir', workdir, '--var', `img=${image}`, ...extra], { env });
    return { result, workdir };
  }

  it('has no container tool on the PATH it gives ocilab', async () => {
    for (const tool of CONTAINER_TOOLS) expect(await which(tool, path), tool).toBeUndefined();
  });

  it('runs to the end with --use builtin: ocilab pull makes the rootfs, and the probes see hostname runc-demo', async () => {
    const { result, workdir } = await runLab(['--use', 'builtin']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain('$ ocilab pull "$img" --rootfs rootfs');
    expect(result.stdout).toMatch(/^layer 1\/1 sha256:[a-f0-9]{12} .* entries unpacked/m);
    expect(result.stdout).toContain('✓ The container has its own hostname');
    expect(result.stdout).not.toMatch(/✗/);
    expect(existsSync(join(workdir, 'rootfs', 'bin', 'busybox'))).toBe(true);
    const verified = await runCli(['verify', '2', '--json', '--workdir', workdir, '--var', `img=${image}`], { env: { PATH: path } });
    expect(verified.exitCode, verified.all).toBe(0);
    const probes = (JSON.parse(verified.stdout) as { steps: { checks: { kind: string; status: string; message: string }[] }[] }).steps
      .flatMap((s) => s.checks)
      .filter((c) => c.kind === 'probe');
    expect(probes.length).toBeGreaterThan(0);
    for (const probe of probes) expect(probe.status, probe.message).toBe('passed');
  });

  it('chooses the builtin way by itself when no container tool works', async () => {
    const { result } = await runLab([]);
    expect(result.exitCode, result.all).toBe(0);
    for (const tool of CONTAINER_TOOLS) expect(result.stdout).toContain(`Way '${tool}' is not available: ${tool} not found.`);
    expect(result.stdout).toMatch(/Using builtin \(the only one that works here\)/);
  });
});
