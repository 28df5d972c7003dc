import { describe, expect, it } from 'vitest';
import { classifyNetworkError, proxyFor, type NetworkFailure } from '../../src/oci/network.js';
import { closedPort, serve } from '../helpers/fake-registries.js';

/** What undici throws: "fetch failed", with the system's error as its cause. */
function fetchFailed(cause: Record<string, unknown>): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(String(cause.message ?? '')), cause) });
}

/** What fetch threw for `url`, or a failure of the test when it answered. */
async function thrownBy(url: string): Promise<unknown> {
  return fetch(url).then(
    (response) => expect.fail(`${url} answered ${response.status}`),
    (error: unknown) => error,
  );
}

describe('classifyNetworkError', () => {
  it.each<[string, unknown, NetworkFailure, string]>([
    [
      'ENOTFOUND',
      fetchFailed({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND x.invalid' }),
      'name-not-resolved',
      'the name does not resolve (DNS)',
    ],
    [
      'EAI_AGAIN',
      fetchFailed({ code: 'EAI_AGAIN', message: 'getaddrinfo EAI_AGAIN x' }),
      'name-not-resolved',
      'the name does not resolve (DNS not reachable)',
    ],
    ['ECONNREFUSED', fetchFailed({ code: 'ECONNREFUSED' }), 'connection-refused', 'connection refused (nothing listens there)'],
    [
      'ECONNREFUSED for each address tried (an AggregateError)',
      new TypeError('fetch failed', { cause: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]) }),
      'connection-refused',
      'connection refused (nothing listens there)',
    ],
    ['undici connect timeout', fetchFailed({ code: 'UND_ERR_CONNECT_TIMEOUT' }), 'timeout', 'the connection timed out'],
    ['ETIMEDOUT', fetchFailed({ code: 'ETIMEDOUT' }), 'timeout', 'the connection timed out'],
    ['AbortSignal.timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout', 'no answer in time'],
    ['EHOSTUNREACH', fetchFailed({ code: 'EHOSTUNREACH' }), 'no-route', 'no route to the host'],
    ['ECONNRESET', fetchFailed({ code: 'ECONNRESET' }), 'connection-reset', 'the connection was reset'],
    [
      'OpenSSL wrong version number',
      fetchFailed({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }),
      'tls-to-plain-http',
      'no TLS there (a plain-HTTP server?)',
    ],
    [
      'another OpenSSL code saying wrong version number',
      fetchFailed({ code: 'ERR_SSL_SSLV3_ALERT', message: 'ssl3_get_record:wrong version number' }),
      'tls-to-plain-http',
      'no TLS there (a plain-HTTP server?)',
    ],
    [
      'a self-signed certificate',
      fetchFailed({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      'untrusted-certificate',
      'its TLS certificate is self-signed',
    ],
    [
      'an unlisted certificate code',
      fetchFailed({ code: 'CERT_NOT_YET_VALID' }),
      'untrusted-certificate',
      'its TLS certificate is not trusted here',
    ],
    [
      'a port fetch refuses',
      fetchFailed({ message: 'bad port' }),
      'blocked-port',
      'Node.js refuses to connect to this port (browsers block it)',
    ],
    ['anything else, in its own words', fetchFailed({ code: 'EWHATEVER', message: 'it broke\nbadly' }), 'unknown', 'EWHATEVER: it broke'],
    ['an error without a cause', new Error('no idea'), 'unknown', 'no idea'],
  ])('%s', (_name, error, failure, reason) => {
    expect(classifyNetworkError(error)).toMatchObject({ failure, reason });
  });

  it('classifies what fetch really throws for a closed port, an unresolvable name, TLS to plain HTTP and a blocked port', async () => {
    const plain = await serve((_req, res) => res.end('{}'));
    try {
      const plainHost = new URL(plain.url).host;
      expect(classifyNetworkError(await thrownBy(`http://127.0.0.1:${await closedPort()}/v2/`)).failure).toBe('connection-refused');
      expect(classifyNetworkError(await thrownBy('http://nonexistent.invalid/v2/')).failure).toBe('name-not-resolved');
      expect(classifyNetworkError(await thrownBy(`https://${plainHost}/v2/`)).failure).toBe('tls-to-plain-http');
      expect(classifyNetworkError(await thrownBy('http://127.0.0.1:6000/v2/')).failure).toBe('blocked-port');
    } finally {
      await plain.close();
    }
  });
});

describe('proxyFor', () => {
  const proxy = 'http://proxy.example:3128';

  it.each<[string, string, Record<string, string>, string | undefined]>([
    ['HTTPS_PROXY for an https URL', 'https://registry.k8s.io/v2/', { HTTPS_PROXY: proxy }, 'HTTPS_PROXY'],
    ['https_proxy before HTTPS_PROXY', 'https://registry.k8s.io/v2/', { https_proxy: proxy, HTTPS_PROXY: 'http://other' }, 'https_proxy'],
    ['not HTTPS_PROXY for an http URL', 'http://registry.example/v2/', { HTTPS_PROXY: proxy }, undefined],
    ['HTTP_PROXY for an http URL', 'http://registry.example/v2/', { HTTP_PROXY: proxy }, 'HTTP_PROXY'],
    ['ALL_PROXY for either', 'https://registry.k8s.io/v2/', { ALL_PROXY: proxy }, 'ALL_PROXY'],
    ['all_proxy in lower case', 'http://registry.example/v2/', { all_proxy: proxy }, 'all_proxy'],
    ['the scheme proxy before ALL_PROXY', 'https://registry.k8s.io/v2/', { ALL_PROXY: 'http://other', HTTPS_PROXY: proxy }, 'HTTPS_PROXY'],
    ['none for loopback', 'http://127.0.0.1:5000/v2/', { HTTP_PROXY: proxy }, undefined],
    ['none for localhost', 'https://localhost:5000/v2/', { HTTPS_PROXY: proxy }, undefined],
    [
      'none for a host NO_PROXY names',
      'https://registry.k8s.io/v2/',
      { HTTPS_PROXY: proxy, NO_PROXY: 'example.com, registry.k8s.io' },
      undefined,
    ],
    ['none for a domain no_proxy names', 'https://registry.k8s.io/v2/', { HTTPS_PROXY: proxy, no_proxy: '.k8s.io' }, undefined],
    ['none when NO_PROXY is *', 'https://registry.k8s.io/v2/', { HTTPS_PROXY: proxy, NO_PROXY: '*' }, undefined],
    [
      'one for a host that only ends like a NO_PROXY entry',
      'https://notk8s.io/v2/',
      { HTTPS_PROXY: proxy, NO_PROXY: 'k8s.io' },
      'HTTPS_PROXY',
    ],
    ['none when nothing is set', 'https://registry.k8s.io/v2/', {}, undefined],
  ])('%s', (_name, url, env, variable) => {
    const found = proxyFor(new URL(url), env);
    expect(found?.variable).toBe(variable);
    if (variable) expect(found?.url).toBe(env[variable]);
  });
});
