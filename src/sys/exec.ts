// The one wrapper through which ocilab starts every subprocess: argument arrays, explicit cwd and env,
// a timeout, live output, and cancellation that ends everything the child started.
import { readdir, readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { labPath } from './host.js';

export interface RunOptions {
  cwd: string;
  /** Added to (and overriding) the inherited environment. */
  env?: Record<string, string | undefined>;
  /** Milliseconds; the process group gets SIGTERM, then SIGKILL two seconds later. */
  timeoutMs?: number;
  /** Give the child the real terminal (stdin, stdout, stderr inherited); no output is captured. */
  tty?: boolean;
  /** Let the child read the real stdin while its output is still captured (sudo asking for a password). */
  inheritStdin?: boolean;
  /**
   * Keep the child in ocilab's session and process group instead of a new session of its own (what
   * Node's `detached` does, with setsid). sudo keeps the learner's timestamp per terminal session, and
   * only a child in that session, with its terminal, can use it or ask for a password. Ending such a
   * child signals it and every process it started, found through /proc. Implied by `tty`.
   */
  inSession?: boolean;
  /** Called with each chunk of output as it arrives. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting ends the process group. */
  signal?: AbortSignal;
  input?: string;
  /** Give the child a pipe as stdin, kept open until this settles (or ocilab is gone): a child can wait for that. */
  stdinOpenUntil?: Promise<unknown>;
  /** Let the child live on when ocilab exits (it is not ended then, as children otherwise are). */
  outlive?: boolean;
}

export interface RunResult {
  /** Undefined when the process was ended by a signal or never started. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when the program could not be started at all (not found, not executable). */
  startError?: string;
}

const KILL_GRACE_MS = 2000;
/**
 * How long output is still read once the process has exited. A process it left behind may hold its
 * output open for good (a container in runc's `created` state: its `runc init` keeps runc's stdout and
 * stderr until `runc start`); waiting for the end of that output would wait forever, and the command's
 * cleanup, which deletes that container, would never run.
 */
const OUTPUT_AFTER_EXIT_MS = 1000;

export async function runProcess(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const { cwd, env, timeoutMs, tty = false, onOutput, signal, input } = options;
  // A child in its own process group can be ended with everything it started. A child that owns the
  // terminal must stay in ours, or reading the terminal would stop it (SIGTTIN); Ctrl-C reaches it directly.
  const ownGroup = !tty && !options.inSession;
  const held = options.stdinOpenUntil;
  const stdin = tty || options.inheritStdin ? 'inherit' : input === undefined && !held ? 'ignore' : 'pipe';
  const child = execa(file, args, {
    cwd,
    env: env ?? {},
    extendEnv: true,
    reject: false,
    detached: ownGroup,
    stdin,
    stdout: tty ? 'inherit' : 'pipe',
    stderr: tty ? 'inherit' : 'pipe',
    ...(input !== undefined && !tty ? { input } : {}),
    encoding: 'utf8',
    stripFinalNewline: false,
    buffer: true,
    ...(options.outlive ? { cleanup: false } : {}),
  });

  if (held && !tty) void held.finally(() => child.stdin?.end());

  let output = '';
  const collect = (stream: 'stdout' | 'stderr') => (data: Buffer | string) => {
    const chunk = data.toString();
    output += chunk;
    onOutput?.(chunk, stream);
  };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));
  child.once('exit', () => {
    setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, OUTPUT_AFTER_EXIT_MS).unref();
  });

  // Set by the timer and the abort listener below; an object, so the checks after `await` read it afresh.
  const ended = { timedOut: false, cancelled: false };
  const endGroup = () => {
    const pid = child.pid;
    if (pid === undefined) return;
    const kill = async (sig: NodeJS.Signals) => {
      // Deepest first, so a parent cannot start anything new in between. Processes of another user
      // (root's, under sudo) refuse the signal; sudo passes it on to the command it runs.
      const pids = ownGroup ? [-pid] : [...(await descendants(pid)).reverse(), pid];
      for (const target of pids) {
        try {
          process.kill(target, sig);
        } catch {
          // Already gone, or not ours to signal.
        }
      }
    };
    void kill('SIGTERM');
    setTimeout(() => void kill('SIGKILL'), KILL_GRACE_MS).unref();
  };
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          ended.timedOut = true;
          endGroup();
        }, timeoutMs);
  const onAbort = () => {
    ended.cancelled = true;
    endGroup();
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const result = await child;
    const startError =
      result.failed && result.exitCode === undefined && !result.signal && !ended.timedOut && !ended.cancelled
        ? (result.originalMessage ?? result.shortMessage)
        : undefined;
    return {
      exitCode: result.exitCode,
      stdout: typeof result.stdout === 'string' ? result.stdout : '',
      stderr: typeof result.stderr === 'string' ? result.stderr : '',
      output,
      ...ended,
      ...(startError ? { startError } : {}),
    };
  } finally {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Every process below `pid`, parents before children, read from /proc (Linux). */
async function descendants(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // The command name, in parentheses, may hold spaces and parentheses: fields follow the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0;) {
    const next = children.get(queue.shift() as number) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

/**
 * How `sudo` in a lab script runs:
 * - `as-root`: ocilab is root, so sudo is a plain call (many machines and containers have no sudo);
 * - `no-prompt`: `sudo -n`, which fails at once instead of waiting for a password nobody can type
 *   (headless runs, checks, cleanups), run in ocilab's session so the learner's timestamp counts;
 * - `terminal`: sudo as the learner typed it, in ocilab's session with the real terminal to ask on.
 */
export type SudoMode = 'as-root' | 'no-prompt' | 'terminal';

const SUDO_FUNCTIONS: Record<SudoMode, string | undefined> = {
  'as-root':
    'sudo() { while [ "$#" -gt 0 ]; do case "$1" in --) shift; break ;; -u|-g|-C|-D|-h|-p|-r|-t|-T|-U) shift 2 ;; -*) shift ;; *) break ;; esac; done; "$@"; }',
  'no-prompt': 'sudo() { command sudo -n "$@"; }',
  terminal: undefined,
};

/** A script for a root shell (`sudo -n bash -c`, say): `sudo` in it is a plain call. */
export function asRootScript(script: string): string {
  return `${SUDO_FUNCTIONS['as-root'] as string}\n${script}`;
}

/** The script calls sudo; a mention in a comment or a path counts too, which costs only the process group. */
export function callsSudo(script: string): boolean {
  return /(^|[^\w-])sudo([^\w-]|$)/m.test(script);
}

export interface ScriptOptions extends RunOptions {
  /** How `sudo` in the script runs; without it, as it is, in a session of its own. */
  sudo?: SudoMode;
}

/**
 * Runs a lab script with `bash -c`. Values reach it only through `env`, never through the script text.
 * Its PATH starts with ocilab's own `bin/` (see labPath), so the script can call `ocilab`.
 */
export function runScript(script: string, options: ScriptOptions): Promise<RunResult> {
  const { sudo, ...rest } = options;
  const wrapper = sudo ? SUDO_FUNCTIONS[sudo] : undefined;
  const text = wrapper ? `${wrapper}\n${script}` : script;
  // Only a script that uses the real sudo needs ocilab's session; any other keeps a process group of
  // its own, which a timeout ends at one stroke.
  const inSession = rest.inSession || ((sudo === 'no-prompt' || sudo === 'terminal') && callsSudo(script));
  return runProcess('bash', ['-c', text], {
    ...rest,
    ...(inSession ? { inSession } : {}),
    ...(sudo === 'terminal' && inSession ? { inheritStdin: true } : {}),
    env: { ...rest.env, PATH: labPath(rest.env?.PATH) },
  });
}
