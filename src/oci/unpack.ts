// Applies one image layer — an uncompressed tar changeset — to a root filesystem the way the OCI
// image-spec `layer.md` says: node-tar parses the stream, and each entry in turn goes to the
// LayerApplier (`layer-entries.ts`), which alone touches the file system.
import { mkdir } from 'node:fs/promises';
import { Parser, type ReadEntry } from 'tar';
import { LayerError } from './errors.js';
import { LayerApplier, type ApplyLayerOptions, type LayerStats } from './layer-entries.js';

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

/**
 * Feeds `input` to node-tar's parser and hands each entry to `layer.apply`, one after another.
 * The parser emits the next entry only once the current one has ended, and a paused entry ends only
 * when read or resumed; so the input is read no faster than the entries are applied.
 */
async function readEntries(input: NodeJS.ReadableStream | AsyncIterable<Buffer>, signal: AbortSignal | undefined, layer: LayerApplier) {
  const parser = new Parser();
  // Boxed: a signal's reason may be any value, undefined included.
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const fail = (error: unknown): void => {
    failure ??= { error };
    wake?.();
  };
  const until = (event: 'drain' | 'end'): Promise<void> =>
    new Promise((resolve) => {
      if (failure !== undefined) {
        resolve();
        return;
      }
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
  parser.on('entry', (entry: ReadEntry) => {
    next(async () => {
      await layer.apply(entry);
      // Whatever was not read of it is discarded, and the parser moves on.
      entry.resume();
      await layer.giveTurn();
    });
  });
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    next(() => {
      layer.ignored(entry);
    });
  });
  let sawEnd = false;
  parser.on('eof', () => (sawEnd = true));
  parser.on('warn', (code: string, message: string) => {
    // Two zero blocks and nothing else is an empty layer, which images do have; node-tar warns of it.
    if (code === 'TAR_BAD_ARCHIVE' && sawEnd && layer.stats.entries === 0) return;
    fail(new LayerError(`The layer is not a valid tar archive: ${message}.`));
  });
  parser.on('error', (error: Error) => {
    fail(new LayerError(`The layer is not a valid tar archive: ${error.message}.`));
  });
  const onAbort = (): void => {
    fail(signal?.reason);
  };
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
  if (failure !== undefined) throw failure.error;
}
