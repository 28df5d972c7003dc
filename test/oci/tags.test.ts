import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../../src/oci/errors.js';
import { listTags, nextPage } from '../../src/oci/tags.js';
import { Transport } from '../../src/oci/transport.js';
import { type LinkStyle, startDockerHubLike, startK8sLike, startPaginated } from '../helpers/fake-registries.js';
import { pushTags } from '../helpers/image.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';

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

/** A transport that reads no docker config of this machine. */
const transport = () => new Transport({ dockerConfig: join(tmpdir(), 'ocilab-no-docker-config.json') });

/** `host` and `repository` of a fake server's URL. */
function at(url: string, repository = REPO) {
  return { host: new URL(url).host, repository };
}

async function registryError(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

describe('listTags against scripted registries', () => {
  it('lists the tags of a registry that answers at once', async () => {
    const { registry } = closeLater(await startPaginated(REPO, TAGS, 100, 'relative'));
    expect(await listTags(at(registry.url), { transport: transport() })).toEqual(TAGS);
  });

  it('lists the tags of a Docker Hub-like registry with one anonymous token for two listings', async () => {
    const hub = closeLater(await startDockerHubLike(REPO, TAGS));
    const shared = transport();
    expect(await listTags(at(hub.registry.url), { transport: shared })).toEqual(TAGS);
    expect(await listTags(at(hub.registry.url), { transport: shared })).toEqual(TAGS);
    expect(hub.auth.requests).toHaveLength(1);
  });

  it('tells the caller that the registry answered the list with a redirect', async () => {
    const k8s = closeLater(await startK8sLike(REPO, TAGS));
    const redirects: string[] = [];
    const onRedirect = ({ to, status }: { to: URL; status: number }) => redirects.push(`${status} ${to.origin}`);
    expect(await listTags(at(k8s.front.url), { transport: transport(), onRedirect })).toEqual(TAGS);
    expect(redirects).toEqual([`307 ${k8s.backend.url}`]);
  });

  it('follows a 307 to another host, as registry.k8s.io sends, without the token of the first host', async () => {
    const k8s = closeLater(await startK8sLike(REPO, TAGS, true));
    expect(await listTags(at(k8s.front.url), { transport: transport() })).toEqual(TAGS);
    expect(k8s.backend.requests).toEqual([{ path: `/v2/${REPO}/tags/list`, authorization: undefined }]);
  });

  it.each(['relative', 'absolute'] as LinkStyle[])('follows %s Link headers to every page', async (style) => {
    const { registry } = closeLater(await startPaginated(REPO, TAGS, 3, style));
    expect(await listTags(at(registry.url), { transport: transport() })).toEqual(TAGS);
    expect(registry.requests.map((r) => r.path)).toEqual([
      `/v2/${REPO}/tags/list`,
      `/v2/${REPO}/tags/list?n=3&last=1.36.1`,
      `/v2/${REPO}/tags/list?n=3&last=musl`,
    ]);
  });

  it('refuses a next page on another host and never asks that host', async () => {
    const { registry, foreign } = closeLater(await startPaginated(REPO, TAGS, 3, 'foreign'));
    const error = await registryError(listTags(at(registry.url), { transport: transport() }));
    expect(error.message).toBe(
      `${registry.url} sent the next page of its tag list to ${foreign.url} while listing the tags of ${REPO}; refusing to follow it to another host.`,
    );
    expect(foreign.requests).toEqual([]);
  });

  it('stops when the next link leads back to a page it has read', async () => {
    const { registry } = closeLater(await startPaginated(REPO, TAGS, 3, 'loop'));
    expect((await registryError(listTags(at(registry.url), { transport: transport() }))).message).toBe(
      `${registry.url} paginates in a loop (back to ${registry.url}/v2/${REPO}/tags/list) while listing the tags of ${REPO}.`,
    );
  });

  it("carries the registry's own error code and message", async () => {
    const { registry } = closeLater(await startPaginated(REPO, TAGS, 3, 'relative'));
    const error = await registryError(listTags(at(registry.url, 'library/nothing'), { transport: transport() }));
    expect(error).toMatchObject({ status: 404, code: 'NAME_UNKNOWN', registryMessage: 'repository name not known to registry' });
  });

  it.each([
    ['{"name":"x","tags":null}', []],
    ['{"name":"x","tags":["a"]}', ['a']],
  ])('reads %s as %j', async (body, tags) => {
    const fetch: typeof globalThis.fetch = async () => new Response(body);
    expect(await listTags({ host: 'registry.example', repository: 'x' }, { transport: new Transport({ fetch }) })).toEqual(tags);
  });

  it.each([
    ['<html>Temporary Redirect</html>', /answered with something that is not JSON while listing the tags of x\.$/],
    ['{"name":"x"}', /answered without a "tags" list while listing the tags of x\.$/],
    ['{"tags":[1,2]}', /answered without a "tags" list/],
  ])('refuses the answer %s', async (body, message) => {
    const fetch: typeof globalThis.fetch = async () => new Response(body);
    const error = await registryError(listTags({ host: 'registry.example', repository: 'x' }, { transport: new Transport({ fetch }) }));
    expect(error.message).toMatch(message);
  });

  it('gives up when cancelled, with the abort rather than a registry error', async () => {
    const { registry } = closeLater(await startPaginated(REPO, TAGS, 3, 'relative'));
    const controller = new AbortController();
    controller.abort();
    await expect(listTags(at(registry.url), { transport: transport(), signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(registry.requests).toEqual([]);
  });
});

describe('nextPage', () => {
  const page = new URL('https://registry.example/v2/x/tags/list');

  it('resolves a relative next link against the page', () => {
    expect(nextPage('</v2/x/tags/list?last=b&n=2>; rel="next"', page, 'listing')?.href).toBe(
      'https://registry.example/v2/x/tags/list?last=b&n=2',
    );
  });

  it('picks the next link among others, whatever the quoting and the other relations', () => {
    expect(nextPage('<https://registry.example/first>; rel="first", <https://registry.example/2>; rel=next', page, 'listing')?.href).toBe(
      'https://registry.example/2',
    );
    expect(nextPage('</3>; rel="prev next"', page, 'listing')?.href).toBe('https://registry.example/3');
    expect(nextPage('</4>; rel="next-archive"', page, 'listing')).toBeUndefined();
  });

  it('refuses a next link to another scheme', () => {
    expect(() => nextPage('<http://registry.example/v2/x/tags/list?last=b>; rel="next"', page, 'listing')).toThrow(RegistryError);
  });

  it('finds no next page without a Link header', () => {
    expect(nextPage(null, page, 'listing')).toBeUndefined();
  });
});

const noRegistry = skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');

/** How many tags the big repository gets: one manifest PUT each, a few seconds in all. */
const MANY = 3000;

describe.skipIf(noRegistry)('listTags against the CNCF distribution registry', () => {
  const repository = 'many/tags';
  const pushed = Array.from({ length: MANY }, (_, i) => `v${Math.floor(i / 100)}.${i % 100}`);
  let registry: Registry;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushTags(registry.host, repository, pushed);
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it(`lists all ${MANY} tags of a repository, the same set as skopeo list-tags`, async () => {
    const { stdout } = await execa('skopeo', ['list-tags', '--tls-verify=false', `docker://${registry.host}/${repository}`]);
    const skopeoTags = (JSON.parse(stdout) as { Tags: string[] }).Tags;
    const ours = await listTags({ host: registry.host, repository }, { transport: transport() });
    expect(ours).toHaveLength(MANY);
    expect(new Set(ours)).toEqual(new Set(skopeoTags));
    expect(new Set(ours)).toEqual(new Set(pushed));
  });

  it("reports the registry's NAME_UNKNOWN for a repository it does not have", async () => {
    const error = await registryError(listTags({ host: registry.host, repository: 'x/none' }, { transport: transport() }));
    expect(error.message).toBe(
      `${registry.url} answered 404: NAME_UNKNOWN: repository name not known to registry (name: x/none) while listing the tags of x/none. Check the registry address and the repository name.`,
    );
  });
});
