// pull() against a registry double that serves fixed manifests and blobs: what the real registry will
// not hold (corrupt blobs, schema 1, zstd and foreign layers) and what it cannot show (attestations
// chosen by BuildKit, Docker media types, requests counted one by one). The real registry's tests are
// in pull-registry.test.ts.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DigestMismatchError, PullError, RegistryError } from '../../src/oci/errors.js';
import { pull, type PullEvent, type PullOptions } from '../../src/oci/pull.js';
import { parseReference } from '../../src/oci/reference.js';
import { Transport } from '../../src/oci/transport.js';
import { startMirror, type Mirror, type MirrorContent, type MirrorOptions } from '../helpers/fake-registries.js';
import {
  AMD64,
  ARM64,
  DOCKER,
  OCI,
  attestationFor,
  blobOf,
  configOf,
  gzipLayer,
  indexOf,
  manifestOf,
  type Blob,
} from '../helpers/image-content.js';
import { layerTar, type LayerEntry } from '../helpers/layers.js';

const REPO = 'library/demo';

let base: string;
let count = 0;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ocilab-pull-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const mirrors: Mirror[] = [];
afterEach(async () => {
  await Promise.all(mirrors.splice(0).map((m) => m.close()));
});

/** A fresh directory under the test's base. */
function fresh(name: string): string {
  return join(base, `${++count}-${name}`);
}

const file = (path: string, content: string, extra: Partial<LayerEntry> = {}): LayerEntry =>
  ({ path, type: 'file', content, ...extra }) as LayerEntry;
const dir = (path: string): LayerEntry => ({ path, type: 'dir' });

/** Two layers: the second changes a file, deletes another with a whiteout and adds a symlink. */
const LOWER = gzipLayer([
  dir('etc'),
  file('etc/motd', 'hello\n'),
  file('etc/old', 'to be deleted\n'),
  dir('bin'),
  file('bin/tool', 'v1', { mode: 0o755 }),
]);
const UPPER = gzipLayer([
  dir('etc'),
  file('etc/motd', 'hello again\n'),
  file('etc/.wh.old', ''),
  { path: 'bin/alias', type: 'symlink', target: 'tool' },
]);

interface Image {
  manifest: Blob;
  blobs: Blob[];
}

function image(layers: readonly Blob[] = [LOWER, UPPER], platform = AMD64, spec: Partial<Parameters<typeof manifestOf>[0]> = {}): Image {
  const config = configOf(platform);
  return { manifest: manifestOf({ config, layers, ...spec }), blobs: [config, ...layers] };
}

/** What a mirror serves: manifests by tag and digest, with their Content-Type, and the blobs of `images`. */
function content(tags: Record<string, { blob: Blob; contentType?: string }>, images: readonly Image[], extra: Blob[] = []): MirrorContent {
  const manifests: MirrorContent['manifests'] = {};
  const blobs: MirrorContent['blobs'] = {};
  for (const image of images) {
    manifests[image.manifest.digest] = { bytes: image.manifest.bytes, contentType: OCI.manifest };
    for (const blob of image.blobs) blobs[blob.digest] = blob.bytes;
  }
  for (const blob of extra) manifests[blob.digest] = { bytes: blob.bytes };
  for (const [tag, { blob, contentType }] of Object.entries(tags)) {
    const served = { bytes: blob.bytes, ...(contentType ? { contentType } : {}) };
    manifests[tag] = served;
    manifests[blob.digest] = served;
  }
  return { repository: REPO, manifests, blobs };
}

async function mirror(served: MirrorContent, options: MirrorOptions = {}): Promise<Mirror> {
  const m = await startMirror(served, options);
  mirrors.push(m);
  return m;
}

interface Pulled {
  rootfs: string;
  cache: string;
  events: PullEvent[];
  notes: string[];
}

/** Pulls `reference` (relative to the mirror: `demo:1.0` becomes `127.0.0.1:PORT/library/demo:1.0`) into a fresh rootfs. */
async function pullFrom(m: Mirror, tagOrDigest: string, options: PullOptions & { cache?: string; rootfs?: string } = {}) {
  const separator = tagOrDigest.startsWith('sha256:') ? '@' : ':';
  const ref = parseReference(`${new URL(m.url).host}/${REPO}${separator}${tagOrDigest}`);
  const pulled: Pulled = { rootfs: options.rootfs ?? fresh('rootfs'), cache: options.cache ?? fresh('cache'), events: [], notes: [] };
  const result = await pull(ref, pulled.rootfs, {
    transport: new Transport({ dockerConfig: join(base, 'no-docker-config.json') }),
    platform: 'linux/amd64',
    cacheDir: pulled.cache,
    onProgress: (e) => pulled.events.push(e),
    onNote: (n) => pulled.notes.push(n),
    ...options,
  });
  return { ...pulled, result };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the pull should have failed').toBeInstanceOf(Error);
  return error as Error;
}

/** Every file under a cache directory, relative to it. */
async function cacheFiles(cache: string): Promise<string[]> {
  if (!existsSync(cache)) return [];
  const entries = await readdir(cache, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(cache.length + 1));
}

const blobRequests = (m: Mirror) => m.log.filter((line) => line.includes('/blobs/'));

describe('pull from a registry', () => {
  it('applies the layers in order, whiteouts included, and returns the digest the tag names', async () => {
    const img = image();
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]));
    const { rootfs, result, events } = await pullFrom(m, '1.0');
    expect(await readFile(join(rootfs, 'etc/motd'), 'utf8')).toBe('hello again\n');
    expect(existsSync(join(rootfs, 'etc/old'))).toBe(false);
    expect(existsSync(join(rootfs, 'etc/.wh.old'))).toBe(false);
    expect(await readlink(join(rootfs, 'bin/alias'))).toBe('tool');
    expect(result.digest).toBe(img.manifest.digest);
    expect(result.manifestDigest).toBe(img.manifest.digest);
    expect(result.platform).toBeUndefined();
    expect(result.layers.map((l) => l.whiteouts)).toEqual([0, 1]);
    expect(result.downloadedBytes).toBe(LOWER.size + UPPER.size);
    expect(events[0]).toMatchObject({ type: 'image', digest: img.manifest.digest, layers: [{ cached: false }, { cached: false }] });
    expect(events.filter((e) => e.type === 'layer-unpacked').map((e) => e.layer)).toEqual([0, 1]);
  });

  it('refuses a blob whose digest does not match, names both digests, and keeps nothing of it in the cache', async () => {
    const img = image();
    const served = content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]);
    // The same size, other bytes: what a mirror with a bad disk serves.
    const corrupt = Buffer.from(UPPER.bytes);
    corrupt[corrupt.length - 5] = (corrupt[corrupt.length - 5] as number) ^ 0xff;
    served.blobs[UPPER.digest] = corrupt;
    const m = await mirror(served);
    const cache = fresh('cache');
    const error = await failure(pullFrom(m, '1.0', { cache }));
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error.message).toContain(`layer 2 of 2 (${UPPER.digest.slice(0, 19)}) of ${new URL(m.url).host}/${REPO}:1.0`);
    expect(error.message).toContain(`should have the digest ${UPPER.digest}`);
    expect(error.message).toContain(`has the digest ${blobOf(corrupt).digest}`);
    expect(error.message).toContain('Nothing of it was kept in the cache');
    const kept = await cacheFiles(cache);
    expect(kept).not.toContain(join('blobs', 'sha256', UPPER.digest.slice(7)));
    expect(kept.filter((f) => f.startsWith('tmp'))).toEqual([]);
    // The layers that did verify stay, so the next pull downloads only what is missing.
    expect(kept).toContain(join('blobs', 'sha256', LOWER.digest.slice(7)));
  });

  it('stops reading a blob longer than its manifest says', async () => {
    const img = image();
    const served = content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]);
    served.blobs[LOWER.digest] = Buffer.concat([LOWER.bytes, Buffer.alloc(4096)]);
    const error = await failure(pullFrom(await mirror(served), '1.0'));
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error.message).toContain(`is larger than the ${LOWER.size} bytes its manifest gives`);
  });

  it('refuses a manifest that is not the one a digest-pinned reference names', async () => {
    const img = image();
    const other = image([LOWER]);
    const served = content({}, [img, other]);
    // The registry answers the digest of `img` with the bytes of `other`.
    served.manifests[img.manifest.digest] = { bytes: other.manifest.bytes, contentType: OCI.manifest };
    const error = await failure(pullFrom(await mirror(served), img.manifest.digest));
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error.message).toContain(
      `should have the digest ${img.manifest.digest}, but what arrived has the digest ${other.manifest.digest}`,
    );
  });
});

describe('indexes and platforms', () => {
  const amd = image([LOWER], AMD64);
  const arm = image([UPPER], ARM64);
  const S390X = { os: 'linux', architecture: 's390x' };
  const s390x = image([UPPER], S390X);

  it('skips an attestation manifest and never fetches it, and pulls the image for the platform', async () => {
    const attestation = attestationFor(amd.manifest);
    const index = indexOf([attestation, { manifest: arm.manifest, platform: ARM64 }, { manifest: amd.manifest, platform: AMD64 }]);
    const m = await mirror(content({ latest: { blob: index, contentType: OCI.index } }, [amd, arm], [attestation.manifest]));
    const { rootfs, result } = await pullFrom(m, 'latest');
    expect(result.digest).toBe(index.digest);
    expect(result.manifestDigest).toBe(amd.manifest.digest);
    expect(result.platform).toBe('linux/amd64');
    expect(await readFile(join(rootfs, 'etc/motd'), 'utf8')).toBe('hello\n');
    expect(m.log.some((line) => line.includes(attestation.manifest.digest))).toBe(false);
    expect(m.log.some((line) => line.includes(arm.manifest.digest))).toBe(false);
  });

  it('chooses arm64 for --platform linux/arm64/v8 from an index that writes it without a variant', async () => {
    const index = indexOf([
      { manifest: amd.manifest, platform: AMD64 },
      { manifest: arm.manifest, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    const m = await mirror(content({ latest: { blob: index, contentType: OCI.index } }, [amd, arm]));
    const { result } = await pullFrom(m, 'latest', { platform: 'linux/arm64/v8' });
    expect(result.manifestDigest).toBe(arm.manifest.digest);
    expect(result.platform).toBe('linux/arm64/v8');
  });

  it('lists the platforms an index has when none matches, attestations left out', async () => {
    const index = indexOf([
      attestationFor(arm.manifest),
      { manifest: arm.manifest, platform: ARM64 },
      { manifest: s390x.manifest, platform: S390X },
    ]);
    const m = await mirror(content({ latest: { blob: index, contentType: OCI.index } }, [arm, s390x]));
    const error = await failure(pullFrom(m, 'latest'));
    expect(error).toBeInstanceOf(PullError);
    expect(error.message).toBe(
      `${new URL(m.url).host}/${REPO}:latest has no image for linux/amd64: it has images only for linux/arm64/v8, linux/s390x. Choose one with --platform, or use another image.`,
    );
    expect(blobRequests(m)).toEqual([]);
  });

  it('reads a Docker manifest list and Docker v2 manifests', async () => {
    const config = configOf(AMD64);
    const manifest = manifestOf({ config, layers: [LOWER, UPPER], mediaType: DOCKER.manifest });
    const list = indexOf([{ manifest, platform: AMD64 }], DOCKER.list);
    const served = content({ '1.0': { blob: list, contentType: DOCKER.list } }, []);
    served.manifests[manifest.digest] = { bytes: manifest.bytes, contentType: DOCKER.manifest };
    for (const blob of [config, LOWER, UPPER]) served.blobs[blob.digest] = blob.bytes;
    const { rootfs, result } = await pullFrom(await mirror(served), '1.0');
    expect(result.manifestDigest).toBe(manifest.digest);
    expect(await readFile(join(rootfs, 'etc/motd'), 'utf8')).toBe('hello again\n');
    expect(JSON.parse(manifest.bytes.toString()).layers[0].mediaType).toBe(DOCKER.layerGzip);
  });

  it('goes by the mediaType field, then the shape, when the registry sends no Content-Type', async () => {
    const withField = image([LOWER]);
    const withoutField = image([UPPER], AMD64, { mediaType: null });
    const served = content({ a: { blob: withField.manifest }, b: { blob: withoutField.manifest } }, [withField, withoutField]);
    const m = await mirror(served);
    expect((await pullFrom(m, 'a')).result.manifestDigest).toBe(withField.manifest.digest);
    expect((await pullFrom(m, 'b')).result.manifestDigest).toBe(withoutField.manifest.digest);
  });

  it('says so when a single-platform image is for another platform', async () => {
    const m = await mirror(content({ '1.0': { blob: arm.manifest, contentType: OCI.manifest } }, [arm]));
    const { notes } = await pullFrom(m, '1.0');
    expect(notes).toContain(
      `${new URL(m.url).host}/${REPO}:1.0 is an image for linux/arm64/v8, not linux/amd64: its programs may not run here.`,
    );
  });
});

describe('what ocilab refuses to pull', () => {
  it('refuses Docker schema 1, saying how to get schema 2', async () => {
    const schema1 = blobOf(JSON.stringify({ schemaVersion: 1, name: REPO, tag: '1.0', fsLayers: [], history: [] }));
    const m = await mirror(content({ '1.0': { blob: schema1, contentType: DOCKER.schema1 } }, []));
    const error = await failure(pullFrom(m, '1.0'));
    expect(error).toBeInstanceOf(PullError);
    expect(error.message).toMatch(/has only a Docker schema 1 manifest, a format deprecated since 2017 .* Push the image again/);
  });

  const hasZstd = 'createZstdDecompress' in zlib;
  it.skipIf(hasZstd)('refuses zstd layers on this Node.js, naming the media type, before downloading any layer', async () => {
    const img = image([LOWER, UPPER], AMD64, { layerType: (i) => (i === 1 ? OCI.layerZstd : OCI.layerGzip) });
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]));
    const error = await failure(pullFrom(m, '1.0'));
    expect(error).toBeInstanceOf(PullError);
    expect(error.message).toContain('layer 2 of 2');
    expect(error.message).toContain('is compressed with zstd (application/vnd.oci.image.layer.v1.tar+zstd)');
    expect(blobRequests(m).filter((line) => !line.includes(img.blobs[0]?.digest ?? '-'))).toEqual([]);
  });

  it('refuses non-distributable (foreign) layers', async () => {
    const img = image([LOWER], AMD64, { layerType: OCI.layerNondistributable });
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]));
    const error = await failure(pullFrom(m, '1.0'));
    expect(error.message).toContain(`is a non-distributable ("foreign") layer (${OCI.layerNondistributable})`);
  });

  it('refuses an artifact whose config is not an image config', async () => {
    const img = image([LOWER], AMD64, { configType: 'application/vnd.cncf.helm.config.v1+json' });
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]));
    const error = await failure(pullFrom(m, '1.0'));
    expect(error.message).toContain('is not a container image: its config is of the type application/vnd.cncf.helm.config.v1+json');
  });

  it('unpacks an uncompressed layer, and a gzip layer labelled as plain tar', async () => {
    const plain = blobOf(layerTar([dir('etc'), file('etc/plain', 'tar\n')]));
    const img = image([plain, LOWER], AMD64, { layerType: OCI.layerTar });
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]));
    const { rootfs } = await pullFrom(m, '1.0');
    expect(await readFile(join(rootfs, 'etc/plain'), 'utf8')).toBe('tar\n');
    expect(await readFile(join(rootfs, 'etc/motd'), 'utf8')).toBe('hello\n');
  });
});

describe('the blob cache', () => {
  it('pulls again with one HEAD request and no download, and by digest with no request at all', async () => {
    const img = image();
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]));
    const cache = fresh('cache');
    await pullFrom(m, '1.0', { cache });
    m.log.length = 0;
    const again = await pullFrom(m, '1.0', { cache });
    expect(m.log).toEqual([`HEAD /v2/${REPO}/manifests/1.0`]);
    expect(again.result).toMatchObject({ downloadedBytes: 0, cachedLayers: 2 });
    expect(await readFile(join(again.rootfs, 'etc/motd'), 'utf8')).toBe('hello again\n');
    m.log.length = 0;
    await pullFrom(m, img.manifest.digest, { cache });
    expect(m.log).toEqual([]);
  });

  it('follows a tag that moved, and says so', async () => {
    const first = image([LOWER]);
    const second = image([LOWER, UPPER]);
    const served = content({ '1.0': { blob: first.manifest, contentType: OCI.manifest } }, [first, second]);
    const m = await mirror(served);
    const cache = fresh('cache');
    await pullFrom(m, '1.0', { cache });
    served.manifests['1.0'] = { bytes: second.manifest.bytes, contentType: OCI.manifest };
    m.log.length = 0;
    const { result, notes } = await pullFrom(m, '1.0', { cache });
    expect(result.digest).toBe(second.manifest.digest);
    expect(notes).toContain(
      `The tag 1.0 has moved since the last pull: it named ${first.manifest.digest}, and names ${second.manifest.digest} now.`,
    );
    expect(blobRequests(m)).toEqual([`GET /v2/${REPO}/blobs/${UPPER.digest}`]);
  });

  it('pulls --offline from the cache alone, and names what it lacks', async () => {
    const img = image();
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]));
    const host = new URL(m.url).host;
    const cache = fresh('cache');
    const never = await failure(pullFrom(m, '1.0', { cache, offline: true }));
    expect(never).toBeInstanceOf(PullError);
    expect(never.message).toBe(
      `--offline: ${host}/${REPO}:1.0 was never pulled with this cache (${cache}), so ocilab does not know which image the tag 1.0 names. Pull it once without --offline, with the same cache directory (XDG_CACHE_HOME).`,
    );
    await pullFrom(m, '1.0', { cache });
    await m.close();
    const { rootfs } = await pullFrom(m, '1.0', { cache, offline: true });
    expect(await readFile(join(rootfs, 'etc/motd'), 'utf8')).toBe('hello again\n');
    await rm(join(cache, 'blobs', 'sha256', UPPER.digest.slice(7)));
    const missing = await failure(pullFrom(m, '1.0', { cache, offline: true }));
    expect(missing.message).toContain(`does not hold 1 of the 2 layers (${UPPER.digest}), which ${host}/${REPO}:1.0 needs`);
  });

  it('suggests --offline when the registry cannot be reached and the cache holds the tag', async () => {
    const img = image();
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]));
    const cache = fresh('cache');
    await pullFrom(m, '1.0', { cache });
    await m.close();
    const error = await failure(pullFrom(m, '1.0', { cache }));
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toMatch(
      /^Could not reach .*ECONNREFUSED.* The cache holds this tag as it was on \d{4}-.*: add --offline to use that\.$/,
    );
  });
});

describe('streaming', () => {
  it('downloads the next layers while an earlier one is applied, at most three at once', async () => {
    const layers = Array.from({ length: 6 }, (_, i) => gzipLayer([file(`layer-${i}`, `${i}\n`)]));
    const img = image(layers);
    const timeline: string[] = [];
    let release: () => void = () => undefined;
    // Every layer is held back until three downloads have begun (or 5 s have passed, for a pull that never asks for three).
    const threeAsked = new Promise<void>((resolve) => {
      release = resolve;
      setTimeout(resolve, 5_000);
    });
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]), {
      beforeBlob: async (digest) => {
        const index = layers.findIndex((l) => l.digest === digest);
        if (index < 0) return;
        timeline.push(`asked ${index}`);
        if (timeline.length === 3) release();
        await threeAsked;
      },
    });
    const { rootfs } = await pullFrom(m, '1.0', {
      onProgress: (e) => {
        if (e.type === 'layer-unpacked') timeline.push(`unpacked ${e.layer}`);
      },
    });
    // Three downloads under way (in whatever order they reached the registry) before the first layer was applied.
    expect(timeline.slice(0, 3).sort()).toEqual(['asked 0', 'asked 1', 'asked 2']);
    expect(timeline[3]).toBe('unpacked 0');
    expect(m.maxBlobsInFlight()).toBe(3);
    for (let i = 0; i < layers.length; i++) expect(await readFile(join(rootfs, `layer-${i}`), 'utf8')).toBe(`${i}\n`);
  });

  it('stops when aborted, leaving no partial download in the cache', async () => {
    const img = image();
    const controller = new AbortController();
    const m = await mirror(content({ '1.0': { blob: img.manifest, contentType: OCI.manifest } }, [img]), {
      beforeBlob: async (digest) => {
        if (digest === UPPER.digest) {
          controller.abort();
          await new Promise(() => undefined);
        }
      },
    });
    const cache = fresh('cache');
    const error = await failure(pullFrom(m, '1.0', { cache, signal: controller.signal }));
    expect(error.name).toBe('AbortError');
    expect((await cacheFiles(cache)).filter((f) => f.startsWith('tmp'))).toEqual([]);
  });
});
