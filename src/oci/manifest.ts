// What a registry's manifests say, read strictly: OCI and Docker media types, image indexes and
// manifests parsed into one model, the entry of an index chosen for a platform the way containerd
// does (`platform.ts`), and which layer media types ocilab can unpack. Pure functions of bytes and values.
import { isDigest } from './digest.js';
import { PullError } from './errors.js';
import { compatiblePlatforms, formatPlatform, normalizePlatform, samePlatform, type Platform } from './platform.js';

export const MEDIA_TYPE = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** The Accept header of a manifest request, most wanted first. Schema 1 is left out: registries then convert or refuse. */
export const MANIFEST_ACCEPT = [MEDIA_TYPE.ociIndex, MEDIA_TYPE.ociManifest, MEDIA_TYPE.dockerList, MEDIA_TYPE.dockerManifest];

/** The largest manifest read (the distribution registry refuses bigger ones too). */
export const MANIFEST_MAX_BYTES = 4 << 20;

const INDEX_TYPES = new Set<string>([MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerList]);
const IMAGE_TYPES = new Set<string>([MEDIA_TYPE.ociManifest, MEDIA_TYPE.dockerManifest]);
const SCHEMA1_TYPES = new Set<string>([MEDIA_TYPE.dockerSchema1, MEDIA_TYPE.dockerSchema1Signed]);
const CONFIG_TYPES = new Set<string>([MEDIA_TYPE.ociConfig, MEDIA_TYPE.dockerConfig]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export type Manifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] };

/** How a layer's bytes are packed; the bytes themselves have the last word (see compression.ts). */
export type LayerPacking = 'tar' | 'gzip' | 'zstd';

const LAYER_TYPES: Record<string, LayerPacking> = {
  'application/vnd.oci.image.layer.v1.tar': 'tar',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
};

/** Layers the image-spec allows registries not to serve (Windows base layers, once): fetched from their `urls`, if at all. */
const NON_DISTRIBUTABLE = /^application\/vnd\.(oci\.image\.layer\.nondistributable\.v1\.tar|docker\.image\.rootfs\.foreign\.diff\.tar)/;

/**
 * Reads a manifest. `contentType` is the registry's Content-Type; when it is missing or generic
 * (`application/json`), the manifest's own `mediaType` decides, then its shape. Throws a PullError
 * saying what is wrong with it.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | null | undefined, what: string): Manifest {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new PullError(`The manifest of ${what} is not JSON.`);
  }
  if (!isRecord(body)) throw new PullError(`The manifest of ${what} is not a JSON object.`);
  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  const known = (type: string | undefined) =>
    type !== undefined && (INDEX_TYPES.has(type) || IMAGE_TYPES.has(type) || SCHEMA1_TYPES.has(type));
  const mediaType = (known(header) ? header : undefined) ?? declared ?? shapeOf(body);

  if (mediaType !== undefined && SCHEMA1_TYPES.has(mediaType)) throw schema1(what);
  if (body.schemaVersion === 1) throw schema1(what);
  const malformed = (problem: string) => new PullError(`The manifest of ${what} is malformed: ${problem}.`);
  if (body.schemaVersion !== 2) throw malformed(`schemaVersion is ${JSON.stringify(body.schemaVersion)}, not 2`);

  if (mediaType !== undefined && INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(body.manifests)) throw malformed('an index without a "manifests" list');
    return { kind: 'index', mediaType, manifests: body.manifests.map((d, i) => descriptor(d, `manifests[${i}]`, malformed)) };
  }
  if (mediaType !== undefined && IMAGE_TYPES.has(mediaType)) {
    if (!Array.isArray(body.layers)) throw malformed('an image manifest without a "layers" list');
    return {
      kind: 'image',
      mediaType,
      config: descriptor(body.config, 'config', malformed),
      layers: body.layers.map((d, i) => descriptor(d, `layers[${i}]`, malformed)),
    };
  }
  throw new PullError(
    `The manifest of ${what} is of the type ${mediaType ?? 'that it does not name'}, which is neither an image nor an index of images (ocilab reads ${MANIFEST_ACCEPT.join(', ')}).`,
  );
}

/** Whether a config media type is a container image's: anything else is an artifact (a Helm chart, a signature...). */
export function isImageConfig(mediaType: string): boolean {
  return CONFIG_TYPES.has(mediaType);
}

/** How a layer is packed, or a PullError for a layer ocilab cannot unpack, naming its media type. */
export function layerPacking(layer: Descriptor, what: string): LayerPacking {
  if (NON_DISTRIBUTABLE.test(layer.mediaType)) {
    throw new PullError(
      `${what} is a non-distributable ("foreign") layer (${layer.mediaType}), which registries need not serve: such layers belong to Windows images, which runc cannot run. Pull a Linux image.`,
    );
  }
  const packing = LAYER_TYPES[layer.mediaType];
  if (packing === undefined) {
    throw new PullError(`${what} has the media type ${layer.mediaType}, which is not a container image layer ocilab can unpack.`);
  }
  return packing;
}

function schema1(what: string): PullError {
  return new PullError(
    `${what} has only a Docker schema 1 manifest, a format deprecated since 2017 that ocilab does not read. Push the image again with a current tool (docker, podman, skopeo), which writes schema 2.`,
  );
}

/** A manifest without a mediaType (allowed in OCI): an index lists manifests, an image lists layers. */
function shapeOf(body: Record<string, unknown>): string | undefined {
  if (Array.isArray(body.manifests)) return MEDIA_TYPE.ociIndex;
  if (Array.isArray(body.layers)) return MEDIA_TYPE.ociManifest;
  return undefined;
}

function descriptor(value: unknown, where: string, malformed: (problem: string) => PullError): Descriptor {
  if (!isRecord(value)) throw malformed(`${where} is not a descriptor`);
  const { mediaType, digest, size, platform, annotations, urls } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw malformed(`${where} has no mediaType`);
  if (typeof digest !== 'string' || !isDigest(digest))
    throw malformed(`${where} has the digest ${JSON.stringify(digest)}, not algorithm:hex`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw malformed(`${where} has the size ${JSON.stringify(size)}`);
  const result: Descriptor = { mediaType, digest, size };
  if (isRecord(platform) && typeof platform.os === 'string' && typeof platform.architecture === 'string') {
    result.platform = normalizePlatform({
      os: platform.os,
      architecture: platform.architecture,
      variant: typeof platform.variant === 'string' ? platform.variant : '',
    });
  }
  if (isRecord(annotations)) {
    result.annotations = Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  if (Array.isArray(urls)) result.urls = urls.filter((u): u is string => typeof u === 'string');
  return result;
}

/** BuildKit's provenance and SBOM entries in an index: not images, whatever platform they claim. */
export function isAttestation(entry: Descriptor): boolean {
  const unknown = entry.platform?.os === 'unknown' && entry.platform.architecture === 'unknown';
  return unknown || entry.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}

/**
 * The entry of an index to pull for `wanted`: the one whose platform comes first among the compatible
 * ones, the earlier entry on a tie; an entry without a platform only when no entry matches.
 * Attestations are never chosen. `available` lists the images' platforms, for the error.
 */
export function choosePlatform(manifests: readonly Descriptor[], wanted: Platform): { chosen?: Descriptor; available: string[] } {
  const images = manifests.filter((m) => !isAttestation(m));
  const vector = compatiblePlatforms(wanted);
  let chosen: Descriptor | undefined;
  let best = Infinity;
  for (const entry of images) {
    const rank = entry.platform ? vector.findIndex((p) => samePlatform(p, entry.platform as Platform)) : vector.length;
    if (rank >= 0 && rank < best) {
      best = rank;
      chosen = entry;
    }
  }
  const available = [...new Set(images.map((m) => (m.platform ? formatPlatform(m.platform) : 'unnamed platform')))];
  return { ...(chosen ? { chosen } : {}), available };
}

/** The platform an image's config names (`os`, `architecture`, `variant`), if it names one. */
export function configPlatform(bytes: Uint8Array): Platform | undefined {
  try {
    const config = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
    if (!isRecord(config) || typeof config.os !== 'string' || typeof config.architecture !== 'string') return undefined;
    return normalizePlatform({
      os: config.os,
      architecture: config.architecture,
      variant: typeof config.variant === 'string' ? config.variant : '',
    });
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
