// How the OCI client talks to a registry: the API's URL (https; plain HTTP for loopback or when asked),
// authentication (bearer tokens from the registry's token service, docker's saved credentials),
// redirects followed by hand so that Authorization never reaches another host, and retries of 429
// and 5xx answers.
import { setTimeout as wait } from 'node:timers/promises';
import { defaultDockerConfigPath, readDockerConfig, type Credentials, type DockerConfig } from './docker-config.js';
import { errorFromResponse, InvalidReferenceError, OciError, RegistryError, UnreachableError } from './errors.js';
import { classifyNetworkError, type NetworkFailure } from './network.js';
import { DOCKER_HUB, DOCKER_HUB_API, REGISTRY, REPOSITORY, type Reference } from './reference.js';

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

/** A redirect a registry answered with, and followed. */
export interface Redirect {
  /** The URL that answered with the redirect. */
  from: URL;
  /** Where its Location header sent the request. */
  to: URL;
  /** 301, 302, 303, 307 or 308. */
  status: number;
}

/** Which repository of which registry a request is about. */
export type RepositoryAddress = Pick<Reference, 'host' | 'repository'>;

const MAX_REDIRECTS = 10;
const DEFAULT_RETRIES = 4;
/** The most one request waits between its retries, in all; a registry asking for longer gets an error at once. */
const MAX_RETRY_WAIT_MS = 60_000;
/** The first retry comes after 0.5–1 s, each later one after twice as long. */
const BACKOFF_MS = 1_000;
/** How long a token lives when the token service does not say (the token spec's default). */
const DEFAULT_TOKEN_SECONDS = 60;
/** A token is used for this share of its lifetime, so it does not expire on the way. */
const TOKEN_LIFETIME_USED = 0.9;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

interface Authorization {
  /** The Authorization header's value. */
  header: string;
  /** Made from credentials in docker's config.json (not anonymous). */
  withCredentials: boolean;
  /** Date.now() after which it is not sent any more. */
  expires: number;
}

/** One request as it goes from host to host along redirects. */
interface Hop {
  method: 'GET' | 'HEAD';
  accept: string[];
  signal: AbortSignal | undefined;
  /** The request in the reader's words, for errors. */
  what: string;
  /** What to send to the origin of `url`: only ever what that origin itself asked for. */
  authorizationFor(url: URL): Authorization | undefined;
  onRedirect?(redirect: Redirect): void;
}

interface Answer {
  response: Response;
  /** The URL that answered, after redirects. */
  url: URL;
  authorization: Authorization | undefined;
}

export class Transport {
  private readonly insecure: boolean;
  private readonly scheme: 'https' | 'http' | undefined;
  private readonly fetch: typeof fetch;
  private readonly dockerConfigPath: string;
  private readonly retries: number;
  private readonly sleep: ((ms: number) => Promise<void>) | undefined;
  /** Bearer tokens by `origin scope`. */
  private readonly tokens = new Map<string, Authorization>();
  /** Basic credentials by origin, for registries that asked for a password. */
  private readonly passwords = new Map<string, Authorization>();
  /** The origins each registry host redirected to: pages there may be asked for directly. */
  private readonly redirectedTo = new Map<string, Set<string>>();
  private dockerConfig: Promise<DockerConfig> | undefined;

  constructor(options: TransportOptions = {}) {
    this.insecure = options.insecure ?? false;
    this.scheme = options.scheme;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.dockerConfigPath = options.dockerConfig ?? defaultDockerConfigPath();
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.sleep = options.sleep;
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
    return this.send(new URL(`${this.originOf(ref.host)}/v2/${ref.repository}/${path}`), ref, init);
  }

  /**
   * The same for an absolute URL (a Link to the next page): it must be on the registry itself, or on
   * a host the registry redirected to, with the same scheme; anything else is refused unasked.
   */
  async requestUrl(url: URL, ref: RepositoryAddress, init: RegistryRequestInit = {}): Promise<Response> {
    checkAddress(ref);
    const origin = this.originOf(ref.host);
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
    const scope = `repository:${ref.repository}:pull`;
    const hop: Hop = {
      method,
      accept: init.accept ?? [],
      signal: init.signal,
      what: describeRequest(method, ref.repository, url),
      authorizationFor: (to) => this.cachedAuthorization(to.origin, scope),
      onRedirect: (redirect) => {
        const origins = this.redirectedTo.get(ref.host) ?? new Set<string>();
        this.redirectedTo.set(ref.host, origins.add(redirect.to.origin));
        init.onRedirect?.(redirect);
      },
    };
    return this.withRetries(hop, registryName(ref.host), () => this.authenticated(url, hop, scope, ref.repository));
  }

  /** Sends the request; on a 401 with a challenge it can meet, gets what the challenge asks for and sends it again, once per origin. */
  private async authenticated(url: URL, hop: Hop, scope: string, repository: string): Promise<Answer> {
    const met = new Set<string>();
    // What this request was just given is sent once even if it is already stale (a very short-lived token).
    const fresh = new Map<string, Authorization>();
    const withFresh: Hop = { ...hop, authorizationFor: (to) => fresh.get(to.origin) ?? hop.authorizationFor(to) };
    for (;;) {
      const answer = await this.follow(url, withFresh);
      const { origin, host } = answer.url;
      if (answer.response.status !== 401 || met.has(origin)) return answer;
      const challenge = pickChallenge(parseChallenges(answer.response.headers.get('www-authenticate')));
      if (!challenge) return answer;
      const credentials = (await this.credentials()).credentialsFor(host);
      // A password challenge without a password to give stands as the answer.
      if (challenge.scheme === 'basic' && !credentials) return answer;
      met.add(origin);
      await discard(answer.response);
      let authorization: Authorization;
      if (challenge.scheme === 'basic' && credentials) {
        authorization = { header: basic(credentials), withCredentials: true, expires: Infinity };
        this.passwords.set(origin, authorization);
      } else {
        authorization = await this.token(answer.url, challenge.params, credentials, hop.signal, scope, repository);
        this.tokens.set(`${origin} ${scope}`, authorization);
      }
      fresh.set(origin, authorization);
    }
  }

  /**
   * A token from the service the challenge names (`realm`), for `service` and `scope`. Credentials,
   * when docker has some for the registry, go to that service only.
   */
  private async token(
    challenger: URL,
    params: Record<string, string>,
    credentials: Credentials | undefined,
    signal: AbortSignal | undefined,
    scope: string,
    repository: string,
  ): Promise<Authorization> {
    const what = `getting a token to read ${repository}`;
    let realm: URL;
    try {
      realm = new URL(params.realm ?? '');
    } catch {
      throw new RegistryError(`${challenger.origin} names '${params.realm}' as its token service, which is not a URL.`);
    }
    this.checkScheme(realm, challenger, what);
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', params.scope ?? scope);
    const password = credentials ? { header: basic(credentials), withCredentials: true, expires: Infinity } : undefined;
    const hop: Hop = {
      method: 'GET',
      accept: ['application/json'],
      signal,
      what,
      authorizationFor: (to) => (to.origin === realm.origin ? password : undefined),
    };
    const response = await this.withRetries(hop, registryName(challenger.host), () => this.follow(realm, hop));
    const { token, expiresIn } = tokenOf(await response.text());
    if (!token) throw new RegistryError(`${realm.origin} answered without a token while ${what}.`);
    const seconds = expiresIn ?? DEFAULT_TOKEN_SECONDS;
    return {
      header: `Bearer ${token}`,
      withCredentials: credentials !== undefined,
      expires: Date.now() + seconds * 1000 * TOKEN_LIFETIME_USED,
    };
  }

  private cachedAuthorization(origin: string, scope: string): Authorization | undefined {
    const key = `${origin} ${scope}`;
    const token = this.tokens.get(key);
    if (token && token.expires <= Date.now()) this.tokens.delete(key);
    else if (token) return token;
    return this.passwords.get(origin);
  }

  private credentials(): Promise<DockerConfig> {
    this.dockerConfig ??= readDockerConfig(this.dockerConfigPath);
    return this.dockerConfig;
  }

  /** Sends again on 429 and 5xx, waiting what Retry-After asks or a growing, jittered backoff. */
  private async withRetries(hop: Hop, registry: string, attempt: () => Promise<Answer>): Promise<Response> {
    let waited = 0;
    for (let attempts = 1; ; attempts++) {
      const { response, url, authorization } = await attempt();
      if (response.ok) return response;
      const retryAfter = retryAfterMs(response.headers.get('retry-after'), Date.now());
      if ((response.status === 429 || response.status >= 500) && attempts <= this.retries) {
        const delay = retryAfter ?? backoff(attempts);
        if (waited + delay <= MAX_RETRY_WAIT_MS) {
          await discard(response);
          await this.pause(delay, hop.signal);
          waited += delay;
          continue;
        }
      }
      const body = await response.text().catch(() => '');
      throw errorFromResponse(
        {
          what: hop.what,
          url,
          registry,
          withCredentials: authorization?.withCredentials ?? false,
          attempts,
          ...(retryAfter !== undefined ? { retryAfterSeconds: Math.ceil(retryAfter / 1000) } : {}),
        },
        response.status,
        response.statusText,
        body,
      );
    }
  }

  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.sleep) await this.sleep(ms);
    else
      await wait(ms, undefined, signal ? { signal } : {}).catch((error: unknown) =>
        Promise.reject(signal?.aborted ? signal.reason : error),
      );
    signal?.throwIfAborted();
  }

  /** Sends the request and follows redirects, each hop with only the authorization of its own origin. */
  private async follow(start: URL, hop: Hop): Promise<Answer> {
    let url = start;
    for (let redirects = 0; ; redirects++) {
      const authorization = hop.authorizationFor(url);
      const response = await this.fetchOnce(url, hop, authorization);
      if (!REDIRECT_STATUSES.has(response.status)) return { response, url, authorization };
      await discard(response);
      if (redirects === MAX_REDIRECTS)
        throw new RegistryError(`${start.origin} redirected more than ${MAX_REDIRECTS} times while ${hop.what}.`);
      const location = response.headers.get('location');
      if (!location) throw new RegistryError(`${url.origin} answered ${response.status} without a Location header while ${hop.what}.`);
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        throw new RegistryError(`${url.origin} redirected to '${location}', which is not a URL, while ${hop.what}.`);
      }
      this.checkScheme(target, url, hop.what);
      hop.onRedirect?.({ from: url, to: target, status: response.status });
      url = target;
    }
  }

  private async fetchOnce(url: URL, hop: Hop, authorization: Authorization | undefined): Promise<Response> {
    const headers: Record<string, string> = {};
    if (hop.accept.length > 0) headers.Accept = hop.accept.join(', ');
    if (authorization) headers.Authorization = authorization.header;
    let response: Response;
    try {
      response = await this.fetch(url, { method: hop.method, headers, redirect: 'manual', ...(hop.signal ? { signal: hop.signal } : {}) });
    } catch (error) {
      if (hop.signal?.aborted) throw hop.signal.reason;
      throw unreachable(url, hop.what, error);
    }
    // A fetch injected by a test may build its Responses without a url; callers resolve Links against it.
    if (response.url === '') Object.defineProperty(response, 'url', { value: url.href });
    return response;
  }

  /** https, or plain HTTP where it is allowed; never from https down to HTTP. */
  private checkScheme(target: URL, from: URL, what: string): void {
    if (from.protocol === 'https:' && target.protocol === 'http:') {
      throw new RegistryError(`${from.origin} redirected to ${target.origin}, which is not https, while ${what}; refusing to downgrade.`);
    }
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      throw new RegistryError(`${from.origin} sent ocilab to ${target.href} while ${what}; only https and http URLs are followed.`);
    }
    if (target.protocol === 'http:' && !this.allowsHttp(target.hostname)) {
      throw new RegistryError(
        `${from.origin} sent ocilab to ${target.origin} over plain HTTP while ${what}; plain HTTP is used only for loopback addresses or with --insecure.`,
      );
    }
  }

  private allowsHttp(hostname: string): boolean {
    return this.insecure || isLoopback(hostname);
  }

  private originOf(host: string): string {
    return `${this.scheme ?? (this.allowsHttp(new URL(`http://${host}`).hostname) ? 'http' : 'https')}://${host}`;
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

/** 127.0.0.0/8, ::1 and localhost: the machine itself, where plain HTTP crosses no network. */
function isLoopback(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The registry as `docker login` names it. */
function registryName(host: string): string {
  return host === DOCKER_HUB_API ? DOCKER_HUB : host;
}

function basic({ username, password }: Credentials): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
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

interface Challenge {
  /** Lower-case: 'bearer', 'basic'. */
  scheme: string;
  /** Parameter names in lower case, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const CHALLENGE_SCHEME = new RegExp(`[\\s,]*(${TOKEN})(?=\\s|,|$)`, 'y');
const CHALLENGE_PARAM = new RegExp(`[\\s,]*(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s,"]*))`, 'y');

/**
 * The challenges of a `WWW-Authenticate` header (RFC 9110 §11.6.1), e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`.
 * Quoted values may hold commas and escaped quotes; several challenges may share the header.
 */
export function parseChallenges(header: string | null): Challenge[] {
  const challenges: Challenge[] = [];
  let at = 0;
  while (header && at < header.length) {
    CHALLENGE_SCHEME.lastIndex = at;
    const scheme = CHALLENGE_SCHEME.exec(header);
    if (!scheme) break;
    at = CHALLENGE_SCHEME.lastIndex;
    const params: Record<string, string> = {};
    for (;;) {
      CHALLENGE_PARAM.lastIndex = at;
      const param = CHALLENGE_PARAM.exec(header);
      if (!param) break;
      params[(param[1] as string).toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
      at = CHALLENGE_PARAM.lastIndex;
    }
    challenges.push({ scheme: (scheme[1] as string).toLowerCase(), params });
  }
  return challenges;
}

/** A Bearer challenge with a realm, else a Basic one: the two a registry uses. */
function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
}

// Docker's token services answer `token`; OAuth2-style ones (GCR, Artifact Registry) `access_token`.
function tokenOf(body: string): { token?: string; expiresIn?: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { token, access_token: accessToken, expires_in: expiresIn } = parsed as Record<string, unknown>;
  const value = typeof token === 'string' && token ? token : typeof accessToken === 'string' && accessToken ? accessToken : undefined;
  return {
    ...(value ? { token: value } : {}),
    ...(typeof expiresIn === 'number' && expiresIn > 0 ? { expiresIn } : {}),
  };
}

/** `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`, in milliseconds from `now`. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function backoff(attempt: number): number {
  const ceiling = BACKOFF_MS * 2 ** (attempt - 1);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** What to do when a registry gives no answer, for the failures the user can fix here. */
const UNREACHABLE_ADVICE: Partial<Record<NetworkFailure, string>> = {
  'connection-refused': 'Nothing answers there: check the address and port, and that the registry is running.',
  'name-not-resolved': "Check the registry's name and this machine's DNS.",
  'untrusted-certificate': 'Its TLS certificate is not trusted here: add its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem.',
  'tls-to-plain-http': 'If the registry serves plain HTTP, allow it with --insecure.',
  'blocked-port': 'Node.js refuses this port (browsers block it): give the registry another port.',
};

function unreachable(url: URL, what: string, error: unknown): UnreachableError {
  const network = classifyNetworkError(error);
  // fetch reports "fetch failed" and keeps the system's own words (connect ECONNREFUSED ...) in `cause`.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const said = cause instanceof Error ? cause.message : String(cause);
  const advice = UNREACHABLE_ADVICE[network.failure];
  return new UnreachableError(`Could not reach ${url.origin} while ${what}: ${said}.${advice ? ` ${advice}` : ''}`, url, network);
}
