// `pull` with a layout: the image copied from the cache into an OCI image layout, each blob named by the
// sha256 of its bytes (recomputed here), index.json naming the manifest by tag; and `DIR:TAG` parsing.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DigestMismatchError, PullError } from '../../src/oci/errors.js';
import { BlobCache } from '../../src/oci/cache.js';
import { parseLayoutTarget, writeLayout, type LayoutTarget } from '../../src/oci/layout.js';
import { pull } from '../../src/oci/pull.js';
import { parseReference } from '../../src/oci/reference.js';
import { Transport } from '../../src/oci/transport.js';
import { startMirror, type Mirror, type MirrorContent } from '../helpers/fake-registries.js';
import { AMD64, ARM64, DOCKER, OCI, configOf, gzipLayer, indexOf, manifestOf, type Blob } from '../helpers/image-content.js';

const REPO = 'library/demo';
const REF_NAME = 'org.opencontainers.image.ref.name';

let base: string;
let count = 0;
const mirrors: Mirror[] = [];
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ocilab-layout-'));
});
afterEach(async () => {
  await Promise.all(mirrors.splice(0).map((m) => m.close()));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const fresh = (name: string) => join(base, `${++count}-${name}`);

const LAYER = gzipLayer([
  { path: 'etc', type: 'dir' },
  { path: 'etc/motd', type: 'file', content: 'hello\n' },
]);

function image(platform = AMD64): { manifest: Blob; config: Blob } {
  const config = configOf(platform);
  return { manifest: manifestOf({ config, layers: [LAYER] }), config };
}

async function serveImages(tags: Record<string, Blob>, images: readonly { manifest: Blob; config: Blob }[]): Promise<Mirror> {
  const content: MirrorContent = { repository: REPO, manifests: {}, blobs: { [LAYER.digest]: LAYER.bytes } };
  for (const { manifest, config } of images) {
    content.manifests[manifest.digest] = { bytes: manifest.bytes, contentType: OCI.manifest };
    content.blobs[config.digest] = config.bytes;
  }
  for (const [tag, blob] of Object.entries(tags)) {
    const type = JSON.parse(blob.bytes.toString()) as { mediaType: string };
    content.manifests[tag] = content.manifests[blob.digest] = { bytes: blob.bytes, contentType: type.mediaType };
  }
  const m = await startMirror(content);
  mirrors.push(m);
  return m;
}

async function pullLayout(m: Mirror, tag: string, layout: LayoutTarget, cacheDir = fresh('cache')) {
  const ref = parseReference(`${new URL(m.url).host}/${REPO}:${tag}`);
  return pull(ref, undefined, {
    transport: new Transport({ dockerConfig: join(base, 'no-docker-config.json') }),
    platform: 'linux/amd64',
    cacheDir,
    layout,
  });
}

interface Index {
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
}
const readIndex = async (dir: string) => JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as Index;
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('parseLayoutTarget', () => {
  it.each([
    ['image:base', 'latest', { dir: 'image', tag: 'base' }],
    ['image', '1.36', { dir: 'image', tag: '1.36' }],
    ['/tmp/a:b/image', 'latest', { dir: '/tmp/a:b/image', tag: 'latest' }],
    ['/tmp/image:v1.2_rc-3', undefined, { dir: '/tmp/image', tag: 'v1.2_rc-3' }],
    ['image', undefined, { dir: 'image', tag: undefined }],
  ])('%s (default tag %s)', (text, tag, expected) => {
    expect(parseLayoutTarget(text, tag)).toEqual(expected);
  });
});

describe('pull into an OCI image layout', () => {
  it('writes oci-layout, index.json naming the manifest by tag, and every blob under the sha256 of its bytes, unpacking nothing', async () => {
    const img = image();
    const m = await serveImages({ '1.0': img.manifest }, [img]);
    const dir = fresh('layout');
    const result = await pullLayout(m, '1.0', { dir, tag: 'base' });
    expect(result.layers).toEqual([]);
    expect(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect((await readIndex(dir)).manifests).toEqual([
      { mediaType: OCI.manifest, digest: img.manifest.digest, size: img.manifest.size, annotations: { [REF_NAME]: 'base' } },
    ]);
    const names = await readdir(join(dir, 'blobs', 'sha256'));
    expect(names.sort()).toEqual([img.manifest, img.config, LAYER].map((b) => b.digest.slice('sha256:'.length)).sort());
    for (const name of names) expect(sha256(await readFile(join(dir, 'blobs', 'sha256', name)))).toBe(`sha256:${name}`);
  });

  it('adds a second tag beside the first, and moves a tag pulled again instead of repeating it', async () => {
    const amd = image();
    const arm = image(ARM64);
    const m = await serveImages({ amd: amd.manifest, arm: arm.manifest }, [amd, arm]);
    const dir = fresh('layout');
    const cache = fresh('cache');
    await pullLayout(m, 'amd', { dir, tag: 'one' }, cache);
    await pullLayout(m, 'amd', { dir, tag: 'two' }, cache);
    await pullLayout(m, 'arm', { dir, tag: 'one' }, cache);
    const named = (await readIndex(dir)).manifests.map((e) => [e.annotations?.[REF_NAME], e.digest]);
    expect(named).toEqual([
      ['two', amd.manifest.digest],
      ['one', arm.manifest.digest],
    ]);
  });

  it('writes the image manifest of the platform chosen from an index', async () => {
    const amd = image();
    const arm = image(ARM64);
    const index = indexOf([
      { manifest: arm.manifest, platform: ARM64 },
      { manifest: amd.manifest, platform: AMD64 },
    ]);
    const m = await serveImages({ multi: index }, [amd, arm]);
    const dir = fresh('layout');
    await pullLayout(m, 'multi', { dir, tag: 'multi' });
    expect((await readIndex(dir)).manifests.map((e) => e.digest)).toEqual([amd.manifest.digest]);
    expect(existsSync(join(dir, 'blobs', 'sha256', arm.config.digest.slice('sha256:'.length)))).toBe(false);
  });

  it("writes a Docker manifest anew with OCI's media types, over the same config and layer blobs", async () => {
    const config = configOf(AMD64);
    const docker = manifestOf({
      config,
      layers: [LAYER],
      mediaType: DOCKER.manifest,
      configType: DOCKER.config,
      layerType: DOCKER.layerGzip,
    });
    const m = await serveImages({ '1.0': docker }, [{ manifest: docker, config }]);
    const dir = fresh('layout');
    await pullLayout(m, '1.0', { dir, tag: 'base' });
    const [entry] = (await readIndex(dir)).manifests;
    expect(entry?.mediaType).toBe(OCI.manifest);
    expect(entry?.digest).not.toBe(docker.digest);
    const bytes = await readFile(join(dir, 'blobs', 'sha256', entry!.digest.slice('sha256:'.length)));
    expect(sha256(bytes)).toBe(entry?.digest);
    expect(bytes.length).toBe(entry?.size);
    const written = JSON.parse(bytes.toString()) as { mediaType: string; config: Index['manifests'][number]; layers: Index['manifests'] };
    expect(written.mediaType).toBe(OCI.manifest);
    expect(written.config).toMatchObject({ mediaType: OCI.config, digest: config.digest });
    expect(written.layers).toEqual([{ mediaType: OCI.layerGzip, digest: LAYER.digest, size: LAYER.size }]);
  });

  it('fails on a layer whose bytes do not match its digest, and writes no index.json naming it', async () => {
    const img = image();
    const dir = fresh('layout');
    // A mirror with a bad disk: the layer's bytes, twenty of them zeroed.
    const tampered = await startMirror({
      repository: REPO,
      manifests: { '1.0': { bytes: img.manifest.bytes, contentType: OCI.manifest } },
      blobs: { [img.config.digest]: img.config.bytes, [LAYER.digest]: Buffer.from(LAYER.bytes).fill(0, 20, 40) },
    });
    mirrors.push(tampered);
    const error = await pullLayout(tampered, '1.0', { dir, tag: 'base' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(existsSync(join(dir, 'index.json'))).toBe(false);
  });

  it('stopped, leaves no partial blob and no index.json', async () => {
    const img = image();
    const cache = new BlobCache(fresh('cache'));
    for (const blob of [img.config, LAYER]) await cache.put(blob.digest, blob.bytes);
    const dir = fresh('layout');
    const stop = new AbortController();
    stop.abort(new Error('Ctrl-C'));
    const written = writeLayout(
      cache,
      { dir, tag: 'base' },
      { manifest: { mediaType: OCI.manifest, bytes: img.manifest.bytes }, blobs: [img.config, LAYER] },
      stop.signal,
    );
    await expect(written).rejects.toThrow();
    expect(existsSync(join(dir, 'index.json'))).toBe(false);
    const left = await readdir(dir, { recursive: true });
    expect(left.filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('refuses a directory that holds something other than a layout, and leaves it as it was', async () => {
    const img = image();
    const m = await serveImages({ '1.0': img.manifest }, [img]);
    const dir = fresh('layout');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine\n');
    const error = await pullLayout(m, '1.0', { dir, tag: 'base' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullError);
    expect((error as Error).message).toMatch(/is not empty and is not an OCI image layout .*notes\.txt/);
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });
});
