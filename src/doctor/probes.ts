// The live probes: they run commands, read files under /proc, /sys and /etc, and ask registries over
// the network. Everything in doctor that touches the machine is here.
import { access, constants, mkdtemp, readFile, rm, stat, statfs } from 'node:fs/promises';
import { release, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { classifyNetworkError } from '../oci/network.js';
import { assessWays } from '../runner/ways.js';
import { runProcess } from '../sys/exec.js';
import { which } from '../sys/host.js';
import { detectPrivilege, sudoAsksNothing } from '../sys/privilege.js';
import type { Probes } from './examine.js';
import type { EngineState, ProbeRun, Reach } from './machine.js';
import { INFO_TIMEOUT_MS } from './plan.js';

const VERSION_TIMEOUT_MS = 5_000;
/** Long enough for a registry across the world, short enough not to keep a classroom waiting. */
const REGISTRY_TIMEOUT_MS = 5_000;

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

  async engine(name, account) {
    const path = await which(name);
    if (!path) return {};
    const [text, info] = await Promise.all([versionText(path, name), probeRun(path, ['info'], INFO_TIMEOUT_MS)]);
    const state: EngineState = { path, info, ...(text === undefined ? {} : { versionText: text }) };
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

  proxy() {
    const env = process.env;
    const url = env.https_proxy || env.HTTPS_PROXY || env.http_proxy || env.HTTP_PROXY || env.all_proxy || env.ALL_PROXY;
    if (!url) return Promise.resolve(undefined);
    const noProxy = (env.no_proxy || env.NO_PROXY || '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    return Promise.resolve({ url, noProxy });
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
