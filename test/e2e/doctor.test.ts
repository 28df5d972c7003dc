// `ocilab doctor` run as a user would, its findings compared with what this machine says itself
// (`id -u`, `runc --version`, `stat -fc %T /sys/fs/cgroup`, `docker info`, `podman info`). Registries
// are a real one on loopback and a closed loopback port: doctor contacts nothing outside this machine.
import { access, constants } from 'node:fs/promises';
import { createServer } from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REGISTRY_BINARY, startRegistry, type Registry } from '../helpers/registry.js';
import { dockerUsable, podmanUsable, skipUnless } from '../helpers/services.js';

const registryInstalled = await access(REGISTRY_BINARY, constants.X_OK).then(
  () => true,
  () => false,
);
const noRegistry = skipUnless(registryInstalled, `${REGISTRY_BINARY} (Debian's docker-registry) is not installed`);

interface Check {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  found: string;
  fix: string;
}
interface Report {
  ok: boolean;
  checks: Check[];
}

function check(report: Report, id: string): Check {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`doctor reported no ${id}: ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

/** What the machine says for itself: stdout when the command succeeds, undefined when it fails or is missing. */
async function say(file: string, args: string[]): Promise<string | undefined> {
  const result = await execa(file, args, { reject: false, timeout: 20_000, stdin: 'ignore' });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe.skipIf(noRegistry)('ocilab doctor', () => {
  let registry: Registry;
  let report: Report;
  let exitCode: number | undefined;

  beforeAll(async () => {
    registry = await startRegistry();
    const vars = ['scheme=http', `host=${registry.host}`, 'path=library/busybox', `img=${registry.host}/library/busybox:1.36`];
    const result = await runCli(['doctor', '--json', ...vars.flatMap((v) => ['--var', v])]);
    exitCode = result.exitCode;
    try {
      report = JSON.parse(result.stdout) as Report;
    } catch {
      throw new Error(`doctor --json printed no JSON (exit ${result.exitCode}):\n${result.all}`);
    }
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('exits 0 exactly when it reports ok, and every check has the documented shape', () => {
    expect(exitCode).toBe(report.ok ? 0 : 1);
    expect(report.ok).toBe(report.checks.every((c) => c.status !== 'fail'));
    for (const c of report.checks) {
      expect(Object.keys(c).sort(), c.id).toEqual(['fix', 'found', 'id', 'status']);
      expect(['ok', 'warn', 'fail'], c.id).toContain(c.status);
      expect(c.found, c.id).not.toBe('');
      expect(c.fix === '', c.id).toBe(c.status === 'ok');
    }
  });

  it('knows who runs it, as `id -u` says', async () => {
    const uid = await say('id', ['-u']);
    expect(check(report, 'user').found).toContain(`(uid ${uid})`);
    expect(check(report, 'user').found.startsWith('root ')).toBe(uid === '0');
    expect(report.checks.some((c) => c.id.startsWith('rootless.'))).toBe(uid !== '0');
  });

  it('reports the runc version `runc --version` prints', async () => {
    const version = (await say('runc', ['--version']))?.match(/^runc version (\S+)/)?.[1];
    const runc = check(report, 'runtime.runc');
    if (version) {
      expect(runc.status).toBe('ok');
      expect(runc.found).toMatch(new RegExp(`^runc ${version.replaceAll('.', '\\.').replaceAll('+', '\\+')} `));
    } else {
      expect(runc.found).toMatch(/^runc is not installed/);
    }
  });

  it('tells cgroup v1 from v2 as `stat -fc %T /sys/fs/cgroup` does', async () => {
    const type = await say('stat', ['-fc', '%T', '/sys/fs/cgroup']);
    const cgroups = check(report, 'kernel.cgroups').found;
    if (type === 'cgroup2fs') expect(cgroups).toMatch(/^cgroup v2 /);
    else if (type === 'tmpfs') expect(cgroups).toMatch(/^cgroup v1 /);
    else expect(check(report, 'kernel.cgroups').status).toBe('warn');
  });

  it('calls docker and podman usable exactly when `docker info` and `podman info` succeed', async () => {
    const [docker, podman] = await Promise.all([dockerUsable().catch(() => false), podmanUsable().catch(() => false)]);
    expect(/`docker info` answers$/.test(check(report, 'handler.docker').found), check(report, 'handler.docker').found).toBe(docker);
    expect(/`podman info` answers$/.test(check(report, 'handler.podman').found), check(report, 'handler.podman').found).toBe(podman);
    const way = check(report, 'lab.runc.way.build-the-root-filesystem');
    if (docker) expect(way.found).toMatch(/^ocilab uses docker /);
    else if (podman) expect(way.found).toMatch(/^ocilab uses podman /);
  });

  it('finds the registry on loopback, for both labs', () => {
    expect(check(report, `lab.tags.registry.${registry.host}`)).toMatchObject({ status: 'ok' });
    expect(check(report, `lab.tags.registry.${registry.host}`).found).toContain(`GET ${registry.url}/v2/ got 200`);
    // Lab 2's image is on loopback, over plain HTTP after HTTPS fails, as docker does it.
    expect(check(report, `lab.runc.registry.${registry.host}`)).toMatchObject({ status: 'ok' });
    expect(check(report, `lab.runc.registry.${registry.host}`).found).toContain(`GET ${registry.url}/v2/ got 200`);
  });

  it('says both labs can run on a machine set up like CI', async () => {
    const uid = await say('id', ['-u']);
    const ready = uid === '0' && (await say('runc', ['--version'])) !== undefined && (await dockerUsable().catch(() => false));
    const tools = await say('sh', ['-c', 'command -v tar && command -v curl && command -v jq']);
    if (!ready || tools === undefined) return;
    expect(check(report, 'lab.runc').status).toBe('ok');
    expect(check(report, 'lab.tags').status).toBe('ok');
    expect(report.ok).toBe(true);
    expect(exitCode).toBe(0);
  });

  it('fails a lab whose registry is a closed loopback port, and says how to point it elsewhere', async () => {
    const port = await closedPort();
    const result = await runCli(['doctor', 'tags', '--json', '--var', 'scheme=http', '--var', `host=127.0.0.1:${port}`]);
    expect(result.exitCode, result.all).toBe(1);
    const closed = JSON.parse(result.stdout) as Report;
    const registryCheck = check(closed, `lab.tags.registry.127.0.0.1:${port}`);
    expect(registryCheck.status).toBe('fail');
    expect(registryCheck.found).toMatch(/cannot be reached: .*connection refused/);
    expect(registryCheck.fix).toContain('`ocilab run tags --var scheme=... --var host=...`');
    expect(check(closed, 'lab.tags')).toMatchObject({ status: 'fail', fix: `see lab.tags.registry.127.0.0.1:${port}` });
    expect(closed.checks.some((c) => c.id.startsWith('lab.runc'))).toBe(false);
  });

  it('prints a table with a mark, the check and what it found', async () => {
    const result = await runCli(['doctor', 'tags', '--var', 'scheme=http', '--var', `host=${registry.host}`]);
    expect(result.stdout).toMatch(/^ {2}[✓!✗] runtime\.runc +runc /m);
    expect(result.stdout).toMatch(new RegExp(`^ {2}✓ lab\\.tags\\.registry\\.${registry.host.replaceAll('.', '\\.')}`, 'm'));
    expect(result.stdout).toMatch(result.exitCode === 0 ? /Every lab asked about can run here\./ : /Some labs cannot run here/);
  });

  it('refuses a variable that no lab asked about has', async () => {
    const result = await runCli(['doctor', 'runc', '--var', 'host=127.0.0.1:5000']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/No lab asked about has a variable 'host'\. Their variables: runc: img\./);
  });
});
