// The subprocess wrapper's sessions and sudo: a child kept in ocilab's session (where sudo finds the
// learner's timestamp) is still ended with everything it started, and `sudo` in a script run as root
// is a plain call.
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { callsSudo, runProcess, runScript } from '../../src/sys/exec.js';

/** The session id of a process, from /proc (field 6 of stat). */
async function sessionOf(pid: number | 'self'): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

/** Running: not gone, and not a zombie (an orphan whose reaper, a container's init, may never reap it). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

describe('sessions', () => {
  const printSession = ['-c', 'read -r stat </proc/self/stat; set -- ${stat##*) }; echo "$4"'];

  it('starts a child in a session of its own unless told to stay in ours', async () => {
    const own = await runProcess('bash', printSession, { cwd: tmpdir() });
    const ours = await runProcess('bash', printSession, { cwd: tmpdir(), inSession: true });
    expect(Number(ours.stdout.trim())).toBe(await sessionOf('self'));
    expect(Number(own.stdout.trim())).not.toBe(await sessionOf('self'));
  });

  it('ends a child that stays in our session together with what it started, on timeout', async () => {
    const result = await runProcess('bash', ['-c', 'sleep 300 & echo "$!"; sleep 300'], {
      cwd: tmpdir(),
      inSession: true,
      timeoutMs: 500,
    });
    expect(result.timedOut).toBe(true);
    const grandchild = Number(result.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await alive(grandchild)).toBe(false);
  });

  it('ends it with what it started when the run is cancelled', async () => {
    const controller = new AbortController();
    let grandchild = 0;
    const running = runProcess('bash', ['-c', 'sleep 300 & echo "$!"; sleep 300'], {
      cwd: tmpdir(),
      inSession: true,
      signal: controller.signal,
      onOutput: (chunk) => {
        grandchild = Number(chunk.trim());
        controller.abort();
      },
    });
    expect((await running).cancelled).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await alive(grandchild)).toBe(false);
  });
});

describe('output', () => {
  it('is let go soon after the process exits, when something it left running holds it open', async () => {
    const began = Date.now();
    const result = await runProcess('bash', ['-c', 'echo before; sleep 300 & echo "$!"; echo after'], { cwd: tmpdir() });
    const left = Number(result.stdout.split('\n')[1]);
    try {
      expect(Date.now() - began).toBeLessThan(10_000);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe(`before\n${left}\nafter\n`);
    } finally {
      process.kill(left, 'SIGKILL');
    }
  });
});

describe('sudo in scripts', () => {
  it.skipIf(process.geteuid?.() !== 0)('is a plain call as root, options and all, even without sudo on PATH', async () => {
    const result = await runScript('sudo -u root -- echo "$((6 * 7))"', { cwd: tmpdir(), sudo: 'as-root', env: { PATH: '/usr/bin:/bin' } });
    expect(result.stdout).toBe('42\n');
  });

  it.each([
    ['sudo runc run demo', true],
    ['echo ok && sudo -n true', true],
    ['x=$(sudo cat /etc/shadow)', true],
    ['/usr/bin/sudo true', true],
    ['pseudo-tool run', false],
    ['sudoku', false],
    ['runc list', false],
  ])('finds that %j calls sudo: %s', (script, calls) => {
    expect(callsSudo(script)).toBe(calls);
  });
});
