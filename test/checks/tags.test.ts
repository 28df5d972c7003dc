import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tagsCheck } from '../../src/checks/tags.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { TagsCheck } from '../../src/lab/model.js';
import { listTags } from '../../src/oci/tags.js';
import { closedPort, serve, startK8sLike, startPaginated, startRefusing } from '../helpers/fake-registries.js';
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

  it("fails an empty output with the registry's words when the registry refuses ocilab too", async () => {
    const outcome = await tagsCheck(check(), ctx(paged.registry.url, '', 'library/nothing'));
    expect(outcome).toMatchObject({ status: 'failed', actual: '(no output)' });
    expect(outcome.message).toMatch(
      /^The output is empty; expected the tags of library\/nothing, one a line\. ocilab asked the registry too: .* answered 404: NAME_UNKNOWN/,
    );
    expect(outcome).not.toHaveProperty('facts');
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

describe('tags check when ocilab cannot reach the registry', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** What the learner sees of a failure: never advice about -L, which would be a guess. */
  function expectNoRedirectAdvice(message: string): void {
    expect(message).not.toMatch(/-L\b|--location|redirect/i);
  }

  it('fails an empty output and says that nothing listens at the address, with the fix', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const outcome = await tagsCheck(check(), ctx(url, ''));
    expect(outcome).toMatchObject({ status: 'failed', actual: '(no output)', facts: ['registry-unreachable'] });
    expect(outcome.message).toBe(
      `The output is empty; expected the tags of ${REPO}, one a line. ocilab cannot reach ${url} either: connection refused (nothing listens there). ` +
        "Check the host and port (--var host=HOST:PORT) and that the registry is running. In a workshop, use the workshop's registry: --var host=HOST:PORT --var scheme=http.",
    );
    expectNoRedirectAdvice(outcome.message);
  });

  it('says the name does not resolve', async () => {
    const outcome = await tagsCheck(check(), ctx('https://nonexistent.invalid', ''));
    expect(outcome).toMatchObject({ status: 'failed', facts: ['registry-unreachable'] });
    expect(outcome.message).toContain('ocilab cannot reach https://nonexistent.invalid either: the name does not resolve (DNS');
    expect(outcome.message).toContain("Check the host name (--var host=HOST:PORT) and this machine's DNS.");
    expectNoRedirectAdvice(outcome.message);
  });

  it('fails the output of curl -sS, which holds only its error, with the same explanation', async () => {
    const said = 'curl: (6) Could not resolve host: nonexistent.invalid';
    const outcome = await tagsCheck(check(), ctx('https://nonexistent.invalid', `${said}\n`));
    expect(outcome).toMatchObject({ status: 'failed', actual: '1 line: 0 tags, 1 other line', facts: ['registry-unreachable'] });
    const start = `1 line of the output is not a tag of ${REPO}: "${said}". ocilab cannot reach`;
    expect(outcome.message.slice(0, start.length)).toBe(start);
  });

  it('cannot check an output that holds tags, and says why', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const outcome = await tagsCheck(check(), ctx(url, '1.36\nlatest\n'));
    expect(outcome).toMatchObject({ status: 'error', facts: ['registry-unreachable'] });
    expect(outcome.message).toMatch(/^ocilab cannot reach http:\/\/127\.0\.0\.1:\d+ to get the tags to compare with: connection refused/);
  });

  it("asks with the lab's scheme: https to a plain-HTTP registry is told to use --var scheme=http", async () => {
    const plain = await startPaginated(REPO, TAGS, 100, 'relative');
    try {
      const https = plain.registry.url.replace(/^http:/, 'https:');
      const outcome = await tagsCheck(check(), ctx(https, ''));
      expect(outcome).toMatchObject({ status: 'failed', facts: ['registry-unreachable'] });
      expect(outcome.message).toContain(`ocilab cannot reach ${https} either: no TLS there (a plain-HTTP server?).`);
      expect(outcome.message).toContain('The registry speaks plain HTTP, not https: ask it with --var scheme=http.');
      expectNoRedirectAdvice(outcome.message);
    } finally {
      await plain.close();
    }
  });

  it.each(['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY'])('names a proxy set in %s, which curl uses and ocilab does not', async (variable) => {
    vi.stubEnv(variable, 'http://proxy.example:3128');
    const outcome = await tagsCheck(check(), ctx('https://nonexistent.invalid', ''));
    expect(outcome).toMatchObject({ status: 'failed', facts: ['registry-unreachable'] });
    expect(outcome.message).toContain(
      `${variable}=http://proxy.example:3128 is set: curl goes through that proxy, ocilab asks the registry directly; \`curl -sS -D - https://nonexistent.invalid/v2/\` shows what the proxy answers.`,
    );
    expectNoRedirectAdvice(outcome.message);
  });

  it('names the variables the lab uses, and the address itself when none sets it', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const withVars = check({ registry: '${proto}://${registryHost}' });
    const vars = { proto: 'http', registryHost: new URL(url).host, path: REPO };
    const named = await tagsCheck(withVars, { workdir: tmpdir(), vars, privilege: 'none', stepOutput: '' });
    expect(named.message).toContain('(--var registryHost=HOST:PORT)');
    expect(named.message).toContain('--var registryHost=HOST:PORT --var proto=http.');
    const literal = await tagsCheck(check({ registry: url }), ctx(url, ''));
    expect(literal.message).toContain(`Check the host and port (the lab's address ${url}) and that the registry is running.`);
    expect(literal.message).not.toContain('--var');
  });
});

describe('tags check against a registry that redirects, as registry.k8s.io does', () => {
  const tags = ['3.9', '3.10'];
  let k8s: Awaited<ReturnType<typeof startK8sLike>>;

  beforeAll(async () => {
    k8s = await startK8sLike('pause', tags);
  });

  afterAll(async () => {
    await k8s?.close();
  });

  const redirectAdvice = () =>
    `${k8s.front.url} answers the tag list with a 307 redirect to ${k8s.backend.url}, and the output shows the redirect was not followed: curl follows redirects only with -L (--location).`;

  it('follows the redirect to list the tags, as curl -L does', async () => {
    expect(await tagsCheck(check(), ctx(k8s.front.url, '3.9\n3.10\n', 'pause'))).toMatchObject({ status: 'passed' });
  });

  it('says curl needs -L when the output is empty', async () => {
    const outcome = await tagsCheck(check(), ctx(k8s.front.url, '', 'pause'));
    expect(outcome).toMatchObject({ status: 'failed', actual: '(no output)', facts: ['registry-redirects'] });
    expect(outcome.message).toBe(`The output is empty; expected the tags of pause, one a line. ${redirectAdvice()}`);
  });

  it('says curl needs -L for what curl -s without -L and jq really print', async () => {
    const url = `${k8s.front.url}/v2/pause/tags/list`;
    const { all } = await execa('bash', ['-c', 'curl -s "$1" | jq -r ".tags[]"', 'bash', url], {
      all: true,
      reject: false,
      // Not a socket on stdin: bash would take itself for a remote shell and read root's ~/.bashrc.
      stdin: 'ignore',
    });
    expect(all).toMatch(/parse error/);
    const outcome = await tagsCheck(check(), ctx(k8s.front.url, all, 'pause'));
    expect(outcome).toMatchObject({ status: 'failed', facts: ['registry-redirects'] });
    expect(outcome.message).toMatch(/^1 line of the output is not a tag of pause: "(jq: )?parse error: .*"\. /);
    expect(outcome.message).toContain(redirectAdvice());
  });

  it('says curl needs -L when the output is the body of the redirect', async () => {
    const { stdout } = await execa('curl', ['-s', `${k8s.front.url}/v2/pause/tags/list`]);
    const outcome = await tagsCheck(check(), ctx(k8s.front.url, stdout, 'pause'));
    expect(outcome).toMatchObject({ status: 'failed', facts: ['registry-redirects'] });
    expect(outcome.message).toContain(redirectAdvice());
  });

  it('keeps the fact but not the advice when the output fails for another reason', async () => {
    const outcome = await tagsCheck(check(), ctx(k8s.front.url, '3.9\n', 'pause'));
    expect(outcome).toMatchObject({ status: 'failed', facts: ['registry-redirects'] });
    expect(outcome.message).toMatch(/^1 tag of the 2 the registry reports is missing: "3\.10"\./);
    expect(outcome.message).not.toContain('-L');
  });

  it('says both when the registry redirects to a host that cannot be reached', async () => {
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    const front = await serve((req, res) => res.writeHead(307, { Location: `${nowhere}${req.url ?? '/'}` }).end());
    try {
      const outcome = await tagsCheck(check(), ctx(front.url, '', 'pause'));
      expect(outcome).toMatchObject({ status: 'failed', facts: ['registry-unreachable', 'registry-redirects'] });
      expect(outcome.message).toContain(`ocilab cannot reach ${nowhere} either: connection refused`);
    } finally {
      await front.close();
    }
  });
});

describe('tags check against a registry that answers directly', () => {
  let plain: Awaited<ReturnType<typeof startPaginated>>;

  beforeAll(async () => {
    plain = await startPaginated(REPO, TAGS, 100, 'relative');
  });

  afterAll(async () => {
    await plain?.close();
  });

  it.each([
    ['an empty output', ''],
    ["jq's parse error", 'parse error: Invalid numeric literal at line 1, column 10'],
    ['an HTML page', '<html><body>Welcome</body></html>'],
  ])('never blames -L for %s', async (_name, output) => {
    const outcome = await tagsCheck(check(), ctx(plain.registry.url, output));
    expect(outcome.status).toBe('failed');
    expect(outcome.message).not.toMatch(/-L\b|redirect/i);
    expect(outcome).not.toHaveProperty('facts');
  });

  it('is an error without facts when the registry refuses and the output has tags', async () => {
    const refusing = await startRefusing(403, 'DENIED', 'requested access to the resource is denied');
    try {
      const outcome = await tagsCheck(check(), ctx(refusing.url, 'latest'));
      expect(outcome).toMatchObject({
        status: 'error',
        message: expect.stringContaining('DENIED: requested access to the resource is denied'),
      });
      expect(outcome).not.toHaveProperty('facts');
    } finally {
      await refusing.close();
    }
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
