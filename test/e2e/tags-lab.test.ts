// Lab 1 (image tags) run headless against a real registry on loopback, the way a learner's
// `ocilab run 1` would run it against registry.k8s.io.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pushTags } from '../helpers/image.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';

const noRegistry = skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');

const REPOSITORY = 'library/busybox';
const TAGS = ['1.36', '1.36.1', '1.35', 'latest', 'musl', 'uclibc', 'stable-glibc'];

describe.skipIf(noRegistry)('lab 1: list the tags of an image', () => {
  let registry: Registry;
  let dir: string;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushTags(registry.host, REPOSITORY, TAGS);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-tags-lab-'));
  });

  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = async (path: string) => {
    const workdir = await mkdtemp(join(dir, 'work-'));
    const vars = ['scheme=http', `host=${registry.host}`, `path=${path}`].flatMap((v) => ['--var', v]);
    return runCli(['run', '1', '--yes', ...vars, '--use', 'curl', '--workdir', workdir]);
  };

  it('lists every tag of the repository with curl and jq, and passes its checks', async () => {
    const result = await run(REPOSITORY);
    expect(result.exitCode, result.all).toBe(0);
    // Each tag ends a line; whatever the renderer puts before command output may precede it.
    for (const tag of TAGS) expect(result.stdout).toMatch(new RegExp(`(^|\\s)${tag.replaceAll('.', '\\.')}\\s*$`, 'm'));
    expect(result.stdout).toMatch(/✓/);
    expect(result.stdout).not.toMatch(/✗/);
  });

  it('exits 1 when the repository does not exist', async () => {
    const result = await run('library/nothing-here');
    expect(result.exitCode, result.all).toBe(1);
  });
});
