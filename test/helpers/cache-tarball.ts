// Image cache tarballs taken apart and put together again, entry by entry, so a test can tamper with
// one as an attacker or a bad copy would: a byte changed, a blob renamed, a link or a `../` added.
// Also a cache filled with an image built in memory, and a cache's listing to compare before and after.
import { readFile, writeFile } from 'node:fs/promises';
import { Header } from 'tar';
import { BlobCache } from '../../src/oci/cache.js';
import { parseReference } from '../../src/oci/reference.js';
import { OCI, configOf, gzipLayer, manifestOf, type Blob } from './image-content.js';
import { entryHeader, padding, snapshotTree, type LayerEntry, type NodeSnapshot } from './layers.js';

const BLOCK = 512;

/** One entry of a tarball; `body` for regular files. */
export type TarballEntry = LayerEntry & { body?: Buffer };

/** The entries of an uncompressed tar archive with ustar headers (what `ocilab cache export` writes for sha256). */
export function readTarball(bytes: Buffer): TarballEntry[] {
  const entries: TarballEntry[] = [];
  for (let offset = 0; offset + BLOCK <= bytes.length;) {
    const header = new Header(bytes, offset);
    if (header.nullBlock) break;
    const size = header.size ?? 0;
    const body = bytes.subarray(offset + BLOCK, offset + BLOCK + size);
    const path = header.path ?? '';
    const common = { path, mode: header.mode ?? 0o644 };
    if (header.type === 'File') entries.push({ ...common, type: 'file', body: Buffer.from(body) });
    else if (header.type === 'Directory') entries.push({ ...common, type: 'dir' });
    else if (header.type === 'SymbolicLink') entries.push({ ...common, type: 'symlink', target: header.linkpath ?? '' });
    else throw new Error(`readTarball: an entry of the type ${header.type}`);
    offset += BLOCK + size + padding(size).length;
  }
  return entries;
}

/** A tar archive of `entries`, names and types exactly as given. */
export function writeTarball(entries: readonly TarballEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = entry.type === 'file' ? (entry.body ?? Buffer.alloc(0)) : Buffer.alloc(0);
    blocks.push(entryHeader(entry, body.length), body, padding(body.length));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

/** Reads the tarball `file`, lets `change` edit its entries, writes it to `to`. */
export async function tamper(file: string, to: string, change: (entries: TarballEntry[]) => TarballEntry[] | void): Promise<void> {
  const entries = readTarball(await readFile(file));
  await writeFile(to, writeTarball(change(entries) ?? entries));
}

/** The table of contents (the first entry) as JSON, for a test to read or edit. */
export interface TableOfContents {
  'ocilab-cache': number;
  blobs: { digest: string; size: number }[];
  tags: { image: string; digest: string; mediaType: string; size: number; pulledAt: string }[];
}

export function contentsOf(entries: readonly TarballEntry[]): TableOfContents {
  const [first] = entries;
  if (first?.path !== 'ocilab-cache.json' || !first.body) throw new Error('the tarball does not start with ocilab-cache.json');
  return JSON.parse(first.body.toString('utf8')) as TableOfContents;
}

export function withContents(entries: readonly TarballEntry[], contents: TableOfContents): TarballEntry[] {
  const [first, ...rest] = entries;
  if (!first) throw new Error('no entries');
  return [{ ...first, type: 'file', body: Buffer.from(JSON.stringify(contents)) }, ...rest];
}

/** An image built in memory: its blobs, and the reference its tag record is for. */
export interface MemoryImage {
  reference: string;
  manifest: Blob;
  config: Blob;
  layers: Blob[];
}

/** A small image of two layers whose files say `name`, tagged `reference`. */
export function memoryImage(reference: string, name: string): MemoryImage {
  const layers = [
    gzipLayer([
      { path: 'etc/', type: 'dir' },
      { path: 'etc/motd', type: 'file', content: `${name}\n`, mode: 0o644 },
      { path: 'bin/', type: 'dir', mode: 0o755 },
      { path: 'bin/hello', type: 'file', content: `#!/bin/sh\necho ${name}\n`, mode: 0o755 },
    ]),
    gzipLayer([
      { path: 'etc/issue', type: 'file', content: `${name} issue\n`, mode: 0o600 },
      { path: 'bin/sh', type: 'symlink', target: 'hello' },
    ]),
  ];
  const config = configOf(undefined, { config: { Cmd: [name] } });
  return { reference, manifest: manifestOf({ config, layers }), config, layers };
}

/** Puts `image` in the cache at `dir`, as a pull would have left it. */
export async function cacheImage(dir: string, image: MemoryImage): Promise<void> {
  const cache = new BlobCache(dir);
  for (const blob of [image.manifest, image.config, ...image.layers]) await cache.put(blob.digest, blob.bytes);
  await cache.writeTag(parseReference(image.reference), {
    digest: image.manifest.digest,
    mediaType: OCI.manifest,
    size: image.manifest.size,
    pulledAt: '2024-05-01T12:00:00.000Z',
  });
}

/**
 * Every path under a cache directory with its type, mode, owner, size, content and time; empty when there
 * is no directory. Only tmp/ has no time: an import stages blobs there, so its time shows one was tried.
 */
export async function cacheListing(dir: string): Promise<Map<string, NodeSnapshot>> {
  const tree = await snapshotTree(dir).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map<string, NodeSnapshot>();
    throw error;
  });
  const tmp = tree.get('tmp');
  if (tmp) tree.set('tmp', { ...tmp, mtimeMs: 0 });
  return tree;
}

/** A root filesystem as two unpackings of one image give it alike: directories' times left out (unpacking into them sets them). */
export async function unpackedTree(dir: string): Promise<Map<string, NodeSnapshot>> {
  const tree = await snapshotTree(dir);
  for (const [path, node] of tree) if (node.type === 'dir') tree.set(path, { ...node, mtimeMs: 0 });
  return tree;
}
