// Pulls an image into a root filesystem: resolves the reference to a manifest (choosing the platform
// from an index), checks the size and digest of every manifest and blob as it streams, keeps what it
// verified in the blob cache, and applies the layers in order with applyLayer.
//
// A layer flows blob → digest → gunzip → tar entries → disk and is never held in memory. Up to
// PULL_CONCURRENCY layers download at once, each into a temporary file of the cache, while the layers
// before them are applied; the layer being applied is read from its file as the file grows, so
// applying starts before the download ends. Its last bytes are handed over only once the download
// verified, so a layer whose digest does not match fails the pull.
import { mkdir, open } from 'node:fs/promises';
import { Readable, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { BlobCache, defaultCacheDir, type BlobWrite } from './cache.js';
import { Verifier, digestOf, isDigest, shortDigest, splitDigest, type Expected } from './digest.js';
import { DigestMismatchError, LayerError, OciError, PullError, RegistryError } from './errors.js';
import type { ApplyLayerOptions, LayerStats } from './layer-entries.js';
import {
  MANIFEST_ACCEPT,
  MANIFEST_MAX_BYTES,
  choosePlatform,
  configPlatform,
  isImageConfig,
  layerPacking,
  parseManifest,
  type Descriptor,
  type Manifest,
} from './manifest.js';
import { formatPlatform, hostPlatform, parsePlatform, runsOn, type Platform } from './platform.js';
import { formatReference, type Reference } from './reference.js';
import { Transport } from './transport.js';
import { applyLayer } from './unpack.js';

/** Layers downloaded at once. */
export const PULL_CONCURRENCY = 3;
/** The largest image config read (they are a few kilobytes). */
const CONFIG_MAX_BYTES = 16 << 20;
/** Downloaded bytes are gathered up to this much before one write to disk. */
const WRITE_BATCH_BYTES = 1 << 20;
const READ_CHUNK_BYTES = 256 << 10;
/** zlib's output chunks: larger than its 16 kB default, so the tar parser and the file writes see fewer, larger pieces. */
const DECOMPRESSED_CHUNK_BYTES = 256 << 10;
/** An index may point to another index; a chain longer than this is refused rather than followed. */
const MAX_INDEX_DEPTH = 3;

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
}

export interface PullResult {
  /** What the reference resolved to, the digest `name@digest` pins: for a multi-platform image, its index's. */
  digest: string;
  /** The image manifest unpacked (the same as `digest` for a single-platform image). */
  manifestDigest: string;
  /** The platform chosen from the index; undefined for a single-platform image. */
  platform: string | undefined;
  layers: LayerStats[];
  /** Bytes of blobs downloaded (manifests not counted). */
  downloadedBytes: number;
  /** Layers taken from the cache. */
  cachedLayers: number;
}

/**
 * Pulls `ref` (tag `latest` when it names none) and unpacks its layers into `rootfs`, created if
 * missing; what `rootfs` already holds is unpacked over, as `tar -x` would. Throws a PullError or
 * DigestMismatchError for an image it cannot pull, RegistryError when a registry refuses or cannot be
 * reached, LayerError for a layer it refuses to unpack, the signal's reason when aborted.
 */
export async function pull(ref: Reference, rootfs: string, options: PullOptions = {}): Promise<PullResult> {
  return new Pull(ref, options).run(rootfs);
}

/** A manifest as fetched: its digest, its media type as the registry gave it (if it did) and its bytes. */
interface Fetched {
  digest: string;
  mediaType: string | undefined;
  bytes: Buffer;
}

class Pull {
  private readonly cache: BlobCache;
  private readonly transport: Transport;
  private readonly wanted: Platform;
  /** The reference in full, with its tag: `127.0.0.1:5000/library/busybox:1.36`. */
  private readonly name: string;
  private readonly signal: AbortSignal | undefined;
  private downloadedBytes = 0;

  constructor(
    private readonly ref: Reference,
    private readonly options: PullOptions,
  ) {
    this.cache = new BlobCache(options.cacheDir ?? defaultCacheDir());
    this.transport = options.transport ?? new Transport();
    this.wanted = options.platform === undefined ? hostPlatform() : parsePlatform(options.platform);
    this.ref = ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref;
    this.name = formatReference(this.ref);
    this.signal = options.signal;
  }

  async run(rootfs: string): Promise<PullResult> {
    const top = await this.resolve();
    let manifest = parseManifest(top.bytes, top.mediaType, this.name);
    let manifestDigest = top.digest;
    let platform: string | undefined;
    for (let depth = 0; manifest.kind === 'index'; depth++) {
      if (depth === MAX_INDEX_DEPTH)
        throw new PullError(`The index of ${this.name} points to further indexes more than ${MAX_INDEX_DEPTH} deep.`);
      const entry = this.choose(manifest);
      platform = entry.platform ? formatPlatform(entry.platform) : undefined;
      const fetched = await this.manifest(entry);
      manifest = parseManifest(fetched.bytes, fetched.mediaType, `${this.name} for ${platform ?? 'its only platform'}`);
      manifestDigest = entry.digest;
    }
    await this.checkConfig(manifest);
    // Layers ocilab cannot unpack are refused before anything is downloaded.
    manifest.layers.forEach((layer, i) => {
      const name = this.layerName(i, manifest.layers.length, layer);
      if (layerPacking(layer, name) === 'zstd' && !createZstdDecompress) throw zstdMissing(name);
    });
    const layers = await this.layersToPull(manifest.layers);
    this.options.onProgress?.({ type: 'image', reference: this.name, digest: top.digest, platform, layers });
    // Made even for an image without layers, as promised.
    await mkdir(rootfs, { recursive: true });
    const stats = await this.applyLayers(layers, rootfs);
    return {
      digest: top.digest,
      manifestDigest,
      platform,
      layers: stats,
      downloadedBytes: this.downloadedBytes,
      cachedLayers: layers.filter((l) => l.cached).length,
    };
  }

  // ---- manifests ---------------------------------------------------------------------------------

  /**
   * The manifest the reference names. By digest: from the cache when it is there, asking nothing.
   * By tag: when the cache knows the tag, a HEAD request learns what the tag names now, and a manifest
   * already cached is not downloaded again; otherwise, or when the registry does not say, a GET.
   */
  private async resolve(): Promise<Fetched> {
    const { ref } = this;
    if (ref.digest !== undefined) {
      const cached = await this.cache.read(ref.digest);
      if (cached) return { digest: ref.digest, mediaType: undefined, bytes: cached };
      if (this.options.offline) throw this.offlineMiss(`the manifest ${ref.digest}`);
      return this.fetchManifest(ref.digest, { digest: ref.digest, size: undefined });
    }
    const tag = ref.tag as string;
    const record = await this.cache.readTag(ref);
    if (this.options.offline) {
      if (!record) {
        throw new PullError(
          `--offline: ${this.name} was never pulled with this cache (${this.cache.dir}), so ocilab does not know which image the tag ${tag} names. Pull it once without --offline, with the same cache directory (XDG_CACHE_HOME).`,
        );
      }
      const bytes = await this.cache.read(record.digest, record.size);
      if (!bytes) throw this.offlineMiss(`the manifest ${record.digest} the tag ${tag} named`);
      return { digest: record.digest, mediaType: record.mediaType, bytes };
    }
    try {
      if (record) {
        const current = await this.headManifest(tag);
        const bytes = current && (await this.cache.read(current.digest));
        if (current && bytes) {
          if (current.digest !== record.digest) {
            this.tagMoved(tag, record.digest, current.digest);
            await this.rememberTag(tag, current.digest, current.mediaType ?? record.mediaType, bytes.length);
          }
          return { digest: current.digest, mediaType: current.mediaType ?? record.mediaType, bytes };
        }
      }
      const fetched = await this.fetchManifest(tag, undefined);
      if (record && record.digest !== fetched.digest) this.tagMoved(tag, record.digest, fetched.digest);
      const mediaType = fetched.mediaType ?? parseManifest(fetched.bytes, undefined, this.name).mediaType;
      await this.rememberTag(tag, fetched.digest, mediaType, fetched.bytes.length);
      return fetched;
    } catch (error) {
      throw record ? withOfflineHint(error, record.pulledAt) : error;
    }
  }

  /** What the tag names now, from a HEAD request; undefined when the registry does not say or refuses (the GET then says why). */
  private async headManifest(tag: string): Promise<{ digest: string; mediaType: string | undefined } | undefined> {
    let response: Response;
    try {
      response = await this.transport.request(this.ref, `manifests/${tag}`, this.init('HEAD'));
    } catch (error) {
      if (error instanceof RegistryError && error.status !== undefined) return undefined;
      throw error;
    }
    await response.body?.cancel().catch(() => undefined);
    const digest = response.headers.get('docker-content-digest');
    if (digest === null || !isDigest(digest)) return undefined;
    return { digest, mediaType: mediaTypeOf(response) };
  }

  /** GET a manifest, verified against `expected` (by digest) or against the digest the registry states. */
  private async fetchManifest(reference: string, expected: Expected | undefined): Promise<Fetched> {
    const what = expected ? `the manifest ${expected.digest} of ${this.name}` : `the manifest of ${this.name}`;
    const response = await this.transport.request(this.ref, `manifests/${reference}`, this.init('GET'));
    const stated = response.headers.get('docker-content-digest');
    const bytes = await readAll(response, MANIFEST_MAX_BYTES, what, expected);
    let digest: string;
    if (expected) digest = expected.digest;
    else if (stated !== null && isDigest(stated)) {
      digest = digestOf(bytes, splitDigest(stated).algorithm);
      if (digest !== stated) {
        throw new DigestMismatchError(
          `${this.ref.host} states that ${what} has the digest ${stated}, but what arrived has the digest ${digest}. The registry or a proxy on the way is serving corrupt data.`,
          stated,
          digest,
        );
      }
    } else digest = digestOf(bytes);
    await this.cache.put(digest, bytes);
    return { digest, mediaType: mediaTypeOf(response), bytes };
  }

  /** A manifest an index names, from the cache or the registry, verified against its descriptor. */
  private async manifest(entry: Descriptor): Promise<Fetched> {
    const cached = await this.cache.read(entry.digest, entry.size);
    if (cached) return { digest: entry.digest, mediaType: entry.mediaType, bytes: cached };
    if (this.options.offline) throw this.offlineMiss(`the manifest ${entry.digest}`);
    const fetched = await this.fetchManifest(entry.digest, entry);
    return { ...fetched, mediaType: fetched.mediaType ?? entry.mediaType };
  }

  private choose(index: Extract<Manifest, { kind: 'index' }>): Descriptor {
    const { chosen, available } = choosePlatform(index.manifests, this.wanted);
    if (chosen) return chosen;
    const has = available.length > 0 ? `only for ${available.join(', ')}` : 'for no platform at all';
    throw new PullError(
      `${this.name} has no image for ${formatPlatform(this.wanted)}: it has images ${has}. Choose one with --platform, or use another image.`,
    );
  }

  private tagMoved(tag: string, before: string, now: string): void {
    this.options.onNote?.(`The tag ${tag} has moved since the last pull: it named ${before}, and names ${now} now.`);
  }

  private async rememberTag(tag: string, digest: string, mediaType: string, size: number): Promise<void> {
    await this.cache.writeTag({ ...this.ref, tag }, { digest, mediaType, size, pulledAt: new Date().toISOString() });
  }

  // ---- config ------------------------------------------------------------------------------------

  /** Fetches and verifies the config; an artifact that is not an image, or an image for another platform, is named. */
  private async checkConfig(manifest: Extract<Manifest, { kind: 'image' }>): Promise<void> {
    const { config } = manifest;
    if (!isImageConfig(config.mediaType)) {
      throw new PullError(
        `${this.name} is not a container image: its config is of the type ${config.mediaType} (an artifact such as a Helm chart or a signature), so it has no root filesystem to unpack.`,
      );
    }
    let bytes = await this.cache.read(config.digest, config.size);
    if (!bytes) {
      if (this.options.offline) throw this.offlineMiss(`the config ${config.digest}`);
      if (config.size > CONFIG_MAX_BYTES)
        throw new PullError(`The config of ${this.name} is ${config.size} bytes, more than an image config ever is.`);
      const what = `the config of ${this.name}`;
      const response = await this.transport.request(this.ref, `blobs/${config.digest}`, this.init('GET'));
      bytes = await readAll(response, CONFIG_MAX_BYTES, what, config);
      await this.cache.put(config.digest, bytes);
    }
    const platform = configPlatform(bytes);
    if (platform && !runsOn(platform, this.wanted)) {
      this.options.onNote?.(
        `${this.name} is an image for ${formatPlatform(platform)}, not ${formatPlatform(this.wanted)}: its programs may not run here.`,
      );
    }
  }

  // ---- layers ------------------------------------------------------------------------------------

  private async layersToPull(layers: readonly Descriptor[]): Promise<PullLayer[]> {
    const pulled = await Promise.all(
      layers.map(async (l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, cached: await this.cache.has(l.digest, l.size) })),
    );
    const missing = pulled.filter((l) => !l.cached);
    if (this.options.offline && missing.length > 0) {
      throw this.offlineMiss(`${missing.length} of the ${layers.length} layers (${missing.map((l) => l.digest).join(', ')})`);
    }
    return pulled;
  }

  private async applyLayers(layers: readonly PullLayer[], rootfs: string): Promise<LayerStats[]> {
    const downloads = new AbortController();
    const stop = () => downloads.abort(this.signal?.reason);
    this.signal?.addEventListener('abort', stop);
    const blobs = layers.map((layer, i) => new LayerBlob(layer, i, this.layerName(i, layers.length, layer)));
    const running: Promise<void>[] = [];
    let next = 0;
    let active = 0;
    const startDownloads = (): void => {
      while (active < PULL_CONCURRENCY && next < blobs.length) {
        const blob = blobs[next++] as LayerBlob;
        if (blob.layer.cached) {
          blob.ready(this.cache.blobPath(blob.layer.digest));
          continue;
        }
        active++;
        running.push(
          this.download(blob, downloads.signal).finally(() => {
            active--;
            if (!downloads.signal.aborted) startDownloads();
          }),
        );
      }
    };
    const stats: LayerStats[] = [];
    try {
      startDownloads();
      for (const blob of blobs) stats.push(await this.applyOne(blob, rootfs));
      return stats;
    } finally {
      // Downloads still going after a failure are stopped; each removes its temporary file.
      downloads.abort(this.signal?.reason ?? new Error('the pull failed'));
      await Promise.allSettled(running);
      this.signal?.removeEventListener('abort', stop);
    }
  }

  /** Downloads one layer into a temporary file of the cache, verifying as it goes; renamed into the cache once verified. */
  private async download(blob: LayerBlob, signal: AbortSignal): Promise<void> {
    const { digest, size } = blob.layer;
    const started = performance.now();
    let write: BlobWrite | undefined;
    try {
      write = await this.cache.create(digest);
      blob.downloading(write.path);
      const verifier = new Verifier({ digest, size }, blob.name);
      const response = await this.transport.request(this.ref, `blobs/${digest}`, { method: 'GET', signal });
      this.options.onProgress?.({ type: 'layer-download', layer: blob.index, received: 0 });
      let batch: Buffer[] = [];
      let batched = 0;
      const flush = async () => {
        await write?.write(batch);
        this.downloadedBytes += batched;
        blob.grew();
        this.options.onProgress?.({ type: 'layer-download', layer: blob.index, received: verifier.bytes });
        batch = [];
        batched = 0;
      };
      for await (const chunk of response.body ?? []) {
        const bytes = chunk as Uint8Array;
        verifier.update(bytes);
        batch.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        batched += bytes.byteLength;
        if (batched >= WRITE_BATCH_BYTES) await flush();
      }
      if (batched > 0) await flush();
      verifier.finish();
      await write.commit();
      blob.ready(this.cache.blobPath(digest));
      this.options.onProgress?.({ type: 'layer-downloaded', layer: blob.index, seconds: (performance.now() - started) / 1000 });
    } catch (error) {
      await write?.discard();
      blob.failed(error);
    }
  }

  private async applyOne(blob: LayerBlob, rootfs: string): Promise<LayerStats> {
    const started = performance.now();
    const chunks = this.readBlob(blob);
    let input: Unpacking | undefined;
    try {
      input = await unpacking(chunks, blob.name);
      const stats = await applyLayer(input.stream, rootfs, {
        ...(this.signal ? { signal: this.signal } : {}),
        ...(this.options.onNote ? { onNote: this.options.onNote } : {}),
        ...(this.options.makeSpecialFile ? { makeSpecialFile: this.options.makeSpecialFile } : {}),
      });
      this.options.onProgress?.({ type: 'layer-unpacked', layer: blob.index, stats, seconds: (performance.now() - started) / 1000 });
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

  /**
   * The bytes of a layer's blob, read from its file while the download writes it. The reader waits for
   * more when it has caught up, and ends only once the download verified every byte.
   */
  private async *readBlob(blob: LayerBlob): AsyncGenerator<Buffer, void, undefined> {
    while (blob.state() === 'waiting') await blob.changed();
    if (blob.state() === 'failed') throw blob.error;
    // Between our look and the open, the download may have moved its file into the cache, or removed
    // it after failing: then its outcome says where the bytes are, or what went wrong.
    const file = await open(blob.path as string, 'r').catch(async () => {
      await blob.settled();
      if (blob.state() === 'failed') throw blob.error;
      return open(blob.path as string, 'r');
    });
    let position = 0;
    try {
      for (;;) {
        this.signal?.throwIfAborted();
        const verified = blob.state() === 'ready';
        const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
        const { bytesRead } = await file.read(buffer, 0, READ_CHUNK_BYTES, position);
        if (bytesRead > 0) {
          position += bytesRead;
          this.options.onProgress?.({ type: 'layer-unpack', layer: blob.index, read: position });
          yield buffer.subarray(0, bytesRead);
          continue;
        }
        if (verified) {
          if (position === blob.layer.size) return;
          // A cached file that is shorter than it was: damaged since it was verified.
          await this.cache.remove(blob.layer.digest);
          throw new PullError(
            `The cached copy of ${blob.name} is damaged (${position} of ${blob.layer.size} bytes); it was removed: pull again.`,
          );
        }
        const state = blob.state();
        if (state === 'failed') throw blob.error;
        // Caught up with the download: wait for more, unless it finished since the read.
        if (state === 'downloading') await blob.changed();
      }
    } finally {
      await file.close();
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
    const code = String((error as { code?: unknown }).code ?? '');
    const message = error instanceof Error ? error.message : String(error);
    if (code.startsWith('Z_') || code.startsWith('ERR_ZLIB'))
      return new PullError(`${blob.name} is not valid compressed data: ${message}.`);
    if (/^E[A-Z]+$/.test(code)) return new PullError(`Could not unpack ${blob.name} into ${rootfs}: ${message}.`);
    return error;
  }

  // ---- shared ------------------------------------------------------------------------------------

  private init(method: 'GET' | 'HEAD') {
    return { method, accept: MANIFEST_ACCEPT, ...(this.signal ? { signal: this.signal } : {}) };
  }

  private layerName(index: number, count: number, layer: { digest: string }): string {
    return `layer ${index + 1} of ${count} (${shortDigest(layer.digest)}) of ${this.name}`;
  }

  private offlineMiss(what: string): PullError {
    return new PullError(
      `--offline: the cache (${this.cache.dir}) does not hold ${what}, which ${this.name} needs. Pull the image once without --offline, with the same cache directory (XDG_CACHE_HOME).`,
    );
  }
}

/** Where one layer's blob is: waiting to be downloaded, being written to `path`, or complete (verified) at `path`. */
class LayerBlob {
  private status: 'waiting' | 'downloading' | 'ready' | 'failed' = 'waiting';
  path: string | undefined;
  error: unknown;
  private wake!: () => void;
  private change!: Promise<void>;

  constructor(
    readonly layer: PullLayer,
    readonly index: number,
    readonly name: string,
  ) {
    this.rearm();
  }

  /** Read through a method, as it changes while a reader waits. */
  state(): 'waiting' | 'downloading' | 'ready' | 'failed' {
    return this.status;
  }

  /** Resolves once the download verified or failed. */
  async settled(): Promise<void> {
    while (this.status === 'downloading' || this.status === 'waiting') await this.change;
  }

  /** Resolves at the next change of state or length. */
  changed(): Promise<void> {
    return this.change;
  }

  downloading(path: string): void {
    this.path = path;
    this.status = 'downloading';
    this.notify();
  }

  grew(): void {
    this.notify();
  }

  ready(path?: string): void {
    if (path !== undefined) this.path = path;
    this.status = 'ready';
    this.notify();
  }

  failed(error: unknown): void {
    this.error = error;
    this.status = 'failed';
    this.notify();
  }

  private notify(): void {
    this.wake();
    this.rearm();
  }

  private rearm(): void {
    this.change = new Promise((resolve) => (this.wake = resolve));
  }
}

/** A layer's tar stream, uncompressed, and how to stop it. */
interface Unpacking {
  stream: NodeJS.ReadableStream | AsyncIterable<Buffer>;
  close(): void;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** zstd arrived in Node's zlib in 22.15 and 23.8; on Node 20 it is not there. */
const createZstdDecompress = (zlib as { createZstdDecompress?: () => Transform }).createZstdDecompress;

/**
 * Uncompresses a layer. The first bytes decide, as containerd's decompression does: registries
 * sometimes label a gzip layer as plain tar and the other way round (the media type was only used to
 * refuse what cannot be unpacked before anything was downloaded).
 */
async function unpacking(chunks: AsyncGenerator<Buffer, void, undefined>, what: string): Promise<Unpacking> {
  const head: Buffer[] = [];
  let length = 0;
  while (length < ZSTD_MAGIC.length) {
    const next = await chunks.next();
    if (next.done) break;
    head.push(next.value);
    length += next.value.length;
  }
  const start = Buffer.concat(head);
  const whole = (async function* () {
    if (start.length > 0) yield start;
    yield* chunks;
  })();
  let decompress: Transform;
  if (start.subarray(0, 2).equals(GZIP_MAGIC)) decompress = zlib.createGunzip({ chunkSize: DECOMPRESSED_CHUNK_BYTES });
  else if (start.subarray(0, 4).equals(ZSTD_MAGIC)) {
    if (!createZstdDecompress) throw zstdMissing(what);
    decompress = createZstdDecompress();
  } else return { stream: whole, close: () => void whole.return(undefined).catch(() => undefined) };
  const raw = Readable.from(whole);
  raw.on('error', (error) => decompress.destroy(error));
  // The reader of `decompress` gets its errors; one that comes after it stopped reading has nobody to go to.
  decompress.on('error', () => undefined);
  raw.pipe(decompress);
  return {
    stream: decompress,
    close() {
      raw.destroy();
      decompress.destroy();
    },
  };
}

function zstdMissing(what: string): PullError {
  return new PullError(
    `${what} is compressed with zstd (application/vnd.oci.image.layer.v1.tar+zstd), which Node.js ${process.versions.node} cannot uncompress (Node.js 22.15 and later can). Use a variant of the image with gzip layers, or run ocilab with a newer Node.js.`,
  );
}

/** The whole body of a small response, at most `limit` bytes, verified against `expected` when given. */
async function readAll(response: Response, limit: number, what: string, expected: Expected | undefined): Promise<Buffer> {
  const verifier = expected ? new Verifier(expected, what) : undefined;
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response.body ?? []) {
    const bytes = chunk as Uint8Array;
    verifier?.update(bytes);
    length += bytes.byteLength;
    if (length > limit) {
      await response.body?.cancel().catch(() => undefined);
      throw new PullError(`${what} is larger than ${limit >> 20} MiB, far more than it should be; refusing to read it.`);
    }
    chunks.push(Buffer.from(bytes));
  }
  verifier?.finish();
  return Buffer.concat(chunks);
}

/** The Content-Type without its parameters, unless it is missing or says nothing (`application/json`, `text/plain`). */
function mediaTypeOf(response: Response): string | undefined {
  const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  return type && type.startsWith('application/vnd.') ? type : undefined;
}

/** A registry that cannot be reached, while the cache holds the image: say how to use it. */
function withOfflineHint(error: unknown, pulledAt: string): unknown {
  if (!(error instanceof RegistryError) || error.status !== undefined) return error;
  return new RegistryError(`${error.message} The cache holds this tag as it was on ${pulledAt}: add --offline to use that.`, {
    errors: error.errors,
  });
}
