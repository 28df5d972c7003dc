// `ocilab cache import`: an image cache tarball read into the cache, all or nothing. Every blob is
// verified against its name while it is staged in the cache's temporary directory (BlobWrite); only
// once the whole tarball has been read and found as `ocilab cache export` writes it do the blobs move
// into place, then the tag records. Anything else in the tarball refuses it, with nothing imported.
import { createReadStream } from 'node:fs';
import { rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { addAbortSignal } from 'node:stream';
import type { ReadEntry } from 'tar';
import {
  CONTENTS_MAX_BYTES,
  CONTENTS_NAME,
  NOT_AS_EXPORTED,
  blobEntryName,
  entryKind,
  parseContents,
  type Contents,
} from './cache-archive.js';
import type { BlobCache, BlobWrite, CachedBlob, CachedTag, TagRecord } from './cache.js';
import { Verifier } from './digest.js';
import { CacheArchiveError, DigestMismatchError } from './errors.js';
import { formatReference } from './reference.js';
import { eachEntry } from './tar-reader.js';

export interface ImportOptions {
  /** Told, in a sentence, of a tag the import moved to another image. */
  onNote?: (message: string) => void;
  /** Stops the import, with nothing imported. */
  signal?: AbortSignal;
}

export interface ImportResult {
  /** The tags the tarball holds, in full. */
  tags: string[];
  /** Tags the cache did not have, or had naming another image. */
  newTags: number;
  blobs: number;
  /** Blobs the cache did not hold. */
  newBlobs: number;
  /** Bytes of the blobs the tarball holds. */
  bytes: number;
}

/**
 * Imports the tarball `file` into `cache`. Throws a CacheArchiveError naming the entry to blame when
 * the tarball is refused; the cache is then as it was.
 */
export async function importCache(cache: BlobCache, file: string, options: ImportOptions = {}): Promise<ImportResult> {
  const created = await missingDirs([cache.dir, join(cache.dir, 'tmp')]);
  const staging = new Staging(cache, file);
  try {
    await eachEntry(
      tarballBytes(file, options.signal),
      (entry) => staging.take(entry),
      (message) => staging.refuse(`it is not a valid tar archive (${message}); it may have been cut short. ${NOT_AS_EXPORTED}`),
    );
    const contents = staging.complete();
    const newBlobs = await staging.commit();
    const newTags = await writeTags(cache, contents.tags, options.onNote);
    return {
      tags: contents.tags.map((t) => formatReference(t.ref)),
      newTags,
      blobs: contents.blobs.length,
      newBlobs,
      bytes: contents.blobs.reduce((sum, b) => sum + b.size, 0),
    };
  } catch (error) {
    await staging.discard();
    // Directories made for the staging go too, so a refused import leaves the cache as it found it.
    for (const dir of created.reverse()) await rmdir(dir).catch(() => undefined);
    throw error;
  }
}

/** The tarball's blobs as they arrive, each verified into a temporary file of the cache, none in place yet. */
class Staging {
  private contents: Contents | undefined;
  private listed = new Map<string, CachedBlob>();
  private readonly seen = new Set<string>();
  /** The blobs the cache does not hold yet, each in a temporary file. */
  private readonly staged = new Map<string, BlobWrite>();

  constructor(
    private readonly cache: BlobCache,
    private readonly file: string,
  ) {}

  refuse(problem: string, entry?: string): CacheArchiveError {
    return new CacheArchiveError(`ocilab refused ${this.file}: ${problem} Nothing of it was imported.`, entry);
  }

  async take(entry: ReadEntry): Promise<void> {
    const kind = entryKind(entry);
    if (kind.kind === 'refused') throw this.refuse(`the entry ${entry.path} is ${kind.reason}. ${NOT_AS_EXPORTED}`, entry.path);
    if (this.contents === undefined) {
      if (kind.kind !== 'contents') {
        throw this.refuse(
          `it is not an ocilab image cache tarball: it starts with ${entry.path}, not ${CONTENTS_NAME}. Make one with \`ocilab cache export FILE\`.`,
          entry.path,
        );
      }
      await this.readContents(entry);
      return;
    }
    if (kind.kind === 'contents') throw this.refuse(`it holds ${CONTENTS_NAME} twice. ${NOT_AS_EXPORTED}`, entry.path);
    await this.stage(entry, kind.digest);
  }

  /** The table of contents, and its tags checked before any blob is read: each must name a manifest of the tarball or the cache. */
  private async readContents(entry: ReadEntry): Promise<void> {
    if (entry.size > CONTENTS_MAX_BYTES)
      throw this.refuse(`its ${CONTENTS_NAME} is ${entry.size} bytes, far more than any. ${NOT_AS_EXPORTED}`);
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk);
    const contents = parseContents(Buffer.concat(chunks), this.file);
    this.listed = new Map(contents.blobs.map((b) => [b.digest, b]));
    for (const { ref, record } of contents.tags) {
      const inTarball = this.listed.get(record.digest)?.size === record.size;
      if (inTarball || (await this.cache.has(record.digest, record.size))) continue;
      throw this.refuse(
        `the tag ${formatReference(ref)} in its ${CONTENTS_NAME} names the manifest ${record.digest}, which is neither in the tarball nor in the cache (${this.cache.dir}). ${NOT_AS_EXPORTED}`,
        CONTENTS_NAME,
      );
    }
    this.contents = contents;
  }

  private async stage(entry: ReadEntry, digest: string): Promise<void> {
    const name = entry.path;
    const listed = this.listed.get(digest);
    if (!listed) throw this.refuse(`it holds the blob ${name}, which its ${CONTENTS_NAME} does not list. ${NOT_AS_EXPORTED}`, name);
    if (this.seen.has(digest)) throw this.refuse(`it holds the blob ${name} twice. ${NOT_AS_EXPORTED}`, name);
    if (entry.size !== listed.size) {
      throw this.refuse(
        `the blob ${name} has ${entry.size} bytes, and its ${CONTENTS_NAME} lists ${listed.size}. ${NOT_AS_EXPORTED}`,
        name,
      );
    }
    this.seen.add(digest);
    // A blob the cache holds already is verified all the same (the tarball is judged whole), but not written again.
    const write = (await this.cache.has(digest, listed.size)) ? undefined : await this.cache.create(digest);
    if (write) this.staged.set(digest, write);
    const verifier = new Verifier(listed, `the blob ${name}`);
    try {
      for await (const chunk of entry) {
        verifier.update(chunk);
        await write?.write([chunk]);
      }
      verifier.finish();
    } catch (error) {
      if (!(error instanceof DigestMismatchError)) throw error;
      const what = error.actual ? `its content has the digest ${error.actual}` : 'its content is not as long as its header says';
      throw this.refuse(`the blob ${name} is not what its name says: ${what}. ${NOT_AS_EXPORTED}`, name);
    } finally {
      await write?.close();
    }
  }

  /** The contents, once every blob they list has arrived. */
  complete(): Contents {
    if (this.contents === undefined) throw this.refuse(`it is empty: an ocilab image cache tarball starts with ${CONTENTS_NAME}.`);
    const missing = this.contents.blobs.filter((b) => !this.seen.has(b.digest));
    const [first] = missing;
    if (first) {
      throw this.refuse(
        `it ends before ${missing.length === 1 ? 'the blob' : `${missing.length} of the blobs its ${CONTENTS_NAME} lists, the first`} ${blobEntryName(first.digest)}: it was cut short. ${NOT_AS_EXPORTED}`,
        blobEntryName(first.digest),
      );
    }
    return this.contents;
  }

  /** Moves every staged blob into the cache; returns how many there were. */
  async commit(): Promise<number> {
    const added = this.staged.size;
    for (const [digest, write] of this.staged) {
      await write.commit();
      this.staged.delete(digest);
    }
    return added;
  }

  async discard(): Promise<void> {
    await Promise.all([...this.staged.values()].map((write) => write.discard()));
    this.staged.clear();
  }
}

/** Writes the tags once their blobs are in place; returns how many are new or moved. */
async function writeTags(cache: BlobCache, tags: readonly CachedTag[], onNote: ImportOptions['onNote']): Promise<number> {
  let changed = 0;
  for (const { ref, record } of tags) {
    const before = await cache.readTag(ref);
    if (before && sameRecord(before, record)) continue;
    if (before?.digest !== record.digest) changed++;
    if (before && before.digest !== record.digest) {
      onNote?.(`The tag ${formatReference(ref)} named ${before.digest} in this cache; it names ${record.digest} now, as in the tarball.`);
    }
    await cache.writeTag(ref, record);
  }
  return changed;
}

/** Those of `dirs` (each inside the one before) that do not exist yet. */
async function missingDirs(dirs: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const dir of dirs) if (!(await stat(dir).catch(() => undefined))) missing.push(dir);
  return missing;
}

function sameRecord(a: TagRecord, b: TagRecord): boolean {
  return a.digest === b.digest && a.mediaType === b.mediaType && a.size === b.size && a.pulledAt === b.pulledAt;
}

function tarballBytes(file: string, signal: AbortSignal | undefined): AsyncIterable<Buffer> {
  const stream = createReadStream(file);
  return (signal ? addAbortSignal(signal, stream) : stream) as AsyncIterable<Buffer>;
}
