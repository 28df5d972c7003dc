// The doctor's decisions, from fake probe results: which findings fail, warn or pass, which labs they
// stop, and which fix each distribution gets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnose, type Diagnosis } from '../../src/doctor/diagnose.js';
import type { Finding } from '../../src/doctor/finding.js';
import type { Account, EngineState, Machine, Reach, Rootless } from '../../src/doctor/machine.js';
import type { InitSystem } from '../../src/doctor/os.js';
import { ENGINES, planLab, type Engine, type LabPlan } from '../../src/doctor/plan.js';
import type { Lab } from '../../src/lab/model.js';
import { parseLab } from '../../src/lab/parse.js';
import { resolveVariables } from '../../src/lab/variables.js';
import type { WayOption } from '../../src/runner/prompter.js';
import { WAY_NEEDS_ROOT } from '../../src/runner/ways.js';

function shipped(file: string): Lab {
  const result = parseLab(readFileSync(join(import.meta.dirname, '..', '..', 'labs', file), 'utf8'), file);
  if (!result.ok) throw new Error(`${file} does not parse`);
  return result.lab;
}
const TAGS = shipped('01-tags.md');
function inlineLab(text: string): Lab {
  const result = parseLab(text, 'inline.md');
  if (!result.ok) throw new Error(`inline lab does not parse: ${JSON.stringify(result)}`);
  return result.lab;
}
/** A lab whose only root step can also be done rootless, with a probe check. */
const ROOTLESS_LAB = [
  '---',
  'ocilab: 1',
  'id: rl',
  'title: Rootless',
  'summary: A step done with sudo or without root.',
  '---',
  '',
  '## Run it',
  '',
  'Run the container.',
  '',
  '```sh {"run": true, "way": "sudo", "needs": ["runc"]}',
  'sudo runc run demo',
  '```',
  '',
  '```sh {"run": true, "way": "rootless", "needs": ["runc"]}',
  'runc --root "$XDG_RUNTIME_DIR/runc" run demo',
  '```',
  '',
  '```yaml {"checks": true}',
  '- probe: [hostname]',
  '  equals: runc-demo',
  '```',
  '',
].join('\n');
const RUNC = shipped('02-runc.md');
const NAMESPACES = shipped('03-namespaces.md');
/** Lab 2 as it was before it had rootless ways: a lab that cannot be done without root. */
const RUNC_ROOT_ONLY = inlineLab(
  readFileSync(join(import.meta.dirname, '..', '..', 'labs', '02-runc.md'), 'utf8').replace(
    /```sh \{[^\n]*"way": "rootless"[^\n]*\n.*\n```\n/g,
    '',
  ),
);
const LOCAL = {
  tags: { scheme: 'http', host: '127.0.0.1:5000', path: 'library/busybox' },
  runc: { img: '127.0.0.1:5000/library/busybox' },
};
const plansFor = (...labs: Lab[]): LabPlan[] =>
  labs.map((lab) => planLab(lab, resolveVariables(lab, LOCAL[lab.id as 'tags' | 'runc'] ?? {}), `/home/ada/ocilab/${lab.id}`));

const OS_RELEASE = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
  fedora: 'PRETTY_NAME="Fedora Linux 40 (Server Edition)"\nID=fedora\n',
  alpine: 'PRETTY_NAME="Alpine Linux v3.20"\nID=alpine\n',
};

type HandlerCondition = 'usable' | 'daemon down' | 'socket denied' | 'broken' | 'missing';

interface Fake {
  os?: keyof typeof OS_RELEASE;
  init?: InitSystem;
  account?: Account;
  /** Commands on PATH besides the handlers (`ocilab` is ocilab's own bin/ocilab, always there when installed whole). */
  commands?: string[];
  handlers?: Partial<Record<Engine, HandlerCondition>>;
  cgroupFs?: string;
  rootless?: Rootless;
  /** GET /v2/ attempts by host; a reachable 200 otherwise. */
  registries?: Record<string, Reach[]>;
  freeBytes?: number;
  proxy?: Machine['proxy'];
}

const ROOT: Account = { uid: 0, name: 'root', access: 'root' };
const ADA_SUDO: Account = { uid: 1000, name: 'ada', access: 'sudo-password' };
const ADA_NOPASSWD: Account = { uid: 1000, name: 'ada', access: 'sudo-nopasswd' };
const ADA_TYPED: Account = { ...ADA_SUDO, sudoFresh: true };
const ADA_ALONE: Account = { uid: 1000, name: 'ada', access: 'none' };
const ROOTLESS_READY: Rootless = {
  userns: { maxUserNamespaces: '15000' },
  subuid: 'ada:100000:65536',
  delegated: ['cpuset', 'cpu', 'io', 'memory', 'pids'],
  runcSpec: { ok: true, said: '', timedOut: false },
};

const DOCKER_DOWN = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';
const DOCKER_DENIED = 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock';

function handlerState(name: Engine, condition: HandlerCondition): EngineState {
  if (condition === 'missing') return {};
  const said = { usable: '', 'daemon down': DOCKER_DOWN, 'socket denied': DOCKER_DENIED, broken: 'Error: cannot set up namespace' }[
    condition
  ];
  return {
    path: `/usr/bin/${name}`,
    versionText: `${name} version 4.3.1`,
    info: { ok: condition === 'usable', said, timedOut: false },
    ...(condition === 'socket denied' ? { socket: { path: '/var/run/docker.sock', accessible: false } } : {}),
  };
}

/** What assessWays reports for these ways on the fake machine: commands present, root to be had, and the probe (`X info`) passing. */
function assess(plan: LabPlan, stepId: string, machine: Omit<Machine, 'labs'>): WayOption[] {
  const ways = plan.wayActions.find((a) => a.stepId === stepId)?.ways ?? [];
  return ways.map((way) => {
    const present = (c: string) => (machine.engines[c as Engine] ?? machine.commands[c])?.path !== undefined;
    const missing = way.needs.filter((c) => !present(c));
    if (missing.length > 0) return { way, usable: false, reason: `${missing.join(', ')} not found.` };
    if (way.root && machine.account.access === 'none') return { way, usable: false, reason: WAY_NEEDS_ROOT };
    const info = machine.engines[way.name as Engine]?.info;
    if (way.probe && info && !info.ok) return { way, usable: false, reason: `\`${way.probe}\` failed: ${info.said}` };
    return { way, usable: true, reason: 'works here' };
  });
}

const DEFAULT_COMMANDS = ['runc', 'curl', 'jq', 'tar', 'ocilab', 'unshare'];

function fakeMachine(plans: LabPlan[], fake: Fake = {}): Machine {
  const installed = fake.commands ?? DEFAULT_COMMANDS;
  const conditions = { docker: 'usable', podman: 'usable', nerdctl: 'missing', ...fake.handlers } as const;
  const account = fake.account ?? ROOT;
  const base: Omit<Machine, 'labs'> = {
    osRelease: OS_RELEASE[fake.os ?? 'debian'],
    init: fake.init ?? 'systemd',
    account,
    commands: Object.fromEntries(
      [...new Set(['runc', 'crun', 'curl', 'jq', 'crane', 'tar', 'ocilab', 'unshare', ...installed])].map((c) => [
        c,
        installed.includes(c)
          ? { path: `/usr/bin/${c}`, versionText: c === 'runc' ? 'runc version 1.1.5\nspec: 1.0.2-dev' : `${c} 1.0` }
          : {},
      ]),
    ),
    engines: Object.fromEntries(ENGINES.map((h) => [h, handlerState(h, conditions[h])])) as Record<Engine, EngineState>,
    kernel: { cgroupFs: fake.cgroupFs ?? 'cgroup2fs', seccomp: { inStatus: true, filtersInStatus: true }, overlay: 'loaded' },
    ...(account.access === 'root' ? {} : { rootless: fake.rootless ?? ROOTLESS_READY }),
    ...(fake.proxy ? { proxy: fake.proxy } : {}),
  };
  const labs = Object.fromEntries(
    plans.map((plan) => [
      plan.lab.id,
      {
        ways: Object.fromEntries(plan.wayActions.map((a) => [a.stepId, assess(plan, a.stepId, base)])),
        registries: Object.fromEntries(
          plan.registries.map((r) => [r.host, fake.registries?.[r.host] ?? [{ url: r.urls[r.urls.length - 1] as string, status: 200 }]]),
        ),
        disk: { workdir: plan.workdir, measured: '/home/ada', freeBytes: fake.freeBytes ?? 20 * 2 ** 30 },
      },
    ]),
  );
  return { ...base, labs };
}

function doctor(fake: Fake = {}, labs: Lab[] = [TAGS, RUNC]): Diagnosis {
  const plans = plansFor(...labs);
  return diagnose(plans, fakeMachine(plans, fake));
}

function check(diagnosis: Diagnosis, id: string): Finding {
  const found = diagnosis.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${diagnosis.checks.map((c) => c.id).join(', ')}`);
  return found;
}

const statuses = (diagnosis: Diagnosis, ...ids: string[]) => ids.map((id) => check(diagnosis, id).status);

describe('a machine with everything the labs need', () => {
  const diagnosis = doctor();

  it('lets every lab run, with warnings only for the ways it lacks', () => {
    expect(diagnosis.ok).toBe(true);
    expect(statuses(diagnosis, 'lab.tags', 'lab.runc')).toEqual(['ok', 'ok']);
    expect(diagnosis.checks.filter((c) => c.status !== 'ok').map((c) => c.id)).toEqual(['handler.nerdctl', 'tool.crane']);
  });

  it('says which way ocilab would pick, as `ocilab run` does', () => {
    expect(check(diagnosis, 'lab.runc.way.build-the-root-filesystem').found).toBe(
      'ocilab uses docker for "Build the root filesystem" (the first that works here); also works: podman, builtin; not usable here: nerdctl',
    );
    expect(check(diagnosis, 'lab.tags.way.list-the-tags').found).toMatch(
      /^ocilab uses curl .*\(the only one that works here\); not usable here: crane$/,
    );
  });

  it('reports versions and the runtime spec', () => {
    expect(check(diagnosis, 'runtime.runc').found).toBe('runc 1.1.5 (OCI runtime spec 1.0.2-dev) at /usr/bin/runc');
    expect(check(diagnosis, 'runtime.crun')).toMatchObject({ status: 'ok', found: 'crun is not installed; no lab asked about uses it' });
  });

  it('gives a fix for every finding that is not ok, and none for those that are', () => {
    for (const c of diagnosis.checks) expect(c.fix === '', c.id).toBe(c.status === 'ok');
  });
});

describe('fixes name the package manager of the distribution', () => {
  it.each([
    ['debian', ROOT, '`apt install runc`', '`apt install docker.io`'],
    ['debian', ADA_SUDO, '`sudo apt install runc`', '`sudo apt install docker.io`'],
    ['fedora', ADA_SUDO, '`sudo dnf install runc`', '`sudo dnf install moby-engine`'],
    ['alpine', ROOT, '`apk add runc`', '`apk add docker`'],
  ] as const)('on %s as %o', (os, account, runcFix, dockerFix) => {
    const diagnosis = doctor({ os, account, commands: ['curl', 'jq', 'tar'], handlers: { docker: 'missing' } });
    expect(check(diagnosis, 'runtime.runc')).toMatchObject({ status: 'fail', fix: runcFix });
    expect(check(diagnosis, 'handler.docker')).toMatchObject({ status: 'warn', fix: dockerFix });
  });
});

describe('root, sudo, or neither', () => {
  it('runs root steps directly as root and does not look at rootless needs', () => {
    const diagnosis = doctor({ account: ROOT });
    expect(check(diagnosis, 'user').found).toMatch(/^root \(uid 0\)/);
    expect(diagnosis.checks.some((c) => c.id.startsWith('rootless.'))).toBe(false);
  });

  it('runs them with sudo for a user who has it, and reports what rootless containers need', () => {
    const diagnosis = doctor({ account: ADA_NOPASSWD });
    expect(check(diagnosis, 'user')).toMatchObject({ status: 'ok' });
    expect(check(diagnosis, 'user').found).toMatch(/sudo runs commands as root without a password, so lab runc runs its root steps/);
    expect(statuses(diagnosis, 'rootless.userns', 'rootless.subuid', 'rootless.cgroups', 'rootless.runc')).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    expect(diagnosis.ok).toBe(true);
  });

  it.each<[string, Account, Finding['status'], Finding['status'], RegExp]>([
    [
      'root',
      ROOT,
      'ok',
      'ok',
      /^root: steps "Generate the runtime spec", "Run the container" and the container checks of lab runc run as root$/,
    ],
    ['passwordless sudo', ADA_NOPASSWD, 'ok', 'ok', /^sudo without a password: .* in a terminal or headless$/],
    ['sudo that asks', ADA_SUDO, 'warn', 'warn', /^sudo asking for a password: .*a headless run .*cannot type it/],
    ['sudo that asked lately', ADA_TYPED, 'ok', 'warn', /^sudo asking for a password: /],
    ['no sudo', ADA_ALONE, 'warn', 'ok', /^rootless: .* of lab runc run without root, in a user namespace/],
  ])('says how root steps run with %s', (_what, account, user, root, found) => {
    const diagnosis = doctor({ account });
    expect(statuses(diagnosis, 'user', 'lab.runc.root')).toEqual([user, root]);
    expect(check(diagnosis, 'lab.runc.root').found).toMatch(found);
    expect(check(diagnosis, 'lab.tags.root')).toMatchObject({ status: 'ok', found: 'lab tags needs no root' });
    // Sudo that asks is for terminals, and that is how labs are done; without any root, lab 2 runs rootless.
    expect(check(diagnosis, 'lab.runc').status).toBe('ok');
  });

  it('never advises running ocilab itself with sudo', () => {
    for (const account of [ROOT, ADA_NOPASSWD, ADA_SUDO, ADA_ALONE]) {
      for (const c of doctor({ account }).checks) expect(`${c.found} ${c.fix}`, c.id).not.toMatch(/sudo ocilab/);
    }
  });

  it('lets a lab whose root steps have a rootless way run without sudo, where user namespaces allow it', () => {
    const lab = inlineLab(ROOTLESS_LAB);
    const plans = plansFor(lab);
    const ready = diagnose(plans, fakeMachine(plans, { account: ADA_ALONE }));
    expect(check(ready, 'lab.rl.root')).toMatchObject({ status: 'ok' });
    expect(check(ready, 'lab.rl.root').found).toMatch(/^rootless: /);
    expect(check(ready, 'user').status).toBe('warn');
    expect(ready.ok).toBe(true);
    const off = { ...ROOTLESS_READY, userns: { maxUserNamespaces: '0' } };
    const blocked = diagnose(plans, fakeMachine(plans, { account: ADA_ALONE, rootless: off }));
    expect(check(blocked, 'lab.rl.root')).toMatchObject({ status: 'fail' });
    expect(check(blocked, 'lab.rl.root').found).toMatch(/containers without root cannot start here \(see rootless.userns/);
    expect(blocked.ok).toBe(false);
  });

  it('stops only the labs that need root when there is neither root nor sudo', () => {
    const diagnosis = doctor({ account: ADA_ALONE }, [TAGS, RUNC_ROOT_ONLY]);
    expect(check(diagnosis, 'user')).toMatchObject({ status: 'fail' });
    expect(check(diagnosis, 'user').fix).toMatch(/add ada to the sudo group \(`usermod -aG sudo ada`\)/);
    expect(statuses(diagnosis, 'lab.tags', 'lab.runc')).toEqual(['ok', 'fail']);
    expect(check(diagnosis, 'lab.runc').fix).toBe(
      'see user, lab.runc.root, lab.runc.way.generate-the-runtime-spec, lab.runc.way.run-the-container',
    );
    expect(diagnosis.ok).toBe(false);
    expect(doctor({ account: ADA_ALONE }, [TAGS]).ok).toBe(true);
  });

  it('lets lab 2 run rootless when there is neither root nor sudo, with only its rootless ways', () => {
    const diagnosis = doctor({ account: ADA_ALONE });
    expect(statuses(diagnosis, 'user', 'lab.runc.root', 'lab.runc')).toEqual(['warn', 'ok', 'ok']);
    expect(check(diagnosis, 'user').found).toMatch(/\(lab runc can run rootless\)$/);
    for (const step of ['generate-the-runtime-spec', 'run-the-container']) {
      expect(check(diagnosis, `lab.runc.way.${step}`).found).toMatch(
        /^ocilab uses rootless .*\(the only one that works here\); not usable here: root$/,
      );
    }
  });

  it.each([
    [
      'user namespaces switched off',
      { ...ROOTLESS_READY, userns: { maxUserNamespaces: '0' } },
      'rootless.userns',
      /sysctl -w user\.max_user_namespaces=/,
    ],
    [
      "Debian's unprivileged_userns_clone off",
      { ...ROOTLESS_READY, userns: { unprivilegedClone: '0', maxUserNamespaces: '15000' } },
      'rootless.userns',
      /`sudo sysctl -w kernel\.unprivileged_userns_clone=1`/,
    ],
    [
      "Ubuntu's AppArmor restriction",
      { ...ROOTLESS_READY, userns: { maxUserNamespaces: '15000', apparmorRestrict: '1' } },
      'rootless.userns',
      /AppArmor profile/,
    ],
    [
      'no /etc/subuid entry',
      { ...ROOTLESS_READY, subuid: undefined } as Rootless,
      'rootless.subuid',
      /`sudo usermod --add-subuids 100000-165535/,
    ],
    [
      'controllers not delegated',
      { ...ROOTLESS_READY, delegated: ['cpu', 'pids'] },
      'rootless.cgroups',
      /Delegate=cpu cpuset io memory pids/,
    ],
    ['no user session', { ...ROOTLESS_READY, delegated: undefined } as Rootless, 'rootless.cgroups', /loginctl enable-linger ada/],
  ])('warns about %s for containers without root, without stopping a lab', (_what, rootless, id, fix) => {
    const diagnosis = doctor({ account: ADA_SUDO, rootless });
    expect(check(diagnosis, id).status).toBe('warn');
    expect(check(diagnosis, id).fix).toMatch(fix);
    expect(diagnosis.ok).toBe(true);
  });
});

describe('cgroups', () => {
  it.each([
    ['cgroup2fs', 'cgroup v2 (/sys/fs/cgroup is cgroup2fs)'],
    ['tmpfs', 'cgroup v1 (/sys/fs/cgroup is tmpfs)'],
  ])('tells v1 from v2 by the file system of /sys/fs/cgroup (%s)', (cgroupFs, found) => {
    expect(check(doctor({ cgroupFs }), 'kernel.cgroups')).toMatchObject({ status: 'ok', found });
  });

  it('warns that cgroup v1 gives rootless containers no limits', () => {
    const diagnosis = doctor({ account: ADA_SUDO, cgroupFs: 'tmpfs' });
    expect(check(diagnosis, 'rootless.cgroups')).toMatchObject({ status: 'warn' });
    expect(check(diagnosis, 'rootless.cgroups').fix).toMatch(/systemd\.unified_cgroup_hierarchy=1/);
  });
});

describe('handlers: installed is not enough, they must work', () => {
  it('uses podman when docker is installed but its daemon is down, and says how to start it', () => {
    const diagnosis = doctor({ handlers: { docker: 'daemon down' } });
    expect(check(diagnosis, 'handler.docker')).toMatchObject({ status: 'warn', fix: 'start the Docker daemon: `systemctl start docker`' });
    expect(check(diagnosis, 'handler.docker').found).toMatch(
      /`docker info` fails: Cannot connect to the Docker daemon.*lab runc uses the podman way instead/,
    );
    expect(check(diagnosis, 'lab.runc.way.build-the-root-filesystem').found).toMatch(
      /^ocilab uses podman .*not usable here: docker, nerdctl$/,
    );
    expect(diagnosis.ok).toBe(true);
  });

  it('starts the daemon with OpenRC on Alpine', () => {
    const diagnosis = doctor({ os: 'alpine', init: 'openrc', account: ADA_SUDO, handlers: { docker: 'daemon down' } });
    expect(check(diagnosis, 'handler.docker').fix).toBe('start the Docker daemon: `sudo rc-service docker start`');
  });

  it('tells a user who may not use the Docker socket how to get that right', () => {
    const diagnosis = doctor({ account: ADA_SUDO, handlers: { docker: 'socket denied' } });
    expect(check(diagnosis, 'handler.docker').found).toMatch(/you may not use \/var\/run\/docker\.sock/);
    expect(check(diagnosis, 'handler.docker').fix).toMatch(/^let ada use the Docker socket: `sudo usermod -aG docker ada`/);
  });

  it('uses ocilab pull (the builtin way) when no container tool works', () => {
    const diagnosis = doctor({ handlers: { docker: 'daemon down', podman: 'missing', nerdctl: 'missing' } });
    expect(check(diagnosis, 'lab.runc.way.build-the-root-filesystem')).toMatchObject({
      status: 'ok',
      found: 'ocilab uses builtin for "Build the root filesystem" (the only one that works here); not usable here: docker, podman, nerdctl',
    });
    expect(statuses(diagnosis, 'lab.tags', 'lab.runc')).toEqual(['ok', 'ok']);
  });

  it('stops lab 2 when no way to build the root file system works, and lists how to make one work', () => {
    const diagnosis = doctor({
      commands: ['runc', 'curl', 'jq', 'tar'],
      handlers: { docker: 'daemon down', podman: 'missing', nerdctl: 'missing' },
    });
    const way = check(diagnosis, 'lab.runc.way.build-the-root-filesystem');
    expect(way.status).toBe('fail');
    expect(way.found).toMatch(/^no way to "Build the root filesystem" works here: docker: `docker info` failed/);
    expect(way.fix).toBe(
      'make one work: docker: start the Docker daemon: `systemctl start docker`; podman: `apt install podman`; ' +
        'nerdctl: get nerdctl from https://github.com/containerd/nerdctl/releases (the nerdctl-full archive includes containerd); ' +
        'builtin: reinstall ocilab: the bin/ directory of its package, which holds the command lab scripts call, is missing',
    );
    expect(statuses(diagnosis, 'lab.tags', 'lab.runc')).toEqual(['ok', 'fail']);
    expect(check(diagnosis, 'lab.runc').fix).toBe('see lab.runc.way.build-the-root-filesystem');
    expect(diagnosis.ok).toBe(false);
  });

  it('does not trust a way without a probe when its handler fails: podman installed but broken', () => {
    const diagnosis = doctor({ handlers: { docker: 'daemon down', podman: 'broken', nerdctl: 'usable' } });
    const way = check(diagnosis, 'lab.runc.way.build-the-root-filesystem');
    expect(way.status).toBe('fail');
    expect(way.found).toMatch(/^ocilab would use podman .* but `podman info` fails: Error: cannot set up namespace$/);
    expect(way.fix).toMatch(/or run the lab with `--use nerdctl`$/);
  });
});

describe('tools', () => {
  it('lets lab 1 run with curl and jq when crane is missing, with a warning', () => {
    const diagnosis = doctor({ commands: ['runc', 'curl', 'jq', 'tar'] }, [TAGS]);
    expect(check(diagnosis, 'tool.crane')).toMatchObject({
      status: 'warn',
      found: 'crane is not installed; lab tags uses the curl way instead',
    });
    expect(check(diagnosis, 'tool.crane').fix).toMatch(/go install github\.com\/google\/go-containerregistry\/cmd\/crane@latest/);
    expect(check(diagnosis, 'lab.tags').status).toBe('ok');
    expect(diagnosis.ok).toBe(true);
  });

  it('lets lab 1 run with crane when curl is missing', () => {
    const diagnosis = doctor({ commands: ['crane', 'jq'] }, [TAGS]);
    expect(check(diagnosis, 'tool.curl')).toMatchObject({ status: 'warn', fix: '`apt install curl`' });
    expect(check(diagnosis, 'lab.tags.way.list-the-tags').found).toMatch(/^ocilab uses crane/);
    expect(diagnosis.ok).toBe(true);
  });

  it('stops lab 1 when neither crane nor curl and jq are there', () => {
    const diagnosis = doctor({ commands: ['jq'] }, [TAGS]);
    expect(check(diagnosis, 'lab.tags.way.list-the-tags')).toMatchObject({ status: 'fail' });
    expect(check(diagnosis, 'lab.tags.way.list-the-tags').fix).toMatch(/curl: `apt install curl`$/);
    expect(check(diagnosis, 'tool.curl').found).toMatch(/no other way to "List the tags" in lab tags works either/);
    expect(diagnosis.ok).toBe(false);
  });

  it('stops lab 2 without runc or tar, and not lab 1', () => {
    const diagnosis = doctor({ commands: ['curl', 'jq'] });
    expect(statuses(diagnosis, 'runtime.runc', 'tool.tar', 'lab.tags', 'lab.runc')).toEqual(['fail', 'fail', 'ok', 'fail']);
    expect(check(diagnosis, 'runtime.runc').found).toBe('runc is not installed; lab runc needs it');
    expect(check(diagnosis, 'lab.runc').fix).toBe('see runtime.runc, tool.tar, lab.runc.way.generate-the-runtime-spec');
  });

  it('does not hold a missing tool against a lab that does not use it', () => {
    const diagnosis = doctor({ commands: ['curl', 'jq'] }, [TAGS]);
    expect(check(diagnosis, 'runtime.runc')).toMatchObject({ status: 'ok', found: 'runc is not installed; no lab asked about uses it' });
    expect(check(diagnosis, 'handler.docker')).toMatchObject({ status: 'ok' });
    expect(diagnosis.ok).toBe(true);
  });
});

describe('registries', () => {
  const host = '127.0.0.1:5000';

  it.each([200, 401])('counts a /v2/ answer of %i as reachable', (status) => {
    const diagnosis = doctor({ registries: { [host]: [{ url: `http://${host}/v2/`, status }] } }, [TAGS]);
    expect(check(diagnosis, `lab.tags.registry.${host}`).status).toBe('ok');
  });

  it('fails the lab when its registry cannot be reached, and says which variables move it', () => {
    const diagnosis = doctor(
      { registries: { [host]: [{ url: `http://${host}/v2/`, error: 'connection refused (nothing listens there)' }] } },
      [TAGS],
    );
    const registry = check(diagnosis, `lab.tags.registry.${host}`);
    expect(registry).toMatchObject({
      status: 'fail',
      found: `${host} (the lab's scheme and host) cannot be reached: http://${host}/v2/: connection refused (nothing listens there)`,
    });
    expect(registry.fix).toMatch(/`ocilab run tags --var scheme=\.\.\. --var host=\.\.\.`$/);
    expect(check(diagnosis, 'lab.tags').status).toBe('fail');
  });

  it("only warns about an image's registry that cannot be reached while the way ocilab takes needs no image", () => {
    const down = { registries: { [host]: [{ url: `http://${host}/v2/`, error: 'connection refused (nothing listens there)' }] } };
    const plans = [planLab(NAMESPACES, resolveVariables(NAMESPACES, { img: `${host}/library/busybox` }), '/w')];
    // With cp, lab 3 copies lab 2's rootfs (its lab2 way): no image is pulled.
    const copying = diagnose(plans, fakeMachine(plans, { ...down, commands: [...DEFAULT_COMMANDS, 'cp'] }));
    expect(check(copying, `lab.namespaces.registry.${host}`)).toMatchObject({
      status: 'warn',
      found: expect.stringMatching(
        /cannot be reached: .*; the lab does not need it while ocilab uses lab2 for "A root filesystem to start from"$/,
      ),
    });
    expect(copying.ok).toBe(true);
    // Without it, docker would pull the image.
    const pulling = diagnose(plans, fakeMachine(plans, down));
    expect(check(pulling, `lab.namespaces.way.a-root-filesystem-to-start-from`).found).toMatch(/^ocilab uses docker /);
    expect(check(pulling, `lab.namespaces.registry.${host}`).status).toBe('fail');
    expect(pulling.ok).toBe(false);
  });

  it('fails on an answer that is not the registry API', () => {
    const diagnosis = doctor({ registries: { [host]: [{ url: `http://${host}/v2/`, status: 404 }] } }, [TAGS]);
    expect(check(diagnosis, `lab.tags.registry.${host}`).found).toMatch(/is no registry: GET .* got 404, not 200 or 401$/);
  });

  it('accepts plain HTTP for an image on loopback after HTTPS fails, and says so', () => {
    const registries = {
      [host]: [
        { url: `https://${host}/v2/`, error: 'no TLS there (a plain-HTTP server?)' },
        { url: `http://${host}/v2/`, status: 200 },
      ],
    };
    const found = check(doctor({ registries }, [RUNC]), `lab.runc.registry.${host}`);
    expect(found.status).toBe('ok');
    expect(found.found).toMatch(/got 200 \(first tried https:\/\/127\.0\.0\.1:5000\/v2\/: no TLS there/);
  });

  it('only warns about a port that Node refuses to fetch from, since curl and docker would try it', () => {
    const registries = { '127.0.0.1:6000': [{ url: 'http://127.0.0.1:6000/v2/', error: 'refused', refusedPort: true }] };
    const plans = [planLab(TAGS, resolveVariables(TAGS, { scheme: 'http', host: '127.0.0.1:6000' }), '/w')];
    const diagnosis = diagnose(plans, fakeMachine(plans, { registries }));
    expect(check(diagnosis, 'lab.tags.registry.127.0.0.1:6000')).toMatchObject({ status: 'warn' });
    expect(check(diagnosis, 'lab.tags.registry.127.0.0.1:6000').fix).toMatch(
      /^check it yourself: `curl -sI http:\/\/127\.0\.0\.1:6000\/v2\/`/,
    );
    expect(diagnosis.ok).toBe(true);
  });

  it('only warns when lab commands would go through a proxy doctor does not use', () => {
    const plans = [planLab(TAGS, resolveVariables(TAGS, {}), '/w')];
    const machine = fakeMachine(plans, {
      registries: { 'registry.k8s.io': [{ url: 'https://registry.k8s.io/v2/', error: 'the name does not resolve (DNS)' }] },
      proxy: { url: 'http://proxy.example:3128', noProxy: ['localhost'] },
    });
    const diagnosis = diagnose(plans, machine);
    expect(check(diagnosis, 'lab.tags.registry.registry.k8s.io')).toMatchObject({ status: 'warn' });
    expect(diagnosis.ok).toBe(true);
    const bypassed = { ...machine, proxy: { url: 'http://proxy.example:3128', noProxy: ['.k8s.io'] } };
    expect(check(diagnose(plans, bypassed), 'lab.tags.registry.registry.k8s.io').status).toBe('fail');
  });
});

describe('workspace', () => {
  it.each([
    [20 * 2 ** 30, 'ok', true],
    [200 * 2 ** 20, 'warn', true],
    [10 * 2 ** 20, 'fail', false],
  ] as const)('with %i bytes free the workspace is %s', (freeBytes, status, ok) => {
    const diagnosis = doctor({ freeBytes }, [TAGS]);
    expect(check(diagnosis, 'lab.tags.workspace').status).toBe(status);
    expect(diagnosis.ok).toBe(ok);
  });

  it('measures where the workspace will be created', () => {
    expect(check(doctor({}, [TAGS]), 'lab.tags.workspace').found).toBe(
      '20.0 GiB free for /home/ada/ocilab/tags (not created yet; measured at /home/ada)',
    );
  });
});

describe('the verdict', () => {
  it.each<[string, Fake]>([
    ['everything there', {}],
    ['no sudo', { account: ADA_ALONE }],
    ['nothing installed', { commands: [], handlers: { docker: 'missing', podman: 'missing' } }],
    ['registry down', { registries: { '127.0.0.1:5000': [{ url: 'http://127.0.0.1:5000/v2/', error: 'refused' }] } }],
  ])('is ok exactly when no finding fails, and every failure stops a lab (%s)', (_what, fake) => {
    const diagnosis = doctor(fake);
    const labVerdicts = diagnosis.checks.filter((c) => /^lab\.[^.]+$/.test(c.id));
    expect(diagnosis.ok).toBe(diagnosis.checks.every((c) => c.status !== 'fail'));
    expect(diagnosis.ok).toBe(labVerdicts.every((c) => c.status === 'ok'));
    const named = labVerdicts.flatMap((c) => c.fix.replace(/^see /, '').split(', '));
    for (const failed of diagnosis.checks.filter((c) => c.status === 'fail' && !/^lab\.[^.]+$/.test(c.id)))
      expect(named).toContain(failed.id);
  });
});

describe('module boundaries', () => {
  it('keeps the decisions pure: diagnose, os and plan touch no machine', () => {
    for (const file of ['diagnose.ts', 'os.ts', 'plan.ts']) {
      const text = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'doctor', file), 'utf8');
      const values = [...text.matchAll(/^import (?!type )[^;]*?from '([^']+)'/gm)].map((m) => m[1]);
      expect(
        values.filter((i) => i?.startsWith('node:') || i?.includes('/sys/') || i?.includes('probes')),
        file,
      ).toEqual([]);
      expect(text, file).not.toMatch(/\bprocess\./);
    }
  });
});
