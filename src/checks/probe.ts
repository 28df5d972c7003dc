// The `probe` check: runs a short process in a container made from the learner's runc bundle and
// judges what it prints. The learner's bundle is left as it is: the container runs from a temporary
// bundle whose config.json is a copy, made non-interactive and pointed at the learner's rootfs.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ProbeCheck } from '../lab/model.js';
import { expand } from '../lab/variables.js';
import { runProcess } from '../sys/exec.js';
import { which } from '../sys/host.js';
import { describeSyntaxError } from './json.js';
import { judgeText, normalize } from './text.js';
import type { CheckContext, CheckOutcome } from './types.js';

const PROBE_TIMEOUT_MS = 30_000;
const DELETE_TIMEOUT_MS = 10_000;

export const PROBE_NEEDS_ROOT = 'Container probes need root: run `sudo ocilab verify` to check this step.';
export const RUNC_MISSING = 'runc not found — install it with `apt install runc` or `dnf install runc`.';

/** The parts of an OCI runtime config a probe changes; everything else is copied as it is. */
interface RuntimeConfig {
  process?: Record<string, unknown>;
  root?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * The config.json of the probe's temporary bundle: the learner's config with the probe's arguments,
 * no terminal (nobody is there to type; runc refuses a terminal without a console socket), and the
 * rootfs as an absolute path because the temporary bundle lives elsewhere. Pure.
 */
export function probeConfig(original: RuntimeConfig, args: readonly string[], rootfsAbs: string): RuntimeConfig {
  const config = structuredClone(original);
  config.process = { ...config.process, terminal: false, args: [...args] };
  config.root = { ...config.root, path: rootfsAbs };
  return config;
}

export async function probeCheck(check: ProbeCheck, ctx: CheckContext): Promise<CheckOutcome> {
  if (!ctx.root) return { status: 'error', message: PROBE_NEEDS_ROOT };
  const runc = await which('runc');
  if (!runc) return { status: 'error', message: RUNC_MISSING };

  const bundleName = expand(check.bundle || '.', ctx.vars);
  const bundle = resolve(ctx.workdir, bundleName);
  const configName = bundleName === '.' ? 'config.json' : join(bundleName, 'config.json');
  const loaded = await loadConfig(join(bundle, 'config.json'), configName);
  if ('status' in loaded) return loaded;
  const { config, rootPath } = loaded;
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
    await writeFile(join(dir, 'config.json'), `${JSON.stringify(probeConfig(config, args, rootfs), null, 2)}\n`);
    const result = await runProcess(runc, ['run', '--bundle', dir, id], {
      cwd: dir,
      timeoutMs: PROBE_TIMEOUT_MS,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    if (result.startError) return { status: 'error', message: `Could not start runc: ${result.startError}` };
    if (result.cancelled) return { status: 'error', message: 'The probe was cancelled.' };
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
    if (judged.status !== 'passed' || check.listsDirectory === undefined) return judged;
    const listing = expand(check.listsDirectory, ctx.vars);
    return judgeListing(result.output, listing, resolve(bundle, listing), judged.message);
  } finally {
    // The container may never have been created; runc then says so, and there is nothing to delete.
    await runProcess(runc, ['delete', '--force', id], { cwd: dir, timeoutMs: DELETE_TIMEOUT_MS });
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

type Loaded = { config: RuntimeConfig; rootPath: string } | Extract<CheckOutcome, { status: 'failed' }>;

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
async function judgeListing(output: string, label: string, dir: string, passedSoFar: string): Promise<CheckOutcome> {
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
