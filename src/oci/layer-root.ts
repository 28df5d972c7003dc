// The root filesystem as one layer changes it: where each entry goes (its parent directory made inside
// the root, remembered until the layer removes something), what is in the way removed without being
// followed, what the layer wrote, and the directories whose mode, owner and times are set at the end.
import type { Stats } from 'node:fs';
import { chmodSync, lchownSync, lstatSync, lutimesSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from './errors.js';
import { RootPathError, childPath, lookupInRoot, makeDirectoryInRoot } from './rootfs-path.js';

/** What a tar entry says of the thing it makes. */
export interface Metadata {
  mode: number;
  uid: number;
  gid: number;
  atime: Date | undefined;
  mtime: Date | undefined;
}

/** Where something is: its host path, and its path inside the root (`/usr/lib/x`). */
export interface Place {
  hostPath: string;
  path: string;
}

/** A directory of the root as this layer last saw it; `removals` says when (see LayerRoot.removals). */
interface Seen extends Place {
  removals: number;
}

export class LayerRoot {
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

  constructor(
    /** The root filesystem's directory on the host. */
    readonly hostPath: string,
  ) {}

  /** The entry's parent directory, made inside the root if missing, and the entry's path in it. */
  async place(name: string, parent: readonly string[], base: string): Promise<Place> {
    const key = parent.join('/');
    let directory = this.parents.get(key);
    if (!directory) {
      // Usually the grandparent was walked already: only the last step is left.
      const above = this.parents.get(parent.slice(0, -1).join('/'));
      try {
        const made = above
          ? await makeDirectoryInRoot(this.hostPath, parent.at(-1) ?? '', 0o755, above.path)
          : await makeDirectoryInRoot(this.hostPath, key);
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

  /** Remembers the times of a directory this layer is about to change, to put them back at the end. */
  keepTimes({ hostPath, path }: Place, stats: Stats): void {
    if (this.keptTimes.has(path)) return;
    this.keptTimes.set(path, { hostPath, path, removals: this.removals, atime: stats.atimeMs / 1000, mtime: stats.mtimeMs / 1000 });
  }

  /** What the layer says of a directory, applied by `finish`; the last entry for a path wins. */
  setDirectoryMetadata(place: Place, meta: Metadata): void {
    this.directories.delete(place.path);
    this.directories.set(place.path, { ...place, removals: this.removals, meta });
  }

  /** Notes that this layer wrote `path`. */
  record(path: string): void {
    for (let p = path; p !== '/' && !this.written.has(p); p = p.slice(0, p.lastIndexOf('/')) || '/') this.written.add(p);
  }

  /** Whether this layer wrote `path` or something below it. */
  wrote(path: string): boolean {
    return this.written.has(path);
  }

  /** Runs `create`; when something is in the way, removes it without following it and runs `create` again. */
  replacing<T>(hostPath: string, create: () => T): T {
    try {
      return create();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    this.clear(hostPath, false);
    return create();
  }

  /** Runs `create`, and says false instead of failing when something is in the way. */
  created(create: () => unknown): boolean {
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
  clear(hostPath: string, keepDirectory: boolean): boolean {
    const existing = lstatSync(hostPath, { throwIfNoEntry: false });
    if (!existing) return false;
    if (existing.isDirectory() && keepDirectory) return true;
    this.remove(hostPath);
    return false;
  }

  /** Removes what is at `hostPath` without following it; every directory walked so far must be walked again. */
  remove(hostPath: string): void {
    this.removals++;
    this.parents.clear();
    rmSync(hostPath, { recursive: true, force: true });
  }

  /** Sets what the layer says of its directories, deepest first, and puts back the times of the others. */
  async finish(asRoot: boolean): Promise<void> {
    for (const [path, seen] of [...this.directories].reverse()) {
      const hostPath = await this.findAgain(path, seen);
      if (hostPath === undefined) continue;
      const { meta } = seen;
      if (asRoot) lchownSync(hostPath, meta.uid, meta.gid);
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
    const found = await lookupInRoot(this.hostPath, path, false);
    return found.found && found.path === path && found.stats.isDirectory() ? found.hostPath : undefined;
  }
}
