// Redirects followed by hand, so that each host is sent only the Authorization it asked for itself,
// none leads from https down to plain HTTP, and none goes on for ever. The caller hears of each.
import { RegistryError } from './errors.js';
import type { SchemePolicy } from './scheme.js';
import type { Send } from './hop.js';
import { discard } from './send.js';

const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Wraps `inner` so that a redirect is followed, each hop with only the authorization of its own origin. */
export function followRedirects(inner: Send, schemes: SchemePolicy): Send {
  return async (start, hop) => {
    let url = start;
    for (let redirects = 0; ; redirects++) {
      const answer = await inner(url, hop);
      const { response } = answer;
      if (!REDIRECT_STATUSES.has(response.status)) return answer;
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
      schemes.check(target, url, hop.what);
      hop.onRedirect?.({ from: url, to: target, status: response.status });
      url = target;
    }
  };
}
