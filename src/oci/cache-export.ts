// `ocilab cache export`: the blobs and tag records of the image cache written to a tarball, every
// blob verified against its digest on the way, streamed (a layer is never held whole), the tarball
// written beside its name and renamed into place only once complete.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CONTENTS_NAME, END_OF_ARCHIVE, blobEntryName, entryHeader, padding, serializeContents, type Contents } from './cache-archive.js';
import type { BlobCache, CachedBlob, CachedTag } from './cache.js';
import { Verifier } from './digest.js';
import { CacheArchiveError, DigestMismatchError, OciError } from './errors.js';
import { isAttestation, parseManifest } from './manifest.js';
import { formatReference, type Reference } from './reference.js';

/** An index may point to another index; deeper than this is not followed (as in resolve.ts). */
const MAX_INDEX_DEPTH = 3;

export interface ExportOptions {
  /** Only these images (what they reach, and their tags); when none are given, everything the cache holds. */
  images?: readonly Reference[];
  /** Told, in a sentence, what was left out and why. */
  onNote?: (message: string) => void;
  /** Stops the export, leaving `file` as it was. */
  signal?: AbortSignal;
}

export interface ExportResult {
  /** The tags written, in full (`127.0.0.1:5000/library/busybox:1.36`). */
  tags: string[];
  blobs: number;
  /** Bytes of the blobs written. */
  bytes: number;
}

/**
 * Writes the cache's blobs and tags (or only those of `images`) to the tarball `file`, replacing it.
 * Throws a CacheArchiveError for an image the cache holds only part of, or a damaged blob (which is
 * removed from the cache, so the next pull downloads it again); `file` is then left as it was.
 */
export async function exportCache(cache: BlobCache, file: string, options: ExportOptions = {}): Promise<ExportResult> {
  const { images = [] } = options;
  const { contents, owners } = images.length > 0 ? await imagesOf(cache, images) : await everything(cache, options.onNote);
  const partial = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  try {
    const signal = options.signal ? { signal: options.signal } : {};
    await pipeline(Readable.from(archive(cache, contents)), createWriteStream(partial, { flags: 'wx', mode: 0o644 }), signal);
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof DigestMismatchError) throw await damaged(cache, error, owners.get(error.expected) ?? [], file);
    throw error;
  }
  return {
    tags: contents.tags.map((t) => formatReference(t.ref)),
    blobs: contents.blobs.length,
    bytes: contents.blobs.reduce((sum, b) => sum + b.size, 0),
  };
}

/** The tarball's bytes, a block at a time: the table of contents, then each blob as it is read and verified. */
async function* archive(cache: BlobCache, contents: Contents): AsyncGenerator<Buffer> {
  const table = serializeContents(contents);
  yield entryHeader(CONTENTS_NAME, table.length);
  yield table;
  yield padding(table.length);
  for (const blob of contents.blobs) {
    yield entryHeader(blobEntryName(blob.digest), blob.size);
    const verifier = new Verifier(blob, `the blob ${blob.digest}`);
    for await (const chunk of createReadStream(cache.blobPath(blob.digest))) {
      verifier.update(chunk as Buffer);
      yield chunk as Buffer;
    }
    verifier.finish();
    yield padding(blob.size);
  }
  yield END_OF_ARCHIVE;
}

async function damaged(cache: BlobCache, error: DigestMismatchError, images: readonly string[], file: string): Promise<CacheArchiveError> {
  await cache.remove(error.expected);
  const which = images.length > 0 ? images.join(', ') : 'the images you need';
  return new CacheArchiveError(
    `The blob ${error.expected} in the cache (${cache.dir}) is damaged: ${error.actual ? `its content has the digest ${error.actual}` : 'its size is not the one it had'}. ` +
      `ocilab removed it from the cache, and wrote nothing to ${file}. Pull ${which} again (\`ocilab pull IMAGE --rootfs DIR\`), then export again.`,
    error.expected,
  );
}

/** What an export writes, and which images each blob belongs to (to say what to pull again when one is damaged). */
interface Selection {
  contents: Contents;
  owners: Map<string, string[]>;
}

/** Every blob of the cache, and the tags of every image it holds whole; the others are left out, with a note. */
async function everything(cache: BlobCache, onNote: ExportOptions['onNote']): Promise<Selection> {
  const owners = new Map<string, string[]>();
  const tags: CachedTag[] = [];
  for (const tag of await cache.tags()) {
    const name = formatReference(tag.ref);
    try {
      own(owners, name, await reach(cache, tag.record, name));
      tags.push(tag);
    } catch (error) {
      if (!(error instanceof OciError)) throw error;
      onNote?.(`Left out the tag ${name}: ${error.message}`);
    }
  }
  return { contents: { blobs: await cache.blobs(), tags }, owners };
}

/** The blobs `images` reach and their tags; an image the cache does not hold whole is an error. */
async function imagesOf(cache: BlobCache, images: readonly Reference[]): Promise<Selection> {
  const owners = new Map<string, string[]>();
  const blobs = new Map<string, CachedBlob>();
  const tags: CachedTag[] = [];
  const sizes = new Map((await cache.blobs()).map((b) => [b.digest, b.size]));
  for (const image of images) {
    const ref = image.tag === undefined && image.digest === undefined ? { ...image, tag: 'latest' } : image;
    const name = formatReference(ref);
    let top: CachedBlob | undefined;
    if (ref.digest !== undefined) {
      const size = sizes.get(ref.digest);
      top = size === undefined ? undefined : { digest: ref.digest, size };
    } else {
      const record = await cache.readTag(ref);
      if (record) {
        top = record;
        tags.push({ ref, record });
      }
    }
    if (!top) {
      throw new CacheArchiveError(
        `The cache (${cache.dir}) does not hold ${name}: pull it first (\`ocilab pull ${name} --rootfs DIR\`), with the same cache directory (XDG_CACHE_HOME).`,
      );
    }
    const reached = await reach(cache, top, name).catch((error: unknown) => {
      throw error instanceof OciError ? new CacheArchiveError(`Cannot export ${name}: ${error.message}`) : error;
    });
    own(owners, name, reached);
    for (const blob of reached) blobs.set(blob.digest, blob);
  }
  return { contents: { blobs: [...blobs.values()], tags }, owners };
}

function own(owners: Map<string, string[]>, name: string, blobs: readonly CachedBlob[]): void {
  for (const { digest } of blobs) owners.set(digest, [...(owners.get(digest) ?? []), name]);
}

/**
 * The blobs the manifest `top` reaches in the cache: itself, and for an image its config and layers;
 * for an index, every image of it the cache holds whole (a pull fetches one platform's). Throws a
 * CacheArchiveError saying what is missing when no image of it is whole.
 */
async function reach(cache: BlobCache, top: CachedBlob, name: string, depth = 0): Promise<CachedBlob[]> {
  const incomplete = (what: string) =>
    new CacheArchiveError(
      `the cache (${cache.dir}) holds only part of ${name}: not ${what}. Pull it once more (\`ocilab pull ${name} --rootfs DIR\`), then export again.`,
    );
  const bytes = await cache.read(top.digest, top.size);
  if (!bytes) throw incomplete(`the manifest ${top.digest}`);
  const manifest = parseManifest(bytes, undefined, name);
  const self = { digest: top.digest, size: top.size };
  if (manifest.kind === 'image') {
    const parts = [manifest.config, ...manifest.layers];
    const missing = [];
    for (const part of parts) if (!(await cache.has(part.digest, part.size))) missing.push(part.digest);
    if (missing.length > 0) throw incomplete(`${missing.length} of its ${parts.length} blobs (${missing.join(', ')})`);
    return [self, ...parts.map(({ digest, size }) => ({ digest, size }))];
  }
  if (depth === MAX_INDEX_DEPTH) throw incomplete(`an image within ${MAX_INDEX_DEPTH} indexes`);
  const reached: CachedBlob[] = [self];
  for (const entry of manifest.manifests) {
    if (!(await cache.has(entry.digest, entry.size))) continue;
    try {
      reached.push(...(await reach(cache, entry, name, depth + 1)));
    } catch (error) {
      if (!(error instanceof OciError)) throw error;
    }
  }
  // An attestation alone (BuildKit's provenance) is no image to run.
  if (!manifest.manifests.some((entry) => !isAttestation(entry) && reached.some((b) => b.digest === entry.digest))) {
    throw incomplete('any image of its index');
  }
  return reached;
}
