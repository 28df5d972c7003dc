// From a reference to the image manifest a pull unpacks, through the cache: a tag or digest resolved
// (by tag, a HEAD asks whether what the cache holds is still what the tag names), the platform chosen
// from an index, the config checked; each manifest and config verified and kept in the cache.
import type { BlobCache } from './cache.js';
import { Verifier, digestOf, isDigest, splitDigest, type Expected } from './digest.js';
import { DigestMismatchError, PullError, RegistryError } from './errors.js';
import {
  MANIFEST_ACCEPT,
  MANIFEST_MAX_BYTES,
  choosePlatform,
  configPlatform,
  isImageConfig,
  parseManifest,
  type Descriptor,
  type Manifest,
} from './manifest.js';
import { formatPlatform, runsOn, type Platform } from './platform.js';
import type { Reference } from './reference.js';
import type { Transport } from './transport.js';

/** The largest image config read (they are a few kilobytes). */
const CONFIG_MAX_BYTES = 16 << 20;
/** An index may point to another index; a chain longer than this is refused rather than followed. */
const MAX_INDEX_DEPTH = 3;

/** Where a pull gets its image from, and what it asked for. */
export interface ImageSource {
  /** With a tag (`latest` when none was written) or a digest. */
  ref: Reference;
  /** The reference in full, with its tag: `127.0.0.1:5000/library/busybox:1.36`. */
  name: string;
  cache: BlobCache;
  transport: Transport;
  wanted: Platform;
  /** Use only what the cache holds; ask no registry. */
  offline: boolean;
  signal: AbortSignal | undefined;
  onNote: ((message: string) => void) | undefined;
}

export type ImageManifest = Extract<Manifest, { kind: 'image' }>;

export interface ResolvedImage {
  /** What the reference resolved to: for a multi-platform image, its index's digest. */
  digest: string;
  /** The image manifest's digest (the same as `digest` for a single-platform image). */
  manifestDigest: string;
  /** The platform chosen from the index; undefined for a single-platform image. */
  platform: string | undefined;
  manifest: ImageManifest;
}

/** A manifest as fetched: its digest, its media type as the registry gave it (if it did) and its bytes. */
interface Fetched {
  digest: string;
  mediaType: string | undefined;
  bytes: Buffer;
}

/** The image manifest `source.ref` names for the wanted platform, its config checked. */
export async function resolveImage(source: ImageSource): Promise<ResolvedImage> {
  const { name } = source;
  const top = await resolveReference(source);
  let manifest = parseManifest(top.bytes, top.mediaType, name);
  let manifestDigest = top.digest;
  let platform: string | undefined;
  for (let depth = 0; manifest.kind === 'index'; depth++) {
    if (depth === MAX_INDEX_DEPTH) throw new PullError(`The index of ${name} points to further indexes more than ${MAX_INDEX_DEPTH} deep.`);
    const entry = choose(source, manifest);
    platform = entry.platform ? formatPlatform(entry.platform) : undefined;
    const fetched = await indexEntry(source, entry);
    manifest = parseManifest(fetched.bytes, fetched.mediaType, `${name} for ${platform ?? 'its only platform'}`);
    manifestDigest = entry.digest;
  }
  await checkConfig(source, manifest);
  return { digest: top.digest, manifestDigest, platform, manifest };
}

/** The error for something `--offline` needs that the cache does not hold. */
export function offlineMiss(source: ImageSource, what: string): PullError {
  return new PullError(
    `--offline: the cache (${source.cache.dir}) does not hold ${what}, which ${source.name} needs. Pull the image once without --offline, with the same cache directory (XDG_CACHE_HOME).`,
  );
}

/**
 * The manifest the reference names. By digest: from the cache when it is there, asking nothing.
 * By tag: when the cache knows the tag, a HEAD request learns what the tag names now, and a manifest
 * already cached is not downloaded again; otherwise, or when the registry does not say, a GET.
 */
async function resolveReference(source: ImageSource): Promise<Fetched> {
  const { ref, cache } = source;
  if (ref.digest !== undefined) {
    const cached = await cache.read(ref.digest);
    if (cached) return { digest: ref.digest, mediaType: undefined, bytes: cached };
    if (source.offline) throw offlineMiss(source, `the manifest ${ref.digest}`);
    return fetchManifest(source, ref.digest, { digest: ref.digest, size: undefined });
  }
  const tag = ref.tag as string;
  const record = await cache.readTag(ref);
  if (source.offline) {
    if (!record) {
      throw new PullError(
        `--offline: ${source.name} was never pulled with this cache (${cache.dir}), so ocilab does not know which image the tag ${tag} names. Pull it once without --offline, with the same cache directory (XDG_CACHE_HOME).`,
      );
    }
    const bytes = await cache.read(record.digest, record.size);
    if (!bytes) throw offlineMiss(source, `the manifest ${record.digest} the tag ${tag} named`);
    return { digest: record.digest, mediaType: record.mediaType, bytes };
  }
  try {
    if (record) {
      const current = await headManifest(source, tag);
      const bytes = current && (await cache.read(current.digest));
      if (current && bytes) {
        if (current.digest !== record.digest) {
          tagMoved(source, tag, record.digest, current.digest);
          await rememberTag(source, tag, current.digest, current.mediaType ?? record.mediaType, bytes.length);
        }
        return { digest: current.digest, mediaType: current.mediaType ?? record.mediaType, bytes };
      }
    }
    const fetched = await fetchManifest(source, tag, undefined);
    if (record && record.digest !== fetched.digest) tagMoved(source, tag, record.digest, fetched.digest);
    const mediaType = fetched.mediaType ?? parseManifest(fetched.bytes, undefined, source.name).mediaType;
    await rememberTag(source, tag, fetched.digest, mediaType, fetched.bytes.length);
    return fetched;
  } catch (error) {
    throw record ? withOfflineHint(error, record.pulledAt) : error;
  }
}

/** What the tag names now, from a HEAD request; undefined when the registry does not say or refuses (the GET then says why). */
async function headManifest(source: ImageSource, tag: string): Promise<{ digest: string; mediaType: string | undefined } | undefined> {
  let response: Response;
  try {
    response = await source.transport.request(source.ref, `manifests/${tag}`, requestInit(source, 'HEAD'));
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
async function fetchManifest(source: ImageSource, reference: string, expected: Expected | undefined): Promise<Fetched> {
  const { name, ref } = source;
  const what = expected ? `the manifest ${expected.digest} of ${name}` : `the manifest of ${name}`;
  const response = await source.transport.request(ref, `manifests/${reference}`, requestInit(source, 'GET'));
  const stated = response.headers.get('docker-content-digest');
  const bytes = await readAll(response, MANIFEST_MAX_BYTES, what, expected);
  let digest: string;
  if (expected) digest = expected.digest;
  else if (stated !== null && isDigest(stated)) {
    digest = digestOf(bytes, splitDigest(stated).algorithm);
    if (digest !== stated) {
      throw new DigestMismatchError(
        `${ref.host} states that ${what} has the digest ${stated}, but what arrived has the digest ${digest}. The registry or a proxy on the way is serving corrupt data.`,
        stated,
        digest,
      );
    }
  } else digest = digestOf(bytes);
  await source.cache.put(digest, bytes);
  return { digest, mediaType: mediaTypeOf(response), bytes };
}

/** A manifest an index names, from the cache or the registry, verified against its descriptor. */
async function indexEntry(source: ImageSource, entry: Descriptor): Promise<Fetched> {
  const cached = await source.cache.read(entry.digest, entry.size);
  if (cached) return { digest: entry.digest, mediaType: entry.mediaType, bytes: cached };
  if (source.offline) throw offlineMiss(source, `the manifest ${entry.digest}`);
  const fetched = await fetchManifest(source, entry.digest, entry);
  return { ...fetched, mediaType: fetched.mediaType ?? entry.mediaType };
}

function choose(source: ImageSource, index: Extract<Manifest, { kind: 'index' }>): Descriptor {
  const { chosen, available } = choosePlatform(index.manifests, source.wanted);
  if (chosen) return chosen;
  const has = available.length > 0 ? `only for ${available.join(', ')}` : 'for no platform at all';
  throw new PullError(
    `${source.name} has no image for ${formatPlatform(source.wanted)}: it has images ${has}. Choose one with --platform, or use another image.`,
  );
}

function tagMoved(source: ImageSource, tag: string, before: string, now: string): void {
  source.onNote?.(`The tag ${tag} has moved since the last pull: it named ${before}, and names ${now} now.`);
}

async function rememberTag(source: ImageSource, tag: string, digest: string, mediaType: string, size: number): Promise<void> {
  await source.cache.writeTag({ ...source.ref, tag }, { digest, mediaType, size, pulledAt: new Date().toISOString() });
}

/** Fetches and verifies the config; an artifact that is not an image, or an image for another platform, is named. */
async function checkConfig(source: ImageSource, manifest: ImageManifest): Promise<void> {
  const { config } = manifest;
  const { name, cache } = source;
  if (!isImageConfig(config.mediaType)) {
    throw new PullError(
      `${name} is not a container image: its config is of the type ${config.mediaType} (an artifact such as a Helm chart or a signature), so it has no root filesystem to unpack.`,
    );
  }
  let bytes = await cache.read(config.digest, config.size);
  if (!bytes) {
    if (source.offline) throw offlineMiss(source, `the config ${config.digest}`);
    if (config.size > CONFIG_MAX_BYTES)
      throw new PullError(`The config of ${name} is ${config.size} bytes, more than an image config ever is.`);
    const what = `the config of ${name}`;
    const response = await source.transport.request(source.ref, `blobs/${config.digest}`, requestInit(source, 'GET'));
    bytes = await readAll(response, CONFIG_MAX_BYTES, what, config);
    await cache.put(config.digest, bytes);
  }
  const platform = configPlatform(bytes);
  if (platform && !runsOn(platform, source.wanted)) {
    source.onNote?.(
      `${name} is an image for ${formatPlatform(platform)}, not ${formatPlatform(source.wanted)}: its programs may not run here.`,
    );
  }
}

function requestInit(source: ImageSource, method: 'GET' | 'HEAD') {
  return { method, accept: MANIFEST_ACCEPT, ...(source.signal ? { signal: source.signal } : {}) };
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
