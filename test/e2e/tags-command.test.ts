// `ocilab tags` as a user runs it, against the real CNCF distribution registry on loopback: one tag a
// line on stdout (the same set as skopeo list-tags), --json, and the exit codes of its errors.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { serve } from '../helpers/fake-registries.js';
import { pushTags } from '../helpers/image.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';

const noRegistry = skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');

/** Tags in the big repository: one manifest PUT each, about 25 s on a 2-CPU machine. */
const MANY = 3000;
const REPOSITORY = 'many/tags';

describe('ocilab tags without a registry', () => {
  it('prints its help and exits 0', async () => {
    const result = await runCli(['tags', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: ocilab tags <repository> \[options\]/);
    expect(result.stdout).toContain('--json');
  });

  it('is listed in the main help', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(/ocilab tags <repository>\s+list every tag of an image repository/);
  });

  it.each([
    ['Busybox', "ocilab: 'Busybox' is not an image reference: repository names are lower-case, e.g. busybox.\n"],
    ['busybox:1.36', "ocilab: 'busybox:1.36' names one image, not a repository: leave off the tag, e.g. `ocilab tags busybox`.\n"],
    [
      `127.0.0.1:5000/x/y:1.0@sha256:${'a'.repeat(64)}`,
      `ocilab: '127.0.0.1:5000/x/y:1.0@sha256:${'a'.repeat(64)}' names one image, not a repository: leave off the digest, e.g. \`ocilab tags 127.0.0.1:5000/x/y\`.\n`,
    ],
  ])('refuses %s with exit 2, asking no registry', async (reference, message) => {
    const result = await runCli(['tags', reference]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(message);
  });

  it('exits 1 and says so when nothing answers at the address', async () => {
    const closed = await serve(() => undefined);
    await closed.close();
    const result = await runCli(['tags', `${new URL(closed.url).host}/x/y`]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^ocilab: Could not reach http:\/\/127\.0\.0\.1:\d+ while listing the tags of x\/y: .*ECONNREFUSED/);
  });

  it('exits 2 without a repository', async () => {
    const result = await runCli(['tags']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('`ocilab tags` takes one repository');
  });
});

describe.skipIf(noRegistry)('ocilab tags against the CNCF distribution registry', () => {
  const pushed = Array.from({ length: MANY }, (_, i) => `${Math.floor(i / 100)}.${i % 100}.0`);
  let registry: Registry;
  let skopeoTags: string[];

  beforeAll(async () => {
    registry = await startRegistry();
    await pushTags(registry.host, REPOSITORY, pushed);
    const { stdout } = await execa('skopeo', ['list-tags', '--tls-verify=false', `docker://${registry.host}/${REPOSITORY}`]);
    skopeoTags = (JSON.parse(stdout) as { Tags: string[] }).Tags;
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it(`prints the ${MANY} tags one a line, the set skopeo list-tags reports, and nothing else`, async () => {
    const result = await runCli(['tags', `${registry.host}/${REPOSITORY}`]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.endsWith('\n')).toBe(true);
    const lines = result.stdout.slice(0, -1).split('\n');
    expect(lines).toHaveLength(MANY);
    expect(new Set(lines)).toEqual(new Set(skopeoTags));
  });

  it('prints {"repository", "tags"} with --json', async () => {
    const result = await runCli(['tags', '--json', `${registry.host}/${REPOSITORY}`]);
    expect(result.exitCode, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { repository: string; tags: string[] };
    expect(Object.keys(printed)).toEqual(['repository', 'tags']);
    expect(printed.repository).toBe(`${registry.host}/${REPOSITORY}`);
    expect(new Set(printed.tags)).toEqual(new Set(skopeoTags));
  });

  it("exits 1 for a repository the registry does not have, with the registry's words on stderr", async () => {
    const result = await runCli(['tags', `${registry.host}/x/none`]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `ocilab: ${registry.url} answered 404: NAME_UNKNOWN: repository name not known to registry (name: x/none) while listing the tags of x/none. Check the registry address and the repository name.\n`,
    );
  });
});
