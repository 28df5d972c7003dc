// Applies one image layer — an uncompressed tar changeset — to a root filesystem the way the OCI
// image-spec `layer.md` says, whiteouts included, without creating, changing or deleting anything
// outside that directory. node-tar only parses; every file system operation is ours.
//
// How a hostile layer is kept inside: entry names are made relative and may not climb above the root
// with `..`; the parent directory of every entry is walked inside the root (`rootfs-path.ts`), so a
// symlink in the way leads to its target inside the root, never onto the host; the last component is
// never followed: what is there is removed and recreated (files exclusively, with O_NOFOLLOW), so a
// planted symlink is replaced, not written through. Symlinks themselves are stored as written. A layer
// that tries to leave the root (`..` past it, a hard link or whiteout that does) is refused as a whole
// with a LayerError: a well-made image never does this, and the learner should hear about it. What
// came before the refused entry stays applied, all of it inside the root.
//
// File system calls are synchronous. Each entry costs a handful of them, each waits for the one before,
// and a round trip through libuv's thread pool costs more than most of these calls themselves: with
// promises a layer of 5000 small files took 3 to 5 times as long as tar(1), synchronously about 1.3
// times. The event loop still gets a turn every few milliseconds, so downloads and progress go on.
import type { Stats } from 'node:fs';
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
  readdirSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Parser, type ReadEntry } from 'tar';
import { OciError } from './errors.js';
import { RootPathError, lookupInRoot, makeDirectoryInRoot } from './rootfs-path.js';

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

/** A layer that cannot be applied: not a tar archive, or an entry ocilab refuses. */
export class LayerError extends OciError {
  override name = 'LayerError';
  constructor(
    message: string,
    /** The entry's name as the tar archive has it, when one entry is to blame. */
    readonly entry?: string,
  ) {
    super(message);
  }
}

const REFUSED =
  'ocilab refused the layer: images made by build tools never contain such an entry, so this one is broken or made to ' +
  'attack whoever unpacks it. Nothing outside the root filesystem was touched.';

/** How long applying entries may keep the event loop to itself (the file system calls are synchronous). */
const EVENT_LOOP_TURN_MS = 10;

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** aufs kept its own bookkeeping under this prefix (`.wh..wh.plnk`); it is not part of the image. */
const AUFS_METADATA_PREFIX = '.wh..wh.';

/**
 * Applies the layer read from `tar` (uncompressed) to the directory `rootfs`, created if missing.
 * Resolves with what was done; rejects with a LayerError for a layer it refuses, with the signal's
 * reason when aborted, or with the file system's error.
 */
export async function applyLayer(
  tar: NodeJS.ReadableStream | AsyncIterable<Buffer>,
  rootfs: string,
  options: ApplyLayerOptions = {},
): Promise<LayerStats> {
  await mkdir(rootfs, { recursive: true });
  const layer = new LayerApplier(rootfs, options);
  await readEntries(tar, options.signal, layer);
  await layer.finish();
  return layer.stats;
}

interface Metadata {
  mode: number;
  uid: number;
  gid: number;
  atime: Date | undefined;
  mtime: Date | undefined;
}

/** Where something is: its host path, and its path inside the root (`/usr/lib/x`). */
interface Place {
  hostPath: string;
  path: string;
}

/** A directory of the root as this layer last saw it; `removals` says when (see LayerApplier.removals). */
interface Seen extends Place {
  removals: number;
}

class LayerApplier {
  readonly stats: LayerStats = { entries: 0, bytes: 0, whiteouts: 0, skipped: 0 };
  /** The entry being read from, so a failure elsewhere can stop it. */
  reading: ReadEntry | undefined;
  private readonly asRoot: boolean;
  /**
   * Every path this layer wrote and their ancestors: whiteouts hide only what lower layers put there
   * (layer.md), and the tar may list a whiteout after what the same layer adds beside it.
   */
  private readonly written = new Set<string>();
  /** Directories get their mode, owner and times last: adding children would change the times. */
  private readonly directories = new Map<string, Seen & { meta: Metadata }>();
  /**
   * The times, in seconds, of directories whose contents this layer changes without listing them: put
   * back at the end, as umoci does, so that a rootfs does not depend on when it was unpacked.
   */
  private readonly keptTimes = new Map<string, Seen & { atime: number; mtime: number }>();
  /**
   * How many times this layer removed something. Nothing here replaces a thing without removing it
   * first, so a path walked while this count had the same value as now still leads where it did.
   */
  private removals = 0;
  /** Parent directories walked since the last removal, by the entry's parent path: most entries share one. */
  private readonly parents = new Map<string, Place>();
  private lastTurn = performance.now();

  constructor(
    private readonly root: string,
    private readonly options: ApplyLayerOptions,
  ) {
    this.asRoot = options.root ?? process.geteuid?.() === 0;
  }

  async apply(entry: ReadEntry): Promise<void> {
    this.stats.entries++;
    this.options.signal?.throwIfAborted();
    const name = entry.path;
    const components = entryComponents(name, () => `The layer entry "${name}" climbs out of the root filesystem with "..". ${REFUSED}`);
    const base = components.pop();
    if (base === undefined) {
      if (entry.type !== 'Directory') {
        throw new LayerError(
          `The layer entry "${name}" would replace the root directory with ${TYPE_LABEL[entry.type] ?? entry.type}.`,
          name,
        );
      }
      return this.setDirectoryMetadata({ hostPath: this.root, path: '/' }, entry);
    }
    if (components.some((c) => c.startsWith(WHITEOUT_PREFIX))) return this.skip(`${name}: it lies inside a whiteout`);
    if (base === OPAQUE_WHITEOUT) return this.opaqueWhiteout(components);
    if (base.startsWith(AUFS_METADATA_PREFIX)) return this.skip(`${name}: aufs metadata, not part of the image`);
    if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(name, components, base.slice(WHITEOUT_PREFIX.length));

    const place = await this.place(name, components, base);
    switch (entry.type) {
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        return this.writeFile(entry, place);
      case 'Directory':
      case 'GNUDumpDir':
        return this.makeDirectory(entry, place);
      case 'SymbolicLink':
        return this.makeSymlink(entry, place);
      case 'Link':
        return this.makeHardLink(entry, place);
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO':
        return this.makeSpecialFile(entry, place);
      default:
        return this.skip(`${name}: ${entry.type} entries are not supported`);
    }
  }

  /** Lets the event loop run when this layer has kept it for a while: our file system calls block it. */
  async giveTurn(): Promise<void> {
    if (performance.now() - this.lastTurn < EVENT_LOOP_TURN_MS) return;
    await nextTurn();
    this.lastTurn = performance.now();
  }

  skip(what: string): void {
    this.stats.skipped++;
    this.options.onNote?.(`Skipped ${what}.`);
  }

  /** Sets what the layer says of its directories, deepest first, and puts back the times of the others. */
  async finish(): Promise<void> {
    for (const [path, seen] of [...this.directories].reverse()) {
      const hostPath = await this.findAgain(path, seen);
      if (hostPath === undefined) continue;
      const { meta } = seen;
      if (this.asRoot) lchownSync(hostPath, meta.uid, meta.gid);
      chmodSync(hostPath, meta.mode);
      if (meta.mtime) lutimesSync(hostPath, meta.atime ?? meta.mtime, meta.mtime);
    }
    for (const [path, seen] of this.keptTimes) {
      const hostPath = this.directories.has(path) ? undefined : await this.findAgain(path, seen);
      if (hostPath !== undefined) lutimesSync(hostPath, seen.atime, seen.mtime);
    }
  }

  /** The directory seen at `path`, unless it has since been replaced or is now reached through a symlink. */
  private async findAgain(path: string, seen: Seen): Promise<string | undefined> {
    if (seen.removals === this.removals) return seen.hostPath;
    const found = await lookupInRoot(this.root, path, false);
    return found.found && found.path === path && found.stats.isDirectory() ? found.hostPath : undefined;
  }

  /** The entry's parent directory, made inside the root if missing, and the entry's path in it. */
  private async place(name: string, parent: string[], base: string): Promise<Place> {
    const key = parent.join('/');
    let directory = this.parents.get(key);
    if (!directory) {
      // Usually the grandparent was walked already: only the last step is left.
      const above = this.parents.get(parent.slice(0, -1).join('/'));
      try {
        const made = above
          ? await makeDirectoryInRoot(this.root, parent.at(-1) ?? '', 0o755, above.path)
          : await makeDirectoryInRoot(this.root, key);
        this.keepTimes(made, made.stats);
        directory = made;
      } catch (error) {
        if (error instanceof RootPathError) throw new LayerError(`Cannot unpack the layer entry "${name}": ${error.message}.`, name);
        throw error;
      }
      this.parents.set(key, directory);
    }
    return { hostPath: join(directory.hostPath, base), path: childPath(directory.path, base) };
  }

  private keepTimes({ hostPath, path }: Place, stats: Stats): void {
    if (this.keptTimes.has(path)) return;
    this.keptTimes.set(path, { hostPath, path, removals: this.removals, atime: stats.atimeMs / 1000, mtime: stats.mtimeMs / 1000 });
  }

  private async writeFile(entry: ReadEntry, place: Place): Promise<void> {
    // O_EXCL: whatever is in the way is removed first, never written through; O_NOFOLLOW says so twice.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fd = this.replacing(place.hostPath, () => openSync(place.hostPath, flags, 0o600));
    this.record(place.path);
    this.reading = entry;
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
      this.reading = undefined;
      closeSync(fd);
    }
  }

  private makeDirectory(entry: ReadEntry, place: Place): void {
    // An existing directory keeps what lower layers put in it (layer.md); only its attributes change.
    if (!this.create(() => mkdirSync(place.hostPath, 0o700)) && !this.clear(place.hostPath, true)) mkdirSync(place.hostPath, 0o700);
    this.record(place.path);
    this.setDirectoryMetadata(place, entry);
  }

  private setDirectoryMetadata(place: Place, entry: ReadEntry): void {
    this.directories.delete(place.path);
    this.directories.set(place.path, { ...place, removals: this.removals, meta: metadata(entry, 0o755) });
  }

  private makeSymlink(entry: ReadEntry, place: Place): void {
    // Stored as written: an absolute target means the root of the container, not of this host.
    this.replacing(place.hostPath, () => symlinkSync(entry.linkpath ?? '', place.hostPath));
    this.record(place.path);
    const meta = metadata(entry, 0o777);
    if (this.asRoot) lchownSync(place.hostPath, meta.uid, meta.gid);
    if (meta.mtime) lutimesSync(place.hostPath, meta.atime ?? meta.mtime, meta.mtime);
  }

  private async makeHardLink(entry: ReadEntry, place: Place): Promise<void> {
    const name = entry.path;
    const linkpath = entry.linkpath ?? '';
    const target = entryComponents(
      linkpath,
      () => `The hard link "${name}" points to "${linkpath}", outside the root filesystem. ${REFUSED}`,
    );
    const targetBase = target.pop();
    const missing = new LayerError(
      `The hard link "${name}" points to "${linkpath}", which is neither earlier in this layer nor in the layers below.`,
      name,
    );
    if (targetBase === undefined) throw new LayerError(`The hard link "${name}" points to the root directory. ${REFUSED}`, name);
    const directory = await lookupInRoot(this.root, target.join('/'));
    if (!directory.found || !directory.stats.isDirectory()) throw missing;
    // link(2) does not follow a symlink it is given, so the link shares the target's inode inside the root.
    const targetPath = join(directory.hostPath, targetBase);
    const targetStats = lstatSync(targetPath, { throwIfNoEntry: false });
    if (!targetStats) throw missing;
    if (targetStats.isDirectory()) throw new LayerError(`The hard link "${name}" points to the directory "${linkpath}". ${REFUSED}`, name);
    if (targetPath !== place.hostPath) this.replacing(place.hostPath, () => linkSync(targetPath, place.hostPath));
    this.record(place.path);
  }

  private async makeSpecialFile(entry: ReadEntry, place: Place): Promise<void> {
    const kind = entry.type === 'CharacterDevice' ? 'character device' : entry.type === 'BlockDevice' ? 'block device' : 'fifo';
    const make = this.options.makeSpecialFile;
    if (kind !== 'fifo' && !this.asRoot) return this.skip(`${entry.path}: a ${kind}, and only root can create device nodes`);
    if (!make) return this.skip(`${entry.path}: a ${kind}, which ocilab was given no way to create`);
    const meta = metadata(entry, 0o644);
    this.clear(place.hostPath, false);
    await make({ hostPath: place.hostPath, kind, mode: meta.mode, major: entry.header.devmaj, minor: entry.header.devmin });
    this.record(place.path);
    if (this.asRoot) lchownSync(place.hostPath, meta.uid, meta.gid);
    chmodSync(place.hostPath, meta.mode);
    if (meta.mtime) lutimesSync(place.hostPath, meta.atime ?? meta.mtime, meta.mtime);
  }

  /** `.wh.NAME`: NAME goes, as far as lower layers made it. */
  private async whiteout(name: string, parent: string[], hidden: string): Promise<void> {
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw new LayerError(`The whiteout "${name}" names "${hidden}", which is not an entry of its directory. ${REFUSED}`, name);
    }
    this.stats.whiteouts++;
    const directory = await lookupInRoot(this.root, parent.join('/'));
    if (!directory.found || !directory.stats.isDirectory()) return;
    this.keepTimes(directory, directory.stats);
    this.removeLower(childPath(directory.path, hidden), join(directory.hostPath, hidden));
  }

  /** `.wh..wh..opq`: the directory keeps only what this layer puts in it, before or after the marker. */
  private async opaqueWhiteout(parent: string[]): Promise<void> {
    this.stats.whiteouts++;
    const directory = await lookupInRoot(this.root, parent.join('/'));
    if (!directory.found || !directory.stats.isDirectory()) return;
    this.keepTimes(directory, directory.stats);
    for (const child of readdirSync(directory.hostPath)) {
      this.removeLower(childPath(directory.path, child), join(directory.hostPath, child));
    }
  }

  /** Removes `path` without following it, except what this layer wrote there and the directories above that. */
  private removeLower(path: string, hostPath: string): void {
    if (!this.written.has(path)) return this.remove(hostPath);
    if (!lstatSync(hostPath, { throwIfNoEntry: false })?.isDirectory()) return;
    for (const child of readdirSync(hostPath)) this.removeLower(childPath(path, child), join(hostPath, child));
  }

  /** Runs `create`; when something is in the way, removes it without following it and runs `create` again. */
  private replacing<T>(hostPath: string, create: () => T): T {
    try {
      return create();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    this.clear(hostPath, false);
    return create();
  }

  /** Runs `create`, and says false instead of failing when something is in the way. */
  private create(create: () => unknown): boolean {
    try {
      create();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  /**
   * Empties the place for an entry without following what is there: a directory goes with its contents,
   * anything else is unlinked. With `keepDirectory` a directory stays; returns whether one did.
   */
  private clear(hostPath: string, keepDirectory: boolean): boolean {
    const existing = lstatSync(hostPath, { throwIfNoEntry: false });
    if (!existing) return false;
    if (existing.isDirectory() && keepDirectory) return true;
    this.remove(hostPath);
    return false;
  }

  private remove(hostPath: string): void {
    this.removals++;
    this.parents.clear();
    rmSync(hostPath, { recursive: true, force: true });
  }

  private record(path: string): void {
    for (let p = path; p !== '/' && !this.written.has(p); p = p.slice(0, p.lastIndexOf('/')) || '/') this.written.add(p);
  }
}

/**
 * Feeds `input` to node-tar's parser and hands each entry to `layer.apply`, one after another.
 * The parser emits the next entry only once the current one has ended, and a paused entry ends only
 * when read or resumed; so the input is read no faster than the entries are applied.
 */
async function readEntries(input: NodeJS.ReadableStream | AsyncIterable<Buffer>, signal: AbortSignal | undefined, layer: LayerApplier) {
  const parser = new Parser();
  let failure: unknown;
  let wake: (() => void) | undefined;
  const fail = (error: unknown): void => {
    failure ??= error;
    wake?.();
  };
  const until = (event: 'drain' | 'end'): Promise<void> =>
    new Promise((resolve) => {
      if (failure !== undefined) return resolve();
      const done = (): void => {
        parser.off(event, done);
        wake = undefined;
        resolve();
      };
      parser.on(event, done);
      wake = done;
    });

  let applied: Promise<void> = Promise.resolve();
  const next = (step: () => Promise<void> | void): void => {
    applied = applied.then(() => (failure === undefined ? step() : undefined)).catch(fail);
  };
  parser.on('entry', (entry: ReadEntry) =>
    next(async () => {
      await layer.apply(entry);
      // Whatever was not read of it is discarded, and the parser moves on.
      entry.resume();
      await layer.giveTurn();
    }),
  );
  parser.on('ignoredEntry', (entry: ReadEntry) =>
    next(() => {
      layer.stats.entries++;
      layer.skip(entry.meta ? `an oversized ${entry.type} header` : `${entry.path}: ${entry.type} entries are not supported`);
    }),
  );
  let sawEnd = false;
  parser.on('eof', () => (sawEnd = true));
  parser.on('warn', (code: string, message: string) => {
    // Two zero blocks and nothing else is an empty layer, which images do have; node-tar warns of it.
    if (code === 'TAR_BAD_ARCHIVE' && sawEnd && layer.stats.entries === 0) return;
    fail(new LayerError(`The layer is not a valid tar archive: ${message}.`));
  });
  parser.on('error', (error: Error) => fail(new LayerError(`The layer is not a valid tar archive: ${error.message}.`)));
  const onAbort = (): void => fail(signal?.reason);
  signal?.addEventListener('abort', onAbort);

  try {
    signal?.throwIfAborted();
    for await (const chunk of input) {
      if (failure !== undefined) break;
      if (!parser.write(chunk)) await until('drain');
    }
    if (failure === undefined) {
      const ended = until('end');
      parser.end();
      await ended;
    }
  } catch (error) {
    fail(error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  // An entry waiting for data that will not come is stopped, so the file it was writing is closed.
  if (failure !== undefined) layer.reading?.destroy();
  await applied;
  if (failure !== undefined) throw failure;
}

/**
 * The components of a name in the tar (or a hard link's target) inside the root: leading `/` and `./`
 * dropped, `a/../b` made `b`. A name that climbs above the root is refused with `refusal()`.
 */
function entryComponents(name: string, refusal: () => string): string[] {
  const components: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') components.push(part);
    else if (components.pop() === undefined) throw new LayerError(refusal(), name);
  }
  return components;
}

function childPath(directory: string, name: string): string {
  return directory === '/' ? `/${name}` : `${directory}/${name}`;
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
