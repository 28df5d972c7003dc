// Applies one image layer — an uncompressed tar changeset — to a root filesystem the way the OCI
// image-spec `layer.md` says: node-tar parses the stream (`tar-reader.ts`), and each entry in turn goes
// to the LayerApplier (`layer-entries.ts`), which alone touches the file system.
import { mkdir } from 'node:fs/promises';
import { LayerError } from './errors.js';
import { LayerApplier, type ApplyLayerOptions, type LayerStats } from './layer-entries.js';
import { eachEntry } from './tar-reader.js';

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
  await eachEntry(
    tar,
    async (entry) => {
      await layer.apply(entry);
      await layer.giveTurn();
    },
    (message) => new LayerError(`The layer is not a valid tar archive: ${message}.`),
    {
      // Layers are read as node-tar reads by default, leniently; its warnings still refuse a layer.
      strict: false,
      ignored: (entry) => {
        layer.ignored(entry);
      },
      // Two zero blocks and nothing else is an empty layer, which images do have; node-tar warns of it.
      tolerate: (code, sawEnd) => code === 'TAR_BAD_ARCHIVE' && sawEnd && layer.stats.entries === 0,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  await layer.finish();
  return layer.stats;
}
