// Images built in memory for the pull tests: configs, gzip layers, manifests and indexes as the OCI
// image-spec and Docker's schema 2 write them, each a blob with its digest and size, ready for a
// registry double (fake-registries.ts `startMirror`) to serve.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { layerTar, type LayerEntry } from './layers.js';

export const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  layerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
} as const;

export const DOCKER = {
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  schema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Bytes and their content address. */
export interface Blob {
  digest: string;
  size: number;
  bytes: Buffer;
}

export function blobOf(bytes: Buffer | string): Blob {
  const buffer = Buffer.from(bytes);
  return { digest: `sha256:${createHash('sha256').update(buffer).digest('hex')}`, size: buffer.length, bytes: buffer };
}

export function gzipLayer(entries: readonly LayerEntry[]): Blob {
  return blobOf(gzipSync(layerTar(entries)));
}

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export const AMD64: PlatformSpec = { os: 'linux', architecture: 'amd64' };
export const ARM64: PlatformSpec = { os: 'linux', architecture: 'arm64', variant: 'v8' };

export function configOf(platform: PlatformSpec = AMD64, extra: Record<string, unknown> = {}): Blob {
  return blobOf(JSON.stringify({ ...platform, config: {}, rootfs: { type: 'layers', diff_ids: [] }, ...extra }));
}

export interface ImageSpec {
  config: Blob;
  layers: readonly Blob[];
  /** The manifest's own mediaType field; `null` leaves it out. */
  mediaType?: string | null;
  configType?: string;
  layerType?: string | ((index: number) => string);
}

export function manifestOf({ config, layers, mediaType = OCI.manifest, configType, layerType }: ImageSpec): Blob {
  const docker = mediaType === DOCKER.manifest;
  const typeOf = (i: number) =>
    typeof layerType === 'function' ? layerType(i) : (layerType ?? (docker ? DOCKER.layerGzip : OCI.layerGzip));
  return blobOf(
    JSON.stringify({
      schemaVersion: 2,
      ...(mediaType === null ? {} : { mediaType }),
      config: { mediaType: configType ?? (docker ? DOCKER.config : OCI.config), digest: config.digest, size: config.size },
      layers: layers.map((l, i) => ({ mediaType: typeOf(i), digest: l.digest, size: l.size })),
    }),
  );
}

export interface IndexEntry {
  manifest: Blob;
  platform?: PlatformSpec;
  annotations?: Record<string, string>;
  mediaType?: string;
}

export function indexOf(entries: readonly IndexEntry[], mediaType: string = OCI.index): Blob {
  const docker = mediaType === DOCKER.list;
  return blobOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: entries.map((e) => ({
        mediaType: e.mediaType ?? (docker ? DOCKER.manifest : OCI.manifest),
        digest: e.manifest.digest,
        size: e.manifest.size,
        ...(e.platform ? { platform: e.platform } : {}),
        ...(e.annotations ? { annotations: e.annotations } : {}),
      })),
    }),
  );
}

/** BuildKit's provenance attestation for `subject`, as it lists it in an index. */
export function attestationFor(subject: Blob): IndexEntry {
  const manifest = manifestOf({ config: blobOf('{}'), layers: [blobOf('{"predicateType":"https://slsa.dev/provenance/v0.2"}')] });
  return {
    manifest,
    platform: { os: 'unknown', architecture: 'unknown' },
    annotations: { 'vnd.docker.reference.digest': subject.digest, 'vnd.docker.reference.type': 'attestation-manifest' },
  };
}
