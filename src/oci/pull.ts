// Pulls an image into a root filesystem: the reference resolved to an image manifest (`resolve.ts`),
// then its layers downloaded into the blob cache and applied in order with applyLayer; and, when asked,
// copied from the cache into an OCI image layout (`layout.ts`).
//
// A layer flows blob → digest → gunzip → tar entries → disk and is never held in memory. Up to
// PULL_CONCURRENCY layers download at once, each into a temporary file of the cache, while the layers
// before them are applied; the layer being applied is read from its file as the file grows, so
// applying starts before the download ends (`layer-blob.ts`). Its last bytes are handed over only once
// the download verified, so a layer whose digest does not match fails the pull.
import { mkdir } from 'node:fs/promises';
import { BlobCache, defaultCacheDir } from './cache.js';
import { checkUncompressible, uncompressed, type Uncompressed } from './compression.js';
import { shortDigest } from './digest.js';
import { DigestMismatchError, LayerError, OciError, PullError } from './errors.js';
import { LayerBlob, downloadBlob, readBlob } from './layer-blob.js';
import type { ApplyLayerOptions, LayerStats } from './layer-entries.js';
import { writeLayout, type LayoutTarget } from './layout.js';
import { layerPacking, type Descriptor } from './manifest.js';
import { hostPlatform, parsePlatform } from './platform.js';
import { formatReference, type Reference } from './reference.js';
import { offlineMiss, resolveImage, type ImageSource } from './resolve.js';
import { Transport } from './transport.js';
import { applyLayer } from './unpack.js';

/** Layers downloaded at once. */
export const PULL_CONCURRENCY = 3;

/** One layer as the pull announces it. */
export interface PullLayer {
  digest: string;
  /** Bytes of the blob (compressed). */
  size: number;
  mediaType: string;
  /** Already in the cache: nothing to download. */
  cached: boolean;
}

/** What a pull reports as it goes; `layer` is the index into `layers` of the `image` event. */
export type PullEvent =
  | { type: 'image'; reference: string; digest: string; platform: string | undefined; layers: readonly PullLayer[] }
  | { type: 'layer-download'; layer: number; received: number }
  | { type: 'layer-downloaded'; layer: number; seconds: number }
  | { type: 'layer-unpack'; layer: number; read: number }
  | { type: 'layer-unpacked'; layer: number; stats: LayerStats; seconds: number };

export interface PullOptions {
  /** Reused across calls, it keeps its tokens; by default a new one that allows HTTP only for loopback. */
  transport?: Transport;
  /** `linux/amd64`, `linux/arm64/v8`; by default this machine's. */
  platform?: string;
  /** Default `$XDG_CACHE_HOME/ocilab`. */
  cacheDir?: string;
  /** Use only what the cache holds; ask no registry. */
  offline?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: PullEvent) => void;
  /** Told, in a sentence, what the user should know: entries skipped, a tag that moved, a platform that differs. */
  onNote?: (message: string) => void;
  makeSpecialFile?: ApplyLayerOptions['makeSpecialFile'];
  /** Also write the image (manifest, config, layers as the registry has them) into this OCI image layout. */
  layout?: LayoutTarget;
}

export interface PullResult {
  /** What the reference resolved to, the digest `name@digest` pins: for a multi-platform image, its index's. */
  digest: string;
  /** The image manifest unpacked (the same as `digest` for a single-platform image). */
  manifestDigest: string;
  /** The platform chosen from the index; undefined for a single-platform image. */
  platform: string | undefined;
  /** One per layer applied: none without a rootfs. */
  layers: LayerStats[];
  /** Bytes of blobs downloaded (manifests not counted). */
  downloadedBytes: number;
  /** Layers taken from the cache. */
  cachedLayers: number;
}

/**
 * Pulls `ref` (tag `latest` when it names none) and unpacks its layers into `rootfs`, created if
 * missing; what `rootfs` already holds is unpacked over, as `tar -x` would. Without `rootfs` the layers
 * are only downloaded (for `options.layout`). Throws a PullError or
 * DigestMismatchError for an image it cannot pull, RegistryError when a registry refuses or cannot be
 * reached, LayerError for a layer it refuses to unpack, the signal's reason when aborted.
 */
export async function pull(ref: Reference, rootfs: string | undefined, options: PullOptions = {}): Promise<PullResult> {
  return new Pull(ref, options).run(rootfs);
}

/** A layer of this pull: what it announced, and its blob. */
interface Job {
  layer: PullLayer;
  index: number;
  blob: LayerBlob;
}

class Pull {
  private readonly source: ImageSource;
  private readonly signal: AbortSignal | undefined;

  constructor(
    ref: Reference,
    private readonly options: PullOptions,
  ) {
    const named = ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref;
    this.source = {
      ref: named,
      name: formatReference(named),
      cache: new BlobCache(options.cacheDir ?? defaultCacheDir()),
      transport: options.transport ?? new Transport(),
      wanted: options.platform === undefined ? hostPlatform() : parsePlatform(options.platform),
      offline: options.offline ?? false,
      signal: options.signal,
      onNote: options.onNote,
    };
    this.signal = options.signal;
  }

  async run(rootfs: string | undefined): Promise<PullResult> {
    const image = await resolveImage(this.source);
    const descriptors = image.manifest.layers;
    // Layers ocilab cannot unpack are refused before anything is downloaded.
    descriptors.forEach((layer, i) => {
      const name = this.layerName(i, descriptors.length, layer);
      checkUncompressible(layerPacking(layer, name), name);
    });
    const layers = await this.layersToPull(descriptors);
    this.options.onProgress?.({ type: 'image', reference: this.source.name, digest: image.digest, platform: image.platform, layers });
    // Made even for an image without layers, as promised.
    if (rootfs !== undefined) await mkdir(rootfs, { recursive: true });
    const stats = await this.applyLayers(layers, rootfs);
    if (this.options.layout) {
      const { manifest } = image;
      const bytes = await this.source.cache.read(image.manifestDigest);
      if (!bytes) throw new PullError(`The manifest ${image.manifestDigest} of ${this.source.name} is missing from the cache: pull again.`);
      await writeLayout(
        this.source.cache,
        this.options.layout,
        {
          manifest: { mediaType: manifest.mediaType, bytes },
          blobs: [manifest.config, ...descriptors],
        },
        this.signal,
      );
    }
    const downloaded = layers.filter((l) => !l.cached);
    return {
      digest: image.digest,
      manifestDigest: image.manifestDigest,
      platform: image.platform,
      layers: stats,
      // Each layer applied was verified whole, so each one not in the cache came down in full.
      downloadedBytes: downloaded.reduce((sum, l) => sum + l.size, 0),
      cachedLayers: layers.length - downloaded.length,
    };
  }

  private async layersToPull(layers: readonly Descriptor[]): Promise<PullLayer[]> {
    const { cache } = this.source;
    const pulled = await Promise.all(
      layers.map(async (l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, cached: await cache.has(l.digest, l.size) })),
    );
    const missing = pulled.filter((l) => !l.cached);
    if (this.source.offline && missing.length > 0) {
      throw offlineMiss(this.source, `${missing.length} of the ${layers.length} layers (${missing.map((l) => l.digest).join(', ')})`);
    }
    return pulled;
  }

  private async applyLayers(layers: readonly PullLayer[], rootfs: string | undefined): Promise<LayerStats[]> {
    const downloads = new AbortController();
    const stop = (): void => {
      downloads.abort(this.signal?.reason);
    };
    this.signal?.addEventListener('abort', stop);
    const jobs: Job[] = layers.map((layer, index) => ({
      layer,
      index,
      blob: new LayerBlob(layer.digest, layer.size, this.layerName(index, layers.length, layer)),
    }));
    const queue = [...jobs];
    const running: Promise<void>[] = [];
    let active = 0;
    const startDownloads = (): void => {
      while (active < PULL_CONCURRENCY) {
        const job = queue.shift();
        if (!job) return;
        if (job.layer.cached) {
          job.blob.ready(this.source.cache.blobPath(job.layer.digest));
          continue;
        }
        active++;
        running.push(
          this.download(job, downloads.signal).finally(() => {
            active--;
            if (!downloads.signal.aborted) startDownloads();
          }),
        );
      }
    };
    const stats: LayerStats[] = [];
    try {
      startDownloads();
      for (const job of jobs) {
        if (rootfs !== undefined) stats.push(await this.applyOne(job, rootfs));
        else await this.downloaded(job);
      }
      return stats;
    } finally {
      // Downloads still going after a failure are stopped; each removes its temporary file.
      downloads.abort(this.signal?.reason ?? new Error('the pull failed'));
      await Promise.allSettled(running);
      this.signal?.removeEventListener('abort', stop);
    }
  }

  /** Downloads one layer into the cache; how it went is the blob's state. */
  private download({ blob, index }: Job, signal: AbortSignal): Promise<void> {
    const { transport, ref, cache } = this.source;
    const started = performance.now();
    const get = () => transport.request(ref, `blobs/${blob.digest}`, { method: 'GET', signal });
    const onProgress = this.options.onProgress;
    return downloadBlob(blob, cache, get, {
      received(received) {
        onProgress?.({ type: 'layer-download', layer: index, received });
      },
      verified() {
        onProgress?.({ type: 'layer-downloaded', layer: index, seconds: (performance.now() - started) / 1000 });
      },
    });
  }

  /** Waits for a layer that is only downloaded, not applied; a failed download fails the pull. */
  private async downloaded({ blob }: Job): Promise<void> {
    await blob.settled();
    if (blob.state() === 'failed') throw this.signal?.aborted ? this.signal.reason : blob.error;
  }

  private async applyOne({ blob, index }: Job, rootfs: string): Promise<LayerStats> {
    const started = performance.now();
    const onRead = (read: number): void => {
      this.options.onProgress?.({ type: 'layer-unpack', layer: index, read });
    };
    const chunks = readBlob(blob, this.source.cache, this.signal, onRead);
    let input: Uncompressed | undefined;
    try {
      input = await uncompressed(chunks, blob.name);
      const stats = await applyLayer(input.stream, rootfs, {
        ...(this.signal ? { signal: this.signal } : {}),
        ...(this.options.onNote ? { onNote: this.options.onNote } : {}),
        ...(this.options.makeSpecialFile ? { makeSpecialFile: this.options.makeSpecialFile } : {}),
      });
      this.options.onProgress?.({ type: 'layer-unpacked', layer: index, stats, seconds: (performance.now() - started) / 1000 });
      return stats;
    } catch (error) {
      // Bytes that fail to unpack may be bytes that failed to arrive intact: the download's verdict explains more.
      if (!this.signal?.aborted) await blob.settled();
      throw this.layerFailure(blob.state() === 'failed' ? blob.error : error, blob, rootfs);
    } finally {
      input?.close();
      // Not awaited: a read waiting for the download ends when the download does (it is stopped after a failure).
      chunks.return(undefined).catch(() => undefined);
    }
  }

  /** The error a layer failed with, saying which layer; the signal's reason passes unchanged. */
  private layerFailure(error: unknown, blob: LayerBlob, rootfs: string): unknown {
    if (this.signal?.aborted) return this.signal.reason;
    if (error instanceof DigestMismatchError) {
      return new DigestMismatchError(
        `${error.message} ${rootfs} may hold part of that unverified layer: delete it before you pull again.`,
        error.expected,
        error.actual,
      );
    }
    if (error instanceof LayerError) return new LayerError(`In ${blob.name}: ${error.message}`, error.entry);
    if (error instanceof OciError) return error;
    const code = errorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    if (code.startsWith('Z_') || code.startsWith('ERR_ZLIB'))
      return new PullError(`${blob.name} is not valid compressed data: ${message}.`);
    if (/^E[A-Z]+$/.test(code)) return new PullError(`Could not unpack ${blob.name} into ${rootfs}: ${message}.`);
    return error;
  }

  private layerName(index: number, count: number, layer: { digest: string }): string {
    return `layer ${index + 1} of ${count} (${shortDigest(layer.digest)}) of ${this.source.name}`;
  }
}

/** The `code` of a Node.js or zlib error (`ENOSPC`, `Z_DATA_ERROR`), or ''. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : '';
}
