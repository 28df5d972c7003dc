import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/oci/errors.js';
import type { ApplyLayerOptions, LayerStats, SpecialFile } from '../../src/oci/layer-entries.js';
import { applyLayer } from '../../src/oci/unpack.js';
import { LAYER_TIME, type LayerEntry, type NodeSnapshot, inChunks, largeFileLayer, layerTar, snapshotTree } from '../helpers/layers.js';
import { isRoot, skipUnless } from '../helpers/services.js';

let base: string;
let count = 0;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ocilab-unpack-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const umask = process.umask();
afterEach(() => {
  process.umask(umask);
});

async function freshDir(name = 'rootfs'): Promise<string> {
  const dir = join(base, `${++count}`, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

interface Applied {
  rootfs: string;
  stats: LayerStats[];
  notes: string[];
}

/** Applies each layer in turn to `rootfs` (a fresh directory by default), collecting stats and notes. */
async function applyLayers(layers: LayerEntry[][], options: ApplyLayerOptions = {}, rootfs?: string): Promise<Applied> {
  const dir = rootfs ?? (await freshDir());
  const notes: string[] = [];
  const stats: LayerStats[] = [];
  for (const layer of layers)
    stats.push(await applyLayer(inChunks(layerTar(layer), 4096), dir, { onNote: (n) => notes.push(n), ...options }));
  return { rootfs: dir, stats, notes };
}

const file = (path: string, content = '', extra: Partial<LayerEntry> = {}): LayerEntry =>
  ({ path, type: 'file', content, ...extra }) as LayerEntry;
const dir = (path: string, extra: Partial<LayerEntry> = {}): LayerEntry => ({ path, type: 'dir', ...extra }) as LayerEntry;
const link = (path: string, target: string, extra: Partial<LayerEntry> = {}): LayerEntry =>
  ({ path, type: 'symlink', target, ...extra }) as LayerEntry;
const hardlink = (path: string, target: string): LayerEntry => ({ path, type: 'hardlink', target });

const modeOf = async (path: string): Promise<number> => (await lstat(path)).mode & 0o7777;

/** Creates device nodes and FIFOs the way the CLI would: mknod(1) through a subprocess. */
async function mknod(special: SpecialFile): Promise<void> {
  const type = { 'character device': 'c', 'block device': 'b', fifo: 'p' }[special.kind];
  const numbers = special.kind === 'fifo' ? [] : [String(special.major), String(special.minor)];
  await execa('mknod', ['-m', '0600', special.hostPath, type, ...numbers]);
}

describe('applyLayer', () => {
  it('writes files, directories, symlinks and hard links as the layer lists them', async () => {
    const { rootfs, stats } = await applyLayers([
      [
        dir('etc'),
        file('etc/hostname', 'box\n'),
        dir('usr'),
        dir('usr/bin'),
        file('usr/bin/tool', '#!/bin/sh\necho tool\n', { mode: 0o755 }),
        link('usr/bin/alias', 'tool'),
        hardlink('usr/bin/tool2', 'usr/bin/tool'),
      ],
    ]);
    expect(await readFile(join(rootfs, 'etc/hostname'), 'utf8')).toBe('box\n');
    expect(await modeOf(join(rootfs, 'etc/hostname'))).toBe(0o644);
    expect(await modeOf(join(rootfs, 'usr/bin/tool'))).toBe(0o755);
    expect(await readlink(join(rootfs, 'usr/bin/alias'))).toBe('tool');
    expect(stats).toEqual([{ entries: 7, bytes: 24, whiteouts: 0, skipped: 0 }]);
  });

  it('stores an absolute symlink target as written', async () => {
    const { rootfs } = await applyLayers([[dir('etc'), link('etc/localtime', '/usr/share/zoneinfo/UTC')]]);
    expect(await readlink(join(rootfs, 'etc/localtime'))).toBe('/usr/share/zoneinfo/UTC');
  });

  it('makes a hard link share the inode of its target', async () => {
    const { rootfs } = await applyLayers([[file('busybox', 'binary'), hardlink('sh', 'busybox'), hardlink('/ls', '/busybox')]]);
    const inode = (await stat(join(rootfs, 'busybox'))).ino;
    expect((await stat(join(rootfs, 'sh'))).ino).toBe(inode);
    expect((await stat(join(rootfs, 'ls'))).ino).toBe(inode);
    expect((await stat(join(rootfs, 'busybox'))).nlink).toBe(3);
  });

  it('keeps setuid, setgid, sticky and exact modes under a restrictive umask', async () => {
    process.umask(0o077);
    const { rootfs } = await applyLayers([
      [
        dir('tmp', { mode: 0o1777 }),
        dir('root', { mode: 0o700 }),
        file('bin/su', 'su', { mode: 0o4755 }),
        file('bin/wall', 'wall', { mode: 0o2755 }),
        file('etc/shadow', 'secret', { mode: 0o640 }),
        file('srv/public', 'hello', { mode: 0o666 }),
      ],
    ]);
    expect(await modeOf(join(rootfs, 'tmp'))).toBe(0o1777);
    expect(await modeOf(join(rootfs, 'root'))).toBe(0o700);
    expect(await modeOf(join(rootfs, 'bin/su'))).toBe(0o4755);
    expect(await modeOf(join(rootfs, 'bin/wall'))).toBe(0o2755);
    expect(await modeOf(join(rootfs, 'etc/shadow'))).toBe(0o640);
    expect(await modeOf(join(rootfs, 'srv/public'))).toBe(0o666);
    // Directories the layer does not list are made 0755, like tar does.
    expect(await modeOf(join(rootfs, 'bin'))).toBe(0o755);
  });

  it.skipIf(skipUnless(isRoot(), 'setting owners needs root'))('sets owners from the layer when running as root', async () => {
    const { rootfs } = await applyLayers([
      [
        dir('home/user', { uid: 1000, gid: 1000, mode: 0o750 }),
        file('home/user/notes', 'x', { uid: 1000, gid: 100, mode: 0o4750 }),
        link('home/user/link', 'notes', { uid: 1000, gid: 1000 }),
      ],
    ]);
    expect(await lstat(join(rootfs, 'home/user'))).toMatchObject({ uid: 1000, gid: 1000 });
    expect(await lstat(join(rootfs, 'home/user/notes'))).toMatchObject({ uid: 1000, gid: 100 });
    expect(await lstat(join(rootfs, 'home/user/link'))).toMatchObject({ uid: 1000, gid: 1000 });
    // The owner is set before the mode, which chown would otherwise strip of its setuid bit.
    expect(await modeOf(join(rootfs, 'home/user/notes'))).toBe(0o4750);
  });

  it('leaves the owner to the process when not running as root', async () => {
    const { rootfs } = await applyLayers([[file('notes', 'x', { uid: 1000, gid: 1000 })]], { root: false });
    expect(await lstat(join(rootfs, 'notes'))).toMatchObject({ uid: process.getuid?.(), gid: process.getgid?.() });
  });

  it('sets the times of files, symlinks and directories, directories after their children', async () => {
    const fileTime = new Date('2020-01-02T03:04:05Z');
    const { rootfs } = await applyLayers([
      [dir('var'), dir('var/log'), file('var/log/old', 'x', { mtime: fileTime }), link('var/log/latest', 'old'), file('var/log/new', 'y')],
    ]);
    expect((await lstat(join(rootfs, 'var/log/old'))).mtime).toEqual(fileTime);
    expect((await lstat(join(rootfs, 'var/log/latest'))).mtime).toEqual(LAYER_TIME);
    expect((await lstat(join(rootfs, 'var/log'))).mtime).toEqual(LAYER_TIME);
    expect((await lstat(join(rootfs, 'var'))).mtime).toEqual(LAYER_TIME);
  });

  it('applies the root entry of a layer to the rootfs directory itself', async () => {
    const { rootfs } = await applyLayers([[dir('./', { mode: 0o755 }), file('./etc/os-release', 'ID=test\n')]]);
    await chmod(rootfs, 0o700);
    await applyLayers([[dir('./', { mode: 0o755 })]], {}, rootfs);
    expect(await modeOf(rootfs)).toBe(0o755);
    expect((await lstat(rootfs)).mtime).toEqual(LAYER_TIME);
  });

  it('makes names relative: leading / and ./ are dropped, a/../b is b', async () => {
    const { rootfs } = await applyLayers([[file('/abs', '1'), file('./dot/file', '2'), file('././x', '3'), file('a/../b', '4')]]);
    expect((await readdir(rootfs)).sort()).toEqual(['abs', 'b', 'dot', 'x']);
    expect(await readFile(join(rootfs, 'b'), 'utf8')).toBe('4');
  });

  it('writes through symlinks to directories inside the rootfs (merged /usr)', async () => {
    const { rootfs } = await applyLayers([
      [dir('usr'), dir('usr/lib'), link('lib', 'usr/lib'), link('lib64', '/usr/lib')],
      [file('lib/libc.so', 'c'), file('lib64/ld.so', 'ld')],
    ]);
    expect((await readdir(join(rootfs, 'usr/lib'))).sort()).toEqual(['ld.so', 'libc.so']);
    expect(await readlink(join(rootfs, 'lib'))).toBe('usr/lib');
    expect(await readlink(join(rootfs, 'lib64'))).toBe('/usr/lib');
  });

  it('keeps what a directory of a lower layer holds and takes the new attributes', async () => {
    const { rootfs } = await applyLayers([[dir('etc', { mode: 0o755 }), file('etc/a', 'a')], [dir('etc', { mode: 0o700 })]]);
    expect(await readdir(join(rootfs, 'etc'))).toEqual(['a']);
    expect(await modeOf(join(rootfs, 'etc'))).toBe(0o700);
  });

  it('replaces a file of a lower layer, a symlink with a file and a file with a symlink', async () => {
    const { rootfs } = await applyLayers([
      [file('conf', 'old'), link('to-file', 'conf'), file('plain', 'plain')],
      [file('conf', 'new', { mode: 0o600 }), file('to-file', 'own'), link('plain', 'conf')],
    ]);
    expect(await readFile(join(rootfs, 'conf'), 'utf8')).toBe('new');
    expect(await modeOf(join(rootfs, 'conf'))).toBe(0o600);
    expect(await readFile(join(rootfs, 'to-file'), 'utf8')).toBe('own');
    expect(await readlink(join(rootfs, 'plain'))).toBe('conf');
  });

  it('reads long names from PAX headers', async () => {
    const long = `${'deep/'.repeat(40)}name-${'x'.repeat(120)}`;
    const { rootfs } = await applyLayers([[file(long, 'far'), link('short', long)]]);
    expect(await readFile(join(rootfs, long), 'utf8')).toBe('far');
    expect(await readlink(join(rootfs, 'short'))).toBe(long);
  });

  it('skips device nodes with a note when not running as root', async () => {
    const layer = [dir('dev'), { path: 'dev/null', type: 'char', major: 1, minor: 3 } as LayerEntry, file('dev/keep', 'k')];
    const { rootfs, notes, stats } = await applyLayers([layer], { root: false, makeSpecialFile: mknod });
    expect(await readdir(join(rootfs, 'dev'))).toEqual(['keep']);
    expect(notes).toEqual(['Skipped dev/null: a character device, and only root can create device nodes.']);
    expect(stats[0]).toMatchObject({ entries: 3, skipped: 1 });
  });

  it('skips device nodes and FIFOs with a note when given no way to create them', async () => {
    const layer = [{ path: 'null', type: 'char', major: 1, minor: 3 } as LayerEntry, { path: 'pipe', type: 'fifo' } as LayerEntry];
    const { rootfs, notes } = await applyLayers([layer], { root: true });
    expect(await readdir(rootfs)).toEqual([]);
    expect(notes).toHaveLength(2);
  });

  it.skipIf(skipUnless(isRoot(), 'creating device nodes needs root'))(
    'creates device nodes and FIFOs through makeSpecialFile as root, with their modes and owners',
    async () => {
      const layer: LayerEntry[] = [
        dir('dev'),
        { path: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666 },
        { path: 'dev/loop0', type: 'block', major: 7, minor: 0, mode: 0o660, gid: 6 },
        { path: 'run/initctl', type: 'fifo', mode: 0o600, uid: 1000 },
      ];
      const { rootfs, notes } = await applyLayers([layer], { makeSpecialFile: mknod });
      expect(notes).toEqual([]);
      const nullStats = await lstat(join(rootfs, 'dev/null'));
      expect(nullStats.isCharacterDevice() && nullStats.rdev).toBe((1 << 8) | 3);
      expect(nullStats.mode & 0o7777).toBe(0o666);
      const loop = await lstat(join(rootfs, 'dev/loop0'));
      expect(loop.isBlockDevice() && loop.gid).toBe(6);
      const fifo = await lstat(join(rootfs, 'run/initctl'));
      expect(fifo.isFIFO() && fifo.uid).toBe(1000);
      expect(fifo.mtime).toEqual(LAYER_TIME);
    },
  );

  it('reads a Node stream, such as the output of gunzip', async () => {
    const tar = layerTar([dir('etc'), file('etc/motd', 'welcome\n'.repeat(10_000))]);
    const rootfs = await freshDir();
    const stats = await applyLayer(Readable.from([gzipSync(tar)]).pipe(createGunzip()), rootfs);
    expect(stats).toMatchObject({ entries: 2, bytes: 80_000 });
    expect(await readFile(join(rootfs, 'etc/motd'), 'utf8')).toBe('welcome\n'.repeat(10_000));
  });

  it('accepts an empty layer', async () => {
    const dir = await freshDir();
    expect(await applyLayer(inChunks(Buffer.alloc(1024), 512), dir)).toEqual({ entries: 0, bytes: 0, whiteouts: 0, skipped: 0 });
  });

  it('refuses bytes that are not a tar archive', async () => {
    const error = await applyLayer(inChunks(Buffer.from('not a tar archive\n'.repeat(100)), 512), await freshDir()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LayerError);
    expect((error as Error).message).toMatch(/^The layer is not a valid tar archive: /);
  });

  it('refuses a layer cut short', async () => {
    const tar = layerTar([file('big', 'x'.repeat(5000))]);
    await expect(applyLayer(inChunks(tar.subarray(0, 2048), 1000), await freshDir())).rejects.toThrow(/Truncated input/);
  });

  it('stops with the reason of the signal when aborted midway, and closes the file it was writing', async () => {
    const controller = new AbortController();
    const reason = new Error('user pressed Ctrl-C');
    async function* slow(): AsyncGenerator<Buffer> {
      let sent = 0;
      for await (const chunk of largeFileLayer('big', 64 << 20)) {
        yield chunk;
        sent += chunk.length;
        if (sent > 8 << 20) controller.abort(reason);
      }
    }
    const rootfs = await freshDir();
    await expect(applyLayer(slow(), rootfs, { signal: controller.signal })).rejects.toBe(reason);
    const fds = await readdir('/proc/self/fd');
    const open = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    expect(open.filter((target) => target.startsWith(rootfs))).toEqual([]);
  });

  it('applies thousands of entries in order, whatever the size of the chunks they come in', async () => {
    const entries: LayerEntry[] = [];
    const expected = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const content = i % 97 === 0 ? `${i}`.repeat(50_000) : `file ${i}\n`.repeat(i % 7);
      const path = `d${i % 13}/f${i}`;
      entries.push(file(path, content));
      expected.set(path, content);
    }
    // The same path again later: the last one wins.
    entries.push(file('d0/f0', 'last'));
    expected.set('d0/f0', 'last');
    const tar = layerTar(entries);
    for (const size of [777, 1 << 20]) {
      const rootfs = await freshDir();
      const stats = await applyLayer(inChunks(tar, size), rootfs);
      expect(stats.entries).toBe(2001);
      for (const [path, content] of expected) expect(await readFile(join(rootfs, path), 'utf8'), path).toBe(content);
    }
  });

  it('streams a 200 MB file to disk without holding it in memory', async () => {
    const size = 200 << 20;
    const rootfs = await freshDir();
    const before = process.memoryUsage.rss();
    let peak = before;
    // RSS is read at every turn of the event loop rather than on a timer, so a short unpack is sampled
    // as often as a long one. How many turns there are depends on the machine's speed (the unpacker
    // yields every few milliseconds of work), so only the memory bound is asserted.
    let turns = 0;
    let sampling = true;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage.rss());
      turns++;
      if (sampling) setImmediate(sample);
    };
    setImmediate(sample);
    try {
      const stats = await applyLayer(largeFileLayer('var/big.img', size), rootfs);
      expect(stats.bytes).toBe(size);
    } finally {
      sampling = false;
    }
    peak = Math.max(peak, process.memoryUsage.rss());
    expect((await stat(join(rootfs, 'var/big.img'))).size).toBe(size);
    console.info(`RSS grew by ${((peak - before) / 2 ** 20).toFixed(1)} MiB while unpacking a ${size >> 20} MiB file (${turns} turns)`);
    expect(peak - before).toBeLessThan(32 << 20);
  });
});

describe('whiteouts', () => {
  it('remove a file of a lower layer and never appear themselves', async () => {
    const { rootfs, stats } = await applyLayers([[file('etc/a', 'a'), file('etc/b', 'b')], [file('etc/.wh.a')]]);
    expect(await readdir(join(rootfs, 'etc'))).toEqual(['b']);
    expect(stats[1]).toMatchObject({ entries: 1, whiteouts: 1, bytes: 0 });
  });

  it('remove a directory of a lower layer with everything in it', async () => {
    const { rootfs } = await applyLayers([[file('opt/app/bin/run', 'r'), file('opt/keep', 'k')], [file('opt/.wh.app')]]);
    expect(await readdir(join(rootfs, 'opt'))).toEqual(['keep']);
  });

  it('remove a symlink of a lower layer, not what it points to', async () => {
    const { rootfs } = await applyLayers([[file('data/x', 'x'), link('current', 'data')], [file('.wh.current')]]);
    expect((await readdir(rootfs)).sort()).toEqual(['data']);
    expect(await readdir(join(rootfs, 'data'))).toEqual(['x']);
  });

  it('do not hide what the same layer adds, before or after them', async () => {
    const { rootfs } = await applyLayers([
      [file('a', 'lower'), file('b', 'lower')],
      [file('a', 'upper'), file('.wh.a'), file('.wh.b'), file('b', 'upper')],
    ]);
    expect(await readFile(join(rootfs, 'a'), 'utf8')).toBe('upper');
    expect(await readFile(join(rootfs, 'b'), 'utf8')).toBe('upper');
  });

  it('hide the lower contents of a directory the same layer recreates', async () => {
    const { rootfs } = await applyLayers([[file('d/old', 'o')], [dir('d'), file('d/new', 'n'), file('.wh.d')]]);
    expect(await readdir(join(rootfs, 'd'))).toEqual(['new']);
  });

  it.each(['first', 'last'])(
    'opaque: empty a directory of what lower layers put there and keep what the same layer adds (marker %s)',
    async (where) => {
      const lower = [dir('a'), dir('a/b'), dir('a/b/c'), file('a/b/c/bar', 'bar'), file('a/top', 'top'), file('outside-a', 'stays')];
      const added = [dir('a'), dir('a/b'), dir('a/b/c'), file('a/b/c/foo', 'foo')];
      const opaque = file('a/.wh..wh..opq');
      const upper = where === 'first' ? [added[0] as LayerEntry, opaque, ...added.slice(1)] : [...added, opaque];
      const { rootfs, stats } = await applyLayers([lower, upper]);
      expect(await snapshotPaths(rootfs)).toEqual(['.', 'a', 'a/b', 'a/b/c', 'a/b/c/foo', 'outside-a']);
      expect(stats[1]).toMatchObject({ whiteouts: 1 });
    },
  );

  it('replace a directory of a lower layer by a file', async () => {
    const { rootfs } = await applyLayers([[dir('x'), file('x/inner', 'i')], [file('x', 'now a file')]]);
    expect(await readFile(join(rootfs, 'x'), 'utf8')).toBe('now a file');
  });

  it('replace a file of a lower layer by a directory', async () => {
    const { rootfs } = await applyLayers([[file('x', 'a file')], [dir('x'), file('x/inner', 'i')]]);
    expect((await lstat(join(rootfs, 'x'))).isDirectory()).toBe(true);
    expect(await readdir(join(rootfs, 'x'))).toEqual(['inner']);
  });

  it('of something that is not there change nothing', async () => {
    const { rootfs } = await applyLayers([[file('a', 'a')], [file('.wh.nothing'), file('missing/.wh.x'), file('missing/.wh..wh..opq')]]);
    expect(await snapshotPaths(rootfs)).toEqual(['.', 'a']);
  });
});

async function snapshotPaths(dir: string): Promise<string[]> {
  return [...(await snapshotTree(dir)).keys()];
}

/**
 * A rootfs with things around it that a layer must not touch: a sibling directory, a directory whose
 * name starts with the rootfs's name, and a tree further out with a file, a directory and a symlink.
 */
interface Sandbox {
  top: string;
  rootfs: string;
  /** Absolute path of a directory outside the rootfs, holding `victim`. */
  outside: string;
  /** The rootfs's path back up to `top`, to climb out of it with a relative path. */
  up: string;
}

async function sandbox(): Promise<Sandbox> {
  const top = join(base, `sandbox-${++count}`);
  const rootfs = join(top, 'box', 'rootfs');
  const outside = join(top, 'outside');
  await mkdir(rootfs, { recursive: true });
  for (const dir of [outside, join(top, 'box', 'beside'), join(top, 'box', 'rootfs-twin')]) {
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'victim'), 'original\n', { mode: 0o644 });
    await writeFile(join(dir, 'sub', 'inner'), 'inner\n');
    await symlink('victim', join(dir, 'link'));
  }
  const past = new Date('2001-01-01T00:00:00Z');
  for (const path of [top, join(top, 'box'), outside, join(outside, 'victim'), join(outside, 'sub')]) await utimes(path, past, past);
  return { top, rootfs, outside, up: '../..' };
}

/** Outside the rootfs: every path with its type, mode, owner, size, content and mtime. */
const outsideRootfs = (s: Sandbox) => snapshotTree(s.top, ['box/rootfs']);

const HOST_MARKER = `ocilab-unpack-test-${process.pid}`;

type Verdict = 'refused' | 'applied';
const maliciousLayers: [string, (s: Sandbox) => LayerEntry[][], Verdict][] = [
  ['a name that climbs out with ../', (s) => [[file(`${s.up}/outside/victim`, 'pwned\n')]], 'refused'],
  ['a name that climbs out halfway', () => [[file('a/b/../../../beside/victim', 'pwned\n')]], 'refused'],
  ['a directory name that climbs out', () => [[dir('../beside/sub', { mode: 0o777 })]], 'refused'],
  ['an absolute name of a host path', (s) => [[file(`${s.outside}/victim`, 'pwned\n', { mode: 0o777 })]], 'applied'],
  ['a symlink to a host directory, then a file through it', (s) => [[link('evil', s.outside), file('evil/victim', 'pwned\n')]], 'applied'],
  [
    'a symlink climbing out with .., then a file through it',
    (s) => [[link('evil', `../../../../../../../..${s.outside}`), file('evil/victim', 'pwned\n')]],
    'applied',
  ],
  [
    'a relative symlink to a sibling, then a file through it',
    () => [[link('evil', '../beside'), file('evil/victim', 'pwned\n')]],
    'applied',
  ],
  ['a symlink to /etc, then a new file through it', () => [[link('evil', '/etc'), file(`evil/${HOST_MARKER}`, 'pwned\n')]], 'applied'],
  [
    'a symlink to a host directory, then a directory through it',
    (s) => [[link('evil', s.outside), dir('evil/sub', { mode: 0o777 })]],
    'applied',
  ],
  [
    'a symlink to a host directory in a lower layer, then a file through it',
    (s) => [[link('evil', s.outside)], [file('evil/victim', 'pwned\n')]],
    'applied',
  ],
  [
    'a symlink to a host file in a lower layer, then a file at its place',
    (s) => [[link('victim', `${s.outside}/victim`)], [file('victim', 'pwned\n')]],
    'applied',
  ],
  [
    'a symlink to a host directory in a lower layer, then a directory at its place',
    (s) => [[link('d', s.outside)], [dir('d', { mode: 0o777 })]],
    'applied',
  ],
  [
    'a symlink to a host file, then a hard link at its place',
    (s) => [[file('real', 'r'), link('victim', `${s.outside}/victim`), hardlink('victim', 'real')]],
    'applied',
  ],
  ['a hard link to an absolute host path', (s) => [[hardlink('h', `${s.outside}/victim`)]], 'refused'],
  ['a hard link that climbs out with ..', () => [[hardlink('h', '../beside/victim')]], 'refused'],
  ['a hard link through a symlink to a host directory', (s) => [[link('evil', s.outside), hardlink('h', 'evil/victim')]], 'refused'],
  ['a whiteout naming ../x', () => [[file('../.wh.beside')]], 'refused'],
  ['a whiteout of ..', () => [[dir('sub'), file('sub/.wh...')]], 'refused'],
  [
    'a whiteout through a symlink to a host directory',
    (s) => [[link('evil', s.outside)], [file('evil/.wh.victim'), file('evil/.wh.sub')]],
    'applied',
  ],
  ['an opaque whiteout through a symlink to a host directory', (s) => [[link('evil', s.outside)], [file('evil/.wh..wh..opq')]], 'applied'],
  ['a whiteout of a symlink to a host directory', (s) => [[link('evil', s.outside)], [file('.wh.evil')]], 'applied'],
  ['symlinks that loop, then a file through them', () => [[link('loop', 'loop'), file('loop/x', 'x')]], 'refused'],
  ['a file in place of the root directory', () => [[file('.', 'x')]], 'refused'],
];

describe('a malicious layer', () => {
  it.each(maliciousLayers)('changes nothing outside the rootfs: %s', async (_name, layers, verdict) => {
    const s = await sandbox();
    const before = await outsideRootfs(s);
    const applying = applyLayers(layers(s), {}, s.rootfs);
    if (verdict === 'refused') {
      const error = await applying.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LayerError);
      expect((error as Error).message).toMatch(
        /outside the root filesystem|root directory|symbolic links|not an entry|neither earlier in this layer/,
      );
    } else {
      await applying;
    }
    expect(await outsideRootfs(s)).toEqual(before);
    expect(existsSync(join('/etc', HOST_MARKER))).toBe(false);
  });

  it('writes what comes through a symlink to a host directory inside the rootfs instead', async () => {
    const s = await sandbox();
    await applyLayers(
      [[link('evil', s.outside), file('evil/victim', 'pwned\n'), link('host-etc', '/etc'), file(`host-etc/${HOST_MARKER}`, 'x')]],
      {},
      s.rootfs,
    );
    expect(await readFile(join(s.rootfs, s.outside, 'victim'), 'utf8')).toBe('pwned\n');
    expect(existsSync(join(s.rootfs, 'etc', HOST_MARKER))).toBe(true);
    expect(await readlink(join(s.rootfs, 'evil'))).toBe(s.outside);
  });

  it('says which entry it refused and why', async () => {
    const error = await applyLayers([[file('ok', 'ok'), file('../../etc/passwd', 'root::0:0::/:/bin/sh\n')]]).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'LayerError',
      entry: '../../etc/passwd',
      message: expect.stringMatching(
        /^The layer entry "\.\.\/\.\.\/etc\/passwd" climbs out of the root filesystem with "\.\."\. ocilab refused/,
      ),
    });
  });
});

describe.skipIf(skipUnless(isRoot(), 'umoci unpacks with owners and device nodes only as root'))('applyLayer beside umoci unpack', () => {
  const layers: LayerEntry[][] = [
    [
      dir('./'),
      dir('bin'),
      file('bin/busybox', 'busybox binary', { mode: 0o755 }),
      hardlink('bin/sh', 'bin/busybox'),
      file('bin/su', 'su', { mode: 0o4755 }),
      link('bin/ls', '/bin/busybox'),
      dir('etc'),
      file('etc/hostname', 'box\n'),
      file('etc/shadow', 'root:*:19000::::::\n', { mode: 0o640, gid: 42 }),
      link('etc/localtime', '/usr/share/zoneinfo/UTC'),
      dir('tmp', { mode: 0o1777 }),
      dir('home'),
      dir('home/user', { uid: 1000, gid: 1000, mode: 0o750 }),
      file('home/user/.profile', 'export PS1=$\n', { uid: 1000, gid: 1000 }),
      dir('opt'),
      dir('opt/app'),
      file('opt/app/old', 'old'),
      dir('opt/app/data'),
      file('opt/app/data/cache', 'cache'),
      dir('var'),
      file('var/file-then-dir', 'f'),
      dir('var/dir-then-file'),
      file('var/dir-then-file/inner', 'i'),
      file('var/gone', 'gone'),
      dir('dev'),
      { path: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666 },
      { path: 'dev/initctl', type: 'fifo', mode: 0o600 },
    ],
    [
      dir('opt/app'),
      file('opt/app/.wh..wh..opq'),
      file('opt/app/new', 'new', { mode: 0o700 }),
      dir('var'),
      file('var/.wh.gone'),
      dir('var/file-then-dir', { mode: 0o711 }),
      file('var/dir-then-file', 'now a file'),
      file('etc/hostname', 'renamed\n', { mode: 0o600 }),
      link('usr-lib', 'usr/lib'),
    ],
  ];

  it('produces the same tree: paths, types, modes, owners, sizes, contents, symlink targets and mtimes', async () => {
    const work = await freshDir('umoci');
    const layout = join(work, 'layout');
    const image = `${layout}:test`;
    const run = (args: string[]) => execa('umoci', args, { stdin: 'ignore' });
    await run(['init', '--layout', layout]);
    await run(['new', '--image', image]);
    for (const [index, layer] of layers.entries()) {
      const tarPath = join(work, `layer-${index}.tar`);
      await writeFile(tarPath, layerTar(layer));
      await run(['raw', 'add-layer', '--image', image, tarPath]);
    }
    await run(['unpack', '--image', image, join(work, 'bundle')]);

    const { rootfs } = await applyLayers(layers, { makeSpecialFile: mknod }, join(work, 'ours'));
    const theirs = await snapshotTree(join(work, 'bundle', 'rootfs'));
    const ours = await snapshotTree(rootfs);
    expect(describeTree(ours)).toEqual(describeTree(theirs));
  });
});

/** A tree as comparable lines; the time of the root directory is left out (umoci does not set it). */
function describeTree(tree: Map<string, NodeSnapshot>): string[] {
  return [...tree].map(([path, n]) => {
    const time = path === '.' ? '' : ` ${new Date(n.mtimeMs).toISOString()}`;
    return `${path} ${n.type} ${n.mode.toString(8)} ${n.uid}:${n.gid} ${n.size} ${n.content ?? ''}${time}`;
  });
}
