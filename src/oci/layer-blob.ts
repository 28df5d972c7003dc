// A layer's blob on its way into the cache, read while it downloads: the download writes a temporary
// file of the cache, verifying as it goes, and the reader follows that file as it grows. The reader gets
// its last bytes only once the download verified the digest, so an unverified layer never finishes.
import { open } from 'node:fs/promises';
import type { BlobCache, BlobWrite } from './cache.js';
import { Verifier } from './digest.js';
import { PullError } from './errors.js';

/** Downloaded bytes are gathered up to this much before one write to disk. */
const WRITE_BATCH_BYTES = 1 << 20;
const READ_CHUNK_BYTES = 256 << 10;

type BlobState = 'waiting' | 'downloading' | 'ready' | 'failed';

/** Where one layer's blob is: waiting to be downloaded, being written to `path`, or complete (verified) at `path`. */
export class LayerBlob {
  private status: BlobState = 'waiting';
  path: string | undefined;
  error: unknown;
  private wake: () => void = () => undefined;
  private change: Promise<void>;

  constructor(
    readonly digest: string,
    /** Bytes, as the manifest says. */
    readonly size: number,
    /** The layer in a sentence: `layer 2 of 3 (sha256:0123456789ab) of docker.io/library/busybox:1.36`. */
    readonly name: string,
  ) {
    this.change = this.nextChange();
  }

  /** Read through a method, as it changes while a reader waits. */
  state(): BlobState {
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
    this.change = this.nextChange();
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }
}

/** What a download tells as it goes. */
export interface DownloadListener {
  /** Bytes received and written so far: 0 once the registry answered, then after each write. */
  received(bytes: number): void;
  /** The blob is verified and in the cache. */
  verified(): void;
}

/**
 * Downloads the blob from the response `get` resolves to, into a temporary file of the cache, verifying
 * as it goes; renamed into the cache once verified. Never rejects: the blob's state says how it went.
 */
export async function downloadBlob(
  blob: LayerBlob,
  cache: BlobCache,
  get: () => Promise<Response>,
  listener: DownloadListener,
): Promise<void> {
  let write: BlobWrite | undefined;
  try {
    const file = await cache.create(blob.digest);
    write = file;
    blob.downloading(file.path);
    const verifier = new Verifier({ digest: blob.digest, size: blob.size }, blob.name);
    const response = await get();
    listener.received(0);
    let batch: Buffer[] = [];
    let batched = 0;
    const flush = async () => {
      await file.write(batch);
      blob.grew();
      listener.received(verifier.bytes);
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
    await file.commit();
    blob.ready(cache.blobPath(blob.digest));
    listener.verified();
  } catch (error) {
    await write?.discard();
    blob.failed(error);
  }
}

/**
 * The bytes of a layer's blob, read from its file while the download writes it. The reader waits for
 * more when it has caught up, and ends only once the download verified every byte. `onRead` hears how
 * far it has read.
 */
export async function* readBlob(
  blob: LayerBlob,
  cache: BlobCache,
  signal: AbortSignal | undefined,
  onRead: (bytes: number) => void,
): AsyncGenerator<Buffer, void, undefined> {
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
      signal?.throwIfAborted();
      const verified = blob.state() === 'ready';
      const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const { bytesRead } = await file.read(buffer, 0, READ_CHUNK_BYTES, position);
      if (bytesRead > 0) {
        position += bytesRead;
        onRead(position);
        yield buffer.subarray(0, bytesRead);
        continue;
      }
      if (verified) {
        if (position === blob.size) return;
        // A cached file that is shorter than it was: damaged since it was verified.
        await cache.remove(blob.digest);
        throw new PullError(`The cached copy of ${blob.name} is damaged (${position} of ${blob.size} bytes); it was removed: pull again.`);
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
