// What doctor finds on the machine, and the probes that find it. Everything that touches the machine
// is here; diagnose.ts judges the findings alone, so tests hand it a fake machine.
import { access, constants, mkdtemp, readFile, rm, stat, statfs } from 'node:fs/promises';
import { release, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Way } from '../lab/model.js';
import { classifyNetworkError } from '../oci/network.js';
import type { WayOption } from '../runner/prompter.js';
import { assessWays } from '../runner/ways.js';
import { runProcess } from '../sys/exec.js';
import { which } from '../sys/host.js';
import { detectPrivilege, sudoAsksNothing, type Privilege } from '../sys/privilege.js';
import type { InitSystem } from './os.js';
import { commandsToProbe, HANDLERS, INFO_TIMEOUT_MS, type HandlerName, type LabPlan } from './plan.js';

export interface Account {
  uid: number;
  name: string;
  /** How commands that need root run: as root, through sudo with or without a password, or not at all. */
  access: Privilege;
  /** What sudo said when it did not simply run (it wants a password, or it is broken). */
  sudoSaid?: string;
  /** sudo wants a password, but this terminal typed it lately: sudo does accept this user. */
  sudoFresh?: boolean;
}

export interface Tool {
  /** Where it is on PATH; undefined when it is not installed. */
  path?: string;
  /** What `--version` printed, when it answered. */
  versionText?: string;
}

/** The end of a probe command: did it succeed, and its last line of output (the error, usually). */
export interface ProbeRun {
  ok: boolean;
  said: string;
  timedOut: boolean;
}

export interface HandlerState extends Tool {
  /** `<handler> info`: the daemon (or storage) answers. Absent when the handler is not installed. */
  info?: ProbeRun;
  /** docker only, for a user who is not root: may they use the daemon's socket? */
  socket?: { path: string; accessible: boolean };
}

export interface Kernel {
  /** The file system type of /sys/fs/cgroup, as `stat -fc %T` names it: cgroup2fs (v2) or tmpfs (v1). */
  cgroupFs: string;
  seccomp: {
    /** /proc/self/status has a `Seccomp:` line: the kernel has seccomp. */
    inStatus: boolean;
    /** It has `Seccomp_filters:` too (kernels from 5.9 show it when filters are built in). */
    filtersInStatus: boolean;
    /** CONFIG_SECCOMP_FILTER from the kernel config, when that is readable. */
    filterConfig?: string;
  };
  /** overlay is in /proc/filesystems (loaded), or a module that loads on first use, or neither. */
  overlay: 'loaded' | 'module' | 'absent';
}

/** What rootless containers need; probed only for a user who is not root. */
export interface Rootless {
  /** The sysctls that allow or forbid unprivileged user namespaces; absent when the kernel has no such file. */
  userns: { unprivilegedClone?: string; maxUserNamespaces?: string; apparmorRestrict?: string };
  /** This user's line in /etc/subuid, if any. */
  subuid?: string;
  /** cgroup v2 controllers systemd delegates to this user's session (cgroup.controllers of user@UID.service). */
  delegated?: string[];
  /** `runc spec --rootless` in a scratch directory, when runc is installed. */
  runcSpec?: ProbeRun;
}

/** One `GET /v2/` attempt: the HTTP status it got, or why it got none. */
export interface Reach {
  url: string;
  status?: number;
  /** Where redirects led, when they did. */
  finalUrl?: string;
  error?: string;
  /** fetch refuses the port (one browsers block, such as 6000): doctor could not ask, curl and docker would. */
  refusedPort?: boolean;
}

export interface Disk {
  workdir: string;
  /** The directory measured: the workspace, or its nearest ancestor that exists. */
  measured: string;
  freeBytes?: number;
  error?: string;
}

export interface LabState {
  /** assessWays for each step with ways, by step id. */
  ways: Record<string, WayOption[]>;
  /** The attempts for each registry target, by host. */
  registries: Record<string, Reach[]>;
  disk: Disk;
}

export interface Machine {
  /** The text of /etc/os-release; undefined when it is missing. */
  osRelease: string | undefined;
  init: InitSystem;
  account: Account;
  commands: Record<string, Tool>;
  handlers: Record<HandlerName, HandlerState>;
  kernel: Kernel;
  rootless?: Rootless;
  /** The proxy lab commands would use (HTTPS_PROXY and the like); doctor's own requests go direct. */
  proxy?: Proxy;
  /** By lab id. */
  labs: Record<string, LabState>;
}

export interface Proxy {
  url: string;
  /** NO_PROXY, split: hosts and domain suffixes that go direct. */
  noProxy: string[];
}

export interface Probes {
  osRelease(): Promise<string | undefined>;
  init(): Promise<InitSystem>;
  account(): Promise<Account>;
  command(name: string): Promise<Tool>;
  handler(name: HandlerName, account: Account): Promise<HandlerState>;
  kernel(): Promise<Kernel>;
  rootless(account: Account): Promise<Rootless>;
  ways(ways: readonly Way[], workdir: string, access: Privilege): Promise<WayOption[]>;
  registry(urls: readonly string[]): Promise<Reach[]>;
  disk(workdir: string): Promise<Disk>;
  proxy(): Promise<Proxy | undefined>;
}

/** Runs every probe the labs call for, at the same time; each registry is asked once. */
export async function examine(probes: Probes, plans: readonly LabPlan[]): Promise<Machine> {
  const account = await probes.account();
  const reaches = new Map<string, Promise<Reach[]>>();
  const reach = (urls: string[]) => {
    const key = urls.join(' ');
    if (!reaches.has(key)) reaches.set(key, probes.registry(urls));
    return reaches.get(key) as Promise<Reach[]>;
  };
  const byName = async <T>(names: readonly string[], probe: (name: string) => Promise<T>) =>
    Object.fromEntries(await Promise.all(names.map(async (name) => [name, await probe(name)] as const)));

  const labState = async (plan: LabPlan): Promise<[string, LabState]> => {
    const [ways, registries, disk] = await Promise.all([
      byName(
        plan.wayActions.map((a) => a.stepId),
        (stepId) => probes.ways(plan.wayActions.find((a) => a.stepId === stepId)?.ways ?? [], plan.workdir, account.access),
      ),
      byName(
        plan.registries.map((r) => r.host),
        (host) => reach(plan.registries.find((r) => r.host === host)?.urls ?? []),
      ),
      probes.disk(plan.workdir),
    ]);
    return [plan.lab.id, { ways, registries, disk }];
  };

  const [osRelease, init, commands, handlers, kernel, rootless, proxy, labs] = await Promise.all([
    probes.osRelease(),
    probes.init(),
    byName(commandsToProbe(plans), (name) => probes.command(name)),
    byName(HANDLERS, (name) => probes.handler(name as HandlerName, account)),
    probes.kernel(),
    account.access === 'root' ? undefined : probes.rootless(account),
    probes.proxy(),
    Promise.all(plans.map(labState)),
  ]);
  return {
    osRelease,
    init,
    account,
    commands,
    handlers: handlers as Record<HandlerName, HandlerState>,
    kernel,
    ...(rootless ? { rootless } : {}),
    ...(proxy ? { proxy } : {}),
    labs: Object.fromEntries(labs),
  };
}

const VERSION_TIMEOUT_MS = 5_000;
/** Long enough for a registry across the world, short enough not to keep a classroom waiting. */
export const REGISTRY_TIMEOUT_MS = 5_000;

const VERSION_ARGS: Record<string, string[]> = { crane: ['version'] };

const CGROUP_FS_TYPES: Record<number, string> = { 0x63677270: 'cgroup2fs', 0x01021994: 'tmpfs', 0x27e0eb: 'cgroupfs' };

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function probeRun(file: string, args: string[], timeoutMs: number, cwd = tmpdir()): Promise<ProbeRun> {
  const result = await runProcess(file, args, { cwd, timeoutMs });
  const lastLine = (text: string) => text.trim().split('\n').slice(-1)[0]?.trim() ?? '';
  return {
    ok: result.exitCode === 0,
    said: lastLine(result.stderr) || lastLine(result.stdout) || (result.startError ?? ''),
    timedOut: result.timedOut,
  };
}

async function versionText(path: string, name: string): Promise<string | undefined> {
  const result = await runProcess(path, VERSION_ARGS[name] ?? ['--version'], { cwd: tmpdir(), timeoutMs: VERSION_TIMEOUT_MS });
  return result.exitCode === 0 ? result.output.trim().split('\n').slice(0, 3).join('\n') : undefined;
}

/** The directory itself, or its nearest ancestor that exists. */
async function nearestExisting(dir: string): Promise<string> {
  let current = dir;
  while (!(await exists(current)) && dirname(current) !== current) current = dirname(current);
  return current;
}

/** Why fetch got no answer, in words; a timeout is doctor's own, so it says how long it waited. */
function fetchError(error: unknown): string {
  const { failure, reason } = classifyNetworkError(error);
  return failure === 'timeout' && (error as { name?: unknown }).name === 'TimeoutError'
    ? `no answer within ${REGISTRY_TIMEOUT_MS / 1000} s`
    : reason;
}

/** The probes that look at this machine. */
export const machineProbes: Probes = {
  osRelease: () => readText('/etc/os-release'),

  async init() {
    if (await exists('/run/systemd/system')) return 'systemd';
    if (await exists('/run/openrc')) return 'openrc';
    return 'other';
  },

  async account() {
    const uid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
    let name: string;
    try {
      name = userInfo().username;
    } catch {
      name = String(uid);
    }
    const { privilege, said } = await detectPrivilege();
    const fresh = privilege === 'sudo-password' && (await sudoAsksNothing());
    return { uid, name, access: privilege, ...(said ? { sudoSaid: said } : {}), ...(fresh ? { sudoFresh: true } : {}) };
  },

  async command(name) {
    const path = await which(name);
    if (!path) return {};
    const text = await versionText(path, name);
    return text === undefined ? { path } : { path, versionText: text };
  },

  async handler(name, account) {
    const path = await which(name);
    if (!path) return {};
    const [text, info] = await Promise.all([versionText(path, name), probeRun(path, ['info'], INFO_TIMEOUT_MS)]);
    const state: HandlerState = { path, info, ...(text === undefined ? {} : { versionText: text }) };
    if (name === 'docker' && account.uid !== 0) {
      const host = process.env.DOCKER_HOST;
      const socket = host?.startsWith('unix://') ? host.slice('unix://'.length) : host ? undefined : '/var/run/docker.sock';
      if (socket) {
        let accessible = true;
        try {
          await access(socket, constants.R_OK | constants.W_OK);
        } catch {
          accessible = false;
        }
        state.socket = { path: socket, accessible };
      }
    }
    return state;
  },

  async kernel() {
    let cgroupFs: string;
    try {
      const { type } = await statfs('/sys/fs/cgroup');
      cgroupFs = CGROUP_FS_TYPES[type] ?? `0x${type.toString(16)}`;
    } catch {
      cgroupFs = 'missing';
    }
    const status = (await readText('/proc/self/status')) ?? '';
    const config = await kernelConfig();
    const filterConfig = config === undefined ? undefined : (/^CONFIG_SECCOMP_FILTER=(.*)$/m.exec(config)?.[1] ?? 'not set');
    const filesystems = await readText('/proc/filesystems');
    const overlay = /\boverlay$/m.test(filesystems ?? '')
      ? 'loaded'
      : (await exists(`/lib/modules/${release()}/kernel/fs/overlayfs`))
        ? 'module'
        : 'absent';
    return {
      cgroupFs,
      seccomp: {
        inStatus: /^Seccomp:/m.test(status),
        filtersInStatus: /^Seccomp_filters:/m.test(status),
        ...(filterConfig === undefined ? {} : { filterConfig }),
      },
      overlay,
    };
  },

  async rootless(account) {
    const sysctl = async (file: string) => (await readText(file))?.trim();
    const [unprivilegedClone, maxUserNamespaces, apparmorRestrict] = await Promise.all([
      sysctl('/proc/sys/kernel/unprivileged_userns_clone'),
      sysctl('/proc/sys/user/max_user_namespaces'),
      sysctl('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    ]);
    const subuid = (await readText('/etc/subuid'))
      ?.split('\n')
      .find((line) => line.startsWith(`${account.name}:`) || line.startsWith(`${account.uid}:`));
    const controllers = await readText(
      `/sys/fs/cgroup/user.slice/user-${account.uid}.slice/user@${account.uid}.service/cgroup.controllers`,
    );
    const runc = await which('runc');
    let runcSpec: ProbeRun | undefined;
    if (runc) {
      const scratch = await mkdtemp(join(tmpdir(), 'ocilab-doctor-'));
      try {
        runcSpec = await probeRun(runc, ['spec', '--rootless'], VERSION_TIMEOUT_MS, scratch);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }
    return {
      userns: {
        ...(unprivilegedClone === undefined ? {} : { unprivilegedClone }),
        ...(maxUserNamespaces === undefined ? {} : { maxUserNamespaces }),
        ...(apparmorRestrict === undefined ? {} : { apparmorRestrict }),
      },
      ...(subuid === undefined ? {} : { subuid }),
      ...(controllers === undefined ? {} : { delegated: controllers.trim().split(/\s+/).filter(Boolean) }),
      ...(runcSpec ? { runcSpec } : {}),
    };
  },

  // Probes run where the workspace is (or its nearest existing ancestor: doctor creates nothing).
  ways: async (ways, workdir, access) => assessWays(ways, await nearestExisting(workdir), access),

  async registry(urls) {
    const attempts: Reach[] = [];
    for (const url of urls) {
      try {
        const response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS) });
        await response.body?.cancel();
        attempts.push({ url, status: response.status, ...(response.redirected ? { finalUrl: response.url } : {}) });
        break;
      } catch (error) {
        const refusedPort = classifyNetworkError(error).failure === 'blocked-port';
        attempts.push({ url, error: fetchError(error), ...(refusedPort ? { refusedPort } : {}) });
      }
    }
    return attempts;
  },

  async disk(workdir) {
    const measured = await nearestExisting(workdir);
    try {
      const { bavail, bsize } = await statfs(measured);
      return { workdir, measured, freeBytes: bavail * bsize };
    } catch (error) {
      return { workdir, measured, error: (error as Error).message };
    }
  },

  async proxy() {
    const env = process.env;
    const url = env.https_proxy || env.HTTPS_PROXY || env.http_proxy || env.HTTP_PROXY || env.all_proxy || env.ALL_PROXY;
    if (!url) return undefined;
    const noProxy = (env.no_proxy || env.NO_PROXY || '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    return { url, noProxy };
  },
};

/** The kernel's build configuration, from /proc/config.gz or /boot; undefined when neither is readable. */
async function kernelConfig(): Promise<string | undefined> {
  try {
    return gunzipSync(await readFile('/proc/config.gz')).toString('utf8');
  } catch {
    return readText(`/boot/config-${release()}`);
  }
}
