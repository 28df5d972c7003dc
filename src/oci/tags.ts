// The tags of a repository as a registry reports them (distribution API `GET /v2/<name>/tags/list`),
// every page of the list: the transport handles tokens, redirects and retries, this module the
// `Link` pagination.
import { RegistryError } from './errors.js';
import type { Redirect } from './hop.js';
import type { Reference } from './reference.js';
import { Transport } from './transport.js';

export interface ListTagsOptions {
  /** Reused across calls, it keeps its tokens; by default a new one that allows HTTP only for loopback. */
  transport?: Transport;
  signal?: AbortSignal;
  /** Called for each redirect the registry answers a page of the list with (registry.k8s.io sends every request elsewhere). */
  onRedirect?: (redirect: Redirect) => void;
}

/**
 * Every tag of the repository, all pages of the list, in the registry's order. Throws `RegistryError`
 * with the registry's own words when it refuses or cannot be reached.
 */
export async function listTags(ref: Pick<Reference, 'host' | 'repository'>, options: ListTagsOptions = {}): Promise<string[]> {
  const transport = options.transport ?? new Transport();
  const init = {
    accept: ['application/json'],
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onRedirect ? { onRedirect: options.onRedirect } : {}),
  };
  const what = `listing the tags of ${ref.repository}`;
  const tags: string[] = [];
  const read = new Set<string>();
  let response = await transport.request(ref, 'tags/list', init);
  for (;;) {
    const page = new URL(response.url);
    read.add(page.href);
    tags.push(...parseTagList(await response.text(), page, what));
    const next = nextPage(response.headers.get('link'), page, what);
    if (!next) return tags;
    // A registry whose next link points back to a page already read would otherwise keep us here forever.
    if (read.has(next.href)) throw new RegistryError(`${page.origin} paginates in a loop (back to ${next.href}) while ${what}.`);
    response = await transport.requestUrl(next, ref, init);
  }
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
 * reason to send its listing elsewhere, and following it would let a registry aim ocilab at any URL.
 */
export function nextPage(link: string | null, page: URL, what: string): URL | undefined {
  if (!link) return undefined;
  for (const m of link.matchAll(/<([^>]*)>([^,]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(m[2] ?? '');
    // rel may list several relations: rel="next last".
    if (!(rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/).includes('next')) continue;
    let next: URL;
    try {
      next = new URL(m[1] as string, page);
    } catch {
      throw new RegistryError(`${page.origin} sent '${m[1]}' as the next page of its tag list, which is not a URL, while ${what}.`);
    }
    if (next.origin !== page.origin) {
      throw new RegistryError(
        `${page.origin} sent the next page of its tag list to ${next.origin} while ${what}; refusing to follow it to another host.`,
      );
    }
    return next;
  }
  return undefined;
}
