// Applies a layer's tar entries one by one to a root filesystem, without creating, changing or deleting
// anything outside it: files, directories, links and device nodes made, whiteouts handed to whiteouts.ts.
//
// How a hostile layer is kept inside: entry names are made relative and may not climb above the root
// with `..`; the parent directory of every entry is walked inside the root (`layer-root.ts`,
// `rootfs-path.ts`), so a symlink in the way leads to its target inside the root, never onto the host;
// the last component is never followed: what is there is removed and recreated (files exclusively,
// with O_NOFOLLOW), so a planted symlink is replaced, not written through. Symlinks themselves are
// stored as written. A layer that tries to leave the root (`..` past it, a hard link or whiteout that
// does) is refused as a whole with a LayerError: a well-made image never does this, and the learner
// should hear about it. What came before the refused entry stays applied, all of it inside the root.
//
// File system calls are synchronous. Each entry costs a handful of them, each waits for the one before,
// and a round trip through libuv's thread pool costs more than most of these calls themselves: with
// promises a layer of 5000 small files took 3 to 5 times as long as tar(1), synchronously about 1.3
// times. The event loop still gets a turn every few milliseconds, so downloads and progress go on.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ReadEntry } from 'tar';
import { LAYER_REFUSED, LayerError } from './errors.js';
import { LayerRoot, type Metadata, type Place } from './layer-root.js';
import { lexicalComponents, lookupInRoot } from './rootfs-path.js';
import { opaqueWhiteout, whiteout, whiteoutName, type WhiteoutName } from './whiteouts.js';

export interface LayerStats {
  /** Tar entries read (whiteouts and skipped ones included, PAX and long-name headers not). */
  entries: number;
  /** Bytes of regular files written. */
  bytes: number;
  /** Whiteouts applied, `.wh.NAME` and opaque `.wh..wh..opq` alike. */
  whiteouts: number;
  /** Entries left out, each reported through `onNote`. */
  skipped: number;
}

/** A device node or FIFO to create; `mode` holds the permission bits only. */
export interface SpecialFile {
  hostPath: string;
  kind: 'character device' | 'block device' | 'fifo';
  mode: number;
  major: number;
  minor: number;
}

export interface ApplyLayerOptions {
  /** Whether to set owners from the layer and create device nodes; by default, whether we run as root (euid 0). */
  root?: boolean;
  /** Told about each entry left out, in a sentence. */
  onNote?: (message: string) => void;
  signal?: AbortSignal;
  /**
   * Creates a device node or FIFO (mknod). Node has no mknod and `oci/` may not start processes, so
   * whoever may (the CLI, through `sys/exec.ts`) passes this in; without it such entries are skipped
   * with a note. Container runtimes mount their own /dev, so an image's device nodes are rarely used.
   */
  makeSpecialFile?: (file: SpecialFile) => Promise<void>;
}

/** How long applying entries may keep the event loop to itself (the file system calls are synchronous). */
const EVENT_LOOP_TURN_MS = 10;

export class LayerApplier {
  readonly stats: LayerStats = { entries: 0, bytes: 0, whiteouts: 0, skipped: 0 };
  private readonly asRoot: boolean;
  private readonly root: LayerRoot;
  private lastTurn = performance.now();

  constructor(
    rootfs: string,
    private readonly options: ApplyLayerOptions,
  ) {
    this.root = new LayerRoot(rootfs);
    this.asRoot = options.root ?? process.geteuid?.() === 0;
  }

  async apply(entry: ReadEntry): Promise<void> {
    this.stats.entries++;
    this.options.signal?.throwIfAborted();
    const name = entry.path;
    const components = lexicalComponents(name);
    if (!components) throw new LayerError(`The layer entry "${name}" climbs out of the root filesystem with "..". ${LAYER_REFUSED}`, name);
    const base = components.pop();
    if (base === undefined) {
      if (entry.type !== 'Directory') {
        throw new LayerError(
          `The layer entry "${name}" would replace the root directory with ${TYPE_LABEL[entry.type] ?? entry.type}.`,
          name,
        );
      }
      this.root.setDirectoryMetadata({ hostPath: this.root.hostPath, path: '/' }, metadata(entry, 0o755));
      return;
    }
    const special = whiteoutName(components, base);
    if (special) {
      await this.whiteout(special, name, components);
      return;
    }

    const place = await this.root.place(name, components, base);
    switch (entry.type) {
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        await this.writeFile(entry, place);
        return;
      case 'Directory':
      case 'GNUDumpDir':
        this.makeDirectory(entry, place);
        return;
      case 'SymbolicLink':
        this.makeSymlink(entry, place);
        return;
      case 'Link':
        await this.makeHardLink(entry, place);
        return;
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO':
        await this.makeSpecialFile(entry, place);
        return;
      default:
        this.skip(`${name}: ${entry.type} entries are not supported`);
    }
  }

  /** An entry node-tar read but does not hand over: counted, and left out with a note. */
  ignored(entry: ReadEntry): void {
    this.stats.entries++;
    this.skip(entry.meta ? `an oversized ${entry.type} header` : `${entry.path}: ${entry.type} entries are not supported`);
  }

  /** Lets the event loop run when this layer has kept it for a while: our file system calls block it. */
  async giveTurn(): Promise<void> {
    if (performance.now() - this.lastTurn < EVENT_LOOP_TURN_MS) return;
    await nextTurn();
    this.lastTurn = performance.now();
  }

  /** Sets what the layer says of its directories, once every entry is in place. */
  finish(): Promise<void> {
    return this.root.finish(this.asRoot);
  }

  private skip(what: string): void {
    this.stats.skipped++;
    this.options.onNote?.(`Skipped ${what}.`);
  }

  private async whiteout(special: WhiteoutName, name: string, parent: readonly string[]): Promise<void> {
    switch (special.kind) {
      case 'inside-whiteout':
        this.skip(`${name}: it lies inside a whiteout`);
        return;
      case 'aufs-metadata':
        this.skip(`${name}: aufs metadata, not part of the image`);
        return;
      case 'opaque':
        this.stats.whiteouts++;
        await opaqueWhiteout(this.root, parent);
        return;
      case 'whiteout':
        await whiteout(this.root, name, parent, special.hidden);
        this.stats.whiteouts++;
    }
  }

  private async writeFile(entry: ReadEntry, place: Place): Promise<void> {
    // O_EXCL: whatever is in the way is removed first, never written through; O_NOFOLLOW says so twice.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fd = this.root.replacing(place.hostPath, () => openSync(place.hostPath, flags, 0o600));
    this.root.record(place.path);
    try {
      for await (const chunk of entry) {
        this.options.signal?.throwIfAborted();
        for (let offset = 0; offset < chunk.length;) offset += writeSync(fd, chunk, offset);
        this.stats.bytes += chunk.length;
        await this.giveTurn();
      }
      const meta = metadata(entry, 0o644);
      // chown before chmod: changing the owner clears setuid and setgid.
      if (this.asRoot) fchownSync(fd, meta.uid, meta.gid);
      fchmodSync(fd, meta.mode);
      if (meta.mtime) futimesSync(fd, meta.atime ?? meta.mtime, meta.mtime);
    } finally {
      closeSync(fd);
    }
  }

  private makeDirectory(entry: ReadEntry, place: Place): void {
    // An existing directory keeps what lower layers put in it (layer.md); only its attributes change.
    const make = (): void => {
      mkdirSync(place.hostPath, 0o700);
    };
    if (!this.root.created(make) && !this.root.clear(place.hostPath, true)) make();
    this.root.record(place.path);
    this.root.setDirectoryMetadata(place, metadata(entry, 0o755));
  }

  private makeSymlink(entry: ReadEntry, place: Place): void {
    // Stored as written: an absolute target means the root of the container, not of this host.
    this.root.replacing(place.hostPath, () => {
      symlinkSync(entry.linkpath ?? '', place.hostPath);
    });
    this.root.record(place.path);
    const meta = metadata(entry, 0o777);
    if (this.asRoot) lchownSync(place.hostPath, meta.uid, meta.gid);
    if (meta.mtime) lutimesSync(place.hostPath, meta.atime ?? meta.mtime, meta.mtime);
  }

  private async makeHardLink(entry: ReadEntry, place: Place): Promise<void> {
    const name = entry.path;
    const linkpath = entry.linkpath ?? '';
    const target = lexicalComponents(linkpath);
    if (!target)
      throw new LayerError(`The hard link "${name}" points to "${linkpath}", outside the root filesystem. ${LAYER_REFUSED}`, name);
    const targetBase = target.pop();
    const missing = new LayerError(
      `The hard link "${name}" points to "${linkpath}", which is neither earlier in this layer nor in the layers below.`,
      name,
    );
    if (targetBase === undefined) throw new LayerError(`The hard link "${name}" points to the root directory. ${LAYER_REFUSED}`, name);
    const directory = await lookupInRoot(this.root.hostPath, target.join('/'));
    if (!directory.found || !directory.stats.isDirectory()) throw missing;
    // link(2) does not follow a symlink it is given, so the link shares the target's inode inside the root.
    const targetPath = join(directory.hostPath, targetBase);
    const targetStats = lstatSync(targetPath, { throwIfNoEntry: false });
    if (!targetStats) throw missing;
    if (targetStats.isDirectory()) {
      throw new LayerError(`The hard link "${name}" points to the directory "${linkpath}". ${LAYER_REFUSED}`, name);
    }
    if (targetPath !== place.hostPath) {
      this.root.replacing(place.hostPath, () => {
        linkSync(targetPath, place.hostPath);
      });
    }
    this.root.record(place.path);
  }

  private async makeSpecialFile(entry: ReadEntry, place: Place): Promise<void> {
    const kind = entry.type === 'CharacterDevice' ? 'character device' : entry.type === 'BlockDevice' ? 'block device' : 'fifo';
    const make = this.options.makeSpecialFile;
    if (kind !== 'fifo' && !this.asRoot) {
      this.skip(`${entry.path}: a ${kind}, and only root can create device nodes`);
      return;
    }
    if (!make) {
      this.skip(`${entry.path}: a ${kind}, which ocilab was given no way to create`);
      return;
    }
    const meta = metadata(entry, 0o644);
    this.root.clear(place.hostPath, false);
    await make({ hostPath: place.hostPath, kind, mode: meta.mode, major: entry.header.devmaj, minor: entry.header.devmin });
    this.root.record(place.path);
    if (this.asRoot) lchownSync(place.hostPath, meta.uid, meta.gid);
    chmodSync(place.hostPath, meta.mode);
    if (meta.mtime) lutimesSync(place.hostPath, meta.atime ?? meta.mtime, meta.mtime);
  }
}

function metadata(entry: ReadEntry, defaultMode: number): Metadata {
  return {
    mode: (entry.mode ?? defaultMode) & 0o7777,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    atime: entry.atime,
    mtime: entry.mtime,
  };
}

const TYPE_LABEL: Partial<Record<ReadEntry['type'], string>> = {
  File: 'a file',
  OldFile: 'a file',
  ContiguousFile: 'a file',
  SymbolicLink: 'a symbolic link',
  Link: 'a hard link',
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a FIFO',
};
