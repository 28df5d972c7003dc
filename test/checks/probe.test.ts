// Probes against the real runc: a busybox rootfs, bundles made with `runc spec`, and a check after
// every probe that no container and no temporary bundle were left behind.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  isRootlessConfig,
  PROBE_NEEDS_ROOT,
  PROBE_SUDO_PASSWORD,
  PROBE_SUDO_REFUSED,
  probeCheck,
  probeCgroupsPath,
  probeConfig,
  probeRunc,
  RUNC_MISSING,
} from '../../src/checks/probe.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { ProbeCheck } from '../../src/lab/model.js';
import { makeBusyboxRootfs } from '../helpers/rootfs.js';
import { configValidator } from '../helpers/runtime-schema.js';

const isRoot = process.geteuid?.() === 0;

let workdir: string;

/** `runc spec` as it comes: hostname "runc", terminal true, args ["sh"], readonly rootfs. */
async function runcSpec(bundle: string): Promise<Record<string, unknown>> {
  await mkdir(bundle, { recursive: true });
  await execa('runc', ['spec'], { cwd: bundle });
  return JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as Record<string, unknown>;
}

function check(bundle: string, args: string[], fields: Partial<ProbeCheck> = {}): ProbeCheck {
  return { kind: 'probe', line: 1, bundle, args, ...fields };
}

const ctx = (over: Partial<CheckContext> = {}): CheckContext => ({ workdir, vars: { name: 'runc-demo' }, privilege: 'root', ...over });

/**
 * The probes' temporary bundles go to a TMPDIR of these tests' own, so that the probes other test
 * files run at the same time are neither counted as left behind here nor mistaken for these.
 */
let probeTmp: string;

/** Probe containers runc still knows whose bundle is one of these tests'. */
async function probeContainers(): Promise<string[]> {
  const { stdout } = await execa('runc', ['list', '--format', 'json']);
  const containers = (JSON.parse(stdout || '[]') as { id: string; bundle: string }[] | null) ?? [];
  return containers.filter((c) => c.id.startsWith('ocilab-probe-') && c.bundle.startsWith(probeTmp)).map((c) => c.id);
}

/** Temporary bundles of these tests' probes. */
async function newProbeTempDirs(): Promise<string[]> {
  return (await readdir(probeTmp)).filter((name) => name.startsWith('ocilab-probe-'));
}

describe('probeConfig', () => {
  let spec: Record<string, unknown>;
  let specDir: string;

  beforeAll(async () => {
    specDir = await mkdtemp(join(tmpdir(), 'ocilab-probetest-spec-'));
    spec = await runcSpec(specDir);
  });

  afterAll(async () => {
    await rm(specDir, { recursive: true, force: true });
  });

  it('makes a config.json valid under the OCI runtime-spec schema', async () => {
    const validate = await configValidator();
    const config = probeConfig(spec, ['hostname'], '/var/lib/lab/rootfs');
    expect(validate(config)).toEqual([]);
    // The schema does catch mistakes, so the pass above means something.
    expect(validate({ ...config, process: { ...config.process, args: 'hostname' } })).not.toEqual([]);
  });

  it('turns the terminal off, sets the arguments and makes the rootfs absolute, leaving the rest', () => {
    const config = probeConfig(spec, ['ls', '-1a', '/'], '/work/rootfs');
    expect(config.process).toMatchObject({ terminal: false, args: ['ls', '-1a', '/'], cwd: '/' });
    expect(config.root).toEqual({ path: '/work/rootfs', readonly: true });
    expect(config.hostname).toBe('runc');
    expect(config.linux).toEqual(spec.linux);
  });

  it('does not change the config it copies', () => {
    const before = structuredClone(spec);
    probeConfig(spec, ['hostname'], '/x', 'ocilab-probe-1');
    expect(spec).toEqual(before);
  });

  it('gives the probe a cgroup of its own beside the one the config names, so it never joins the running container', () => {
    const named = { ...spec, linux: { ...(spec.linux as object), cgroupsPath: '/ocilab/limited' } };
    expect(probeConfig(named, ['hostname'], '/x', 'ocilab-probe-1').linux?.cgroupsPath).toBe('/ocilab/ocilab-probe-1');
  });

  it.each([
    ['/ocilab/limited', '/ocilab/ocilab-probe-1'],
    ['/limited', '/ocilab-probe-1'],
    ['/ocilab/limited/', '/ocilab/ocilab-probe-1'],
    ['ocilab/limited', 'ocilab/ocilab-probe-1'],
    ['limited', 'ocilab-probe-1'],
    ['system.slice:runc:limited', 'system.slice:runc:ocilab-probe-1'],
    [':runc:limited', ':runc:ocilab-probe-1'],
  ])('a probe of a config with cgroupsPath %j runs in %j', (path, probe) => {
    expect(probeCgroupsPath(path, 'ocilab-probe-1')).toBe(probe);
  });
});

describe('how a probe runs runc', () => {
  const plain = { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };
  const rootless = {
    linux: { namespaces: [{ type: 'pid' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] },
  };
  // Root's user namespace, root inside mapped to an ordinary uid outside: only root may set it up.
  const remapped = { linux: { namespaces: [{ type: 'user' }], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] } };
  it.each([
    ['root', plain, 'direct'],
    ['root', rootless, 'direct'],
    ['sudo-nopasswd', plain, 'sudo'],
    ['sudo-password', plain, 'sudo'],
    ['none', plain, 'none'],
    ['sudo-password', rootless, 'rootless'],
    ['none', rootless, 'rootless'],
    ['sudo-password', remapped, 'sudo'],
  ] as const)('as %s, a bundle %j runs %s', (privilege, config, way) => {
    expect(probeRunc(config, privilege, 1000)).toBe(way);
  });

  it.each([
    [{}, false],
    [{ linux: { namespaces: [{ type: 'user' }] } }, false],
    [{ linux: { namespaces: [{ type: 'pid' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] } }, false],
    [rootless, true],
    // Root's user namespace, root inside mapped to an ordinary uid outside: only root may set it up.
    [{ linux: { namespaces: [{ type: 'user' }], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] } }, false],
    // The learner's own uid and a range of /etc/subuid, as newuidmap writes them.
    [
      {
        linux: {
          namespaces: [{ type: 'user' }],
          uidMappings: [
            { containerID: 1, hostID: 100000, size: 65536 },
            { containerID: 0, hostID: 1000, size: 1 },
          ],
        },
      },
      true,
    ],
  ])('counts %j as rootless for uid 1000: %s', (config, expected) => {
    expect(isRootlessConfig(config, 1000)).toBe(expected);
  });
});

describe.skipIf(!isRoot)('probe check with runc (needs root: skipped when not running as root)', () => {
  let demoConfig: string;
  let savedTmp: string | undefined;

  beforeAll(async () => {
    probeTmp = await mkdtemp(join(tmpdir(), 'ocilab-probetest-tmp-'));
    savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = probeTmp;
    workdir = await mkdtemp(join(tmpdir(), 'ocilab-probetest-'));
    // `default` is runc spec untouched; `demo` is the lab's edited copy, sharing default's rootfs
    // through a relative root.path, as a learner might.
    await makeBusyboxRootfs(join(workdir, 'default', 'rootfs'));
    await runcSpec(join(workdir, 'default'));
    const demo = await runcSpec(join(workdir, 'demo'));
    demo.hostname = 'runc-demo';
    demo.root = { path: '../default/rootfs', readonly: false };
    demoConfig = `${JSON.stringify(demo, null, 2)}\n`;
    await writeFile(join(workdir, 'demo', 'config.json'), demoConfig);
  });

  afterEach(async () => {
    expect(await probeContainers()).toEqual([]);
    expect(await newProbeTempDirs()).toEqual([]);
  });

  afterAll(async () => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    await rm(probeTmp, { recursive: true, force: true });
  });

  it('passes when the hostname inside the container is the expected one', async () => {
    expect(await probeCheck(check('demo', ['hostname'], { equals: 'runc-demo' }), ctx())).toMatchObject({ status: 'passed' });
  });

  it("fails with runc's default hostname, showing expected and actual", async () => {
    expect(await probeCheck(check('default', ['hostname'], { equals: 'runc-demo' }), ctx())).toMatchObject({
      status: 'failed',
      expected: 'runc-demo',
      actual: 'runc',
    });
  });

  it("expands lab variables in the probe's arguments", async () => {
    expect(await probeCheck(check('demo', ['echo', '${name}'], { equals: 'runc-demo' }), ctx())).toMatchObject({ status: 'passed' });
  });

  it('runs the process as PID 1 of its own namespace', async () => {
    expect(await probeCheck(check('default', ['sh', '-c', 'echo $$'], { equals: '1' }), ctx())).toMatchObject({ status: 'passed' });
  });

  it('passes when ls lists exactly the entries of the rootfs', async () => {
    expect(await probeCheck(check('default', ['ls', '-1a', '/'], { listsDirectory: 'rootfs' }), ctx())).toMatchObject({
      status: 'passed',
    });
  });

  it('names the missing and extra entries of a listing', async () => {
    const outcome = await probeCheck(check('default', ['ls', '/'], { listsDirectory: 'rootfs/bin' }), ctx());
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.message).toMatch(
      /^The output does not list exactly the entries of rootfs\/bin: missing busybox, cat, .*; not in rootfs\/bin: bin, dev, /,
    );
  });

  it("compares with the host: a namespace of its own differs from the host's, and a shared one is the same", async () => {
    const netNs = ['readlink', '/proc/self/ns/net'];
    expect(await probeCheck(check('default', netNs, { host: 'differs' }), ctx())).toMatchObject({ status: 'passed' });
    const shared = await probeCheck(check('default', netNs, { host: 'same' }), ctx());
    expect(shared).toMatchObject({ status: 'failed', actual: expect.stringMatching(/^net:\[\d+\]$/) as unknown });
    expect(shared.message).toBe(
      '`readlink /proc/self/ns/net` prints one thing in the container and another on the host: the container does not share this with the host.',
    );
    expect(await probeCheck(check('default', ['echo', 'same'], { host: 'same' }), ctx())).toMatchObject({ status: 'passed' });
    expect(await probeCheck(check('default', ['echo', 'same'], { host: 'differs' }), ctx())).toMatchObject({
      status: 'failed',
      actual: 'same',
    });
  });

  it('cannot compare with the host when the program fails there', async () => {
    // A file of the rootfs that the host does not have.
    const inside = join(workdir, 'default', 'rootfs', 'etc', 'only-inside-the-probe');
    await writeFile(inside, 'x\n');
    try {
      const outcome = await probeCheck(check('default', ['cat', '/etc/only-inside-the-probe'], { host: 'same' }), ctx());
      expect(outcome).toMatchObject({ status: 'error' });
      expect(outcome.message).toMatch(
        /^`cat \/etc\/only-inside-the-probe` could not run on the host to compare with the container: .*No such file/,
      );
    } finally {
      await rm(inside);
    }
  });

  it('judges the exit status of the process in the container', async () => {
    expect(await probeCheck(check('demo', ['sh', '-c', 'exit 3'], { exit: 3 }), ctx())).toMatchObject({ status: 'passed' });
    expect(await probeCheck(check('demo', ['sh', '-c', 'exit 3']), ctx())).toMatchObject({ status: 'failed', expected: 'exit status 0' });
  });

  it('says what runc reported when the process cannot start, and still deletes the container', async () => {
    const outcome = await probeCheck(check('demo', ['no-such-command']), ctx());
    expect(outcome).toMatchObject({
      status: 'failed',
      expected: '`no-such-command` runs in the container',
      actual: 'unable to start container process: exec: "no-such-command": executable file not found in $PATH',
    });
    expect(outcome.message).toMatch(/^runc could not run `no-such-command` in the container: unable to start/);
  });

  it("leaves the learner's bundle as it was", async () => {
    await probeCheck(check('demo', ['hostname']), ctx());
    expect(await readFile(join(workdir, 'demo', 'config.json'), 'utf8')).toBe(demoConfig);
    expect((await readdir(join(workdir, 'demo'))).sort()).toEqual(['config.json']);
  });

  it('fails a bundle without config.json, saying runc spec writes one', async () => {
    const outcome = await probeCheck(check('default/rootfs', ['hostname']), ctx());
    expect(outcome).toMatchObject({ status: 'failed', actual: 'no such file' });
    expect(outcome.message).toContain('`runc spec` writes one');
  });

  it('is an error without root or sudo, and never advises running ocilab itself with sudo', async () => {
    expect(await probeCheck(check('demo', ['hostname']), ctx({ privilege: 'none' }))).toEqual({
      status: 'error',
      message: PROBE_NEEDS_ROOT,
    });
    for (const message of [PROBE_NEEDS_ROOT, PROBE_SUDO_PASSWORD, PROBE_SUDO_REFUSED('x')]) expect(message).not.toMatch(/sudo ocilab/);
  });

  it('is an error saying how to install runc when it is missing', async () => {
    vi.stubEnv('PATH', '/nonexistent');
    try {
      expect(await probeCheck(check('demo', ['hostname']), ctx())).toEqual({ status: 'error', message: RUNC_MISSING });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
