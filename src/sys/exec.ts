// The one wrapper through which ocilab starts every subprocess: argument arrays, explicit cwd and env,
// a timeout, live output, and cancellation that ends the child's whole process group.
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
  /** Called with each chunk of output as it arrives. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting ends the process group. */
  signal?: AbortSignal;
  input?: string;
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

export async function runProcess(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const { cwd, env, timeoutMs, tty = false, onOutput, signal, input } = options;
  // A child in its own process group can be ended with everything it started. A child that owns the
  // terminal must stay in ours, or reading the terminal would stop it (SIGTTIN); Ctrl-C reaches it directly.
  const ownGroup = !tty;
  const stdin = tty || options.inheritStdin ? 'inherit' : input === undefined ? 'ignore' : 'pipe';
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
  });

  let output = '';
  const collect = (stream: 'stdout' | 'stderr') => (data: Buffer | string) => {
    const chunk = data.toString();
    output += chunk;
    onOutput?.(chunk, stream);
  };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));

  let timedOut = false;
  let cancelled = false;
  const endGroup = () => {
    const pid = child.pid;
    if (pid === undefined) return;
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (ownGroup) process.kill(-pid, sig);
        else child.kill(sig);
      } catch {
        // Already gone.
      }
    };
    kill('SIGTERM');
    setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS).unref();
  };
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          endGroup();
        }, timeoutMs);
  const onAbort = () => {
    cancelled = true;
    endGroup();
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const result = await child;
    const startError =
      result.failed && result.exitCode === undefined && !result.signal && !timedOut && !cancelled
        ? (result.originalMessage ?? result.shortMessage)
        : undefined;
    return {
      exitCode: result.exitCode,
      stdout: typeof result.stdout === 'string' ? result.stdout : '',
      stderr: typeof result.stderr === 'string' ? result.stderr : '',
      output,
      timedOut,
      cancelled,
      ...(startError ? { startError } : {}),
    };
  } finally {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Bash run as root has no need for sudo, and many machines and containers have none installed:
 * this function stands in for it so lab commands can keep the `sudo` a learner would type.
 */
const SUDO_AS_ROOT =
  'sudo() { while [ "$#" -gt 0 ]; do case "$1" in --) shift; break ;; -u|-g|-C|-D|-h|-p|-r|-t|-T|-U) shift 2 ;; -*) shift ;; *) break ;; esac; done; "$@"; }';

export interface ScriptOptions extends RunOptions {
  /** Run as root: `sudo` in the script becomes a plain call. */
  asRoot?: boolean;
}

/**
 * Runs a lab script with `bash -c`. Values reach it only through `env`, never through the script text.
 * Its PATH starts with ocilab's own `bin/` (see labPath), so the script can call `ocilab`.
 */
export function runScript(script: string, options: ScriptOptions): Promise<RunResult> {
  const text = options.asRoot ? `${SUDO_AS_ROOT}\n${script}` : script;
  return runProcess('bash', ['-c', text], { ...options, env: { ...options.env, PATH: labPath(options.env?.PATH) } });
}
