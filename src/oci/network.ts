// Why a request got no answer at all, sorted into what a user can act on, and which proxy the
// environment sets for a URL (curl and docker use it; ocilab's fetch goes direct). Pure functions.

/** Why nothing answered: each calls for a different fix. */
export type NetworkFailure =
  | 'name-not-resolved'
  | 'connection-refused'
  | 'timeout'
  | 'no-route'
  | 'connection-reset'
  | 'tls-to-plain-http'
  | 'untrusted-certificate'
  | 'blocked-port'
  | 'unknown';

export interface NetworkError {
  failure: NetworkFailure;
  /** The system's, OpenSSL's or undici's code (ECONNREFUSED, ERR_SSL_WRONG_VERSION_NUMBER), when there is one. */
  code: string | undefined;
  /** What happened, in a few words: "connection refused (nothing listens there)". */
  reason: string;
}

const BY_CODE: Record<string, [NetworkFailure, string]> = {
  ENOTFOUND: ['name-not-resolved', 'the name does not resolve (DNS)'],
  EAI_NONAME: ['name-not-resolved', 'the name does not resolve (DNS)'],
  EAI_FAIL: ['name-not-resolved', 'the name does not resolve (DNS)'],
  EAI_AGAIN: ['name-not-resolved', 'the name does not resolve (DNS not reachable)'],
  ECONNREFUSED: ['connection-refused', 'connection refused (nothing listens there)'],
  ETIMEDOUT: ['timeout', 'the connection timed out'],
  UND_ERR_CONNECT_TIMEOUT: ['timeout', 'the connection timed out'],
  UND_ERR_HEADERS_TIMEOUT: ['timeout', 'no answer in time'],
  EHOSTUNREACH: ['no-route', 'no route to the host'],
  ENETUNREACH: ['no-route', 'no route to the network'],
  ENETDOWN: ['no-route', 'the network is down'],
  ECONNRESET: ['connection-reset', 'the connection was reset'],
  UND_ERR_SOCKET: ['connection-reset', 'the connection was closed'],
  EPIPE: ['connection-reset', 'the connection was closed'],
  // OpenSSL read a first byte that starts no TLS record: the server answered in plain HTTP.
  ERR_SSL_WRONG_VERSION_NUMBER: ['tls-to-plain-http', 'no TLS there (a plain-HTTP server?)'],
  ERR_SSL_PACKET_LENGTH_TOO_LONG: ['tls-to-plain-http', 'no TLS there (a plain-HTTP server?)'],
  DEPTH_ZERO_SELF_SIGNED_CERT: ['untrusted-certificate', 'its TLS certificate is self-signed'],
  SELF_SIGNED_CERT_IN_CHAIN: ['untrusted-certificate', 'its TLS certificate chain is not trusted'],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: ['untrusted-certificate', 'its TLS certificate is not from a CA trusted here'],
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: ['untrusted-certificate', 'its TLS certificate cannot be verified'],
  CERT_HAS_EXPIRED: ['untrusted-certificate', 'its TLS certificate has expired'],
  ERR_TLS_CERT_ALTNAME_INVALID: ['untrusted-certificate', 'its TLS certificate is for another name'],
};

/**
 * Sorts what fetch threw when it got no response. undici throws "fetch failed" and keeps the
 * system's error in `cause` (an AggregateError when several addresses were tried); an
 * `AbortSignal.timeout` rejects with a TimeoutError of its own.
 */
export function classifyNetworkError(error: unknown): NetworkError {
  if (isNamed(error, 'TimeoutError')) return { failure: 'timeout', code: undefined, reason: 'no answer in time' };
  const cause = causeOf(error);
  const code = codeOf(cause) ?? codeOf((cause as { errors?: unknown[] } | undefined)?.errors?.[0]);
  const known = code === undefined ? undefined : BY_CODE[code];
  if (known) return { failure: known[0], code, reason: known[1] };
  const message = messageOf(cause) ?? messageOf(error) ?? String(error);
  // fetch refuses ports browsers block (6000, 6665-6669...), before any connection.
  if (message === 'bad port')
    return { failure: 'blocked-port', code, reason: 'Node.js refuses to connect to this port (browsers block it)' };
  if (code?.startsWith('ERR_SSL_') && /wrong version number/i.test(message)) {
    return { failure: 'tls-to-plain-http', code, reason: 'no TLS there (a plain-HTTP server?)' };
  }
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return { failure: 'untrusted-certificate', code, reason: 'its TLS certificate is not trusted here' };
  }
  return { failure: 'unknown', code, reason: [code, message.split('\n')[0]].filter(Boolean).join(': ') };
}

export interface ProxySetting {
  /** The environment variable that sets it, as written: `HTTPS_PROXY`, `all_proxy`. */
  variable: string;
  url: string;
}

/**
 * The proxy a client such as curl would use for `url`: `https_proxy` for https URLs, `http_proxy`
 * for http ones, else `all_proxy` (each in either case), unless `no_proxy` names the host or one of
 * its domains. Loopback addresses always go direct.
 */
export function proxyFor(url: URL, env: Readonly<Record<string, string | undefined>>): ProxySetting | undefined {
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return undefined;
  const noProxy = (env.no_proxy ?? env.NO_PROXY ?? '').split(',').map((entry) => entry.trim().toLowerCase());
  const direct = noProxy.some((entry) => {
    const suffix = entry.replace(/^\*?\./, '').replace(/:\d+$/, '');
    return entry === '*' || (suffix !== '' && (host === suffix || host.endsWith(`.${suffix}`)));
  });
  if (direct) return undefined;
  const scheme = url.protocol.replace(/:$/, '');
  for (const name of [`${scheme}_proxy`, 'all_proxy']) {
    for (const variable of [name, name.toUpperCase()]) {
      const value = env[variable];
      if (value) return { variable, url: value };
    }
  }
  return undefined;
}

function isNamed(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && (value as { name?: unknown }).name === name;
}

function causeOf(error: unknown): unknown {
  return error instanceof Error && error.cause !== undefined ? error.cause : error;
}

function codeOf(value: unknown): string | undefined {
  const code = (value as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

function messageOf(value: unknown): string | undefined {
  return value instanceof Error ? value.message : undefined;
}
