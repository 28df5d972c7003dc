// `ocilab pull` as a user runs it: the busybox image from the CNCF distribution registry on loopback,
// the digest on stdout and one line per layer on stderr, the cache and --offline, the exit codes of
// its errors, Ctrl-C, and device nodes made with mknod through the CLI.
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startMirror, type Mirror, type MirrorContent, type MirrorOptions } from '../helpers/fake-registries.js';
import { pushBusybox } from '../helpers/image.js';
import { OCI, blobOf, configOf, gzipLayer, manifestOf, type Blob } from '../helpers/image-content.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { isRoot, registryToolsUsable, skipUnless } from '../helpers/services.js';

const noRegistry = skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-pull-cli-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let count = 0;
const fresh = (name: string) => join(dir, `${++count}-${name}`);

/** A mirror serving one image under `demo/image:1.0` whose layers are `layers`; `served` replaces what is served for some digests. */
async function serveImage(
  layers: readonly Blob[],
  served: MirrorContent['blobs'] = {},
  options: MirrorOptions = {},
): Promise<{ mirror: Mirror; reference: string }> {
  const config = configOf();
  const manifest = manifestOf({ config, layers });
  const mirror = await startMirror(
    {
      repository: 'demo/image',
      manifests: { '1.0': { bytes: manifest.bytes, contentType: OCI.manifest } },
      blobs: { [config.digest]: config.bytes, ...Object.fromEntries(layers.map((l) => [l.digest, l.bytes])), ...served },
    },
    options,
  );
  mirrors.push(mirror);
  return { mirror, reference: `${new URL(mirror.url).host}/demo/image:1.0` };
}

const mirrors: Mirror[] = [];
afterEach(async () => {
  await Promise.all(mirrors.splice(0).map((m) => m.close()));
});

describe('ocilab pull without a registry', () => {
  it('prints its help and exits 0', async () => {
    const result = await runCli(['pull', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: ocilab pull <image> --rootfs DIR \[options\]/);
    expect(result.stdout).toContain('--offline');
  });

  it('is listed in the main help', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(
      /ocilab pull <image> --rootfs DIR\s+unpack an image into a directory, or into an OCI layout \(--layout\)$/m,
    );
  });

  it.each([
    [['pull', 'Busybox', '--rootfs', 'x'], "ocilab: 'Busybox' is not an image reference: repository names are lower-case, e.g. busybox.\n"],
    [
      ['pull', 'busybox'],
      'ocilab: `ocilab pull` needs --rootfs DIR, the directory to unpack into, e.g. `--rootfs rootfs`, or --layout DIR[:TAG], an OCI image layout to copy the image into.\n',
    ],
    [
      ['pull', 'busybox', '--rootfs', 'x', '--platform', 'arm64'],
      "ocilab: 'arm64' is not a platform: write os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8.\n",
    ],
    [['pull', '--rootfs', 'x'], 'ocilab: `ocilab pull` takes one image, e.g. `ocilab pull busybox:1.36 --rootfs rootfs`.\n'],
  ])('refuses %j with exit 2, asking no registry', async (args, message) => {
    const result = await runCli(args);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(message);
  });
});

describe('ocilab pull against registry doubles', () => {
  it('exits 1 for a corrupt layer, naming both digests, with nothing on stdout', async () => {
    const layer = gzipLayer([{ path: 'hello', type: 'file', content: 'hello\n' }]);
    const corrupt = Buffer.from(layer.bytes);
    corrupt[corrupt.length - 5] = (corrupt[corrupt.length - 5] as number) ^ 0xff;
    const { reference } = await serveImage([layer], { [layer.digest]: corrupt });
    const result = await runCli(['pull', reference, '--rootfs', fresh('rootfs')], { env: { XDG_CACHE_HOME: fresh('cache') } });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `ocilab: layer 1 of 1 (${layer.digest.slice(0, 19)}) of ${reference} should have the digest ${layer.digest}`,
    );
    expect(result.stderr).toContain(`what arrived has the digest ${blobOf(corrupt).digest}`);
  });

  it('exits 130 on Ctrl-C and leaves no partial download in the cache', async () => {
    const layer = gzipLayer([{ path: 'hello', type: 'file', content: 'hello\n' }]);
    // The layer never comes: the pull waits until it is cancelled.
    const { mirror, reference } = await serveImage(
      [layer],
      {},
      { beforeBlob: (d) => (d === layer.digest ? new Promise(() => undefined) : Promise.resolve()) },
    );
    const cache = fresh('cache');
    const controller = new AbortController();
    const running = runCli(['pull', reference, '--rootfs', fresh('rootfs')], { env: { XDG_CACHE_HOME: cache }, signal: controller.signal });
    while (!mirror.log.some((line) => line.includes(layer.digest))) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    const result = await running;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain('Cancelled.');
    expect(result.stdout).toBe('');
    expect(await readdir(join(cache, 'ocilab', 'tmp'))).toEqual([]);
  });

  it.skipIf(!isRoot())('creates device nodes as root, through mknod', async () => {
    const layer = gzipLayer([
      { path: 'dev/', type: 'dir' },
      { path: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666 },
      { path: 'run/', type: 'dir' },
      { path: 'run/pipe', type: 'fifo', mode: 0o600 },
    ]);
    const { reference } = await serveImage([layer]);
    const rootfs = fresh('rootfs');
    const result = await runCli(['pull', reference, '--rootfs', rootfs], { env: { XDG_CACHE_HOME: fresh('cache') } });
    expect(result.exitCode, result.stderr).toBe(0);
    const device = await lstat(join(rootfs, 'dev/null'));
    expect(device.isCharacterDevice()).toBe(true);
    expect(device.rdev).toBe((1 << 8) | 3);
    expect(device.mode & 0o7777).toBe(0o666);
    expect((await lstat(join(rootfs, 'run/pipe'))).isFIFO()).toBe(true);
  });
});

describe.skipIf(noRegistry)('ocilab pull against the CNCF distribution registry', () => {
  let registry: Registry;
  let image: string;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('prints the digest on stdout and one line per layer on stderr; again from the cache; then --offline', async () => {
    const cache = fresh('cache');
    const env = { XDG_CACHE_HOME: cache };
    const rootfs = fresh('rootfs');
    const first = await runCli(['pull', image, '--rootfs', rootfs], { env });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    const digest = first.stdout.trim();
    const lines = first.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^Pulling ${image.replace(/[.]/g, '\\.')} \\(${digest}\\): 1 layer, [\\d.]+ [kM]B$`));
    expect(lines[1]).toMatch(
      /^layer 1\/1 sha256:[a-f0-9]{12} {2}[\d.]+ [kM]B {2}downloaded in [\d.]+ s \(.*\/s\), \d+ entries unpacked in [\d.]+ s$/,
    );
    expect(existsSync(join(rootfs, 'bin', 'busybox'))).toBe(true);

    const again = await runCli(['pull', image, '--rootfs', fresh('rootfs')], { env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toBe(`${digest}\n`);
    expect(again.stderr).toMatch(/\(1 in the cache\)\nlayer 1\/1 .* from the cache, \d+ entries unpacked/);

    await registry.stop();
    const offline = await runCli(['pull', image, '--rootfs', fresh('rootfs'), '--offline'], { env });
    expect(offline.exitCode, offline.stderr).toBe(0);
    expect(offline.stdout).toBe(`${digest}\n`);
    const down = await runCli(['pull', image, '--rootfs', fresh('rootfs')], { env });
    expect(down.exitCode).toBe(1);
    expect(down.stderr).toMatch(/^ocilab: Could not reach .* ECONNREFUSED.*add --offline to use that\.\n$/);
    registry = await startRegistry();
  });

  it('exits 1 with --offline and an empty cache, saying what to do', async () => {
    const cache = fresh('cache');
    const result = await runCli(['pull', image, '--rootfs', fresh('rootfs'), '--offline'], { env: { XDG_CACHE_HOME: cache } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `ocilab: --offline: ${image} was never pulled with this cache (${join(cache, 'ocilab')}), so ocilab does not know which image the tag 1.36 names. Pull it once without --offline, with the same cache directory (XDG_CACHE_HOME).\n`,
    );
  });

  it("exits 1 for a tag the registry does not have, with the registry's words", async () => {
    const result = await runCli(['pull', `${registry.host}/library/busybox:nope`, '--rootfs', fresh('rootfs')], {
      env: { XDG_CACHE_HOME: fresh('cache') },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `ocilab: ${registry.url} answered 404: MANIFEST_UNKNOWN: manifest unknown (Tag: nope) while fetching the manifest nope of library/busybox. Check the tag or digest; \`ocilab tags <repository>\` lists the tags.\n`,
    );
  });
});
