import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidReferenceError, RegistryError, UnreachableError } from '../../src/oci/errors.js';
import type { NetworkFailure } from '../../src/oci/network.js';
import { parseChallenges } from '../../src/oci/auth.js';
import { retryAfterMs } from '../../src/oci/retry.js';
import { Transport, type TransportOptions } from '../../src/oci/transport.js';
import { closedPort, serve, startDockerHubLike, startK8sLike, startOverloaded, startRefusing } from '../helpers/fake-registries.js';

const REPO = 'library/busybox';
const TAGS = ['1.36', 'latest'];
const LOGIN = { username: 'learner', password: 's3cret:with-colon' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});
function closeLater<T extends { close(): Promise<void> }>(server: T): T {
  cleanups.push(() => server.close());
  return server;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-transport-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A docker config.json holding `LOGIN` for `host`, as `docker login host` writes it. */
async function dockerConfigFor(key: string): Promise<string> {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  const auth = Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString('base64');
  await writeFile(file, JSON.stringify({ auths: { [key]: { auth } } }));
  return file;
}

/** A Transport with no docker config and a recorded, instant sleep. */
function transport(options: TransportOptions = {}): { transport: Transport; slept: number[] } {
  const slept: number[] = [];
  const sleep = async (ms: number) => void slept.push(ms);
  return { transport: new Transport({ dockerConfig: join(dir, 'none.json'), sleep, ...options }), slept };
}

/** `host` and `repository` of a fake server's URL. */
function at(url: string, repository = REPO) {
  return { host: new URL(url).host, repository };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** A fetch that records the URLs and headers it is asked for and answers each with `answer`. */
function recordingFetch(answer: (url: URL) => Response = () => new Response('{}')) {
  const calls: { url: string; method: string; headers: Record<string, string> }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    calls.push({ url: url.href, method: init?.method ?? 'GET', headers: { ...(init?.headers as Record<string, string>) } });
    return answer(url);
  };
  return { fetch, calls };
}

describe('Transport: where requests go', () => {
  it.each([
    ['registry.k8s.io', false, 'https://registry.k8s.io/v2/x/y/tags/list'],
    ['registry-1.docker.io', false, 'https://registry-1.docker.io/v2/x/y/tags/list'],
    ['registry.lan:5000', true, 'http://registry.lan:5000/v2/x/y/tags/list'],
    ['127.0.0.1:5000', false, 'http://127.0.0.1:5000/v2/x/y/tags/list'],
    ['127.1.2.3', false, 'http://127.1.2.3/v2/x/y/tags/list'],
    ['localhost:5000', false, 'http://localhost:5000/v2/x/y/tags/list'],
    ['[::1]:5000', false, 'http://[::1]:5000/v2/x/y/tags/list'],
    ['128.0.0.1:5000', false, 'https://128.0.0.1:5000/v2/x/y/tags/list'],
  ])('asks %s (insecure: %s) at %s', async (host, insecure, expected) => {
    const { fetch, calls } = recordingFetch();
    await transport({ fetch, insecure }).transport.request({ host, repository: 'x/y' }, 'tags/list');
    expect(calls.map((c) => c.url)).toEqual([expected]);
  });

  it.each([
    ['127.0.0.1:5000', 'https', 'https://127.0.0.1:5000/v2/x/y/tags/list'],
    ['registry.lan:5000', 'http', 'http://registry.lan:5000/v2/x/y/tags/list'],
    ['registry.k8s.io', 'https', 'https://registry.k8s.io/v2/x/y/tags/list'],
  ] as const)('asks %s with the scheme it is given (%s)', async (host, scheme, expected) => {
    const { fetch, calls } = recordingFetch();
    await transport({ fetch, scheme, insecure: scheme === 'http' }).transport.request({ host, repository: 'x/y' }, 'tags/list');
    expect(calls.map((c) => c.url)).toEqual([expected]);
  });

  it('sends the method and the Accept header it is given', async () => {
    const { fetch, calls } = recordingFetch();
    const accept = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];
    await transport({ fetch }).transport.request({ host: 'registry.example', repository: 'x' }, 'manifests/1.0', {
      method: 'HEAD',
      accept,
    });
    expect(calls).toEqual([{ url: 'https://registry.example/v2/x/manifests/1.0', method: 'HEAD', headers: { Accept: accept.join(', ') } }]);
  });

  it.each([
    [{ host: 'registry example', repository: 'x' }, 'tags/list', InvalidReferenceError, /'registry example' is not a registry host/],
    [
      { host: 'registry.example', repository: 'Library/Busybox' },
      'tags/list',
      InvalidReferenceError,
      /'Library\/Busybox' is not a repository path/,
    ],
    [{ host: 'registry.example', repository: 'x/../../admin' }, 'tags/list', InvalidReferenceError, /is not a repository path/],
    [{ host: 'registry.example', repository: 'x' }, '../../admin', Error, /is not a path inside a repository/],
  ])('refuses %j %s before asking anything', async (ref, path, type, message) => {
    const { fetch, calls } = recordingFetch();
    const error = await failure(transport({ fetch }).transport.request(ref, path));
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
    expect(calls).toEqual([]);
  });

  it('refuses an absolute URL on another host or scheme without asking it', async () => {
    const { fetch, calls } = recordingFetch();
    const { transport: t } = transport({ fetch });
    const ref = { host: 'registry.example', repository: 'x' };
    for (const url of [
      'https://elsewhere.example/v2/x/tags/list',
      'http://registry.example/v2/x/tags/list',
      'https://registry.example:444/v2/',
    ]) {
      const error = await failure(t.requestUrl(new URL(url), ref));
      expect(error).toBeInstanceOf(RegistryError);
      expect(error.message).toMatch(/^Refusing to ask .* about x: it is neither https:\/\/registry\.example nor a host/);
    }
    await t.requestUrl(new URL('https://registry.example/v2/x/tags/list?last=b'), ref);
    expect(calls.map((c) => c.url)).toEqual(['https://registry.example/v2/x/tags/list?last=b']);
  });

  it('resolves to an ok Response whose url is the URL that answered', async () => {
    const k8s = closeLater(await startK8sLike(REPO, TAGS));
    const response = await transport().transport.request(at(k8s.front.url), 'tags/list');
    expect(response.url).toBe(`${k8s.backend.url}/v2/${REPO}/tags/list`);
    expect(await response.json()).toEqual({ name: REPO, tags: TAGS });
  });
});

describe('Transport: tokens and credentials', () => {
  it.each(['token', 'access_token'] as const)(
    'gets an anonymous token from a Bearer challenge (answered as %s) and asks again',
    async (tokenField) => {
      const hub = closeLater(await startDockerHubLike(REPO, TAGS, { tokenField }));
      const response = await transport().transport.request(at(hub.registry.url), 'tags/list');
      expect(await response.json()).toEqual({ name: REPO, tags: TAGS });
      expect(hub.registry.requests.map((r) => r.authorization)).toEqual([undefined, 'Bearer anonymous-pull-token']);
      expect(hub.auth.requests).toEqual([
        { path: `/token?service=registry.fake.io&scope=repository%3A${encodeURIComponent(REPO)}%3Apull`, authorization: undefined },
      ]);
    },
  );

  it('reuses a token for the same host and scope: one token request for two calls', async () => {
    const hub = closeLater(await startDockerHubLike(REPO, TAGS));
    const { transport: t } = transport();
    await (await t.request(at(hub.registry.url), 'tags/list')).body?.cancel();
    await (await t.request(at(hub.registry.url), 'tags/list')).body?.cancel();
    expect(hub.auth.requests).toHaveLength(1);
    expect(hub.registry.requests.map((r) => r.authorization)).toEqual([
      undefined,
      'Bearer anonymous-pull-token',
      'Bearer anonymous-pull-token',
    ]);
  });

  it('asks for a new token once the last one has expired', async () => {
    const hub = closeLater(await startDockerHubLike(REPO, TAGS, { expiresIn: 0.001 }));
    const { transport: t } = transport();
    await (await t.request(at(hub.registry.url), 'tags/list')).body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await (await t.request(at(hub.registry.url), 'tags/list')).body?.cancel();
    expect(hub.auth.requests).toHaveLength(2);
  });

  it("sends docker's saved credentials to the token service only, never to the registry", async () => {
    const hub = closeLater(await startDockerHubLike(REPO, TAGS, { login: LOGIN }));
    const dockerConfig = await dockerConfigFor(new URL(hub.registry.url).host);
    const response = await transport({ dockerConfig }).transport.request(at(hub.registry.url), 'tags/list');
    expect(await response.json()).toEqual({ name: REPO, tags: TAGS });
    const basic = `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString('base64')}`;
    expect(hub.auth.requests.map((r) => r.authorization)).toEqual([basic]);
    expect(hub.registry.requests.map((r) => r.authorization)).toEqual([undefined, 'Bearer private-pull-token']);
  });

  it('says the token service refused the saved credentials, in its own words, and to log in again', async () => {
    const hub = closeLater(await startDockerHubLike(REPO, TAGS, { login: { ...LOGIN, password: 'another' } }));
    const dockerConfig = await dockerConfigFor(`https://${new URL(hub.registry.url).host}`);
    const error = await failure(transport({ dockerConfig }).transport.request(at(hub.registry.url), 'tags/list'));
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ status: 401, registryMessage: 'incorrect username or password' });
    expect(error.message).toBe(
      `${hub.auth.url} answered 401: incorrect username or password while getting a token to read ${REPO}. ` +
        `The registry refused the credentials ocilab found for ${new URL(hub.registry.url).host} in docker's config.json: ` +
        `run \`docker login ${new URL(hub.registry.url).host}\` again, and check that your account may read this repository.`,
    );
  });

  it('without saved credentials, says the registry refused access and how to log in', async () => {
    const hub = closeLater(await startDockerHubLike(REPO, TAGS, { login: LOGIN }));
    const error = await failure(transport().transport.request(at(hub.registry.url), 'tags/list'));
    expect(error.message).toMatch(
      /answered 401: incorrect username or password while getting a token to read library\/busybox\. The registry refused access: check the repository name; if the repository is private, run `docker login 127\.0\.0\.1:\d+` first/,
    );
  });

  it("answers a Basic challenge with docker's credentials for that host, and keeps sending them", async () => {
    const basic = `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString('base64')}`;
    const registry = closeLater(
      await serve((req, res) => {
        if (req.headers.authorization === basic) return res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"tags":[]}');
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Registry Realm"' }).end();
      }),
    );
    const { transport: t } = transport({ dockerConfig: await dockerConfigFor(`http://${new URL(registry.url).host}/v2/`) });
    await (await t.request(at(registry.url), 'tags/list')).body?.cancel();
    await (await t.request(at(registry.url), 'tags/list')).body?.cancel();
    expect(registry.requests.map((r) => r.authorization)).toEqual([undefined, basic, basic]);
  });

  it('does not answer a Basic challenge without credentials, and reports the refusal', async () => {
    const registry = closeLater(
      await startRefusing(401, 'UNAUTHORIZED', 'authentication required', { 'WWW-Authenticate': 'Basic realm="x"' }),
    );
    const error = await failure(transport().transport.request(at(registry.url), 'tags/list'));
    expect(error).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(registry.requests).toHaveLength(1);
  });

  it('does not send the token of one host to the host a redirect leads to', async () => {
    const k8s = closeLater(await startK8sLike(REPO, TAGS, true));
    const response = await transport().transport.request(at(k8s.front.url), 'tags/list');
    expect(await response.json()).toEqual({ name: REPO, tags: TAGS });
    expect(k8s.front.requests.map((r) => r.authorization)).toEqual([undefined, 'Bearer front-token']);
    expect(k8s.backend.requests.map((r) => r.authorization)).toEqual([undefined]);
  });

  it('does not send saved credentials to the host a redirect leads to', async () => {
    const k8s = closeLater(await startK8sLike(REPO, TAGS, true));
    const dockerConfig = await dockerConfigFor(new URL(k8s.front.url).host);
    await (await transport({ dockerConfig }).transport.request(at(k8s.front.url), 'tags/list')).body?.cancel();
    expect(k8s.backend.requests.map((r) => r.authorization)).toEqual([undefined]);
  });

  it("reports a malformed docker config.json by its path, since docker's credentials cannot be read", async () => {
    const hub = closeLater(await startDockerHubLike(REPO, TAGS));
    const dockerConfig = join(dir, 'broken.json');
    await writeFile(dockerConfig, '{"auths": ');
    const error = await failure(transport({ dockerConfig }).transport.request(at(hub.registry.url), 'tags/list'));
    expect(error.message).toMatch(new RegExp(`^docker's config ${dockerConfig} is not valid JSON \\(.*\\); fix it, or set DOCKER_CONFIG`));
  });
});

describe('Transport: redirects', () => {
  it('follows a 307 to another host, as registry.k8s.io sends, and lets Links there be followed', async () => {
    const k8s = closeLater(await startK8sLike(REPO, TAGS));
    const { transport: t } = transport();
    await (await t.request(at(k8s.front.url), 'tags/list')).body?.cancel();
    const page = await t.requestUrl(new URL(`${k8s.backend.url}/v2/${REPO}/tags/list?last=1.36`), at(k8s.front.url));
    await page.body?.cancel();
    expect(k8s.backend.requests.map((r) => r.path)).toEqual([`/v2/${REPO}/tags/list`, `/v2/${REPO}/tags/list?last=1.36`]);
  });

  it('tells the caller of each redirect it follows: from where, to where, with which status', async () => {
    const k8s = closeLater(await startK8sLike(REPO, TAGS, true));
    const redirects: { from: string; to: string; status: number }[] = [];
    const onRedirect = ({ from, to, status }: { from: URL; to: URL; status: number }) =>
      redirects.push({ from: from.href, to: to.href, status });
    await (await transport().transport.request(at(k8s.front.url), 'tags/list', { onRedirect })).body?.cancel();
    // The first answer is the token challenge; only the second, with the token, redirects.
    expect(redirects).toEqual([
      { from: `${k8s.front.url}/v2/${REPO}/tags/list`, to: `${k8s.backend.url}/v2/${REPO}/tags/list`, status: 307 },
    ]);
  });

  it('tells of no redirect when the registry answers directly', async () => {
    const registry = closeLater(await serve((_req, res) => res.end('{}')));
    const redirects: unknown[] = [];
    await (await transport().transport.request(at(registry.url), 'tags/list', { onRedirect: (r) => redirects.push(r) })).body?.cancel();
    expect(redirects).toEqual([]);
  });

  it('refuses a redirect from https to plain http', async () => {
    const { fetch } = recordingFetch(() => new Response(null, { status: 307, headers: { Location: 'http://mirror.example/v2/' } }));
    const error = await failure(transport({ fetch }).transport.request({ host: 'registry.example', repository: 'x' }, 'tags/list'));
    expect(error.message).toBe(
      'https://registry.example redirected to http://mirror.example, which is not https, while listing the tags of x; refusing to downgrade.',
    );
  });

  it('refuses a redirect from a loopback registry to plain HTTP on another machine, unless insecure', async () => {
    const answer = (url: URL) =>
      url.hostname === 'mirror.lan'
        ? new Response('{}')
        : new Response(null, { status: 302, headers: { Location: 'http://mirror.lan/v2/x' } });
    const ref = { host: '127.0.0.1:5000', repository: 'x' };
    const refused = await failure(transport({ fetch: recordingFetch(answer).fetch }).transport.request(ref, 'tags/list'));
    expect(refused.message).toMatch(
      /over plain HTTP while listing the tags of x; plain HTTP is used only for loopback addresses or with --insecure\.$/,
    );
    const allowed = await transport({ fetch: recordingFetch(answer).fetch, insecure: true }).transport.request(ref, 'tags/list');
    expect(allowed.url).toBe('http://mirror.lan/v2/x');
  });

  it('gives up after 10 redirects', async () => {
    const { fetch, calls } = recordingFetch((url) => new Response(null, { status: 302, headers: { Location: `${url.pathname}x` } }));
    const error = await failure(transport({ fetch }).transport.request({ host: 'registry.example', repository: 'x' }, 'tags/list'));
    expect(error.message).toBe('https://registry.example redirected more than 10 times while listing the tags of x.');
    expect(calls).toHaveLength(11);
  });
});

describe('Transport: retries', () => {
  it('waits what Retry-After asks after a 429, then succeeds', async () => {
    const registry = closeLater(
      await startOverloaded(REPO, TAGS, [
        { status: 429, code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.', retryAfter: '7' },
      ]),
    );
    const { transport: t, slept } = transport();
    expect(await (await t.request(at(registry.url), 'tags/list')).json()).toEqual({ name: REPO, tags: TAGS });
    expect(slept).toEqual([7000]);
    expect(registry.requests).toHaveLength(2);
  });

  it('retries 5xx with a growing, jittered backoff, then succeeds', async () => {
    const registry = closeLater(
      await startOverloaded(REPO, TAGS, [
        { status: 503, code: 'UNAVAILABLE', message: 'service unavailable' },
        { status: 502, code: 'UNKNOWN', message: 'bad gateway' },
        { status: 500, code: 'UNKNOWN', message: 'internal error' },
      ]),
    );
    const { transport: t, slept } = transport();
    await (await t.request(at(registry.url), 'tags/list')).body?.cancel();
    expect(slept).toHaveLength(3);
    [1000, 2000, 4000].forEach((ceiling, i) => {
      expect(slept[i]).toBeGreaterThanOrEqual(ceiling / 2);
      expect(slept[i]).toBeLessThanOrEqual(ceiling);
    });
  });

  it("gives up after its retries with the registry's words, the tries and what to do", async () => {
    const limited = { status: 429, code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.', retryAfter: '1' };
    const registry = closeLater(await startOverloaded(REPO, TAGS, Array(5).fill(limited)));
    const { transport: t, slept } = transport({ retries: 4 });
    const error = await failure(t.request(at(registry.url), 'tags/list'));
    expect(error).toMatchObject({ status: 429, code: 'TOOMANYREQUESTS' });
    expect(error.message).toBe(
      `${registry.url} answered 429: TOOMANYREQUESTS: You have reached your pull rate limit. while listing the tags of ${REPO}. ` +
        `The registry limits how often it may be asked (tried 5 times); it asks to wait 1 s: try again later, or run \`docker login ${new URL(registry.url).host}\` for a higher limit.`,
    );
    expect(slept).toEqual([1000, 1000, 1000, 1000]);
  });

  it('does not wait when Retry-After asks for longer than a minute, and says how long', async () => {
    const registry = closeLater(
      await startOverloaded(REPO, TAGS, [{ status: 429, code: 'TOOMANYREQUESTS', message: 'slow down', retryAfter: '3600' }]),
    );
    const { transport: t, slept } = transport();
    expect((await failure(t.request(at(registry.url), 'tags/list'))).message).toMatch(/it asks to wait 3600 s: try again later/);
    expect(slept).toEqual([]);
  });

  it('does not retry a 404', async () => {
    const registry = closeLater(
      await startOverloaded(REPO, TAGS, [{ status: 404, code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }]),
    );
    const { transport: t, slept } = transport();
    await failure(t.request(at(registry.url), 'tags/list'));
    expect(slept).toEqual([]);
  });

  it('stops waiting for a retry when cancelled', async () => {
    const registry = closeLater(
      await startOverloaded(REPO, TAGS, [{ status: 503, code: 'UNAVAILABLE', message: 'later', retryAfter: '30' }]),
    );
    const controller = new AbortController();
    const request = new Transport({ dockerConfig: join(dir, 'none.json') }).request(at(registry.url), 'tags/list', {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await expect(request).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('Transport: errors say what the registry said', () => {
  it('quotes the code, message and detail, names the request and says what to check', async () => {
    const registry = closeLater(await startOverloaded(REPO, TAGS, []));
    const error = await failure(transport().transport.request(at(registry.url, 'library/nothing'), 'tags/list'));
    expect(error).toMatchObject({ status: 404, code: 'NAME_UNKNOWN', registryMessage: 'repository name not known to registry' });
    expect(error.message).toBe(
      `${registry.url} answered 404: NAME_UNKNOWN: repository name not known to registry (name: library/nothing) while listing the tags of library/nothing. Check the registry address and the repository name.`,
    );
  });

  it('points at the tag when a manifest is unknown', async () => {
    const registry = closeLater(await startRefusing(404, 'MANIFEST_UNKNOWN', 'manifest unknown'));
    const error = await failure(transport().transport.request(at(registry.url), 'manifests/9.9'));
    expect(error.message).toBe(
      `${registry.url} answered 404: MANIFEST_UNKNOWN: manifest unknown while fetching the manifest 9.9 of ${REPO}. Check the tag or digest; \`ocilab tags <repository>\` lists the tags.`,
    );
  });

  it('falls back to the status text when a HEAD answer has no body', async () => {
    const registry = closeLater(await serve((_req, res) => res.writeHead(404).end()));
    const error = await failure(transport().transport.request(at(registry.url), `blobs/sha256:${'a'.repeat(64)}`, { method: 'HEAD' }));
    expect(error.message).toBe(
      `${registry.url} answered 404: Not Found while checking the blob sha256:${'a'.repeat(64)} of ${REPO}. Check the registry address and the repository name.`,
    );
  });

  it('says it could not reach a registry that is not there, and what to check', async () => {
    const server = await serve(() => undefined);
    await server.close();
    const error = await failure(transport().transport.request(at(server.url), 'tags/list'));
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toMatch(
      new RegExp(
        `^Could not reach ${server.url} while listing the tags of ${REPO}: .*ECONNREFUSED.*\\. Nothing answers there: check the address and port`,
      ),
    );
  });

  it.each<[string, () => Promise<string>, TransportOptions, NetworkFailure]>([
    ['a closed port', async () => `http://127.0.0.1:${await closedPort()}`, {}, 'connection-refused'],
    ['a name that does not resolve', async () => 'http://nonexistent.invalid', { insecure: true }, 'name-not-resolved'],
    [
      'https to a plain-HTTP server',
      async () => closeLater(await serve((_req, res) => res.end('{}'))).url.replace(/^http:/, 'https:'),
      { scheme: 'https' },
      'tls-to-plain-http',
    ],
  ])('says why it could not reach %s, in an UnreachableError', async (_name, address, options, expected) => {
    const url = new URL(await address());
    const error = await failure(transport(options).transport.request(at(url.href), 'tags/list'));
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).network.failure).toBe(expected);
    expect((error as UnreachableError).url.origin).toBe(url.origin);
  });

  it('gives up when cancelled, with the abort rather than a registry error', async () => {
    const hanging = closeLater(await serve(() => undefined));
    const controller = new AbortController();
    const request = transport().transport.request(at(hanging.url), 'tags/list', { signal: controller.signal });
    controller.abort();
    await expect(request).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('parseChallenges', () => {
  it("reads Docker Hub's Bearer challenge", () => {
    expect(
      parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'),
    ).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
      },
    ]);
  });

  it('reads quoted commas and escaped quotes, spaces around =, unquoted values and several challenges', () => {
    expect(
      parseChallenges('Basic realm="a \\"quoted\\" realm", BEARER Realm = https://auth.example/token , scope="repository:x:pull,push"'),
    ).toEqual([
      { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', scope: 'repository:x:pull,push' } },
    ]);
  });

  it.each([null, '', '   '])('finds no challenge in %j', (header) => {
    expect(parseChallenges(header)).toEqual([]);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Wed, 21 Oct 2015 07:28:05 GMT', 5_000],
    ['Wed, 21 Oct 2015 07:27:00 GMT', 0],
    ['soon', undefined],
    [null, undefined],
  ])('reads %j as %j ms', (header, ms) => {
    expect(retryAfterMs(header, now)).toBe(ms);
  });
});
