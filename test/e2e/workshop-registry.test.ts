// A classroom on a closed network: the instructor's registry on loopback, named only in the workshop
// file. With no --var at all, lab 1 lists its tags and lab 2 (headless, `--use builtin`) pulls its
// busybox from it, and `ocilab doctor` asks that registry, not the public defaults.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pushBusybox, pushTags } from '../helpers/image.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { isRoot, registryToolsUsable, skipUnless } from '../helpers/services.js';

const noLabs = skipUnless(
  isRoot() && (await registryToolsUsable()),
  'lab 2 needs root (runc probes) and docker-registry, busybox-static, umoci and skopeo',
);

const TAGS = ['1.35', '1.36', 'latest'];

describe.skipIf(noLabs)('the shipped labs with a workshop that names its registry', () => {
  let registry: Registry;
  let dir: string;
  let workshop: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    registry = await startRegistry();
    const image = await pushBusybox(registry.host);
    await pushTags(registry.host, 'library/busybox', TAGS);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-workshop-registry-'));
    workshop = join(dir, 'workshop.yml');
    await writeFile(
      workshop,
      [
        'ocilab-workshop: 1',
        'title: Closed network',
        'labs: [tags, runc]',
        'variables: { scheme: http }',
        'lab-variables:',
        `  tags: { host: "${registry.host}", path: library/busybox }`,
        `  runc: { img: "${image}" }`,
        '',
      ].join('\n'),
    );
    env = { XDG_STATE_HOME: join(dir, 'state'), XDG_CACHE_HOME: join(dir, 'cache'), OCILAB_WORKSHOP: workshop };
  });

  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs lab 1 headless with no --var: the tags come from the registry in the workshop file', async () => {
    const result = await runCli(['run', '1', '--yes', '--use', 'curl', '--workdir', join(dir, 'tags')], { env });
    expect(result.exitCode, result.all).toBe(0);
    for (const tag of TAGS) expect(result.stdout).toMatch(new RegExp(`^${tag.replace('.', '\\.')}$`, 'm'));
    expect(result.stdout).toContain('✓ Every line printed is a tag');
  });

  it('runs lab 2 headless with no --var: ocilab pull unpacks busybox from the registry in the workshop file', async () => {
    const workdir = join(dir, 'runc');
    const result = await runCli(['run', '2', '--yes', '--use', 'builtin', '--workdir', workdir], { env });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain('$ ocilab pull "$img" --rootfs rootfs');
    expect(result.stdout).toContain('✓ The container has its own hostname');
    expect(result.stdout).not.toMatch(/✗/);
    expect(existsSync(join(workdir, 'rootfs', 'bin', 'busybox'))).toBe(true);
    // Nothing of the workshop's is saved as the learner's own.
    const progress = JSON.parse(await readFile(join(dir, 'state', 'ocilab', 'progress', 'runc.json'), 'utf8')) as { vars: unknown };
    expect(progress.vars).toEqual({});

    const verified = await runCli(['verify', '2', '--json'], { env });
    expect(verified.exitCode, verified.all).toBe(0);
  });

  it("lets a learner's --var win: an image nobody serves is not pulled", async () => {
    const result = await runCli(
      ['run', '2', '--yes', '--use', 'builtin', '--workdir', join(dir, 'elsewhere'), '--var', `img=${registry.host}/library/nothing:1`],
      { env: { ...env, XDG_STATE_HOME: join(dir, 'state-2') } },
    );
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain('MANIFEST_UNKNOWN: manifest unknown (Tag: 1) while fetching the manifest 1 of library/nothing');
  });

  it('has doctor ask the registry of the workshop file for both labs', async () => {
    const result = await runCli(['doctor', '--json'], { env });
    const { checks } = JSON.parse(result.stdout) as { checks: { id: string; status: string }[] };
    for (const lab of ['tags', 'runc']) {
      expect(checks.find((c) => c.id === `lab.${lab}.registry.${registry.host}`)).toMatchObject({ status: 'ok' });
    }
    expect(checks.map((c) => c.id).filter((id) => /registry\.k8s\.io|docker\.io/.test(id))).toEqual([]);
  });
});
