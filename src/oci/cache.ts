// The content-addressed cache of what pulls downloaded, so a second pull downloads nothing and
// `--offline` works on bad Wi-Fi. Blobs (layers, configs, manifests) live under their digest and are
// written to a temporary file that is renamed into place only once its size and digest matched: a
// bad blob never stays. Tags are remembered as tag → digest records.
//
//   $XDG_CACHE_HOME/ocilab/              (default ~/.cache/ocilab)
//     blobs/sha256/<hex>                 verified content
//     refs/<registry>/<repository>/_tags/<tag>   {"digest", "mediaType", "size", "pulledAt"}
//     tmp/                               downloads in progress
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { digestOf, isDigest, splitDigest } from './digest.js';
import { formatReference, parseReference, type Reference } from './reference.js';

/** A download left behind this long ago by a process that died is removed. */
const STALE_TEMP_MS = 24 * 3600_000;

/** What a tag named when it was last pulled. */
export interface TagRecord {
  digest: string;
  mediaType: string;
  size: number;
  /** ISO 8601. */
  pulledAt: string;
}

/** A blob the cache holds: its digest, and the size of its file (verified when it was written, and again when read). */
export interface CachedBlob {
  digest: string;
  size: number;
}

/** A tag record, with the reference it is for (its tag set). */
export interface CachedTag {
  ref: Reference;
  record: TagRecord;
}

/** `$XDG_CACHE_HOME/ocilab`, or `~/.cache/ocilab` (the XDG base directory spec ignores a relative XDG_CACHE_HOME). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'ocilab');
}

/** A blob being written: chunks go to a temporary file; `commit` moves it into the cache, `discard` removes it. */
export interface BlobWrite {
  /** The temporary file, readable while it grows. */
  readonly path: string;
  write(chunks: readonly Buffer[]): Promise<void>;
  /** Closes the file, which stays until `commit` or `discard`: an import stages many blobs without holding a descriptor for each. */
  close(): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export class BlobCache {
  private swept = false;

  constructor(readonly dir: string) {}

  blobPath(digest: string): string {
    if (!isDigest(digest)) throw new Error(`not a digest: ${digest}`);
    const { algorithm, hex } = splitDigest(digest);
    return join(this.dir, 'blobs', algorithm, hex);
  }

  /** Whether the cache holds the blob, judged by its size (its digest was checked when it was written). */
  async has(digest: string, size: number): Promise<boolean> {
    const stats = await stat(this.blobPath(digest)).catch(() => undefined);
    return stats?.isFile() === true && stats.size === size;
  }

  /**
   * A small blob (a manifest, a config), read whole and checked against its digest again: it costs
   * little, and a damaged entry is removed and reported missing rather than trusted.
   */
  async read(digest: string, size?: number): Promise<Buffer | undefined> {
    const path = this.blobPath(digest);
    const bytes = await readFile(path).catch(() => undefined);
    if (bytes === undefined) return undefined;
    if ((size !== undefined && bytes.length !== size) || digestOf(bytes, splitDigest(digest).algorithm) !== digest) {
      await rm(path, { force: true });
      return undefined;
    }
    return bytes;
  }

  /** Keeps verified bytes under their digest. */
  async put(digest: string, bytes: Uint8Array): Promise<void> {
    const write = await this.create(digest);
    try {
      await write.write([Buffer.from(bytes)]);
      await write.commit();
    } catch (error) {
      await write.discard();
      throw error;
    }
  }

  /** Starts writing the blob `digest` to a temporary file in the cache (so the final rename stays on one file system). */
  async create(digest: string): Promise<BlobWrite> {
    const target = this.blobPath(digest);
    const tmp = join(this.dir, 'tmp');
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    if (!this.swept) {
      this.swept = true;
      await this.sweep(tmp);
    }
    const path = join(tmp, `${splitDigest(digest).hex.slice(0, 16)}.${process.pid}.${randomBytes(4).toString('hex')}`);
    const file: FileHandle = await open(path, 'wx', 0o600);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await file.close();
    };
    return {
      path,
      async write(chunks) {
        await file.writev(chunks as Buffer[]);
      },
      close,
      async commit() {
        await close();
        // Made only now, so that an import refused after staging leaves no directory behind.
        await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
        await rename(path, target);
      },
      async discard() {
        await close().catch(() => undefined);
        await rm(path, { force: true });
      },
    };
  }

  /** What `ref`'s tag named when it was last pulled (undefined for a reference without a tag). */
  async readTag(ref: Reference): Promise<TagRecord | undefined> {
    const path = this.tagPath(ref);
    if (path === undefined) return undefined;
    try {
      const record = JSON.parse(await readFile(path, 'utf8')) as Partial<TagRecord>;
      if (typeof record.digest !== 'string' || !isDigest(record.digest) || typeof record.mediaType !== 'string') return undefined;
      if (typeof record.size !== 'number' || typeof record.pulledAt !== 'string') return undefined;
      return record as TagRecord;
    } catch {
      return undefined;
    }
  }

  async writeTag(ref: Reference, record: TagRecord): Promise<void> {
    const path = this.tagPath(ref);
    if (path === undefined) return;
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
    // Written beside and renamed, so a reader never sees half a record; `~` is never in a tag, so tags() skips it.
    const partial = `${path}~${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(partial, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    await rename(partial, path);
  }

  /** Every blob the cache holds, in the order of their digests. */
  async blobs(): Promise<CachedBlob[]> {
    const found: CachedBlob[] = [];
    const root = join(this.dir, 'blobs');
    for (const algorithm of await readdir(root).catch(() => [] as string[])) {
      for (const hex of await readdir(join(root, algorithm)).catch(() => [] as string[])) {
        const digest = `${algorithm}:${hex}`;
        if (!isDigest(digest)) continue;
        const stats = await stat(this.blobPath(digest)).catch(() => undefined);
        if (stats?.isFile()) found.push({ digest, size: stats.size });
      }
    }
    return found.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }

  /** Every tag the cache has a readable record of, in the order of their references. */
  async tags(): Promise<CachedTag[]> {
    const found: CachedTag[] = [];
    const visit = async (parts: string[]): Promise<void> => {
      const dir = join(this.dir, 'refs', ...parts);
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (!entry.isDirectory()) continue;
        if (entry.name !== '_tags' || parts.length < 2) {
          await visit([...parts, entry.name]);
          continue;
        }
        for (const tag of await readdir(join(dir, entry.name))) {
          const ref = tagReference(parts, tag);
          const record = ref && (await this.readTag(ref));
          if (ref && record) found.push({ ref, record });
        }
      }
    };
    await visit([]);
    return found
      .map((tag) => ({ tag, name: formatReference(tag.ref) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(({ tag }) => tag);
  }

  /** Removes a blob found damaged. */
  async remove(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  // Repository path components start with a letter or digit, so `_tags` can never be one of them.
  private tagPath(ref: Reference): string | undefined {
    if (ref.tag === undefined) return undefined;
    return join(this.dir, 'refs', ref.registry, ...ref.repository.split('/'), '_tags', ref.tag);
  }

  private async sweep(tmp: string): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(tmp).catch(() => [] as string[])) {
      const path = join(tmp, name);
      const stats = await stat(path).catch(() => undefined);
      if (stats && now - stats.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
    }
  }
}

/** The reference of the record `refs/<registry>/<repository>/_tags/<tag>`, unless the path names none (a partial write). */
function tagReference([registry = '', ...repository]: string[], tag: string): Reference | undefined {
  try {
    const ref = parseReference(`${registry}/${repository.join('/')}:${tag}`);
    return ref.registry === registry && ref.repository === repository.join('/') ? ref : undefined;
  } catch {
    return undefined;
  }
}
