// Content addresses (`sha256:<hex>`) and their verification while the bytes stream past: a blob is
// trusted only once its size and hash are known to match what the manifest named.
import { createHash, type Hash } from 'node:crypto';
import { DigestMismatchError, PullError } from './errors.js';

/** Hex digits of each algorithm a digest may use (the image-spec registers sha256 and sha512; docker also takes sha384). */
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** What a descriptor promises about some bytes. */
export interface Expected {
  digest: string;
  /** Bytes; undefined when nothing says (a manifest asked for by tag). */
  size: number | undefined;
}

/** Whether `text` is `algorithm:hex` with an algorithm we can check and the right number of lower-case hex digits. */
export function isDigest(text: string): boolean {
  const [algorithm = '', hex = '', ...rest] = text.split(':');
  const length = HEX_LENGTH[algorithm];
  return rest.length === 0 && length !== undefined && hex.length === length && /^[a-f0-9]+$/.test(hex);
}

/** `{algorithm, hex}` of a digest checked with isDigest. */
export function splitDigest(digest: string): { algorithm: string; hex: string } {
  const colon = digest.indexOf(':');
  return { algorithm: digest.slice(0, colon), hex: digest.slice(colon + 1) };
}

/** The digest of `bytes` with `algorithm`. */
export function digestOf(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** `sha256:0123456789ab`: enough of a digest to tell blobs apart in a sentence. */
export function shortDigest(digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return `${algorithm}:${hex.slice(0, 12)}`;
}

/**
 * Hashes and counts bytes as they arrive. `update` throws as soon as more bytes came than promised (a
 * registry must not make us download without end); `finish` throws unless the size and digest match.
 */
export class Verifier {
  private readonly hash: Hash;
  private received = 0;

  constructor(
    private readonly expected: Expected,
    /** What the bytes are, for the error: "layer 2 of 3 of 127.0.0.1:5000/x/y:1.0". */
    private readonly what: string,
  ) {
    if (!isDigest(expected.digest)) throw new PullError(`'${expected.digest}' is not a digest ocilab can check, for ${what}.`);
    this.hash = createHash(splitDigest(expected.digest).algorithm);
  }

  get bytes(): number {
    return this.received;
  }

  update(chunk: Uint8Array): void {
    this.received += chunk.byteLength;
    if (this.expected.size !== undefined && this.received > this.expected.size) {
      throw new DigestMismatchError(
        `${this.what} (${this.expected.digest}) is larger than the ${this.expected.size} bytes its manifest gives: the registry sent more. ${NOT_KEPT}`,
        this.expected.digest,
        undefined,
      );
    }
    this.hash.update(chunk);
  }

  /** The digest of what arrived, once it matches what was expected. */
  finish(): string {
    const { digest, size } = this.expected;
    if (size !== undefined && this.received !== size) {
      throw new DigestMismatchError(
        `${this.what} (${digest}) ended after ${this.received} of the ${size} bytes its manifest gives. ${NOT_KEPT}`,
        digest,
        undefined,
      );
    }
    const actual = `${splitDigest(digest).algorithm}:${this.hash.digest('hex')}`;
    if (actual !== digest) {
      throw new DigestMismatchError(
        `${this.what} should have the digest ${digest}, but what arrived has the digest ${actual}. ${NOT_KEPT}`,
        digest,
        actual,
      );
    }
    return actual;
  }
}

const NOT_KEPT =
  'Nothing of it was kept in the cache. Try again; if it happens again, the registry or a proxy on the way is serving corrupt data.';
