// Errors of the registry client. Each message is a sentence a sysadmin can act on; a registry's
// refusal also keeps the registry's own words (its error JSON) and the HTTP status.
import type { NetworkError } from './network.js';

/** Anything the OCI client reports: a bad reference, or a registry that refused or could not be reached. */
export class OciError extends Error {
  override name = 'OciError';
  /** What ocilab exits with when this error ends it: 1, the registry or the image is at fault. */
  readonly exitStatus: number = 1;
}

/** A text that is not an image reference; `reason` says why, `example` shows the right form. */
export class InvalidReferenceError extends OciError {
  override name = 'InvalidReferenceError';
  /** Exit 2, bad usage: the user typed something that is not a reference. */
  override readonly exitStatus = 2;

  constructor(
    readonly reference: string,
    readonly reason: string,
    readonly example: string,
  ) {
    super(`'${reference}' is not an image reference: ${reason}, e.g. ${example}.`);
  }
}

/** One entry of the `errors` array the distribution API returns with a failed request. */
export interface RegistryErrorDetail {
  code: string;
  message: string;
  detail?: unknown;
}

export interface RegistryErrorFields {
  /** HTTP status, when the registry answered at all. */
  status?: number;
  /** The registry's first error code, e.g. `NAME_UNKNOWN`, `TOOMANYREQUESTS`. */
  code?: string;
  /** The registry's first error message, as it wrote it. */
  registryMessage?: string;
  /** Every error the registry listed. */
  errors?: RegistryErrorDetail[];
}

export class RegistryError extends OciError {
  override name = 'RegistryError';
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly registryMessage: string | undefined;
  readonly errors: RegistryErrorDetail[];

  constructor(message: string, fields: RegistryErrorFields = {}) {
    super(message);
    this.status = fields.status;
    this.code = fields.code;
    this.registryMessage = fields.registryMessage;
    this.errors = fields.errors ?? [];
  }
}

/** A registry that gave no answer at all: nothing listens, the name does not resolve, TLS failed... */
export class UnreachableError extends RegistryError {
  override name = 'UnreachableError';

  constructor(
    message: string,
    /** Where ocilab asked: the registry itself, or a host it redirected to. */
    readonly url: URL,
    /** Why nothing answered. */
    readonly network: NetworkError,
  ) {
    super(message);
  }
}

/** What a failed response is about, for the advice that follows the registry's words. */
export interface FailedRequest {
  /** The request in the reader's words: "listing the tags of library/busybox". */
  what: string;
  /** The URL that answered (after redirects). */
  url: URL;
  /** The registry as `docker login` names it: 'docker.io', 'registry.k8s.io', '127.0.0.1:5000'. */
  registry: string;
  /** Credentials from docker's config.json went with the request (to the registry or its token service). */
  withCredentials: boolean;
  /** How many times the request was sent, retries included. */
  attempts: number;
  /** What the last answer's Retry-After asked for. */
  retryAfterSeconds?: number;
}

/**
 * Builds the error for a response that is not a success: the status, what the registry said (the
 * distribution API's `{"errors": [{code, message, detail}]}`, quoted when present) and what to do.
 */
export function errorFromResponse(request: FailedRequest, status: number, statusText: string, body: string): RegistryError {
  const errors = parseErrorBody(body);
  const first = errors[0];
  const said = errors.length > 0 ? `: ${errors.map(describeError).join('; ')}` : statusText ? `: ${statusText}` : '';
  const advice = adviceFor(request, status, first?.code);
  const sentence = `${request.url.origin} answered ${status}${said} while ${request.what}.${advice ? ` ${advice}` : ''}`;
  return new RegistryError(sentence, {
    status,
    errors,
    ...(first?.code ? { code: first.code } : {}),
    ...(first ? { registryMessage: first.message } : {}),
  });
}

/** `docker login` for Docker Hub, `docker login HOST` for any other registry. */
export function loginCommand(registry: string): string {
  return registry === 'docker.io' ? 'docker login' : `docker login ${registry}`;
}

function adviceFor(request: FailedRequest, status: number, code: string | undefined): string {
  const login = `\`${loginCommand(request.registry)}\``;
  const tries = request.attempts > 1 ? ` (tried ${request.attempts} times)` : '';
  if (status === 401 || status === 403) {
    return request.withCredentials
      ? `The registry refused the credentials ocilab found for ${request.registry} in docker's config.json: run ${login} again, and check that your account may read this repository.`
      : `The registry refused access: check the repository name; if the repository is private, run ${login} first (ocilab reads the credentials in docker's config.json).`;
  }
  if (code === 'MANIFEST_UNKNOWN') return 'Check the tag or digest; `ocilab tags <repository>` lists the tags.';
  if (status === 404) return 'Check the registry address and the repository name.';
  if (status === 429) {
    const asked = request.retryAfterSeconds !== undefined ? `; it asks to wait ${request.retryAfterSeconds} s` : '';
    return `The registry limits how often it may be asked${tries}${asked}: try again later, or run ${login} for a higher limit.`;
  }
  if (status >= 500) return `The registry failed on its side${tries}: try again later.`;
  return '';
}

/** `CODE: message (detail)`, the detail only when there is one, shortened when it is long. */
function describeError(error: RegistryErrorDetail): string {
  const detail = describeDetail(error.detail);
  const text = [error.code, error.message].filter(Boolean).join(': ');
  return detail ? `${text} (${detail})` : text;
}

const DETAIL_CHARS = 200;

function describeDetail(detail: unknown): string {
  if (detail === undefined || detail === null || detail === '') return '';
  let text: string;
  if (typeof detail === 'string') text = detail;
  else if (isRecord(detail) && Object.values(detail).every((v) => typeof v !== 'object' || v === null)) {
    // The distribution registry's `{"name": "x/y"}`, `{"tag": "1.0"}`: readable as `name: x/y`.
    text = Object.entries(detail)
      .map(([key, value]) => `${key}: ${String(value)}`)
      .join(', ');
  } else text = JSON.stringify(detail);
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS - 1)}…` : text;
}

function parseErrorBody(body: string): RegistryErrorDetail[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  if (!isRecord(parsed)) return [];
  // Docker's token service (auth.docker.io) answers `{"details": "incorrect username or password"}`.
  if (!Array.isArray(parsed.errors)) return typeof parsed.details === 'string' ? [{ code: '', message: parsed.details }] : [];
  return parsed.errors.filter(isRecord).map((e) => ({
    code: typeof e.code === 'string' ? e.code : 'UNKNOWN',
    message: typeof e.message === 'string' ? e.message : '',
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
  }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An image that cannot be pulled as asked: no manifest for this platform, a media type ocilab does not
 * unpack, a malformed manifest, or, offline, something the cache does not hold.
 */
export class PullError extends OciError {
  override name = 'PullError';
}

/** Bytes that are not what their digest promised: the wrong hash, or the wrong size. */
export class DigestMismatchError extends PullError {
  override name = 'DigestMismatchError';

  constructor(
    message: string,
    /** The digest the manifest (or the reference) names. */
    readonly expected: string,
    /** The digest of what arrived; undefined when the size was already wrong. */
    readonly actual: string | undefined,
  ) {
    super(message);
  }
}

/** A layer that cannot be applied: not a tar archive, or an entry ocilab refuses. */
export class LayerError extends OciError {
  override name = 'LayerError';
  constructor(
    message: string,
    /** The entry's name as the tar archive has it, when one entry is to blame. */
    readonly entry?: string,
  ) {
    super(message);
  }
}

/** Follows what a LayerError says of an entry that tries to leave the root filesystem. */
export const LAYER_REFUSED =
  'ocilab refused the layer: images made by build tools never contain such an entry, so this one is broken or made to ' +
  'attack whoever unpacks it. Nothing outside the root filesystem was touched.';

/** A platform that is not `os/architecture[/variant]`, such as `linux/amd64` or `linux/arm64/v8`. */
export class InvalidPlatformError extends OciError {
  override name = 'InvalidPlatformError';
  /** Exit 2, bad usage: the user typed something that is not a platform. */
  override readonly exitStatus = 2;
}

/**
 * An image cache tarball that cannot be written or is refused: a damaged blob in the cache, an image
 * the cache holds only part of, a tarball that is not what `ocilab cache export` writes.
 */
export class CacheArchiveError extends OciError {
  override name = 'CacheArchiveError';
  constructor(
    message: string,
    /** The entry of the tarball, or the blob, to blame, when there is one. */
    readonly entry?: string,
  ) {
    super(message);
  }
}
