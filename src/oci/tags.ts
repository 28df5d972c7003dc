// The tags of a repository as a registry reports them (distribution API `GET /v2/<name>/tags/list`),
// with what public registries add on top: anonymous bearer tokens, redirects to other hosts, and
// `Link` pagination.
import { RegistryError, errorFromResponse } from './errors.js';

export interface ListTagsOptions {
  signal?: AbortSignal;
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
}

const MAX_REDIRECTS = 10;

// The distribution spec's grammar for repository names: lower-case path components joined by `/`.
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/**
 * Every tag of `repository` at `registry` (`scheme://host[:port]`), all pages of the list.
 * Throws `RegistryError` with the registry's own words when it refuses or cannot be reached.
 */
export async function listTags(registry: string, repository: string, opts: ListTagsOptions = {}): Promise<string[]> {
  const base = registryUrl(registry);
  if (!REPOSITORY.test(repository)) {
    throw new RegistryError(`'${repository}' is not a repository name: expected lower-case path components such as library/busybox.`);
  }
  const what = `listing the tags of ${repository}`;
  const client = new AnonymousClient(opts, repository);
  const tags: string[] = [];
  const visited = new Set<string>();
  let page: URL | undefined = new URL(`/v2/${repository}/tags/list`, base);
  while (page) {
    // A registry whose next link points back to an earlier page would otherwise keep us here forever.
    if (visited.has(page.href)) throw new RegistryError(`${page.origin} paginates in a loop (back to ${page.href}) while ${what}.`);
    visited.add(page.href);
    const { response, url } = await client.get(page, what);
    tags.push(...parseTagList(await response.text(), url, what));
    page = nextPage(response.headers.get('link'), url, what);
  }
  return tags;
}

function registryUrl(registry: string): URL {
  let url: URL;
  try {
    url = new URL(registry);
  } catch {
    throw new RegistryError(`'${registry}' is not a registry address; expected scheme://host, e.g. https://registry-1.docker.io.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RegistryError(`'${registry}' is not a registry address; the scheme must be https or http.`);
  }
  return url;
}

interface BearerChallenge {
  realm: string;
  service?: string;
  scope?: string;
}

/**
 * GETs with redirects handled here rather than by fetch: a token belongs to the host that asked for
 * it, so Authorization must never reach the host a redirect points to (registry.k8s.io sends every
 * request to another host with a 307).
 */
class AnonymousClient {
  private readonly fetch: typeof fetch;
  private readonly signal: AbortSignal | undefined;
  /** `Authorization` header value by origin. */
  private readonly tokens = new Map<string, string>();

  constructor(
    opts: ListTagsOptions,
    private readonly repository: string,
  ) {
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.signal = opts.signal;
  }

  async get(start: URL, what: string): Promise<{ response: Response; url: URL }> {
    let url = start;
    let redirects = 0;
    const triedToken = new Set<string>();
    for (;;) {
      const authorization = this.tokens.get(url.origin);
      const response = await this.send(url, what, {
        Accept: 'application/json',
        ...(authorization ? { Authorization: authorization } : {}),
      });
      if (isRedirect(response.status)) {
        url = this.redirectTarget(response, url, what, ++redirects);
        await response.body?.cancel();
        continue;
      }
      const challenge = response.status === 401 ? parseBearerChallenge(response.headers.get('www-authenticate')) : undefined;
      if (challenge && !triedToken.has(url.origin)) {
        triedToken.add(url.origin);
        await response.body?.cancel();
        this.tokens.set(url.origin, `Bearer ${await this.anonymousToken(challenge)}`);
        continue;
      }
      if (!response.ok) throw errorFromResponse(what, url, response.status, response.statusText, await response.text());
      return { response, url };
    }
  }

  private redirectTarget(response: Response, from: URL, what: string, redirects: number): URL {
    if (redirects > MAX_REDIRECTS) throw new RegistryError(`${from.origin} redirected more than ${MAX_REDIRECTS} times while ${what}.`);
    const location = response.headers.get('location');
    if (!location) throw new RegistryError(`${from.origin} answered ${response.status} without a Location header while ${what}.`);
    const target = new URL(location, from);
    if (from.protocol === 'https:' && target.protocol !== 'https:') {
      throw new RegistryError(`${from.origin} redirected to ${target.origin}, which is not https, while ${what}; refusing to downgrade.`);
    }
    return target;
  }

  private async anonymousToken(challenge: BearerChallenge): Promise<string> {
    const what = `getting an anonymous token for ${this.repository}`;
    let realm: URL;
    try {
      realm = new URL(challenge.realm);
    } catch {
      throw new RegistryError(`The registry names '${challenge.realm}' as its token service, which is not a URL.`);
    }
    if (challenge.service) realm.searchParams.set('service', challenge.service);
    realm.searchParams.set('scope', challenge.scope ?? `repository:${this.repository}:pull`);
    // The token service gets no credentials, so fetch may follow its redirects itself.
    const response = await this.send(realm, what, { Accept: 'application/json' }, 'follow');
    const body = await response.text();
    if (!response.ok) throw errorFromResponse(what, realm, response.status, response.statusText, body);
    const token = tokenOf(body);
    if (!token) throw new RegistryError(`${realm.origin} answered without a token while ${what}.`);
    return token;
  }

  private async send(url: URL, what: string, headers: Record<string, string>, redirect: RequestRedirect = 'manual'): Promise<Response> {
    try {
      return await this.fetch(url, { headers, redirect, ...(this.signal ? { signal: this.signal } : {}) });
    } catch (error) {
      if (this.signal?.aborted) throw error;
      throw new RegistryError(`Could not reach ${url.origin} while ${what}: ${networkReason(error)}.`);
    }
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"` */
export function parseBearerChallenge(header: string | null): BearerChallenge | undefined {
  if (!header || !/^bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice('bearer'.length).matchAll(/([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) {
    params[(m[1] as string).toLowerCase()] = m[2] ?? m[3] ?? '';
  }
  if (!params.realm) return undefined;
  return {
    realm: params.realm,
    ...(params.service ? { service: params.service } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
  };
}

// Docker's token services answer `token`; OAuth2-style ones (GCR, Artifact Registry) `access_token`.
function tokenOf(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { token, access_token: accessToken } = parsed as { token?: unknown; access_token?: unknown };
    if (typeof token === 'string' && token) return token;
    if (typeof accessToken === 'string' && accessToken) return accessToken;
  } catch {
    // Not JSON: no token.
  }
  return undefined;
}

function parseTagList(body: string, url: URL, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new RegistryError(`${url.origin} answered with something that is not JSON while ${what}.`);
  }
  const tags = (parsed as { tags?: unknown } | null)?.tags;
  // The distribution registry answers `"tags": null` for a repository whose tags were all deleted.
  if (tags === null) return [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new RegistryError(`${url.origin} answered without a "tags" list while ${what}.`);
  }
  return tags;
}

/**
 * The `rel="next"` target of a Link header (`</v2/x/tags/list?last=b&n=2>; rel="next"`), relative
 * to the page that carried it. A next page on another host or scheme is refused: a registry has no
 * reason to send its listing elsewhere.
 */
export function nextPage(link: string | null, page: URL, what: string): URL | undefined {
  if (!link) return undefined;
  for (const m of link.matchAll(/<([^>]*)>([^,]*)/g)) {
    if (!/;\s*rel\s*=\s*"?next"?/i.test(m[2] ?? '')) continue;
    const next = new URL(m[1] as string, page);
    if (next.origin !== page.origin) {
      throw new RegistryError(
        `${page.origin} sent the next page of its tag list to ${next.origin} while ${what}; refusing to follow it to another host.`,
      );
    }
    return next;
  }
  return undefined;
}

function networkReason(error: unknown): string {
  // fetch reports "fetch failed" and keeps the system's reason (ECONNREFUSED, ENOTFOUND...) in `cause`.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
