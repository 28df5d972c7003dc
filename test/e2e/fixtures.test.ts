// The ground the other end-to-end tests stand on, without ocilab: the registry starts, the test image
// is pushed, and docker and podman can pull it as the labs do. When these fail, the machine is at
// fault, not ocilab.
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusybox, pushTags, removeLocalCopies } from '../helpers/image.js';
import { startRegistry, writeRegistriesConf, type Registry } from '../helpers/registry.js';
import { dockerUsable, podmanUsable, registryToolsUsable, skipUnless } from '../helpers/services.js';

const noRegistry = skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');
const noPodman = skipUnless(await podmanUsable(), 'podman is not usable here (`podman info` fails)');
const noDocker = skipUnless(await dockerUsable(), 'dockerd is not reachable (`docker info` fails)');

describe.skipIf(noRegistry)('test fixtures', () => {
  let registry: Registry;
  let dir: string;

  beforeAll(async () => {
    registry = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'ocilab-fixtures-'));
  });

  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts a registry that answers the distribution API', async () => {
    const response = await fetch(`${registry.url}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('pushes one image under many tags', async () => {
    const tags = ['1.36', '1.35', 'latest', 'musl'];
    await pushTags(registry.host, 'fixtures/many', tags);
    const response = await fetch(`${registry.url}/v2/fixtures/many/tags/list`);
    const body = (await response.json()) as { name: string; tags: string[] };
    expect(body.name).toBe('fixtures/many');
    expect([...body.tags].sort()).toEqual([...tags].sort());
  });

  it('pushes an amd64 busybox image whose command is sh', async () => {
    const reference = await pushBusybox(registry.host, 'fixtures/busybox', '1.36');
    const inspected = await execa('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${reference}`], { reject: false });
    expect(inspected.stderr).toBe('');
    const config = JSON.parse(inspected.stdout) as { os: string; architecture: string; config: { Cmd: string[] } };
    expect(config.os).toBe('linux');
    expect(config.config.Cmd).toEqual(['sh']);
  });

  describe.skipIf(noPodman)('with podman', () => {
    it('creates a container from the registry with only CONTAINERS_REGISTRIES_CONF set, and exports its rootfs', async () => {
      const reference = await pushBusybox(registry.host, 'fixtures/podman', '1.36');
      const env = { CONTAINERS_REGISTRIES_CONF: await writeRegistriesConf(registry.host, dir) };
      try {
        const rootfs = join(dir, 'podman-rootfs');
        await mkdir(rootfs);
        const created = await execa('podman', ['create', reference], { env, reject: false });
        expect(created.stderr, 'podman create').not.toMatch(/Error/);
        expect(created.exitCode).toBe(0);
        const exported = await execa('bash', ['-c', 'podman export "$1" | tar -C "$2" -xf -', 'export', created.stdout.trim(), rootfs], {
          env,
          reject: false,
          // Not a socket on stdin: bash would take itself for a remote shell and read root's ~/.bashrc.
          stdin: 'ignore',
        });
        expect(exported.exitCode, exported.stderr).toBe(0);
        expect((await stat(join(rootfs, 'bin', 'busybox'))).isFile()).toBe(true);
      } finally {
        await removeLocalCopies('podman', reference);
      }
    });
  });

  describe.skipIf(noDocker)('with docker', () => {
    it('creates a container from the plain-HTTP registry on 127.0.0.1 and exports its rootfs', async () => {
      const reference = await pushBusybox(registry.host, 'fixtures/docker', '1.36');
      try {
        const rootfs = join(dir, 'docker-rootfs');
        await mkdir(rootfs);
        const exported = await execa(
          'bash',
          ['-c', 'docker export "$(docker create "$1")" | tar -C "$2" -xf -', 'export', reference, rootfs],
          // Not a socket on stdin: bash would take itself for a remote shell and read root's ~/.bashrc.
          { reject: false, stdin: 'ignore' },
        );
        expect(exported.exitCode, exported.stderr).toBe(0);
        expect((await stat(join(rootfs, 'bin', 'busybox'))).isFile()).toBe(true);
      } finally {
        await removeLocalCopies('docker', reference);
      }
    });
  });
});
