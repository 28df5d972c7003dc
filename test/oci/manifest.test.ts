import { describe, expect, it } from 'vitest';
import { InvalidPlatformError, PullError } from '../../src/oci/errors.js';
import { choosePlatform, layerPacking, parseManifest, type Descriptor } from '../../src/oci/manifest.js';
import { compatiblePlatforms, formatPlatform, parsePlatform } from '../../src/oci/platform.js';
import { DOCKER, OCI, attestationFor, blobOf, configOf, indexOf, manifestOf } from '../helpers/image-content.js';

describe('platforms', () => {
  it.each([
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/arm64', 'linux/arm64/v8'],
    ['linux/aarch64', 'linux/arm64/v8'],
    ['linux/arm64/v8', 'linux/arm64/v8'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/arm/6', 'linux/arm/v6'],
    ['Linux/S390X', 'linux/s390x'],
  ])('reads %s as %s', (text, formatted) => {
    expect(formatPlatform(parsePlatform(text))).toBe(formatted);
  });

  it.each(['amd64', 'linux', 'linux/amd64/v3/extra', 'linux//amd64', 'linux/amd 64'])('refuses %j with an example', (text) => {
    expect(() => parsePlatform(text)).toThrow(InvalidPlatformError);
    expect(() => parsePlatform(text)).toThrow(/e\.g\. linux\/amd64 or linux\/arm64\/v8/);
  });

  it.each([
    ['linux/amd64', ['linux/amd64', 'linux/386']],
    ['linux/amd64/v3', ['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64', 'linux/386']],
    ['linux/arm/v7', ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
    ['linux/arm64', ['linux/arm64/v8', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
    [
      'linux/arm64/v8.2',
      ['linux/arm64/v8.2', 'linux/arm64/v8.1', 'linux/arm64/v8', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5'],
    ],
  ])('lets %s run, best first: %j (as containerd does)', (wanted, vector) => {
    expect(compatiblePlatforms(parsePlatform(wanted)).map(formatPlatform)).toEqual(vector);
  });
});

describe('choosePlatform', () => {
  const entry = (platform: string | undefined, annotations?: Record<string, string>): Descriptor => {
    const [os = '', architecture = '', variant = ''] = (platform ?? '').split('/');
    const manifest = blobOf(platform ?? 'none');
    return {
      mediaType: OCI.manifest,
      digest: manifest.digest,
      size: manifest.size,
      ...(platform ? { platform: { os, architecture, variant } } : {}),
      ...(annotations ? { annotations } : {}),
    };
  };

  it('takes the exact platform over a compatible one, whatever their order', () => {
    const manifests = [entry('linux/386'), entry('linux/amd64')];
    expect(choosePlatform(manifests, parsePlatform('linux/amd64')).chosen).toBe(manifests[1]);
  });

  it('takes a compatible platform when the exact one is missing', () => {
    const manifests = [entry('linux/arm/v6'), entry('linux/s390x')];
    expect(choosePlatform(manifests, parsePlatform('linux/arm/v7')).chosen).toBe(manifests[0]);
  });

  it('takes an entry without a platform only when none matches', () => {
    const manifests = [entry(undefined), entry('linux/amd64')];
    expect(choosePlatform(manifests, parsePlatform('linux/amd64')).chosen).toBe(manifests[1]);
    expect(choosePlatform(manifests, parsePlatform('linux/s390x')).chosen).toBe(manifests[0]);
  });

  it('never takes an attestation, even one that claims a matching platform', () => {
    const marked = entry('linux/amd64', { 'vnd.docker.reference.type': 'attestation-manifest' });
    const { chosen, available } = choosePlatform([marked, entry('unknown/unknown')], parsePlatform('linux/amd64'));
    expect(chosen).toBeUndefined();
    expect(available).toEqual([]);
  });
});

describe('parseManifest', () => {
  const config = configOf();
  const layer = blobOf('layer');

  it('goes by the Content-Type first, ignoring its parameters', () => {
    const index = indexOf([{ manifest: manifestOf({ config, layers: [layer] }), platform: { os: 'linux', architecture: 'amd64' } }]);
    expect(parseManifest(index.bytes, `${OCI.index}; charset=utf-8`, 'x').kind).toBe('index');
  });

  it('reads Docker schema 2 manifests and lists', () => {
    const manifest = manifestOf({ config, layers: [layer], mediaType: DOCKER.manifest });
    expect(parseManifest(manifest.bytes, DOCKER.manifest, 'x')).toMatchObject({ kind: 'image', layers: [{ mediaType: DOCKER.layerGzip }] });
    const list = indexOf([{ manifest }], DOCKER.list);
    expect(parseManifest(list.bytes, 'application/json', 'x')).toMatchObject({ kind: 'index', mediaType: DOCKER.list });
  });

  it('keeps the annotations that mark attestations', () => {
    const subject = manifestOf({ config, layers: [layer] });
    const index = parseManifest(indexOf([attestationFor(subject)]).bytes, OCI.index, 'x');
    expect(index.kind === 'index' && index.manifests[0]?.annotations?.['vnd.docker.reference.type']).toBe('attestation-manifest');
  });

  it.each([
    ['not JSON', 'nope', /is not JSON/],
    ['schema 1 by its body', JSON.stringify({ schemaVersion: 1 }), /Docker schema 1/],
    [
      'a bad digest',
      JSON.stringify({ schemaVersion: 2, layers: [], config: { mediaType: OCI.config, digest: 'sha256:xyz', size: 1 } }),
      /config has the digest "sha256:xyz"/,
    ],
    [
      'a negative size',
      JSON.stringify({
        schemaVersion: 2,
        layers: [{ mediaType: OCI.layerGzip, digest: layer.digest, size: -1 }],
        config: { mediaType: OCI.config, digest: config.digest, size: 1 },
      }),
      /layers\[0\] has the size -1/,
    ],
    [
      'neither image nor index',
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example+json' }),
      /of the type application\/vnd\.example\+json, which is neither an image nor an index/,
    ],
  ])('refuses a manifest that is %s', (_what, text, message) => {
    expect(() => parseManifest(Buffer.from(text), undefined, 'demo:1.0')).toThrow(PullError);
    expect(() => parseManifest(Buffer.from(text), undefined, 'demo:1.0')).toThrow(message);
  });
});

describe('layerPacking', () => {
  const of = (mediaType: string): Descriptor => ({ mediaType, digest: blobOf('x').digest, size: 1 });
  it.each([
    [OCI.layerGzip, 'gzip'],
    [OCI.layerTar, 'tar'],
    [OCI.layerZstd, 'zstd'],
    [DOCKER.layerGzip, 'gzip'],
  ])('%s is %s', (mediaType, packing) => expect(layerPacking(of(mediaType), 'layer 1')).toBe(packing));

  it('refuses what is not an image layer, naming its media type', () => {
    expect(() => layerPacking(of('application/vnd.cncf.helm.chart.content.v1.tar+gzip'), 'layer 1')).toThrow(
      'layer 1 has the media type application/vnd.cncf.helm.chart.content.v1.tar+gzip, which is not a container image layer ocilab can unpack.',
    );
    expect(() => layerPacking(of('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'), 'layer 1')).toThrow(/non-distributable/);
  });
});
