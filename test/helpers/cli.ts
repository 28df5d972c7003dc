// Runs the built CLI as a user would: `node dist/cli/main.js ARGS`, no terminal, no colour, and its
// progress kept in a state directory of its own (removed afterwards) unless the test gives one.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { onTestFinished } from 'vitest';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The `ocilab` command as it ships: the bundle `npm run build` writes. */
export const cliMain = join(repoRoot, 'dist', 'bin', 'ocilab.js');
/** shared/ lies beside the repository, locally and in CI. */
export const sharedDir = resolve(repoRoot, '..', 'shared');

const DEFAULT_TIMEOUT_MS = 110_000;

/** The labs shipped in labs/, in their order, with the id and title of each one's front matter. */
export function shippedLabs(): { number: number; id: string; title: string }[] {
  const files = readdirSync(join(repoRoot, 'labs'))
    .filter((file) => /^\d+-.*\.md$/.test(file))
    .sort();
  return files.map((file, i) => {
    const text = readFileSync(join(repoRoot, 'labs', file), 'utf8');
    const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(text)?.[1] ?? `(no ${name} in ${file})`;
    return { number: i + 1, id: field('id'), title: field('title') };
  });
}

export interface CliOptions {
  /** Added to the inherited environment; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to stdin; without it stdin is empty (closed). */
  input?: string;
  timeoutMs?: number;
  /** Aborting sends the CLI the signal of `killSignal` (default SIGINT, as Ctrl-C would). */
  signal?: AbortSignal;
  killSignal?: NodeJS.Signals;
  /** Called with each chunk of stdout as it arrives. */
  onStdout?: (chunk: string) => void;
}

export interface CliResult {
  /** Undefined when the CLI was ended by a signal it did not handle. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** `stdout` and `stderr` together, for messages whose stream does not matter. */
  all: string;
  timedOut: boolean;
}

/**
 * A new, empty XDG_STATE_HOME for a CLI the test starts itself (in a terminal, say). Called inside a
 * test, it is removed when the test finishes; elsewhere, when the test process exits.
 */
export function freshStateHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocilab-state-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(remove);
  } catch {
    process.once('exit', remove);
  }
  return dir;
}

export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(cliMain)) {
    throw new Error(`${cliMain} does not exist: build it with \`npm run build\` (\`npm test\` does this first).`);
  }
  // Progress kept by this call alone is of no use after it; a test that wants it passes XDG_STATE_HOME.
  const ownState = options.env && 'XDG_STATE_HOME' in options.env ? undefined : await mkdtemp(join(tmpdir(), 'ocilab-state-'));
  try {
    return await spawnCli(args, options, ownState);
  } finally {
    if (ownState) await rm(ownState, { recursive: true, force: true });
  }
}

async function spawnCli(args: readonly string[], options: CliOptions, stateHome: string | undefined): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env };
  // Set by vitest for its own output; it would override NO_COLOR in chalk.
  delete env.FORCE_COLOR;
  env.NO_COLOR = '1';
  if (stateHome) env.XDG_STATE_HOME = stateHome;
  Object.assign(env, options.env);
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];

  const child = execa(process.execPath, [cliMain, ...args], {
    cwd: options.cwd ?? repoRoot,
    env,
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    all: true,
    stripFinalNewline: false,
    ...(options.signal
      ? // Cleanup after Ctrl-C may take a while (deleting containers); SIGKILL only if it hangs.
        { cancelSignal: options.signal, killSignal: options.killSignal ?? 'SIGINT', forceKillAfterDelay: 30_000 }
      : {}),
  });
  if (options.onStdout) child.stdout?.on('data', (chunk: Buffer) => options.onStdout?.(chunk.toString()));
  const result = await child;
  return {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    all: result.all,
    timedOut: result.timedOut,
  };
}
