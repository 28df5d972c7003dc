// Start-up: ocilab's quick commands and its first rendered step, against bare `node -e ''` measured in
// the same run (the machines are shared and noisy, so differences and ratios matter, not absolute times).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, median, ROOT, RUNS } from './common.mjs';

const GOALS = { version: 0.15, list: 0.15, firstStep: 0.25, prompt: 0.25 };

const scratch = mkdtempSync(join(tmpdir(), 'ocilab-bench-'));
const env = { ...process.env, XDG_STATE_HOME: join(scratch, 'state'), NO_COLOR: '1' };

function timeCommand(args, extraEnv = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return seconds;
}

/** Seconds from start until the first step's header is on a (pseudo-)terminal, in interactive mode. */
function timeFirstStep() {
  return new Promise((resolve, reject) => {
    const workdir = mkdtempSync(join(scratch, 'work-'));
    const command = `${process.execPath} ${CLI} run 2 --workdir ${workdir}`;
    const start = process.hrtime.bigint();
    // script(1) gives ocilab a real terminal, so it runs interactively and renders the lab's prose.
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...env, XDG_STATE_HOME: mkdtempSync(join(scratch, 'state-')) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no step rendered within 20 s; output:\n${seen}`));
    }, 20_000);
    child.stdout.on('data', (chunk) => {
      seen += chunk.toString();
      if (seen.includes('What next?')) {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve(seconds);
      }
    });
  });
}

/**
 * What the learner waits for after each command in ocilab's shell: `ocilab check --prompt` judging
 * lab 2's edit step (three JSON checks) in a session with one recorded command.
 */
function promptCheck() {
  const session = mkdtempSync(join(scratch, 'session-'));
  const workdir = join(session, 'work');
  mkdirSync(workdir);
  writeFileSync(
    join(workdir, 'config.json'),
    JSON.stringify({ process: { args: ['sh'] }, root: { path: 'rootfs', readonly: false }, hostname: 'runc-demo' }),
  );
  const labFile = join(ROOT, 'labs', '02-runc.md');
  writeFileSync(
    join(session, 'session.json'),
    JSON.stringify({ labFile, labId: 'runc', stepId: 'edit-config-json', workdir, vars: { img: 'busybox' } }),
  );
  writeFileSync(join(session, 'commands.jsonl'), `${JSON.stringify({ n: 1, exit: 0, start: '1', end: '2', line: 'vi config.json' })}\n`);
  writeFileSync(join(session, 'typescript'), '\u001b]6973;B;1\u0007\u001b]6973;E;1\u0007');
  return () => timeCommand([CLI, 'check', '--prompt'], { OCILAB_SESSION: session, XDG_STATE_HOME: join(session, 'state') });
}

async function measure(name, fn) {
  await fn(); // warm the file cache
  const samples = [];
  for (let i = 0; i < RUNS; i++) samples.push(await fn());
  const value = median(samples);
  process.stderr.write(`${name}: median ${value.toFixed(3)} s over ${RUNS} runs\n`);
  return value;
}

/** Measures start-up and returns the Markdown section for bench/results.md. */
export async function run() {
  try {
    const node = await measure('node -e ""', () => timeCommand(['-e', '']));
    const version = await measure('ocilab --version', () => timeCommand([CLI, '--version']));
    const list = await measure('ocilab list', () => timeCommand([CLI, 'list']));
    const firstStep = await measure('first rendered step (ocilab run 2 on a terminal)', timeFirstStep);
    const prompt = await measure("ocilab check --prompt (after a command in ocilab's shell)", promptCheck());

    const row = (name, value, goal) => {
      const over = value - node;
      return `| ${name} | ${value.toFixed(3)} | ${over.toFixed(3)} | ${(value / node).toFixed(2)}× | ≤ ${goal.toFixed(2)} s | ${over <= goal ? 'met' : 'missed'} |`;
    };
    return `## Start-up

Median of ${RUNS} runs after one warm-up run; the reference, bare \`node -e ''\`, was measured in the same run.

| what | median (s) | over bare node (s) | ratio to bare node | goal (over bare node) | |
|---|---|---|---|---|---|
| \`node -e ''\` (reference) | ${node.toFixed(3)} | — | 1.00× | — | |
${row('`ocilab --version`', version, GOALS.version)}
${row('`ocilab list`', list, GOALS.list)}
${row('first step rendered (`ocilab run 2`, interactive, until the first prompt)', firstStep, GOALS.firstStep)}
${row("`ocilab check --prompt`: the step's state after a command in ocilab's shell (lab 2's edit step)", prompt, GOALS.prompt)}
`;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
