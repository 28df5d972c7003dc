// How a layer is compressed, told by its first bytes (gzip, zstd, or a plain tar), and the stream
// that uncompresses it. zstd needs a Node.js that has it, which is checked before a pull downloads.
import { Readable, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { PullError } from './errors.js';
import type { LayerPacking } from './manifest.js';

/** zlib's output chunks: larger than its 16 kB default, so the tar parser and the file writes see fewer, larger pieces. */
const DECOMPRESSED_CHUNK_BYTES = 256 << 10;

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** zstd arrived in Node's zlib in 22.15 and 23.8; on Node 20 it is not there. */
const createZstdDecompress = (zlib as { createZstdDecompress?: () => Transform }).createZstdDecompress;

/** A layer's tar stream, uncompressed, and how to stop it. */
export interface Uncompressed {
  stream: NodeJS.ReadableStream | AsyncIterable<Buffer>;
  close(): void;
}

/** Refuses, before anything is downloaded, a layer packed in a way this Node.js cannot uncompress; `what` names the layer. */
export function checkUncompressible(packing: LayerPacking, what: string): void {
  if (packing === 'zstd' && !createZstdDecompress) throw zstdMissing(what);
}

/**
 * Uncompresses a layer. The first bytes decide, as containerd's decompression does: registries
 * sometimes label a gzip layer as plain tar and the other way round (the media type was only used to
 * refuse what cannot be unpacked before anything was downloaded).
 */
export async function uncompressed(chunks: AsyncGenerator<Buffer, void, undefined>, what: string): Promise<Uncompressed> {
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
