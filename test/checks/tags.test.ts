import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tagsCheck } from '../../src/checks/tags.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { TagsCheck } from '../../src/lab/model.js';
import { listTags } from '../../src/oci/tags.js';
import { startK8sLike, startPaginated } from '../helpers/fake-registries.js';

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
    root: false,
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
    expect(outcome).toMatchObject({ status: 'failed', expected: `the 7 tags of ${REPO}, one a line`, actual: '3 lines: 3 tags, 0 other lines' });
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

  it('is an error when the step did not run in this session', async () => {
    expect(await tagsCheck(check(), ctx(paged.registry.url, undefined))).toMatchObject({ status: 'error' });
  });
});

const REGISTRY_BINARY = '/usr/bin/docker-registry';
const haveTools = [REGISTRY_BINARY, '/usr/bin/skopeo', '/usr/bin/umoci'].every((file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

/** A port nobody listens on right now (the kernel picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

describe.skipIf(!haveTools)('tags check against the CNCF distribution registry (skipped without docker-registry, skopeo and umoci)', () => {
  const repository = 'x/y';
  const pushed = ['1.0', '1.1', '2.0', 'latest'];
  let dir: string;
  let registry: ResultPromise;
  let host: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocilab-tags-registry-'));
    host = `127.0.0.1:${await freePort()}`;
    const config = join(dir, 'config.yml');
    await writeFile(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\nhttp:\n  addr: ${host}\n`);
    registry = execa(REGISTRY_BINARY, ['serve', config], { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    await waitForRegistry(`http://${host}`);

    // An empty image is enough to carry tags: umoci makes one, skopeo pushes it under every tag.
    const layout = join(dir, 'layout');
    await execa('umoci', ['init', '--layout', layout]);
    await execa('umoci', ['new', '--image', `${layout}:base`]);
    for (const tag of pushed) {
      await execa('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:base`, `docker://${host}/${repository}:${tag}`]);
    }
  });

  afterAll(async () => {
    registry?.kill('SIGKILL');
    await registry;
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the same tags as skopeo list-tags', async () => {
    const { stdout } = await execa('skopeo', ['list-tags', '--tls-verify=false', `docker://${host}/${repository}`]);
    const skopeoTags = (JSON.parse(stdout) as { Tags: string[] }).Tags;
    expect([...(await listTags(`http://${host}`, repository))].sort()).toEqual([...skopeoTags].sort());
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
      message: `http://${host} answered 404: NAME_UNKNOWN: repository name not known to registry while listing the tags of x/none. Check the registry address and the repository name.`,
    });
  });
});

async function waitForRegistry(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const ready = await fetch(`${url}/v2/`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`${REGISTRY_BINARY} did not answer ${url}/v2/ within 20 s`);
}
