import { afterEach, describe, expect, it } from 'vitest';
import { RegistryError } from '../../src/oci/errors.js';
import { listTags, nextPage, parseBearerChallenge } from '../../src/oci/tags.js';
import { type LinkStyle, serve, startDockerHubLike, startK8sLike, startPaginated, startRefusing } from '../helpers/fake-registries.js';

const REPO = 'library/busybox';
const TAGS = ['1.35', '1.36', '1.36.1', 'glibc', 'latest', 'musl', 'uclibc'];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});
function closeLater<T extends { close(): Promise<void> }>(server: T): T {
  cleanups.push(() => server.close());
  return server;
}

async function registryError(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

describe('listTags', () => {
  it('lists the tags of a registry that answers at once', async () => {
    const { registry } = closeLater(await startPaginated(REPO, TAGS, 100, 'relative'));
    expect(await listTags(registry.url, REPO)).toEqual(TAGS);
  });

  it.each(['token', 'access_token'] as const)('gets an anonymous token from the Bearer challenge (%s) and retries', async (field) => {
    const hub = closeLater(await startDockerHubLike(REPO, TAGS, field));
    expect(await listTags(hub.registry.url, REPO)).toEqual(TAGS);
    expect(hub.registry.requests.map((r) => r.authorization)).toEqual([undefined, 'Bearer anonymous-pull-token']);
    expect(hub.auth.requests).toEqual([
      { path: `/token?service=registry.fake.io&scope=repository%3A${encodeURIComponent(REPO)}%3Apull`, authorization: undefined },
    ]);
  });

  it('follows a 307 to another host, as registry.k8s.io sends', async () => {
    const k8s = closeLater(await startK8sLike(REPO, TAGS));
    expect(await listTags(k8s.front.url, REPO)).toEqual(TAGS);
    expect(k8s.backend.requests).toEqual([{ path: `/v2/${REPO}/tags/list`, authorization: undefined }]);
  });

  it('does not send the token of one host to the host a redirect leads to', async () => {
    const k8s = closeLater(await startK8sLike(REPO, TAGS, true));
    expect(await listTags(k8s.front.url, REPO)).toEqual(TAGS);
    expect(k8s.front.requests.map((r) => r.authorization)).toEqual([undefined, 'Bearer front-token']);
    expect(k8s.backend.requests.map((r) => r.authorization)).toEqual([undefined]);
  });

  it.each(['relative', 'absolute'] as LinkStyle[])('follows %s Link headers to every page', async (style) => {
    const { registry } = closeLater(await startPaginated(REPO, TAGS, 3, style));
    expect(await listTags(registry.url, REPO)).toEqual(TAGS);
    expect(registry.requests.map((r) => r.path)).toEqual([
      `/v2/${REPO}/tags/list`,
      `/v2/${REPO}/tags/list?n=3&last=1.36.1`,
      `/v2/${REPO}/tags/list?n=3&last=musl`,
    ]);
  });

  it('refuses a next page on another host and never asks that host', async () => {
    const { registry, foreign } = closeLater(await startPaginated(REPO, TAGS, 3, 'foreign'));
    const error = await registryError(listTags(registry.url, REPO));
    expect(error.message).toBe(
      `${registry.url} sent the next page of its tag list to ${foreign.url} while listing the tags of ${REPO}; refusing to follow it to another host.`,
    );
    expect(foreign.requests).toEqual([]);
  });

  it('stops when the next link leads back to a page it has read', async () => {
    const { registry } = closeLater(await startPaginated(REPO, TAGS, 3, 'loop'));
    expect((await registryError(listTags(registry.url, REPO))).message).toMatch(/paginates in a loop/);
  });

  it("carries the registry's own error code and message", async () => {
    const { registry } = closeLater(await startPaginated(REPO, TAGS, 3, 'relative'));
    const error = await registryError(listTags(registry.url, 'library/nothing'));
    expect(error).toMatchObject({ status: 404, code: 'NAME_UNKNOWN', registryMessage: 'repository name not known to registry' });
    expect(error.message).toBe(
      `${registry.url} answered 404: NAME_UNKNOWN: repository name not known to registry while listing the tags of library/nothing. Check the registry address and the repository name.`,
    );
  });

  it('says when the registry limits anonymous requests', async () => {
    const registry = closeLater(await startRefusing(429, 'TOOMANYREQUESTS', 'You have reached your pull rate limit.'));
    const error = await registryError(listTags(registry.url, REPO));
    expect(error).toMatchObject({ status: 429, code: 'TOOMANYREQUESTS' });
    expect(error.message).toMatch(/You have reached your pull rate limit\. .*wait a while or use a local registry/);
  });

  it('does not try a token where the registry asks for a password', async () => {
    const registry = closeLater(
      await startRefusing(401, 'UNAUTHORIZED', 'authentication required', { 'WWW-Authenticate': 'Basic realm="x"' }),
    );
    expect(await registryError(listTags(registry.url, REPO))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(registry.requests).toHaveLength(1);
  });

  it('says it could not reach a registry that is not there', async () => {
    const server = await serve(() => undefined);
    await server.close();
    expect((await registryError(listTags(server.url, REPO))).message).toMatch(
      new RegExp(`^Could not reach ${server.url} while listing the tags of ${REPO}: .*ECONNREFUSED`),
    );
  });

  it('refuses a redirect from https to plain http', async () => {
    const fakeFetch: typeof fetch = async () => new Response(null, { status: 307, headers: { Location: 'http://mirror.example/v2/' } });
    expect((await registryError(listTags('https://registry.example', REPO, { fetch: fakeFetch }))).message).toMatch(
      /refusing to downgrade/,
    );
  });

  it.each([
    ['registry.example', REPO, /not a registry address/],
    ['ftp://registry.example', REPO, /scheme must be https or http/],
    ['https://registry.example', 'Library/Busybox', /not a repository name/],
    ['https://registry.example', 'busybox?x=1', /not a repository name/],
  ])('refuses registry %j with repository %j before asking anything', async (registry, repository, message) => {
    const fakeFetch: typeof fetch = async () => {
      throw new Error('must not be called');
    };
    expect((await registryError(listTags(registry, repository, { fetch: fakeFetch }))).message).toMatch(message);
  });

  it('gives up when cancelled, with the abort rather than a registry error', async () => {
    const hanging = closeLater(await serve(() => undefined));
    const controller = new AbortController();
    const listing = listTags(hanging.url, REPO, { signal: controller.signal });
    controller.abort();
    await expect(listing).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('parseBearerChallenge', () => {
  it('reads realm, service and scope', () => {
    expect(
      parseBearerChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      ),
    ).toEqual({
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:library/busybox:pull',
    });
  });

  it.each([null, 'Basic realm="x"', 'Bearer service="x"'])('finds no bearer challenge in %j', (header) => {
    expect(parseBearerChallenge(header)).toBeUndefined();
  });
});

describe('nextPage', () => {
  const page = new URL('https://registry.example/v2/x/tags/list');

  it('resolves a relative next link against the page', () => {
    expect(nextPage('</v2/x/tags/list?last=b&n=2>; rel="next"', page, 'listing')?.href).toBe(
      'https://registry.example/v2/x/tags/list?last=b&n=2',
    );
  });

  it('picks the next link among others', () => {
    expect(nextPage('<https://registry.example/first>; rel="first", <https://registry.example/2>; rel=next', page, 'listing')?.href).toBe(
      'https://registry.example/2',
    );
  });

  it('refuses a next link to another scheme', () => {
    expect(() => nextPage('<http://registry.example/v2/x/tags/list?last=b>; rel="next"', page, 'listing')).toThrow(RegistryError);
  });

  it('finds no next page without a Link header', () => {
    expect(nextPage(null, page, 'listing')).toBeUndefined();
  });
});
