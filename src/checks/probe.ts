// The `probe` check: runs a short process in a container made from the learner's runc bundle and
// judges what it prints. The learner's bundle is left as it is: the container runs from a temporary
// bundle whose config.json is a copy, made non-interactive and pointed at the learner's rootfs.
// runc runs as root, through `sudo -n` for a learner who is not, or rootless for a rootless bundle.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ProbeCheck } from '../lab/model.js';
import { expand } from '../lab/variables.js';
import { runProcess } from '../sys/exec.js';
import { which } from '../sys/host.js';
import { PASSWORD_REQUIRED, type Privilege } from '../sys/privilege.js';
import { describeSyntaxError } from './json.js';
import { judgeText, normalize } from './text.js';
import type { CheckContext, CheckResult } from './types.js';

const PROBE_TIMEOUT_MS = 30_000;
const DELETE_TIMEOUT_MS = 10_000;

export const PROBE_NEEDS_ROOT =
  'Container probes need root, and you are not root and have no sudo: ask for sudo rights on this machine, or make the bundle rootless (`runc spec --rootless`) where the lab offers that way.';
export const PROBE_SUDO_PASSWORD =
  'Container probes need root: sudo wants your password, and this run has no terminal to ask on. Run `ocilab run` or `ocilab verify` in a terminal (sudo asks once), or set up passwordless sudo.';
export const PROBE_SUDO_REFUSED = (said: string) =>
  `Container probes need root, and sudo did not run runc: ${said}. Ask for sudo rights on this machine, or make the bundle rootless (\`runc spec --rootless\`) where the lab offers that way.`;
export const RUNC_MISSING = 'runc not found — install it with `apt install runc` or `dnf install runc`.';
export const ROOTLESS_STATE_UNSAFE = (dir: string) =>
  `${dir} is not a directory of your own with mode 0700, so rootless runc cannot keep its state there: remove it, or set XDG_RUNTIME_DIR.`;

/** The parts of an OCI runtime config a probe changes or reads; everything else is copied as it is. */
interface RuntimeConfig {
  process?: Record<string, unknown>;
  root?: Record<string, unknown>;
  // The learner's JSON: an entry may be anything, null included.
  linux?: {
    namespaces?: ({ type?: unknown } | null)[];
    uidMappings?: ({ hostID?: unknown; size?: unknown } | null)[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** How a probe runs runc: `direct` as root, `sudo` through `sudo -n`, `rootless` as the learner, or cannot. */
export type ProbeRunc = 'direct' | 'sudo' | 'rootless' | 'none';

/**
 * A config made with `runc spec --rootless`: a user namespace whose uid mappings include `uid`, the
 * learner's own. A user namespace that maps root to other uids (0 → 100000, as root would set one up)
 * is a bundle for root: only root may write such a mapping. Pure.
 */
export function isRootlessConfig(config: RuntimeConfig, uid: number): boolean {
  const linux = config.linux;
  const mapsUid = (m: { hostID?: unknown; size?: unknown } | null) =>
    typeof m?.hostID === 'number' && typeof m.size === 'number' && m.hostID <= uid && uid < m.hostID + m.size;
  return (
    Array.isArray(linux?.namespaces) &&
    linux.namespaces.some((ns) => ns?.type === 'user') &&
    Array.isArray(linux.uidMappings) &&
    linux.uidMappings.some(mapsUid)
  );
}

/**
 * A rootless bundle runs without root for a learner who is not root, as they ran it, and sudo has no
 * password to ask for; any other bundle needs root or sudo. Pure.
 */
export function probeRunc(config: RuntimeConfig, privilege: Privilege, uid: number): ProbeRunc {
  if (privilege === 'root') return 'direct';
  if (isRootlessConfig(config, uid)) return 'rootless';
  return privilege === 'none' ? 'none' : 'sudo';
}

/** The uid ocilab runs as: whose uid a rootless bundle must map. */
const learnerUid = () => process.geteuid?.() ?? -1;

/** Whether this probe will call sudo, so an interactive run lets sudo ask for the password first. */
export async function probeNeedsSudo(check: ProbeCheck, ctx: CheckContext): Promise<boolean> {
  if (ctx.privilege === 'root' || ctx.privilege === 'none') return false;
  const bundleName = expand(check.bundle || '.', ctx.vars);
  const loaded = await loadConfig(join(resolve(ctx.workdir, bundleName), 'config.json'), 'config.json');
  // A bundle that is not there yet fails the probe before runc runs: no password needed for that.
  return !('status' in loaded) && probeRunc(loaded.config, ctx.privilege, learnerUid()) === 'sudo';
}

/** Where rootless runc keeps its state: `$XDG_RUNTIME_DIR/runc` (as runc itself would), else /tmp/ocilab-runc-UID. */
async function rootlessStateDir(): Promise<string | { error: string }> {
  const uid = process.geteuid?.() ?? -1;
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime) && (await lstat(runtime).catch(() => undefined))?.uid === uid) return join(runtime, 'runc');
  const dir = join(tmpdir(), `ocilab-runc-${uid}`);
  await mkdir(dir, { mode: 0o700 }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  // /tmp is everyone's: a directory someone else made there first must not hold our containers' state.
  const made = await lstat(dir);
  if (!made.isDirectory() || made.uid !== uid || (made.mode & 0o077) !== 0) return { error: ROOTLESS_STATE_UNSAFE(dir) };
  return dir;
}

/** The program and arguments of one runc call, for the way the probe runs it. */
function runcCall(way: Exclude<ProbeRunc, 'none'>, runc: string, state: string | undefined, args: string[]): [string, string[]] {
  if (way === 'sudo') return ['sudo', ['-n', runc, ...args]];
  if (way === 'rootless') return [runc, ['--root', state as string, ...args]];
  return [runc, args];
}

/**
 * The config.json of the probe's temporary bundle: the learner's config with the probe's arguments,
 * no terminal (nobody is there to type; runc refuses a terminal without a console socket), the
 * rootfs as an absolute path because the temporary bundle lives elsewhere, and a cgroup of its own
 * when the config names one (see probeCgroupsPath). Pure.
 */
export function probeConfig(original: RuntimeConfig, args: readonly string[], rootfsAbs: string, id = 'ocilab-probe'): RuntimeConfig {
  const config = structuredClone(original);
  config.process = { ...config.process, terminal: false, args: [...args] };
  config.root = { ...config.root, path: rootfsAbs };
  const cgroupsPath = config.linux?.cgroupsPath;
  if (typeof cgroupsPath === 'string' && cgroupsPath !== '')
    config.linux = { ...config.linux, cgroupsPath: probeCgroupsPath(cgroupsPath, id) };
  return config;
}

/**
 * The cgroup of a probe whose config names `path` (linux.cgroupsPath): beside it, named after the
 * probe. In the learner's path the probe would join the lab's container while it runs (share its
 * limits and its process count) and runc would remove that cgroup when it deletes the probe. Keeps
 * systemd's form `slice:prefix:name`, else replaces the last element of the path. Pure.
 */
export function probeCgroupsPath(path: string, id: string): string {
  const systemd = /^([^:/]*):([^:]*):[^:]*$/.exec(path);
  if (systemd) return `${systemd[1] ?? ''}:${systemd[2] ?? ''}:${id}`;
  const trimmed = path.replace(/\/+$/, '');
  return `${trimmed.slice(0, trimmed.lastIndexOf('/') + 1)}${id}`;
}

export async function probeCheck(check: ProbeCheck, ctx: CheckContext): Promise<CheckResult> {
  const runc = await which('runc');
  if (!runc) return { status: 'error', message: RUNC_MISSING };

  const bundleName = expand(check.bundle || '.', ctx.vars);
  const bundle = resolve(ctx.workdir, bundleName);
  const configName = bundleName === '.' ? 'config.json' : join(bundleName, 'config.json');
  const loaded = await loadConfig(join(bundle, 'config.json'), configName);
  if ('status' in loaded) return loaded;
  const { config, rootPath } = loaded;
  const way = probeRunc(config, ctx.privilege, learnerUid());
  if (way === 'none') return { status: 'error', message: PROBE_NEEDS_ROOT };
  const state = way === 'rootless' ? await rootlessStateDir() : undefined;
  if (typeof state === 'object') return { status: 'error', message: state.error };
  const rootfs = resolve(bundle, rootPath);
  if (!(await stat(rootfs).catch(() => undefined))?.isDirectory()) {
    return {
      status: 'failed',
      message: `${configName} names the root filesystem "${rootPath}", which is not a directory of the bundle.`,
      expected: `a directory ${rootPath}`,
      actual: 'no such directory',
    };
  }

  const args = check.args.map((arg) => expand(arg, ctx.vars));
  const dir = await mkdtemp(join(tmpdir(), 'ocilab-probe-'));
  const id = `ocilab-probe-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(join(dir, 'config.json'), `${JSON.stringify(probeConfig(config, args, rootfs, id), null, 2)}\n`);
    // Through sudo, in ocilab's session: sudo's timestamp for the learner's terminal counts there.
    const result = await runProcess(...runcCall(way, runc, state, ['run', '--bundle', dir, id]), {
      cwd: dir,
      timeoutMs: PROBE_TIMEOUT_MS,
      inSession: way === 'sudo',
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    if (result.startError) return { status: 'error', message: `Could not start runc: ${result.startError}` };
    if (result.cancelled) return { status: 'error', message: 'The probe was cancelled.' };
    if (way === 'sudo' && result.exitCode !== 0) {
      if (PASSWORD_REQUIRED.test(result.stderr)) return { status: 'error', message: PROBE_SUDO_PASSWORD };
      const refused = /^sudo: (.*)$/m.exec(result.stderr)?.[1];
      if (refused) return { status: 'error', message: PROBE_SUDO_REFUSED(refused.replace(/[.\s]+$/, '')) };
    }
    if (result.timedOut) {
      return {
        status: 'failed',
        message: `\`${args.join(' ')}\` did not finish within ${PROBE_TIMEOUT_MS / 1000} seconds in the container; it was stopped.`,
        expected: `finishes within ${PROBE_TIMEOUT_MS / 1000} seconds`,
        actual: 'still running; stopped',
      };
    }
    const runcFailure = runcFailureOf(result.stderr);
    if (result.exitCode !== 0 && runcFailure) {
      return {
        status: 'failed',
        message: `runc could not run \`${args.join(' ')}\` in the container: ${runcFailure}.`,
        expected: `\`${args.join(' ')}\` runs in the container`,
        actual: runcFailure,
      };
    }
    const judged = judgeText(result.output, result.exitCode, check);
    if (judged.status !== 'passed') return judged;
    if (check.host !== undefined) {
      // Standard output alone on both sides: runc's own warnings (rootless, on stderr) are not the process's.
      const compared = await judgeAgainstHost(args, result.stdout, check.host, ctx.workdir);
      if (compared) return compared;
    }
    if (check.listsDirectory === undefined) return judged;
    const listing = expand(check.listsDirectory, ctx.vars);
    return await judgeListing(result.output, listing, resolve(bundle, listing), judged.message);
  } finally {
    // The container may never have been created; runc then says so, and there is nothing to delete.
    await runProcess(...runcCall(way, runc, state, ['delete', '--force', id]), {
      cwd: dir,
      timeoutMs: DELETE_TIMEOUT_MS,
      inSession: way === 'sudo',
    });
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What runc itself reported when it could not start the container (as opposed to what the process in
 * it printed): `level=error msg="runc run failed: unable to start container process: exec: \"x\": ..."`.
 */
function runcFailureOf(stderr: string): string | undefined {
  const m = /level=error msg="runc run failed: ((?:[^"\\]|\\.)*)"/.exec(stderr);
  return m ? (m[1] as string).replace(/\\(.)/g, '$1') : undefined;
}

/**
 * Runs the probe's arguments on the host itself, in the workspace, and compares the two outputs: a
 * failed result when they are not `same` (or do not differ) as the check expects, else undefined.
 */
async function judgeAgainstHost(args: string[], inside: string, host: 'same' | 'differs', cwd: string): Promise<CheckResult | undefined> {
  const [program, ...rest] = args as [string, ...string[]];
  const onHost = await runProcess(program, rest, { cwd, timeoutMs: PROBE_TIMEOUT_MS });
  const command = `\`${args.join(' ')}\``;
  if (onHost.startError || onHost.exitCode !== 0) {
    const said = onHost.startError ?? (normalize(onHost.output) || `exit status ${String(onHost.exitCode)}`);
    return { status: 'error', message: `${command} could not run on the host to compare with the container: ${said}` };
  }
  const same = normalize(inside) === normalize(onHost.stdout);
  if (same === (host === 'same')) return undefined;
  return {
    status: 'failed',
    message:
      host === 'same'
        ? `${command} prints one thing in the container and another on the host: the container does not share this with the host.`
        : `${command} prints the same in the container as on the host: the container shares this with the host.`,
    expected: host === 'same' ? `the host's output: ${normalize(onHost.stdout)}` : `not the host's output (${normalize(onHost.stdout)})`,
    actual: normalize(inside),
  };
}

type Loaded = { config: RuntimeConfig; rootPath: string } | Extract<CheckResult, { status: 'failed' }>;

async function loadConfig(file: string, name: string): Promise<Loaded> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return {
      status: 'failed',
      message: `${name} does not exist; \`runc spec\` writes one.`,
      expected: `a runc bundle with ${name}`,
      actual: 'no such file',
    };
  }
  let config: unknown;
  try {
    config = JSON.parse(source);
  } catch (error) {
    const where = describeSyntaxError(source) ?? (error as Error).message;
    return { status: 'failed', message: `${name} is not valid JSON: ${where}.`, expected: 'valid JSON', actual: where };
  }
  const rootPath = (config as RuntimeConfig | null)?.root?.path;
  if (typeof config !== 'object' || config === null || Array.isArray(config) || typeof rootPath !== 'string' || rootPath === '') {
    return {
      status: 'failed',
      message: `${name} does not name a root filesystem (root.path).`,
      expected: 'root.path set',
      actual: '(absent)',
    };
  }
  return { config: config as RuntimeConfig, rootPath };
}

/** The probe's output, one name a line, must be exactly the entries of `dir` (`.` and `..` aside). */
async function judgeListing(output: string, label: string, dir: string, passedSoFar: string): Promise<CheckResult> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    return {
      status: 'failed',
      message: `${label} is not a directory of the bundle.`,
      expected: `a directory ${label}`,
      actual: 'no such directory',
    };
  }
  const listed = normalize(output)
    .split('\n')
    .map((line) => line.trim())
    .filter((name) => name !== '' && name !== '.' && name !== '..');
  const listedSet = new Set(listed);
  const entrySet = new Set(entries);
  const missing = entries.filter((name) => !listedSet.has(name));
  const extra = listed.filter((name) => !entrySet.has(name));
  if (missing.length === 0 && extra.length === 0) {
    return { status: 'passed', message: `${passedSoFar}; lists the ${entries.length} entries of ${label}` };
  }
  const problems = [
    ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
    ...(extra.length > 0 ? [`not in ${label}: ${extra.join(', ')}`] : []),
  ];
  return {
    status: 'failed',
    message: `The output does not list exactly the entries of ${label}: ${problems.join('; ')}.`,
    expected: entries.join(' '),
    actual: listed.join(' ') || '(no names)',
  };
}
