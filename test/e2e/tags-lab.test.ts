// Lab 1 (image tags) run headless against a real registry on loopback, the way a learner's
// `ocilab run 1` would run it against registry.k8s.io; against a registry nothing can reach; and
// against a double of registry.k8s.io's redirect, with and without curl's -L.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { closedPort, startK8sLike, type K8sLike } from '../helpers/fake-registries.js';
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

/** What the checks said: everything from the `Checks` heading on (the command line above it has -L). */
function checksSaid(result: CliResult): string {
  const at = result.stdout.indexOf('\nChecks\n');
  expect(at, result.all).toBeGreaterThan(-1);
  return result.stdout.slice(at);
}

describe('lab 1 when nothing can reach the registry', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocilab-tags-unreachable-'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = async (...vars: string[]) => {
    const workdir = await mkdtemp(join(dir, 'work-'));
    return runCli(['run', '1', '--yes', '--use', 'curl', ...vars.flatMap((v) => ['--var', v]), '--workdir', workdir]);
  };

  it('says that nothing listens at a closed port, and does not blame -L', async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const result = await run('scheme=http', `host=${host}`, `path=${REPOSITORY}`);
    expect(result.exitCode, result.all).toBe(1);
    const said = checksSaid(result);
    expect(said).toContain(`ocilab cannot reach http://${host} either: connection refused (nothing listens there).`);
    expect(said).toContain('--var host=HOST:PORT --var scheme=http');
    expect(said).not.toMatch(/-L\b|--location|redirect/i);
  });

  it('says that the name does not resolve, and does not blame -L', async () => {
    const result = await run('host=nonexistent.invalid', `path=${REPOSITORY}`);
    expect(result.exitCode, result.all).toBe(1);
    const said = checksSaid(result);
    expect(said).toContain('ocilab cannot reach https://nonexistent.invalid either: the name does not resolve (DNS');
    expect(said).not.toMatch(/-L\b|--location|redirect/i);
  });
});

describe('a registry that redirects the tag list to another host, as registry.k8s.io does', () => {
  const tags = ['v1.2.0', 'v1.3.0', 'latest'];
  let k8s: K8sLike;
  let dir: string;
  let vars: string[];

  beforeAll(async () => {
    k8s = await startK8sLike('sig-storage/smbplugin', tags);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-tags-redirect-'));
    vars = ['scheme=http', `host=${new URL(k8s.front.url).host}`, 'path=sig-storage/smbplugin'].flatMap((v) => ['--var', v]);
  });

  afterAll(async () => {
    await k8s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes lab 1, whose curl follows the redirect with -L', async () => {
    const workdir = await mkdtemp(join(dir, 'work-'));
    const result = await runCli(['run', '1', '--yes', '--use', 'curl', ...vars, '--workdir', workdir]);
    expect(result.exitCode, result.all).toBe(0);
    expect(checksSaid(result)).not.toMatch(/✗/);
  });

  it('tells a learner whose curl has no -L that the registry redirects and curl needs -L', async () => {
    const file = join(dir, 'no-follow.md');
    await writeFile(file, NO_FOLLOW_LAB);
    const workdir = await mkdtemp(join(dir, 'work-'));
    const result = await runCli(['run', file, '--yes', ...vars, '--workdir', workdir]);
    expect(result.exitCode, result.all).toBe(1);
    expect(checksSaid(result)).toContain(
      `${k8s.front.url} answers the tag list with a 307 redirect to ${k8s.backend.url}, and the output shows the redirect was not followed: curl follows redirects only with -L (--location).`,
    );
  });
});

/** Lab 1's tags step as a learner who forgot -L would write it. */
const NO_FOLLOW_LAB = [
  '---',
  'ocilab: 1',
  'id: no-follow',
  'title: List the tags without following redirects',
  "summary: Lab 1's request, without curl's -L.",
  'variables:',
  '  host:',
  '    default: registry.k8s.io',
  '    description: Registry host',
  '  path:',
  '    default: sig-storage/smbplugin',
  '    description: Repository path',
  '  scheme:',
  '    default: https',
  '    description: Scheme of the registry API URL',
  '---',
  '# List the tags without following redirects',
  '',
  '## List the tags',
  '',
  '```sh {"run": true, "readonly": true}',
  `curl -s "$scheme://$host/v2/$path/tags/list" | jq -r '.tags[]'`,
  '```',
  '',
  '```yaml {"checks": true}',
  '- tags: ${path}',
  '  registry: ${scheme}://${host}',
  '```',
  '',
].join('\n');
