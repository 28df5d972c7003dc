import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tagsCheck } from '../../src/checks/tags.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { TagsCheck } from '../../src/lab/model.js';
import { listTags } from '../../src/oci/tags.js';
import { startK8sLike, startPaginated } from '../helpers/fake-registries.js';
import { pushTags } from '../helpers/image.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';

const REPO = 'library/busybox';
const TAGS = ['1.35', '1.36', '1.36.1', 'glibc', 'latest', 'musl', 'uclibc'];

function check(fields: Partial<TagsCheck> = {}): TagsCheck {
  return { kind: 'tags', line: 1, registry: '${scheme}://${host}', repository: '${path}', ...fields };
}

/** The lab's variables for a registry at `url` (`http://127.0.0.1:PORT`). */
function ctx(url: string, stepOutput: string | undefined, repository = REPO): CheckContext {
  const { protocol, host } = new URL(url);
  return {
    workdir: tmpdir(),
    vars: { scheme: protocol.slice(0, -1), host, path: repository },
    privilege: 'none',
    ...(stepOutput === undefined ? {} : { stepOutput }),
  };
}

describe('tags check against scripted registries', () => {
  let paged: Awaited<ReturnType<typeof startPaginated>>;

  beforeAll(async () => {
    paged = await startPaginated(REPO, TAGS, 3, 'relative');
  });

  afterAll(async () => {
    await paged.close();
  });

  it('passes when every line is a tag and every tag is there, in any order', async () => {
    const output = `${[...TAGS].reverse().join('\n')}\n\n`;
    expect(await tagsCheck(check(), ctx(paged.registry.url, output))).toMatchObject({
      status: 'passed',
      message: `the output lists all 7 tags of ${REPO}`,
    });
  });

  it('fails an empty output', async () => {
    expect(await tagsCheck(check(), ctx(paged.registry.url, '\n  \n'))).toMatchObject({
      status: 'failed',
      message: `The output is empty; expected the tags of ${REPO}, one a line.`,
      actual: '(no output)',
    });
  });

  it('explains that registry.k8s.io redirects when the output is empty', async () => {
    const outcome = await tagsCheck(check({ registry: 'https://registry.k8s.io', repository: 'pause' }), ctx('https://x', ''));
    expect(outcome.message).toContain('registry.k8s.io answers the tags API with a redirect to another host: curl needs -L to follow it.');
  });

  it('names lines that are not tags', async () => {
    const output = ['1.35', 'HTTP/1.1 200 OK', 'Content-Type: application/json', 'Date: today', 'Link: next'].join('\n');
    const outcome = await tagsCheck(check(), ctx(paged.registry.url, output));
    expect(outcome).toMatchObject({ status: 'failed', actual: '5 lines: 1 tag, 4 other lines' });
    expect(outcome.message).toMatch(
      /^4 lines of the output are not tags of library\/busybox: "HTTP\/1\.1 200 OK", "Content-Type: application\/json", "Date: today" and 1 more\./,
    );
  });

  it("suggests printing only the tags when the output is the registry's JSON", async () => {
    const outcome = await tagsCheck(check(), ctx(paged.registry.url, JSON.stringify({ name: REPO, tags: TAGS })));
    expect(outcome.message).toContain("print only the tags (e.g. jq -r '.tags[]')");
  });

  it('counts the missing tags when the output has only the first page', async () => {
    const outcome = await tagsCheck(check(), ctx(paged.registry.url, TAGS.slice(0, 3).join('\n')));
    expect(outcome).toMatchObject({
      status: 'failed',
      expected: `the 7 tags of ${REPO}, one a line`,
      actual: '3 lines: 3 tags, 0 other lines',
    });
    expect(outcome.message).toBe(
      '4 tags of the 7 the registry reports are missing: "glibc", "latest", "musl" and 1 more. Only the first page? The registry sends the rest through the Link header.',
    );
  });

  it('follows a redirect to list the tags, as curl -L does', async () => {
    const k8s = await startK8sLike('pause', ['3.9', '3.10']);
    try {
      expect(await tagsCheck(check(), ctx(k8s.front.url, '3.9\n3.10\n', 'pause'))).toMatchObject({ status: 'passed' });
    } finally {
      await k8s.close();
    }
  });

  it("is an error with the registry's words when the registry refuses", async () => {
    expect(await tagsCheck(check(), ctx(paged.registry.url, 'latest', 'library/nothing'))).toMatchObject({
      status: 'error',
      message: expect.stringContaining('NAME_UNKNOWN: repository name not known to registry'),
    });
  });

  it.each([
    ['registry.example', 'is not a registry address; expected scheme://host'],
    ['ftp://registry.example', 'the scheme must be https or http'],
  ])('is an error when the registry %j is not scheme://host', async (registry, message) => {
    expect(await tagsCheck(check({ registry }), ctx(paged.registry.url, 'latest'))).toMatchObject({
      status: 'error',
      message: expect.stringContaining(message),
    });
  });

  it('is an error when the repository is not a repository name', async () => {
    expect(await tagsCheck(check(), ctx(paged.registry.url, 'latest', 'Library/Busybox'))).toMatchObject({
      status: 'error',
      message: expect.stringContaining("'Library/Busybox' is not a repository path"),
    });
  });

  it('is an error when the step did not run in this session', async () => {
    expect(await tagsCheck(check(), ctx(paged.registry.url, undefined))).toMatchObject({ status: 'error' });
  });
});

const noRegistry = skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');

describe.skipIf(noRegistry)('tags check against the CNCF distribution registry', () => {
  const repository = 'x/y';
  const pushed = ['1.0', '1.1', '2.0', 'latest'];
  let registry: Registry;
  let host: string;

  beforeAll(async () => {
    registry = await startRegistry();
    host = registry.host;
    await pushTags(host, repository, pushed);
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('lists the same tags as skopeo list-tags', async () => {
    const { stdout } = await execa('skopeo', ['list-tags', '--tls-verify=false', `docker://${host}/${repository}`]);
    const skopeoTags = (JSON.parse(stdout) as { Tags: string[] }).Tags;
    expect([...(await listTags({ host, repository }))].sort()).toEqual([...skopeoTags].sort());
    expect([...skopeoTags].sort()).toEqual(pushed);
  });

  it('passes the output of a learner who listed every tag, and fails one with a tag missing', async () => {
    expect(await tagsCheck(check(), ctx(`http://${host}`, `${pushed.join('\n')}\n`, repository))).toMatchObject({ status: 'passed' });
    expect(await tagsCheck(check(), ctx(`http://${host}`, pushed.slice(1).join('\n'), repository))).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/^1 tag of the 4 the registry reports is missing: "1\.0"\./),
    });
  });

  it("reports the registry's NAME_UNKNOWN for a repository it does not have", async () => {
    expect(await tagsCheck(check(), ctx(`http://${host}`, 'latest', 'x/none'))).toMatchObject({
      status: 'error',
      message: `http://${host} answered 404: NAME_UNKNOWN: repository name not known to registry (name: x/none) while listing the tags of x/none. Check the registry address and the repository name.`,
    });
  });
});
