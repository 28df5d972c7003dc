// examine() asks the probes what the labs call for, and no more; the real registry and disk probes
// work against loopback servers and temporary directories only.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planLab, type LabPlan } from '../../src/doctor/plan.js';
import { examine, type Probes } from '../../src/doctor/examine.js';
import type { Account } from '../../src/doctor/machine.js';
import { machineProbes } from '../../src/doctor/probes.js';
import type { Lab } from '../../src/lab/model.js';
import { parseLab } from '../../src/lab/parse.js';
import { resolveVariables } from '../../src/lab/variables.js';
import { closedPort, serve, type FakeServer } from '../helpers/fake-registries.js';

function shipped(file: string): Lab {
  const result = parseLab(readFileSync(join(import.meta.dirname, '..', '..', 'labs', file), 'utf8'), file);
  if (!result.ok) throw new Error(`${file} does not parse`);
  return result.lab;
}

/** Probes that answer from fixed values and record every question. */
function recordingProbes(account: Account): Probes & { asked: string[] } {
  const asked: string[] = [];
  const note = <T>(question: string, answer: T) => {
    asked.push(question);
    return Promise.resolve(answer);
  };
  return {
    asked,
    osRelease: () => note('os-release', 'ID=debian\n'),
    init: () => note('init', 'systemd' as const),
    account: () => note('account', account),
    command: (name) => note(`command ${name}`, {}),
    engine: (name) => note(`handler ${name}`, {}),
    kernel: () => note('kernel', { cgroupFs: 'tmpfs', seccomp: { inStatus: true, filtersInStatus: true }, overlay: 'loaded' as const }),
    rootless: () => note('rootless', { userns: {} }),
    ways: (ways, workdir, access) =>
      note(
        `ways ${ways.map((w) => w.name).join(',')} in ${workdir} as ${access}`,
        ways.map((way) => ({ way, usable: true, reason: 'works here' })),
      ),
    registry: (urls) => note(`registry ${urls.join(' ')}`, [{ url: urls[0] as string, status: 200 }]),
    disk: (workdir) => note(`disk ${workdir}`, { workdir, measured: workdir, freeBytes: 1 }),
    proxy: () => note('proxy', undefined),
  };
}

describe('examine', () => {
  const tags = shipped('01-tags.md');
  const runc = shipped('02-runc.md');
  const plans: LabPlan[] = [
    planLab(tags, resolveVariables(tags, { scheme: 'http', host: '127.0.0.1:5000' }), '/w/tags'),
    planLab(runc, resolveVariables(runc, { img: '127.0.0.1:5000/library/busybox' }), '/w/runc'),
  ];

  it('asks about the labs’ commands, every handler, ways, registries and workspaces', async () => {
    const probes = recordingProbes({ uid: 0, name: 'root', access: 'root' });
    const machine = await examine(probes, plans);
    expect(probes.asked).toEqual(
      expect.arrayContaining([
        'command runc',
        'command crane',
        'handler docker',
        'handler podman',
        'handler nerdctl',
        'ways crane,curl in /w/tags as root',
        'ways docker,podman,nerdctl,builtin in /w/runc as root',
        'ways root,rootless in /w/runc as root',
        'registry http://127.0.0.1:5000/v2/',
        'registry https://127.0.0.1:5000/v2/ http://127.0.0.1:5000/v2/',
        'disk /w/tags',
        'disk /w/runc',
      ]),
    );
    expect(probes.asked).not.toContain('command docker');
    expect(Object.keys(machine.labs)).toEqual(['tags', 'runc']);
    expect(Object.keys(machine.labs.runc?.ways ?? {})).toEqual([
      'build-the-root-filesystem',
      'generate-the-runtime-spec',
      'run-the-container',
    ]);
  });

  it('looks at what rootless containers need only for a user who is not root', async () => {
    const asRoot = recordingProbes({ uid: 0, name: 'root', access: 'root' });
    expect((await examine(asRoot, plans)).rootless).toBeUndefined();
    expect(asRoot.asked).not.toContain('rootless');
    const asUser = recordingProbes({ uid: 1000, name: 'ada', access: 'sudo-password' });
    expect((await examine(asUser, plans)).rootless).toEqual({ userns: {} });
    expect(asUser.asked).toContain('ways docker,podman,nerdctl,builtin in /w/runc as sudo-password');
  });

  it('asks a registry shared by two labs once', async () => {
    const probes = recordingProbes({ uid: 0, name: 'root', access: 'root' });
    const same = [plans[0] as LabPlan, { ...(plans[0] as LabPlan), lab: { ...tags, id: 'tags-again' } }];
    await examine(probes, same);
    expect(probes.asked.filter((q) => q.startsWith('registry'))).toEqual(['registry http://127.0.0.1:5000/v2/']);
  });
});

describe('the registry probe', () => {
  let registry: FakeServer;
  let mirror: FakeServer;

  beforeAll(async () => {
    // Imitates registry.k8s.io: every request is redirected to a mirror, which wants a token.
    mirror = await serve((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="http://127.0.0.1/token"' });
      res.end();
    });
    registry = await serve((req, res) => {
      res.writeHead(307, { Location: `${mirror.url}${req.url ?? '/'}` });
      res.end();
    });
  });
  afterAll(async () => {
    await registry.close();
    await mirror.close();
  });

  it('follows redirects and reports the status and where it ended', async () => {
    expect(await machineProbes.registry([`${registry.url}/v2/`])).toEqual([
      { url: `${registry.url}/v2/`, status: 401, finalUrl: `${mirror.url}/v2/` },
    ]);
  });

  it('says why nothing answered, then tries the next address', async () => {
    const closed = `http://127.0.0.1:${await closedPort()}/v2/`;
    expect(await machineProbes.registry([closed, `${mirror.url}/v2/`])).toEqual([
      { url: closed, error: 'connection refused (nothing listens there)' },
      { url: `${mirror.url}/v2/`, status: 401 },
    ]);
  });

  it('says when the name does not resolve, and when https meets a plain-HTTP server', async () => {
    const plain = `${registry.url.replace(/^http:/, 'https:')}/v2/`;
    expect(await machineProbes.registry(['http://nonexistent.invalid/v2/', plain])).toEqual([
      { url: 'http://nonexistent.invalid/v2/', error: expect.stringMatching(/^the name does not resolve \(DNS/) },
      { url: plain, error: 'no TLS there (a plain-HTTP server?)' },
    ]);
  });

  it('marks a port that fetch refuses, rather than calling the registry unreachable', async () => {
    expect(await machineProbes.registry(['http://127.0.0.1:6000/v2/'])).toEqual([
      { url: 'http://127.0.0.1:6000/v2/', error: 'Node.js refuses to connect to this port (browsers block it)', refusedPort: true },
    ]);
  });
});

describe('the disk probe', () => {
  it('measures the nearest directory that exists when the workspace does not yet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocilab-doctor-disk-'));
    try {
      const disk = await machineProbes.disk(join(dir, 'ocilab', 'runc'));
      expect(disk.measured).toBe(dir);
      expect(disk.freeBytes).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
