// The innermost step of every registry request: one fetch, redirects not followed, with the
// Authorization the request holds for that origin; no answer at all becomes an UnreachableError that
// says what to do.
import { UnreachableError } from './errors.js';
import type { Send } from './hop.js';
import { classifyNetworkError, type NetworkFailure } from './network.js';

/** The step that calls `fetch` (the global one, or a test's). */
export function fetchOnce(fetchImpl: typeof fetch): Send {
  return async (url, hop) => {
    const authorization = hop.authorizationFor?.(url);
    const headers: Record<string, string> = {};
    if (hop.accept.length > 0) headers.Accept = hop.accept.join(', ');
    if (authorization) headers.Authorization = authorization.header;
    let response: Response;
    try {
      response = await fetchImpl(url, { method: hop.method, headers, redirect: 'manual', ...(hop.signal ? { signal: hop.signal } : {}) });
    } catch (error) {
      if (hop.signal?.aborted) throw hop.signal.reason;
      throw unreachable(url, hop.what, error);
    }
    // A fetch injected by a test may build its Responses without a url; callers resolve Links against it.
    if (response.url === '') Object.defineProperty(response, 'url', { value: url.href });
    return { response, url, authorization };
  };
}

/** Drops a body nobody will read, so the connection can be reused. */
export async function discard(response: Response): Promise<void> {
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
