// Probes as the normal users of a workshop machine, against the real runc: through `sudo -n` for one
// with passwordless sudo, a clear error for one whose sudo asks and no terminal to ask on, and rootless
// runc for a rootless bundle. The built modules in dist/ run as each learner.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROBE_SUDO_PASSWORD } from '../../src/checks/probe.js';
import { repoRoot } from '../helpers/cli.js';
import { asLearner, learner, learnersUsable, type Learner, type LearnerKind } from '../helpers/learners.js';
import { makeBusyboxRootfs } from '../helpers/rootfs.js';

const noLearners = !(await learnersUsable());

interface Outcome {
  status: string;
  message: string;
  actual?: string;
}

/** Makes `<home>/probe/{plain,rootless}`: a busybox rootfs, `runc spec` (with --rootless) and hostname runc-demo. */
async function bundles(who: Learner): Promise<string> {
  const dir = join(who.home, 'probe');
  for (const [name, args] of [
    ['plain', ['spec']],
    ['rootless', ['spec', '--rootless']],
  ] as const) {
    const bundle = join(dir, name);
    await makeBusyboxRootfs(join(bundle, 'rootfs'));
    await execa('chown', ['-R', `${who.uid}:${who.gid}`, dir]);
    // As the learner, as they would: `runc spec --rootless` maps their own uid.
    const spec = await asLearner(who, [
      'sh',
      '-c',
      `cd "$1" && runc ${args.join(' ')} && sed -i 's/"hostname": "runc"/"hostname": "runc-demo"/' config.json`,
      'sh',
      bundle,
    ]);
    expect(spec.exitCode, spec.all).toBe(0);
  }
  return dir;
}

/** probeCheck of `hostname` in `bundle`, run as the learner with the privilege they have (or the one given). */
async function probeAs(who: Learner, workdir: string, bundle: string, privilege?: string): Promise<Outcome> {
  const dist = (module: string) => JSON.stringify(join(repoRoot, 'dist', module));
  const code = `
    const { probeCheck } = await import(${dist('checks/probe.js')});
    const { detectPrivilege } = await import(${dist('sys/privilege.js')});
    const privilege = ${privilege ? JSON.stringify(privilege) : '(await detectPrivilege()).privilege'};
    const check = { kind: 'probe', line: 1, bundle: ${JSON.stringify(bundle)}, args: ['hostname'], equals: 'runc-demo' };
    process.stdout.write(JSON.stringify(await probeCheck(check, { workdir: ${JSON.stringify(workdir)}, vars: {}, privilege })));`;
  const run = await asLearner(who, [process.execPath, '--input-type=module', '-e', code], { timeoutMs: 60_000 });
  expect(run.exitCode, run.all).toBe(0);
  return JSON.parse(run.stdout) as Outcome;
}

describe.skipIf(noLearners)('probes as a normal user (needs root to create the learners)', () => {
  const learners = {} as Record<LearnerKind, Learner>;
  const workdirs = {} as Record<LearnerKind, string>;

  beforeAll(async () => {
    for (const kind of ['sudo-password', 'sudo-nopasswd', 'no-sudo'] as const) {
      learners[kind] = await learner(kind);
      workdirs[kind] = await bundles(learners[kind]);
    }
  });

  it('run runc through sudo -n for a learner with passwordless sudo', async () => {
    expect(await probeAs(learners['sudo-nopasswd'], workdirs['sudo-nopasswd'], 'plain')).toMatchObject({ status: 'passed' });
  });

  it('say what to do when sudo wants a password and there is no terminal to ask on', async () => {
    expect(await probeAs(learners['sudo-password'], workdirs['sudo-password'], 'plain')).toEqual({
      status: 'error',
      message: PROBE_SUDO_PASSWORD,
    });
  });

  it.each(['sudo-password', 'no-sudo'] as const)('run a rootless bundle with rootless runc for the %s learner', async (kind) => {
    expect(await probeAs(learners[kind], workdirs[kind], 'rootless')).toMatchObject({ status: 'passed' });
  });

  it('run a rootless bundle rootless even for a learner with no sudo at all, keeping state in a 0700 directory of theirs', async () => {
    const who = learners['no-sudo'];
    expect(await probeAs(who, workdirs['no-sudo'], 'rootless', 'none')).toMatchObject({ status: 'passed' });
    const state = await asLearner(who, ['stat', '-c', '%u %a', `/tmp/ocilab-runc-${who.uid}`]);
    expect(state.stdout.trim()).toBe(`${who.uid} 700`);
    // And no container is left in it.
    const left = await asLearner(who, ['runc', '--root', `/tmp/ocilab-runc-${who.uid}`, 'list', '-q']);
    expect(left.stdout.trim()).toBe('');
  });
});
