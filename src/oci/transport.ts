// The one Transport every registry request goes through: the API's URL for a repository, and the steps
// each request passes, each wrapping the next: retries of 429 and 5xx (`retry.ts`) around meeting 401
// challenges (`auth.ts`) around redirects followed by hand (`redirects.ts`) around one fetch (`send.ts`).
import { Keychain, authenticate } from './auth.js';
import { BearerAuth } from './bearer.js';
import { defaultDockerConfigPath } from './docker-config.js';
import { InvalidReferenceError, OciError, RegistryError } from './errors.js';
import type { Hop, Redirect, Send } from './hop.js';
import { followRedirects } from './redirects.js';
import { REGISTRY, REPOSITORY, registryName, type Reference } from './reference.js';
import { retrying, type RetryOptions } from './retry.js';
import { SchemePolicy } from './scheme.js';
import { fetchOnce } from './send.js';

export interface TransportOptions {
  /** Use plain HTTP for any registry; otherwise only loopback hosts (127.0.0.0/8, ::1, localhost) use HTTP. */
  insecure?: boolean;
  /**
   * The scheme to ask the registry's own host with, when the caller's address names one (a lab's
   * `https://127.0.0.1:5000` is asked over https). By default https, plain HTTP where it is allowed.
   */
  scheme?: 'https' | 'http';
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
  /** Path of docker's config.json; default $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  dockerConfig?: string;
  /** Retries of 429/5xx (default 4), backoff with jitter, honouring Retry-After (seconds or HTTP date), capped. */
  retries?: number;
  /** Replaces the wait between retries (tests). */
  sleep?: (ms: number) => Promise<void>;
}

export interface RegistryRequestInit {
  method?: 'GET' | 'HEAD';
  /** Media types for the Accept header, most wanted first. */
  accept?: string[];
  signal?: AbortSignal;
  /** Called for each redirect followed on the way to the answer. */
  onRedirect?: (redirect: Redirect) => void;
}

/** Which repository of which registry a request is about. */
export type RepositoryAddress = Pick<Reference, 'host' | 'repository'>;

const DEFAULT_RETRIES = 4;

export class Transport {
  private readonly schemes: SchemePolicy;
  /** One request, redirects followed. */
  private readonly follow: Send;
  private readonly retries: RetryOptions;
  /** Kept across requests, so each registry's tokens and passwords are asked for once. */
  private readonly keychain: Keychain;
  /** The origins each registry host redirected to: pages there may be asked for directly. */
  private readonly redirectedTo = new Map<string, Set<string>>();

  constructor(options: TransportOptions = {}) {
    this.schemes = new SchemePolicy(options.insecure ?? false, options.scheme);
    this.follow = followRedirects(fetchOnce(options.fetch ?? globalThis.fetch), this.schemes);
    this.retries = { retries: options.retries ?? DEFAULT_RETRIES, sleep: options.sleep };
    const tokens = new BearerAuth(retrying(this.follow, this.retries), this.schemes);
    this.keychain = new Keychain(options.dockerConfig ?? defaultDockerConfigPath(), tokens);
  }

  /**
   * GET/HEAD `<scheme>://<host>/v2/<repository>/<path>` with auth, redirects and retries. Resolves
   * to an ok Response (body unread) whose `url` is the URL that answered, or throws RegistryError.
   */
  async request(ref: RepositoryAddress, path: string, init: RegistryRequestInit = {}): Promise<Response> {
    checkAddress(ref);
    const [pathname = ''] = path.split('?');
    if (pathname.startsWith('/') || pathname.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new OciError(`'${path}' is not a path inside a repository, such as tags/list or manifests/latest.`);
    }
    return this.send(new URL(`${this.schemes.originOf(ref.host)}/v2/${ref.repository}/${path}`), ref, init);
  }

  /**
   * The same for an absolute URL (a Link to the next page): it must be on the registry itself, or on
   * a host the registry redirected to, with the same scheme; anything else is refused unasked.
   */
  async requestUrl(url: URL, ref: RepositoryAddress, init: RegistryRequestInit = {}): Promise<Response> {
    checkAddress(ref);
    const origin = this.schemes.originOf(ref.host);
    if (url.origin !== origin && !this.redirectedTo.get(ref.host)?.has(url.origin)) {
      throw new RegistryError(
        `Refusing to ask ${url.origin} about ${ref.repository}: it is neither ${origin} nor a host ${origin} redirected to.`,
      );
    }
    return this.send(url, ref, init);
  }

  private send(url: URL, ref: RepositoryAddress, init: RegistryRequestInit): Promise<Response> {
    init.signal?.throwIfAborted();
    const method = init.method ?? 'GET';
    const hop: Hop = {
      method,
      accept: init.accept ?? [],
      signal: init.signal,
      what: describeRequest(method, ref.repository, url),
      registry: registryName(ref.host),
      onRedirect: (redirect) => {
        const origins = this.redirectedTo.get(ref.host) ?? new Set<string>();
        this.redirectedTo.set(ref.host, origins.add(redirect.to.origin));
        init.onRedirect?.(redirect);
      },
    };
    const access = { repository: ref.repository, scope: `repository:${ref.repository}:pull` };
    return retrying(authenticate(this.follow, this.keychain, access), this.retries)(url, hop);
  }
}

function checkAddress(ref: RepositoryAddress): void {
  const name = `${ref.host}/${ref.repository}`;
  if (!REGISTRY.test(ref.host)) {
    throw new InvalidReferenceError(
      name,
      `'${ref.host}' is not a registry host: expected a host name or address with an optional port`,
      '127.0.0.1:5000',
    );
  }
  if (!REPOSITORY.test(ref.repository)) {
    throw new InvalidReferenceError(
      name,
      `'${ref.repository}' is not a repository path: use lower-case components joined by '/'`,
      'library/busybox',
    );
  }
}

/** "listing the tags of x", "fetching the manifest 1.36 of x": the request as a user would say it. */
function describeRequest(method: 'GET' | 'HEAD', repository: string, url: URL): string {
  const prefix = `/v2/${repository}/`;
  const rest = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : '';
  if (rest === 'tags/list') return `listing the tags of ${repository}`;
  const [kind, id, ...more] = rest.split('/');
  const verb = method === 'HEAD' ? 'checking' : 'fetching';
  if (id && more.length === 0 && (kind === 'manifests' || kind === 'blobs')) {
    return `${verb} the ${kind === 'manifests' ? 'manifest' : 'blob'} ${decodeURIComponent(id)} of ${repository}`;
  }
  return `${method} ${url.pathname}`;
}
