// How ocilab finds out what root it has, and how `sudo` in lab scripts behaves for each learner: run
// as real normal users (one whose sudo asks for a password, one with passwordless sudo, one without
// sudo rights), against the built modules in dist/.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { asLearner, learner, learnersUsable, type Learner, type LearnerKind } from '../helpers/learners.js';

const noLearners = !(await learnersUsable());
const dist = (module: string) => join(repoRoot, 'dist', 'sys', module);

/** Runs `body` (an async function body of ES module code) as the learner; its return value comes back as JSON. */
async function asLearnerInNode(who: Learner, body: string, env: Record<string, string> = {}): Promise<unknown> {
  const code = `const result = await (async () => { ${body} })(); process.stdout.write(JSON.stringify(result));`;
  const run = await asLearner(who, [process.execPath, '--input-type=module', '-e', code], { timeoutMs: 60_000, env });
  if (run.exitCode !== 0) throw new Error(`node as ${who.name} failed (${run.exitCode}):\n${run.all}`);
  return JSON.parse(run.stdout) as unknown;
}

describe.skipIf(noLearners)('privilege of real learners (needs root to create them)', () => {
  const learners = {} as Record<LearnerKind, Learner>;

  beforeAll(async () => {
    for (const kind of ['sudo-password', 'sudo-nopasswd', 'no-sudo'] as const) learners[kind] = await learner(kind);
  });

  it.each([
    ['sudo-nopasswd', 'sudo-nopasswd'],
    // sudo answers a user without sudo rights as it answers one who has them: it wants the password first.
    ['sudo-password', 'sudo-password'],
    ['no-sudo', 'sudo-password'],
  ] as const)('finds that the %s learner has %s', async (kind, privilege) => {
    const facts = (await asLearnerInNode(
      learners[kind],
      `const { detectPrivilege } = await import(${JSON.stringify(dist('privilege.js'))}); return detectPrivilege();`,
    )) as { privilege: string; said?: string };
    expect(facts.privilege).toBe(privilege);
    if (privilege === 'sudo-password') expect(facts.said).toMatch(/password is required/);
  });

  it('finds no sudo when there is none on PATH', async () => {
    const facts = (await asLearnerInNode(
      learners['sudo-nopasswd'],
      `const { detectPrivilege } = await import(${JSON.stringify(dist('privilege.js'))}); return detectPrivilege();`,
      { PATH: '/nonexistent' },
    )) as { privilege: string };
    expect(facts.privilege).toBe('none');
  });

  it.each([
    ['sudo-nopasswd', 0, /^root$/m],
    ['sudo-password', 1, /a password is required/],
  ] as const)('headless, `sudo` in a script as the %s learner is `sudo -n`: exit %i, %s', async (kind, exitCode, said) => {
    const started = Date.now();
    const result = (await asLearnerInNode(
      learners[kind],
      `const { runScript } = await import(${JSON.stringify(dist('exec.js'))});
       return runScript('sudo whoami', { cwd: '/tmp', sudo: 'no-prompt', timeoutMs: 30000 });`,
    )) as { exitCode: number; output: string; timedOut: boolean };
    expect(result.exitCode, result.output).toBe(exitCode);
    expect(result.output).toMatch(said);
    // It never waits for a password nobody can type.
    expect(result.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
