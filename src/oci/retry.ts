// Retries of 429 and 5xx answers, waiting what Retry-After asks or a growing, jittered backoff, within
// a bound; an answer that stays a failure becomes a RegistryError with the registry's own words.
import { setTimeout as wait } from 'node:timers/promises';
import { errorFromResponse } from './errors.js';
import type { Hop, Send } from './hop.js';
import { discard } from './send.js';

/** The most one request waits between its retries, in all; a registry asking for longer gets an error at once. */
const MAX_RETRY_WAIT_MS = 60_000;
/** The first retry comes after 0.5–1 s, each later one after twice as long. */
const BACKOFF_MS = 1_000;

export interface RetryOptions {
  /** How many times a request is sent again. */
  retries: number;
  /** Replaces the wait between retries (tests). */
  sleep: ((ms: number) => Promise<void>) | undefined;
}

/** Wraps `inner`: sends again on 429 and 5xx; resolves to an ok Response, or throws the error the last answer makes. */
export function retrying(inner: Send, options: RetryOptions): (url: URL, hop: Hop) => Promise<Response> {
  return async (start, hop) => {
    let waited = 0;
    for (let attempts = 1; ; attempts++) {
      const { response, url, authorization } = await inner(start, hop);
      if (response.ok) return response;
      const retryAfter = retryAfterMs(response.headers.get('retry-after'), Date.now());
      if ((response.status === 429 || response.status >= 500) && attempts <= options.retries) {
        const delay = retryAfter ?? backoff(attempts);
        if (waited + delay <= MAX_RETRY_WAIT_MS) {
          await discard(response);
          await pause(delay, hop.signal, options.sleep);
          waited += delay;
          continue;
        }
      }
      const body = await response.text().catch(() => '');
      throw errorFromResponse(
        {
          what: hop.what,
          url,
          registry: hop.registry,
          withCredentials: authorization?.withCredentials ?? false,
          attempts,
          ...(retryAfter !== undefined ? { retryAfterSeconds: Math.ceil(retryAfter / 1000) } : {}),
        },
        response.status,
        response.statusText,
        body,
      );
    }
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

/** Waits `ms`; an abort ends the wait with the signal's reason. */
async function pause(ms: number, signal: AbortSignal | undefined, sleep: RetryOptions['sleep']): Promise<void> {
  if (sleep) await sleep(ms);
  else {
    try {
      await wait(ms, undefined, signal ? { signal } : {});
    } catch (error) {
      signal?.throwIfAborted();
      throw error;
    }
  }
  signal?.throwIfAborted();
}
