// Image references as docker reads them: `busybox`, `busybox:1.36`, `registry.k8s.io/pause:3.9`,
// `127.0.0.1:5000/x/y@sha256:…`. The grammar is the distribution project's (`reference/regexp.go`),
// with Docker Hub's normalisation (`docker.io`, `library/`) on top.
import { InvalidReferenceError } from './errors.js';

export interface Reference {
  /** The registry as docker names it: 'docker.io', 'registry.k8s.io', '127.0.0.1:5000'. */
  registry: string;
  /** Where the API lives: 'registry-1.docker.io' for docker.io, else the registry. */
  host: string;
  /** 'library/busybox', 'sig-storage/smbplugin'. */
  repository: string;
  tag?: string;
  /** 'sha256:<64 hex>' */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API = 'registry-1.docker.io';

/** Longest name (registry/repository) the distribution spec allows. */
const NAME_MAX = 255;

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** A repository path: lower-case components joined by `/`, e.g. `library/busybox`. */
export const REPOSITORY = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
/** A registry: a host name, an IPv4 address or a bracketed IPv6 address, with an optional port. */
export const REGISTRY = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^\w[\w.-]{0,127}$/;
/** Hex digits of each digest algorithm docker accepts (go-digest). */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const IMAGE_ID = /^[a-f0-9]{64}$/;

const EXAMPLE = 'busybox:1.36 or registry.k8s.io/pause:3.9';

/**
 * Reads a reference the way docker does: the first path component is the registry only when it has
 * a `.` or a `:` or is `localhost`; otherwise the registry is Docker Hub, where a one-component name
 * lives under `library/`. The tag stays undefined when none is written (callers that need one use
 * `latest`). Throws `InvalidReferenceError` saying what is wrong, with an example of the right form.
 */
export function parseReference(text: string): Reference {
  const invalid = (reason: string, example = EXAMPLE) => new InvalidReferenceError(text, reason, example);
  if (text.trim() === '') throw invalid('it is empty');
  if (/\s/.test(text)) throw invalid('it contains white space');
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  if (scheme) throw invalid(`a reference has no scheme (${scheme[0]})`, text.slice(scheme[0].length));

  const at = text.indexOf('@');
  const named = at < 0 ? text : text.slice(0, at);
  const digest = at < 0 ? undefined : text.slice(at + 1);
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const name = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : undefined;

  if (IMAGE_ID.test(name) && tag === undefined && digest === undefined) {
    throw invalid(
      '64 hex digits are an image ID, not a name; to pin an image by digest write name@sha256:<digest>',
      'busybox@sha256:<digest>',
    );
  }
  const { registry: written, rest } = splitRegistry(name);
  if (written !== undefined && !REGISTRY.test(written)) {
    throw invalid(`'${written}' is not a registry: expected a host name or address with an optional port`, '127.0.0.1:5000/x/y:tag');
  }
  const registry = canonicalRegistry(written);
  const repository = registry === DOCKER_HUB && !rest.includes('/') ? `library/${rest}` : rest;
  checkRepository(repository, text, invalid);
  if (registry.length + 1 + repository.length > NAME_MAX) throw invalid(`the name is longer than ${NAME_MAX} characters`);
  if (tag !== undefined) checkTag(tag, invalid);
  if (digest !== undefined) checkDigest(digest, invalid);

  return {
    registry,
    host: apiHost(registry),
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/**
 * The registry of a reference and the host its API is at, read as parseReference reads them but
 * without judging the rest of the text: `busybox` is on docker.io, whose API is at registry-1.docker.io.
 */
export function registryOf(text: string): Pick<Reference, 'registry' | 'host'> {
  const registry = canonicalRegistry(splitRegistry(text).registry);
  return { registry, host: apiHost(registry) };
}

/** The first path component is the registry only when it has a `.` or a `:` or is `localhost`. */
function splitRegistry(name: string): { registry: string | undefined; rest: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const namesRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  return namesRegistry ? { registry: first, rest: name.slice(slash + 1) } : { registry: undefined, rest: name };
}

/** Docker Hub, under either of its names, or the registry as written. */
function canonicalRegistry(written: string | undefined): string {
  return written === undefined || written === 'index.docker.io' ? DOCKER_HUB : written;
}

function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** The full form of a reference: `docker.io/library/busybox:1.36`, `127.0.0.1:5000/x/y@sha256:…`. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The registry as `docker login` names it, for the host its API is at. */
export function registryName(host: string): string {
  return host === DOCKER_HUB_API ? DOCKER_HUB : host;
}

type Invalid = (reason: string, example?: string) => InvalidReferenceError;

function checkRepository(repository: string, text: string, invalid: Invalid): void {
  if (REPOSITORY.test(repository)) return;
  if (repository === '' || repository.endsWith('/')) throw invalid('the repository name is missing');
  if (/[A-Z]/.test(repository)) throw invalid('repository names are lower-case', text.toLowerCase());
  const bad = repository.split('/').find((component) => !new RegExp(`^${PATH_COMPONENT}$`).test(component));
  if (bad === '')
    throw invalid("the repository path has an empty component ('//' or a leading '/')", 'registry.k8s.io/sig-storage/smbplugin');
  throw invalid(
    `'${bad}' is not a repository path component: use lower-case letters and digits, separated by '.', '_', '__' or dashes`,
    'sig-storage/smbplugin',
  );
}

function checkTag(tag: string, invalid: Invalid): void {
  if (tag === '') throw invalid("the tag after ':' is empty");
  if (!TAG.test(tag)) {
    throw invalid(
      `'${tag}' is not a tag: a tag has up to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'`,
      'busybox:1.36',
    );
  }
}

function checkDigest(digest: string, invalid: Invalid): void {
  const example = 'busybox@sha256:<64 hex digits>';
  const [algorithm = '', hex, ...rest] = digest.split(':');
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (hex === undefined || rest.length > 0) throw invalid(`'${digest}' is not a digest: expected algorithm:hex`, example);
  if (length === undefined) throw invalid(`'${algorithm}' is not a digest algorithm docker knows (sha256, sha384, sha512)`, example);
  if (!new RegExp(`^[a-f0-9]{${length}}$`).test(hex)) {
    throw invalid(`a ${algorithm} digest has ${length} lower-case hex digits, not '${hex}'`, example);
  }
}
