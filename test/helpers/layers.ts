// Image layers for the unpacking tests: tar archives written header by header with node-tar's Header
// (and Pax for long names), names exactly as given, so a test can build the malicious layers a real
// archiver would refuse to write. Also snapshots of directory trees, to show what changed.
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Header, Pax, type HeaderData } from 'tar';

interface Common {
  /** Written verbatim: `../x`, `/etc/passwd` and `a/.wh.b` are all fine. */
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
}

export type LayerEntry = Common &
  (
    | { type: 'file'; content?: string | Buffer }
    | { type: 'dir' }
    | { type: 'symlink'; target: string }
    | { type: 'hardlink'; target: string }
    | { type: 'char' | 'block'; major: number; minor: number }
    | { type: 'fifo' }
  );

const TAR_TYPE = {
  file: 'File',
  dir: 'Directory',
  symlink: 'SymbolicLink',
  hardlink: 'Link',
  char: 'CharacterDevice',
  block: 'BlockDevice',
  fifo: 'FIFO',
} as const;

/** A fixed time, so that trees built at different moments compare equal. */
export const LAYER_TIME = new Date('2024-05-01T12:00:00Z');

const BLOCK = 512;

/** An uncompressed layer: the entries in order, then the two zero blocks that end a tar archive. */
export function layerTar(entries: readonly LayerEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.type === 'file' ? Buffer.from(entry.content ?? '') : Buffer.alloc(0);
    blocks.push(entryHeader(entry, content.length), content, padding(content.length));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

/** The header block(s) of one entry whose content is `size` bytes: a PAX header first when needed. */
export function entryHeader(entry: LayerEntry, size: number): Buffer {
  const defaultMode = entry.type === 'dir' ? 0o755 : entry.type === 'symlink' ? 0o777 : 0o644;
  const data: HeaderData = {
    path: entry.path,
    type: TAR_TYPE[entry.type],
    mode: entry.mode ?? defaultMode,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    size,
    mtime: entry.mtime ?? LAYER_TIME,
    ...(entry.type === 'symlink' || entry.type === 'hardlink' ? { linkpath: entry.target } : {}),
    ...(entry.type === 'char' || entry.type === 'block' ? { devmaj: entry.major, devmin: entry.minor } : {}),
  };
  const header = new Header(data);
  if (!header.encode()) return header.block as Buffer;
  // Too long for the ustar fields: say it again in a PAX extended header before the entry.
  const pax = new Pax({ path: entry.path, ...(data.linkpath ? { linkpath: data.linkpath } : {}), size }).encode();
  return Buffer.concat([pax, header.block as Buffer]);
}

export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** A layer of one regular file of `size` zero bytes, produced a chunk at a time and never held whole. */
export async function* largeFileLayer(path: string, size: number, chunkSize = 1 << 20): AsyncGenerator<Buffer> {
  yield entryHeader({ path, type: 'file' }, size);
  const zeros = Buffer.alloc(chunkSize);
  for (let left = size; left > 0; left -= chunkSize) yield left >= chunkSize ? zeros : zeros.subarray(0, left);
  yield padding(size);
  yield Buffer.alloc(2 * BLOCK);
}

/** `bytes` handed out in pieces of `size`, as a network stream would. */
export async function* inChunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/** What a path in a tree is, as far as these tests care. */
export interface NodeSnapshot {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  /** sha256 of a file's content, or a symlink's target. */
  content?: string;
}

/** Every path under `dir` (relative, `.` for `dir` itself), read without following symlinks. */
export async function snapshotTree(dir: string, exclude: readonly string[] = []): Promise<Map<string, NodeSnapshot>> {
  const tree = new Map<string, NodeSnapshot>();
  const visit = async (relative: string): Promise<void> => {
    if (exclude.includes(relative)) return;
    const path = join(dir, relative);
    const stats = await lstat(path);
    const type = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : 'other';
    const node: NodeSnapshot = {
      type,
      mode: stats.mode & 0o7777,
      uid: stats.uid,
      gid: stats.gid,
      size: type === 'dir' ? 0 : stats.size,
      mtimeMs: stats.mtimeMs,
    };
    if (type === 'file')
      node.content = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
    if (type === 'symlink') node.content = await readlink(path);
    tree.set(relative, node);
    if (type === 'dir') {
      for (const name of (await readdir(path)).sort()) await visit(relative === '.' ? name : `${relative}/${name}`);
    }
  };
  await visit('.');
  return tree;
}
