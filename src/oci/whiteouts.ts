// Whiteouts (image-spec layer.md): `.wh.NAME` removes NAME and `.wh..wh..opq` everything in its
// directory, as far as the layers below put it there; what the layer itself writes there stays.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LAYER_REFUSED, LayerError } from './errors.js';
import type { LayerRoot } from './layer-root.js';
import { childPath, lookupInRoot } from './rootfs-path.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** aufs kept its own bookkeeping under this prefix (`.wh..wh.plnk`); it is not part of the image. */
const AUFS_METADATA_PREFIX = '.wh..wh.';

/** What the whiteout convention makes of an entry's name; undefined for an ordinary entry. */
export type WhiteoutName =
  { kind: 'inside-whiteout' } | { kind: 'opaque' } | { kind: 'aufs-metadata' } | { kind: 'whiteout'; hidden: string };

/** Reads an entry's name, its parent directory's components and its last one, as a whiteout would. */
export function whiteoutName(parent: readonly string[], base: string): WhiteoutName | undefined {
  if (parent.some((c) => c.startsWith(WHITEOUT_PREFIX))) return { kind: 'inside-whiteout' };
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque' };
  if (base.startsWith(AUFS_METADATA_PREFIX)) return { kind: 'aufs-metadata' };
  if (base.startsWith(WHITEOUT_PREFIX)) return { kind: 'whiteout', hidden: base.slice(WHITEOUT_PREFIX.length) };
  return undefined;
}

/** `.wh.NAME` in `parent`: NAME goes, as far as lower layers made it. */
export async function whiteout(root: LayerRoot, name: string, parent: readonly string[], hidden: string): Promise<void> {
  if (hidden === '' || hidden === '.' || hidden === '..') {
    throw new LayerError(`The whiteout "${name}" names "${hidden}", which is not an entry of its directory. ${LAYER_REFUSED}`, name);
  }
  const directory = await lookupInRoot(root.hostPath, parent.join('/'));
  if (!directory.found || !directory.stats.isDirectory()) return;
  root.keepTimes(directory, directory.stats);
  removeLower(root, childPath(directory.path, hidden), join(directory.hostPath, hidden));
}

/** `.wh..wh..opq` in `parent`: the directory keeps only what this layer puts in it, before or after the marker. */
export async function opaqueWhiteout(root: LayerRoot, parent: readonly string[]): Promise<void> {
  const directory = await lookupInRoot(root.hostPath, parent.join('/'));
  if (!directory.found || !directory.stats.isDirectory()) return;
  root.keepTimes(directory, directory.stats);
  for (const child of readdirSync(directory.hostPath)) {
    removeLower(root, childPath(directory.path, child), join(directory.hostPath, child));
  }
}

/** Removes `path` without following it, except what this layer wrote there and the directories above that. */
function removeLower(root: LayerRoot, path: string, hostPath: string): void {
  if (!root.wrote(path)) {
    root.remove(hostPath);
    return;
  }
  if (!lstatSync(hostPath, { throwIfNoEntry: false })?.isDirectory()) return;
  for (const child of readdirSync(hostPath)) removeLower(root, childPath(path, child), join(hostPath, child));
}
