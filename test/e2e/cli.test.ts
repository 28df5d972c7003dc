// The command line as a user meets it: help, version, the lab list, lint, and the exit codes
// (0 all passed, 1 a check failed, 2 bad usage or an invalid lab, 130 cancelled).
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { cliMain, repoRoot, runCli, shippedLabs } from '../helpers/cli.js';
import { closedPort } from '../helpers/fake-registries.js';

const LABS = ['labs/01-tags.md', 'labs/02-runc.md'];

/** A small valid lab; `broken` swaps in text for one block's info string. */
function lab({ format = 1, info = 'sh {"run": true}', script = 'echo hello' } = {}): string {
  return [
    '---',
    `ocilab: ${format}`,
    'id: hello',
    'title: Say hello',
    'summary: A lab made up by the tests.',
    '---',
    '# Say hello',
    '',
    'An introduction.',
    '',
    '## Greet',
    '',
    '```' + info,
    script,
    '```',
    '',
  ].join('\n');
}

/** 1-based number of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`'${needle}' is not in the text`);
  return index + 1;
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-cli-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ocilab --help and --version', () => {
  it('prints usage naming every command, and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.exitCode).toBe(0);
    for (const command of ['list', 'run', 'verify', 'lint']) expect(result.stdout).toContain(command);
  });

  it('prints the version from package.json, and exits 0', async () => {
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(version);
  });

  it('refuses an unknown command with exit 2', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('frobnicate');
  });
});

describe('ocilab list', () => {
  it('shows every lab shipped in labs/ by its title', async () => {
    const result = await runCli(['list']);
    expect(result.exitCode).toBe(0);
    for (const file of LABS) {
      const front = (await readFile(join(repoRoot, file), 'utf8')).split(/^---$/m)[1] ?? '';
      const { title } = parseYaml(front) as { title: string };
      expect(result.stdout).toContain(title);
    }
  });
});

describe('ocilab list into a pipe', () => {
  it('stops quietly, exit 0, when the reader leaves early (`ocilab list | head -1`)', async () => {
    // Many labs' worth of lines, so that the writes go on after head has left.
    const result = await execa('bash', ['-c', 'set -o pipefail; for i in 1 2 3 4 5 6 7 8; do node "$0" list; done | head -c 1', cliMain], {
      reject: false,
      // Not a socket on stdin: bash would take itself for a remote shell and read root's ~/.bashrc.
      stdin: 'ignore',
      env: { OCILAB_WORKSHOP: 'none', XDG_STATE_HOME: dir },
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });
});

describe('ocilab run: bad usage exits 2 before anything runs', () => {
  it('refuses a lab number that does not exist', async () => {
    const result = await runCli(['run', '99', '--yes', '--workdir', dir]);
    expect(result.exitCode).toBe(2);
  });

  it('refuses --var without NAME=VALUE', async () => {
    const result = await runCli(['run', '2', '--yes', '--workdir', dir, '--var', 'img']);
    expect(result.exitCode).toBe(2);
    expect(result.all).toContain('NAME=VALUE');
  });

  it('refuses a variable the lab does not have, naming the ones it has', async () => {
    const result = await runCli(['run', '2', '--yes', '--workdir', dir, '--var', 'nosuch=1']);
    expect(result.exitCode).toBe(2);
    expect(result.all).toContain('nosuch');
    expect(result.all).toContain('img');
  });
});

describe('ocilab shell and ocilab check: where they make sense, and saying so elsewhere', () => {
  it('shell refuses input that is not a terminal, with exit 2', async () => {
    const result = await runCli(['shell', '1', '--workdir', dir]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('needs a terminal');
  });

  it("check outside ocilab's shell says where it works and what to use instead, with exit 2", async () => {
    const result = await runCli(['check'], { env: { OCILAB_SESSION: undefined } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("checks the step of ocilab's shell");
    expect(result.stderr).toContain('`ocilab verify LAB`');
  });

  it('both have --help', async () => {
    for (const command of ['shell', 'check']) {
      const result = await runCli([command, '--help']);
      expect(result.exitCode, command).toBe(0);
      expect(result.stdout, command).toMatch(new RegExp(`^Usage: ocilab ${command}`));
    }
  });
});

describe('ocilab lint', () => {
  it('passes the labs shipped in labs/', async () => {
    const result = await runCli(['lint', ...LABS]);
    expect(result.exitCode, result.all).toBe(0);
  });

  it('passes the made-up lab the other lint tests break', async () => {
    const file = join(dir, 'valid.md');
    await writeFile(file, lab());
    const result = await runCli(['lint', file]);
    expect(result.exitCode, result.all).toBe(0);
  });

  it('reports a broken attribute as FILE:LINE and exits 2', async () => {
    const text = lab({ info: 'sh {"run": tru}' });
    const file = join(dir, 'broken-attribute.md');
    await writeFile(file, text);
    const result = await runCli(['lint', file]);
    expect(result.exitCode).toBe(2);
    expect(result.all).toContain(`${file}:${lineOf(text, '{"run": tru}')}:`);
  });

  it('reports an unknown attribute rather than showing the block silently', async () => {
    const text = lab({ info: 'sh {"rn": true}' });
    const file = join(dir, 'unknown-attribute.md');
    await writeFile(file, text);
    const result = await runCli(['lint', file]);
    expect(result.exitCode).toBe(2);
    expect(result.all).toContain(`${file}:${lineOf(text, '{"rn": true}')}:`);
    expect(result.all).toContain('rn');
  });

  it('reports every problem of every file, not only the first', async () => {
    const first = join(dir, 'first.md');
    const second = join(dir, 'second.md');
    const firstText = lab({ info: 'sh {"run": tru}' }) + '## Again\n\n```sh {"timeout": "soon", "run": true}\necho again\n```\n';
    const secondText = lab({ info: 'sh {"run": true, "way": 7}' });
    await writeFile(first, firstText);
    await writeFile(second, secondText);
    const result = await runCli(['lint', first, second]);
    expect(result.exitCode).toBe(2);
    expect(result.all).toContain(`${first}:${lineOf(firstText, '{"run": tru}')}:`);
    expect(result.all).toContain(`${first}:${lineOf(firstText, '"timeout": "soon"')}:`);
    expect(result.all).toContain(`${second}:${lineOf(secondText, '"way": 7')}:`);
  });

  it('refuses a lab written for a newer format, telling to upgrade ocilab', async () => {
    const text = lab({ format: 99 });
    const file = join(dir, 'future.md');
    await writeFile(file, text);
    const result = await runCli(['lint', file]);
    expect(result.exitCode).toBe(2);
    expect(result.all).toContain(`${file}:${lineOf(text, 'ocilab: 99')}:`);
    expect(result.all).toMatch(/upgrade/i);
  });

  it('exits 2 for a file that does not exist, naming it', async () => {
    const file = join(dir, 'missing.md');
    const result = await runCli(['lint', file]);
    expect(result.exitCode).toBe(2);
    expect(result.all).toContain(file);
  });
});

describe('ocilab run on a lab file', () => {
  it('runs a lab given by its path, and exits 0 when every step passed', async () => {
    const file = join(dir, 'valid-run.md');
    await writeFile(file, lab({ script: 'echo hello from the lab' }));
    const workdir = await mkdtemp(join(dir, 'work-'));
    const result = await runCli(['run', file, '--yes', '--workdir', workdir]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain('hello from the lab');
  });

  it('shows a check that does not apply on this machine as skipped, with its reason; the step, verify and the report pass', async () => {
    const file = join(dir, 'skipping-run.md');
    const checks = [
      '```yaml {"checks": true}',
      '- file: greeting',
      '- file: elsewhere',
      '  title: A file only some machines make',
      '  skip:',
      '    if: test -f greeting',
      '    because: This machine makes no such file.',
      '```',
      '',
    ].join('\n');
    await writeFile(file, lab({ script: 'echo hello > greeting' }) + '\n' + checks);
    const workdir = await mkdtemp(join(dir, 'work-'));
    const env = { XDG_STATE_HOME: await mkdtemp(join(dir, 'state-')) };
    const result = await runCli(['run', file, '--yes', '--workdir', workdir], { env });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/^ {2}– A file only some machines make: skipped here — This machine makes no such file\.$/m);
    expect(result.stdout).toMatch(/done \(1 passed, .*; 1 check does not apply on this machine\)/);
    const verified = await runCli(['verify', file, '--workdir', workdir, '--json'], { env });
    expect(verified.exitCode, verified.all).toBe(0);
    const verify = JSON.parse(verified.stdout) as { steps: { checks: { status: string; message: string }[] }[] };
    expect(verify.steps[0]?.checks.map((c) => c.status)).toEqual(['passed', 'skipped']);
    const reported = JSON.parse((await runCli(['report', '--json'], { env })).stdout) as {
      labs: { id: string; steps: { status: string; checks: { status: string; message?: string }[] }[] }[];
    };
    const step = reported.labs.find((l) => l.id === 'hello')?.steps[0];
    expect(step).toMatchObject({
      status: 'passed',
      checks: [{ status: 'passed' }, { status: 'skipped', message: 'This machine makes no such file.' }],
    });
  });

  it('exits 1 when a step command fails', async () => {
    const file = join(dir, 'failing-run.md');
    await writeFile(file, lab({ script: 'echo about to fail; exit 3' }));
    const workdir = await mkdtemp(join(dir, 'work-'));
    const result = await runCli(['run', file, '--yes', '--workdir', workdir]);
    expect(result.exitCode, result.all).toBe(1);
  });

  it('stops on Ctrl-C with exit 130, ends everything the running command started, and runs its cleanup', async () => {
    const marker = join(dir, `cleaned-${process.pid}`);
    const pidFile = join(dir, `sleeper-${process.pid}`);
    const text = [
      '---',
      'ocilab: 1',
      'id: slow',
      'title: Wait a long time',
      'summary: A step that waits until it is cancelled.',
      'variables:',
      '  marker:',
      `    default: ${marker}`,
      '    description: The file the cleanup creates',
      '  pidfile:',
      `    default: ${pidFile}`,
      '    description: Where the step writes the process id of its sleep',
      '---',
      '# Wait a long time',
      '',
      '## Wait',
      '',
      '```sh {"run": true, "cleanup": "touch \\"$marker\\""}',
      // The text printed is not in the script, so the CLI echoing the script does not count as started.
      // The sleep is a grandchild of ocilab: ending only bash would leave it running.
      'sleep 120 & echo $! > "$pidfile"; echo "waiting $((6 * 7))"; wait',
      '```',
      '',
    ].join('\n');
    const file = join(dir, 'slow.md');
    await writeFile(file, text);
    const workdir = await mkdtemp(join(dir, 'work-'));
    const controller = new AbortController();
    const result = await runCli(['run', file, '--yes', '--workdir', workdir], {
      signal: controller.signal,
      onStdout: (chunk) => {
        if (chunk.includes('waiting 42')) controller.abort();
      },
    });
    expect(result.exitCode, result.all).toBe(130);
    expect(await exists(marker), 'the cleanup ran').toBe(true);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await endsWithin(pid, 5_000), 'the sleep the step started was ended').toBe(true);
  });
});

describe('ocilab reset --all', () => {
  it('forgets the progress in a shipped lab and in a lab given by path, and leaves the workspaces', async () => {
    const env = { XDG_STATE_HOME: await mkdtemp(join(dir, 'state-')) };
    // Lab 1 against a port nothing listens on: it stops at its task step, with its reading steps read.
    const closed = ['scheme=http', `host=127.0.0.1:${await closedPort()}`].flatMap((v) => ['--var', v]);
    const tagsWork = await mkdtemp(join(dir, 'work-'));
    expect((await runCli(['run', '1', '--yes', '--use', 'curl', ...closed, '--workdir', tagsWork], { env })).exitCode).toBe(1);
    const file = join(dir, 'reset-all.md');
    await writeFile(file, lab());
    const helloWork = await mkdtemp(join(dir, 'work-'));
    expect((await runCli(['run', file, '--yes', '--workdir', helloWork], { env })).exitCode).toBe(0);

    const result = await runCli(['reset', '--all'], { env });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("Progress cleared in 'tags', 'hello'; every lab starts at step 1.");
    expect(result.stdout).toContain(`The workspace ${tagsWork} is left as it is`);
    expect(await readdir(join(env.XDG_STATE_HOME, 'ocilab', 'progress'))).toEqual([]);
    expect(await exists(helloWork)).toBe(true);
    const report = JSON.parse((await runCli(['report', '--json'], { env })).stdout) as { labs: { id: string; state: string }[] };
    expect(report.labs.map(({ id, state }) => [id, state])).toEqual(shippedLabs().map(({ id }) => [id, 'not-started']));
    expect((await runCli(['reset', '--all'], { env })).stdout).toBe('There was no progress in any lab to clear.\n');
  });

  it('refuses a lab and --all together, and no lab without --all, with exit 2', async () => {
    const both = await runCli(['reset', '1', '--all']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain("--all resets every lab: give it no lab ('1' was given).");
    const neither = await runCli(['reset']);
    expect(neither.exitCode).toBe(2);
    expect(neither.stderr).toContain('or --all for every lab');
  });
});

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A process counts as ended when it is gone or a zombie nobody has reaped yet. */
async function endsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    // The state follows the command name in parentheses, which may itself contain spaces.
    if (stat === undefined || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
