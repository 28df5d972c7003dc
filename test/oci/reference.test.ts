import { describe, expect, it } from 'vitest';
import { InvalidReferenceError } from '../../src/oci/errors.js';
import { formatReference, parseReference, registryOf, type Reference } from '../../src/oci/reference.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const hub = (repository: string, more: Partial<Reference> = {}): Reference => ({
  registry: 'docker.io',
  host: 'registry-1.docker.io',
  repository,
  ...more,
});
const at = (registry: string, repository: string, more: Partial<Reference> = {}): Reference => ({
  registry,
  host: registry,
  repository,
  ...more,
});

describe('parseReference reads references the way docker does', () => {
  it.each<[string, Reference]>([
    ['busybox', hub('library/busybox')],
    ['busybox:1.36', hub('library/busybox', { tag: '1.36' })],
    ['library/busybox:latest', hub('library/busybox', { tag: 'latest' })],
    ['docker.io/library/busybox', hub('library/busybox')],
    ['docker.io/busybox', hub('library/busybox')],
    ['index.docker.io/library/busybox', hub('library/busybox')],
    ['bitnami/redis:7.2', hub('bitnami/redis', { tag: '7.2' })],
    ['registry-1.docker.io/busybox', at('registry-1.docker.io', 'busybox')],
    ['registry.k8s.io/sig-storage/smbplugin', at('registry.k8s.io', 'sig-storage/smbplugin')],
    ['registry.k8s.io/pause:3.9', at('registry.k8s.io', 'pause', { tag: '3.9' })],
    ['ghcr.io/a-b/c__d/e.f_g:v1.0-rc_1', at('ghcr.io', 'a-b/c__d/e.f_g', { tag: 'v1.0-rc_1' })],
    ['127.0.0.1:5000/x/y:tag', at('127.0.0.1:5000', 'x/y', { tag: 'tag' })],
    ['localhost/x', at('localhost', 'x')],
    ['localhost:5000/x', at('localhost:5000', 'x')],
    ['[::1]:5000/x/y', at('[::1]:5000', 'x/y')],
    ['Registry.Example.com/x', at('Registry.Example.com', 'x')],
    [`busybox@${DIGEST}`, hub('library/busybox', { digest: DIGEST })],
    [`busybox:1.36@${DIGEST}`, hub('library/busybox', { tag: '1.36', digest: DIGEST })],
    [`127.0.0.1:5000/x@${DIGEST}`, at('127.0.0.1:5000', 'x', { digest: DIGEST })],
    // docker reads a lone host:port as a Docker Hub name with a tag.
    ['localhost:5000', hub('library/localhost', { tag: '5000' })],
    ['a---b/c', hub('a---b/c')],
  ])('%s', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
  });

  it('leaves the tag undefined when none is written', () => {
    expect(parseReference('busybox')).not.toHaveProperty('tag');
  });
});

describe('parseReference refuses what is not a reference, saying why with an example', () => {
  it.each<[string, string | { part: string }]>([
    ['', "'' is not an image reference: it is empty, e.g. busybox:1.36 or registry.k8s.io/pause:3.9."],
    ['busy box', "'busy box' is not an image reference: it contains white space, e.g. busybox:1.36 or registry.k8s.io/pause:3.9."],
    [
      'https://registry.k8s.io/pause',
      "'https://registry.k8s.io/pause' is not an image reference: a reference has no scheme (https://), e.g. registry.k8s.io/pause.",
    ],
    ['Busybox', "'Busybox' is not an image reference: repository names are lower-case, e.g. busybox."],
    [
      'registry.k8s.io/Pause:3.9',
      "'registry.k8s.io/Pause:3.9' is not an image reference: repository names are lower-case, e.g. registry.k8s.io/pause:3.9.",
    ],
    [
      'registry.k8s.io/',
      "'registry.k8s.io/' is not an image reference: the repository name is missing, e.g. busybox:1.36 or registry.k8s.io/pause:3.9.",
    ],
    [':1.36', "':1.36' is not an image reference: the repository name is missing, e.g. busybox:1.36 or registry.k8s.io/pause:3.9."],
    [
      'registry.k8s.io//pause',
      "'registry.k8s.io//pause' is not an image reference: the repository path has an empty component ('//' or a leading '/'), e.g. registry.k8s.io/sig-storage/smbplugin.",
    ],
    [
      'x/-y',
      "'x/-y' is not an image reference: '-y' is not a repository path component: use lower-case letters and digits, separated by '.', '_', '__' or dashes, e.g. sig-storage/smbplugin.",
    ],
    ['x/y_', { part: "'y_' is not a repository path component" }],
    ['x/a___b', { part: "'a___b' is not a repository path component" }],
    ['busybox:', "'busybox:' is not an image reference: the tag after ':' is empty, e.g. busybox:1.36 or registry.k8s.io/pause:3.9."],
    [
      'busybox:.hidden',
      "'busybox:.hidden' is not an image reference: '.hidden' is not a tag: a tag has up to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-', e.g. busybox:1.36.",
    ],
    [`busybox:${'a'.repeat(129)}`, { part: 'is not a tag: a tag has up to 128' }],
    [
      '-registry.example:5000/x',
      "'-registry.example:5000/x' is not an image reference: '-registry.example:5000' is not a registry: expected a host name or address with an optional port, e.g. 127.0.0.1:5000/x/y:tag.",
    ],
    ['registry.example:50a0/x', { part: "'registry.example:50a0' is not a registry" }],
    [
      'busybox@sha256:abc',
      "'busybox@sha256:abc' is not an image reference: a sha256 digest has 64 lower-case hex digits, not 'abc', e.g. busybox@sha256:<64 hex digits>.",
    ],
    [`busybox@${DIGEST.toUpperCase().replace('SHA256', 'sha256')}`, { part: 'a sha256 digest has 64 lower-case hex digits' }],
    [
      `busybox@md5:${'0'.repeat(32)}`,
      "'busybox@md5:00000000000000000000000000000000' is not an image reference: 'md5' is not a digest algorithm docker knows (sha256, sha384, sha512), e.g. busybox@sha256:<64 hex digits>.",
    ],
    [
      'busybox@latest',
      "'busybox@latest' is not an image reference: 'latest' is not a digest: expected algorithm:hex, e.g. busybox@sha256:<64 hex digits>.",
    ],
    [
      '0123456789abcdef'.repeat(4),
      `'${'0123456789abcdef'.repeat(4)}' is not an image reference: 64 hex digits are an image ID, not a name; to pin an image by digest write name@sha256:<digest>, e.g. busybox@sha256:<digest>.`,
    ],
    [`registry.example/${'a'.repeat(250)}`, { part: 'the name is longer than 255 characters' }],
  ])('%j', (text, message) => {
    const error = (() => {
      try {
        parseReference(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidReferenceError);
    const said = (error as InvalidReferenceError).message;
    if (typeof message === 'string') expect(said).toBe(message);
    else expect(said).toContain(message.part);
    expect(error).toMatchObject({ reference: text });
  });
});

describe('formatReference', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    [`127.0.0.1:5000/x/y:tag@${DIGEST}`, `127.0.0.1:5000/x/y:tag@${DIGEST}`],
    ['registry.k8s.io/pause', 'registry.k8s.io/pause'],
  ])('writes %s in full as %s, which reads back the same', (text, full) => {
    const ref = parseReference(text);
    expect(formatReference(ref)).toBe(full);
    expect(parseReference(full)).toEqual(ref);
  });
});

describe('registryOf', () => {
  it.each([
    'busybox',
    'index.docker.io/library/busybox',
    'registry.k8s.io/pause:3.9',
    `127.0.0.1:5000/x/y:tag@${DIGEST}`,
    'localhost/busybox',
  ])('reads the registry of %s as parseReference does', (text) => {
    const { registry, host } = parseReference(text);
    expect(registryOf(text)).toEqual({ registry, host });
  });

  it('reads the registry of a reference parseReference refuses', () => {
    expect(registryOf('ghcr.io/Org/Tool')).toEqual({ registry: 'ghcr.io', host: 'ghcr.io' });
    expect(registryOf('Busybox')).toEqual({ registry: 'docker.io', host: 'registry-1.docker.io' });
  });
});
