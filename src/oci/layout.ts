// An OCI image layout (the image-spec's image-layout.md) written from the blob cache, as
// `skopeo copy docker://IMAGE oci:DIR:TAG` writes one: `oci-layout`, every blob the image manifest
// reaches under `blobs/<algorithm>/<hex>`, and `index.json` naming the manifest by its tag in
// `org.opencontainers.image.ref.name`. The config and layers are copied as they are (their digests
// stay the registry's), verified on the way; a Docker manifest is written anew with OCI's media types,
// as skopeo does, since OCI tools (umoci, skopeo's oci: transport) read no other. `index.json` is
// written last, so it never names a missing blob. A layout already in DIR keeps its other tags.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobCache } from './cache.js';
import { Verifier, digestOf, splitDigest } from './digest.js';
import { DigestMismatchError, PullError } from './errors.js';
import { MEDIA_TYPE, type Descriptor } from './manifest.js';

export const LAYOUT_FILE = 'oci-layout';
export const LAYOUT_VERSION = '1.0.0';
export const INDEX_FILE = 'index.json';
export const REF_NAME = 'org.opencontainers.image.ref.name';
const INDEX_TYPE = MEDIA_TYPE.ociIndex;

/** Docker's media types for what OCI names otherwise; the bytes they describe are the same. */
const OCI_FOR_DOCKER: Record<string, string> = {
  [MEDIA_TYPE.dockerManifest]: MEDIA_TYPE.ociManifest,
  [MEDIA_TYPE.dockerConfig]: MEDIA_TYPE.ociConfig,
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'application/vnd.oci.image.layer.v1.tar',
};

/** `DIR` or `DIR:TAG`, as skopeo's `oci:` transport and umoci's `--image` write it. */
export interface LayoutTarget {
  dir: string;
  /** The name index.json gives the image; none for an image pulled by digest alone. */
  tag: string | undefined;
}

/** What goes into the layout: the image manifest and the blobs it names. */
export interface LayoutImage {
  /** The manifest as the registry sent it, and its media type. */
  manifest: { mediaType: string; bytes: Buffer };
  /** The config and the layers, copied from the cache. */
  blobs: readonly Pick<Descriptor, 'digest' | 'size'>[];
}

interface Index {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  [field: string]: unknown;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** `DIR:TAG` split at its last colon when what follows is a tag (not a path); otherwise all of it is the directory. */
export function parseLayoutTarget(text: string, defaultTag: string | undefined): LayoutTarget {
  const colon = text.lastIndexOf(':');
  const tag = colon > 0 ? text.slice(colon + 1) : '';
  if (TAG.test(tag)) return { dir: text.slice(0, colon), tag };
  return { dir: text, tag: defaultTag };
}

/**
 * Writes `image` from `cache` into the layout `target.dir` (created if missing), named by `target.tag`.
 * Stopped by `signal`, it leaves no partial file, and index.json as it was.
 */
export async function writeLayout(cache: BlobCache, target: LayoutTarget, image: LayoutImage, signal?: AbortSignal): Promise<void> {
  const { dir } = target;
  await mkdir(dir, { recursive: true });
  const index = await existingIndex(dir);
  for (const blob of image.blobs) await copyBlob(cache, dir, blob, signal);
  signal?.throwIfAborted();
  const manifest = ociManifest(image.manifest);
  const digest = digestOf(manifest.bytes);
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeAtomically(join(dir, 'blobs', 'sha256', splitDigest(digest).hex), manifest.bytes);
  await writeAtomically(join(dir, LAYOUT_FILE), `${JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })}\n`);
  const entry: Descriptor = {
    mediaType: manifest.mediaType,
    digest,
    size: manifest.bytes.length,
    ...(target.tag !== undefined ? { annotations: { [REF_NAME]: target.tag } } : {}),
  };
  // The tag moves to this image; an untagged entry of the same manifest is not repeated.
  const others = index.manifests.filter((m) =>
    target.tag !== undefined
      ? m.annotations?.[REF_NAME] !== target.tag
      : m.digest !== entry.digest || m.annotations?.[REF_NAME] !== undefined,
  );
  await writeAtomically(join(dir, INDEX_FILE), `${JSON.stringify({ ...index, manifests: [...others, entry] }, null, 2)}\n`);
}

/** An OCI manifest unchanged; a Docker one with OCI's media types, which changes its bytes and digest but none of the blobs it names. */
export function ociManifest(manifest: LayoutImage['manifest']): LayoutImage['manifest'] {
  if (manifest.mediaType !== MEDIA_TYPE.dockerManifest) return manifest;
  const body = JSON.parse(manifest.bytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[]; [field: string]: unknown };
  const oci = (d: Descriptor): Descriptor => ({ ...d, mediaType: OCI_FOR_DOCKER[d.mediaType] ?? d.mediaType });
  const converted = { ...body, mediaType: MEDIA_TYPE.ociManifest, config: oci(body.config), layers: body.layers.map(oci) };
  return { mediaType: MEDIA_TYPE.ociManifest, bytes: Buffer.from(JSON.stringify(converted)) };
}

/** The index.json of a layout already in `dir`, or an empty one; a directory that holds something else is refused. */
async function existingIndex(dir: string): Promise<Index> {
  const entries = await readdir(dir);
  if (!entries.includes(INDEX_FILE)) {
    const foreign = entries.filter((e) => e !== LAYOUT_FILE && e !== 'blobs');
    if (foreign.length > 0) {
      throw new PullError(
        `${dir} is not empty and is not an OCI image layout (it has no ${INDEX_FILE}, and holds ${foreign.slice(0, 3).join(', ')}): give --layout a new directory or a layout.`,
      );
    }
    return { schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [] };
  }
  const version = await readFile(join(dir, LAYOUT_FILE), 'utf8').then(
    (text) => (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion,
    () => undefined,
  );
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw new PullError(
      `${dir} has an ${INDEX_FILE} but no ${LAYOUT_FILE} of version 1.x, so it is not an OCI image layout ocilab can add to.`,
    );
  }
  try {
    const index = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8')) as Partial<Index>;
    if (Array.isArray(index.manifests)) return { ...index, schemaVersion: 2, manifests: index.manifests };
  } catch {
    // Said below.
  }
  throw new PullError(`${join(dir, INDEX_FILE)} is not an image index (JSON with a "manifests" list), so ocilab will not add to it.`);
}

/** Copies one blob from the cache, verified on the way, to a temporary file renamed into place. */
async function copyBlob(
  cache: BlobCache,
  dir: string,
  blob: Pick<Descriptor, 'digest' | 'size'>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { algorithm, hex } = splitDigest(blob.digest);
  const target = join(dir, 'blobs', algorithm, hex);
  await mkdir(join(target, '..'), { recursive: true });
  const partial = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  const verifier = new Verifier(blob, `the cached blob ${blob.digest}`);
  try {
    await pipeline(
      createReadStream(cache.blobPath(blob.digest)),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          verifier.update(chunk);
          yield chunk;
        }
        verifier.finish();
      },
      createWriteStream(partial, { flags: 'wx', mode: 0o644 }) as Writable,
      signal ? { signal } : {},
    );
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof DigestMismatchError) {
      await cache.remove(blob.digest);
      throw new PullError(`The cached copy of ${blob.digest} is damaged, so it was removed: pull again.`);
    }
    throw error;
  }
}

async function writeAtomically(file: string, text: string | Buffer): Promise<void> {
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await writeFile(partial, text, { flag: 'wx', mode: 0o644 });
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
