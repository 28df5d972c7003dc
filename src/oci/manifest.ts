// What a registry's manifests say, read strictly: OCI and Docker media types, image indexes and
// manifests parsed into one model, platforms normalised and chosen the way containerd does, and which
// layer media types ocilab can unpack. Pure functions of bytes and values.
import { arch, endianness } from 'node:os';
import { isDigest } from './digest.js';
import { InvalidPlatformError, PullError } from './errors.js';

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

export interface Platform {
  os: string;
  architecture: string;
  /** '' when there is none (after normalisation: arm64 is v8 and amd64 v1 by default). */
  variant: string;
}

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

/** How a layer's bytes are packed; the bytes themselves have the last word (see pull.ts). */
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

/** `linux/amd64`, `linux/arm64/v8` (variants as the user wrote them are normalised: `linux/arm64/v8` is `linux/arm64`). */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-zA-Z0-9_.-]+$/.test(p))) {
    throw new InvalidPlatformError(`'${text}' is not a platform: write os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8.`);
  }
  const [os = '', architecture = '', variant = ''] = parts;
  return normalizePlatform({ os, architecture, variant });
}

/** `linux/arm64/v8`: an arm64 or amd64 platform is written with its default variant, as docker shows them. */
export function formatPlatform(platform: Platform): string {
  const variant = platform.variant || (platform.architecture === 'arm64' ? 'v8' : '');
  return [platform.os, platform.architecture, variant].filter(Boolean).join('/');
}

/** The platform of this machine, as images name it: linux and Node's architecture in Go's words. */
export function hostPlatform(): Platform {
  const nodeArch = arch();
  const GO_ARCH: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    mipsel: 'mipsle',
    ppc64: endianness() === 'LE' ? 'ppc64le' : 'ppc64',
  };
  // Node built for 32-bit arm records which arm it targets.
  const armVersion = (process.config.variables as { arm_version?: string }).arm_version;
  return normalizePlatform({
    os: 'linux',
    architecture: GO_ARCH[nodeArch] ?? nodeArch,
    variant: nodeArch === 'arm' ? `v${armVersion ?? '7'}` : '',
  });
}

/**
 * containerd's normalisation (platforms.Normalize): lower case, `x86_64` → amd64, `aarch64` → arm64
 * whose v8 is the default (written ''), amd64's v1 likewise, `armhf` → arm/v7, bare arm → arm/v7.
 */
export function normalizePlatform({ os, architecture, variant }: Platform): Platform {
  let a = architecture.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      a = '386';
      v = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      a = 'amd64';
      if (v === 'v1') v = '';
      break;
    case 'aarch64':
    case 'arm64':
      a = 'arm64';
      if (v === '8' || v === 'v8' || v === 'v8.0') v = '';
      else if (v === '9' || v === '9.0' || v === 'v9.0') v = 'v9';
      break;
    case 'armhf':
      a = 'arm';
      v = 'v7';
      break;
    case 'armel':
      a = 'arm';
      v = 'v6';
      break;
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (v === '5' || v === '6' || v === '8') v = `v${v}`;
      break;
  }
  const o = os.toLowerCase();
  return { os: o === 'macos' ? 'darwin' : o, architecture: a, variant: v };
}

/**
 * The platforms an image for `wanted` may be, best first, as containerd's `platforms.Only` has them:
 * amd64/v3 also takes v2, v1 and 386; arm/v7 also v6 and v5; arm64 (v8.x, v9.x) also earlier arm64
 * variants and 32-bit arm.
 */
export function compatiblePlatforms(wanted: Platform): Platform[] {
  const p = normalizePlatform(wanted);
  const same = (architecture: string, variant: string): Platform => ({ os: p.os, architecture, variant });
  const level = (variant: string) => Number(/^v(\d+)$/.exec(variant)?.[1] ?? NaN);
  switch (p.architecture) {
    case 'amd64': {
      const vector = [p];
      for (let n = level(p.variant) - 1; n >= 1; n--) vector.push(same('amd64', n === 1 ? '' : `v${n}`));
      return [...vector, same('386', '')];
    }
    case 'arm': {
      const vector = [p];
      for (let n = level(p.variant) - 1; n >= 5; n--) vector.push(same('arm', `v${n}`));
      return vector;
    }
    case 'arm64': {
      const [, major = '8', minor = '0'] = /^v(\d+)(?:\.(\d+))?$/.exec(p.variant) ?? [];
      if (p.variant !== '' && !/^v[89](\.\d)?$/.test(p.variant)) return [p];
      const vector: Platform[] = [];
      // arm64 v9.x runs what v8.(x+5) runs; every arm64 runs 32-bit arm up to v8.
      const ranges =
        major === '9' ? [[9, Number(minor)] as const, [8, Math.min(9, Number(minor) + 5)] as const] : [[8, Number(minor)] as const];
      for (const [m, top] of ranges) {
        for (let n = top; n >= 0; n--) vector.push(same('arm64', n === 0 ? (m === 8 ? '' : `v${m}`) : `v${m}.${n}`));
      }
      return [...vector, ...compatiblePlatforms(same('arm', 'v8'))];
    }
    default:
      return [p];
  }
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
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

/** Whether an image for `image` runs where `wanted` does. */
export function runsOn(image: Platform, wanted: Platform): boolean {
  return compatiblePlatforms(wanted).some((p) => samePlatform(p, normalizePlatform(image)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
