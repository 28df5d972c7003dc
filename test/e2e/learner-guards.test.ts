// Lab 7 as normal users. With sudo, in a real terminal as a person would do it: let ocilab run each
// step (the diffs of the bundles, the password when sudo first asks), or type the steps in ocilab's
// shell, a mistake and its diagnosis included. No container of the lab's is left. Without sudo,
// rootless, headless and proven. Container ids start with `gd-`, so other test runs' containers never clash.
import { describe, expect, it } from 'vitest';
import { servedBusybox } from '../helpers/image.js';
import {
  builtinThenRoot,
  expectNoRootlessContainer,
  finishInTerminal,
  proveAs,
  runRootless,
  skipLearnerLabTests,
  typedInShell,
  varArgs,
} from '../helpers/learner-lab-tests.js';
import { asLearner, learnerOcilab } from '../helpers/learners.js';
import { failedChecks, newContainerId, type VerifyReport } from '../helpers/leftovers.js';

const skip = await skipLearnerLabTests();

const LAB_TIMEOUT_MS = 240_000;

describe.skipIf(skip)('lab 7 as a normal user, with sudo or rootless', () => {
  const served = servedBusybox();

  it(
    'is done to the end in a terminal: sudo asks for the password once, every step passes or is skipped here, no container is left',
    async () => {
      const who = await finishInTerminal({
        lab: 7,
        labId: 'guards',
        vars: { img: served.image, ctr: newContainerId('gd') },
        wayFor: builtinThenRoot,
        passwordAsked: 1,
        checkStatus: () => /^(passed|skipped)$/,
        timeoutMs: LAB_TIMEOUT_MS,
      });
      // The user namespace step: root in the container wrote a file that belongs to uid 100000.
      const owner = await asLearner(who, ['stat', '-c', '%u', `/home/${who.name}/ocilab/guards/rootfs/tmp/from-userns`]);
      expect(owner.stdout.trim()).toBe('100000');
    },
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    "passes the first steps on what the learner typed in ocilab's shell, with a diagnosis for CAP_CHOWN taken out of effective only",
    () =>
      typedInShell({ lab: 7, labId: 'guards', steps: 13, idPrefix: 'gd', image: served.image }, async (shell, id) => {
        const t = shell.terminal;
        // The spec's probes wait for sudo: the password typed once, and they pass at the next prompt.
        await shell.enter(3);
        await shell.typeUntilPassed('sudo -v');
        await shell.leave();

        await shell.enter(4);
        await shell.type('sudo runc run -d "$ctr"');
        await shell.type('sudo runc exec "$ctr" grep Cap /proc/1/status');
        await t.waitFor(/CapEff:\s+00000000a80425fb/);
        await shell.typeUntilPassed(`sudo runc exec "$ctr" sh -c 'touch /tmp/mine && chown 1:1 /tmp/mine && ls -ln /tmp/mine'`);
        await shell.type('sudo runc delete --force "$ctr"');
        await shell.leave();

        // Take away a capability: first out of effective only, which root gets back at execve.
        await shell.enter(5);
        await shell.type(
          `mkdir -p caps && jq '.root.path = "../rootfs" | .process.capabilities.effective -= ["CAP_CHOWN"]' config.json > caps/config.json`,
        );
        await shell.type('sudo runc run -d --bundle caps "$ctr"');
        await shell.type('sudo runc exec "$ctr" grep Cap /proc/1/status');
        await t.waitFor('or CAP_CHOWN is still in its permitted set');
        await shell.type('sudo runc delete --force "$ctr"');
        await shell.type(
          `jq '.root.path = "../rootfs" | .process.capabilities |= map_values(. - ["CAP_CHOWN"])' config.json > caps/config.json`,
        );
        await shell.type('sudo runc run -d --bundle caps "$ctr"');
        await shell.type(`sudo runc exec "$ctr" sh -c 'touch /tmp/mine && chown 1:1 /tmp/mine'`);
        await t.waitFor(/chown: \/tmp\/mine: Operation not permitted/);
        await shell.typeUntilPassed('sudo runc exec "$ctr" grep Cap /proc/1/status');
        await shell.type('sudo runc delete --force "$ctr"');
        await shell.leave();
      }),
    LAB_TIMEOUT_MS,
  );

  it(
    'is done to the end rootless by a learner without sudo, headless, and proves rootless too',
    async () => {
      const { who, id, vars } = await runRootless({ lab: 7, idPrefix: 'gd', image: served.image });
      // Rootless, root in the container is the learner: the file it wrote is the learner's.
      const owner = await asLearner(who, ['sh', '-c', 'test "$(stat -c %u ~/ocilab/guards/rootfs/tmp/from-userns)" = "$(id -u)"']);
      expect(owner.exitCode, owner.all).toBe(0);
      await proveAs(who, 7, ['builtin', 'rootless'], vars);

      // A mapping of a range that /etc/subuid does not give this learner: runc cannot set it up.
      const mapped = await asLearner(who, [
        'sh',
        '-c',
        `cd ~/ocilab/guards && jq '.linux.uidMappings += [{"containerID": 1, "hostID": 100000, "size": 65536}]' userns/config.json > mapped.json && mv mapped.json userns/config.json`,
      ]);
      expect(mapped.exitCode, mapped.all).toBe(0);
      const verified = await asLearner(who, [learnerOcilab, 'verify', '7', '--json', '--use', 'rootless', ...varArgs(vars)]);
      expect(verified.exitCode, verified.all).toBe(1);
      const report = JSON.parse(verified.stdout) as VerifyReport;
      const wrong = failedChecks(report);
      expect(new Set(wrong.map((c) => c.step))).toEqual(
        new Set(['root-inside-an-ordinary-uid-outside', 'who-owns-what-the-container-writes']),
      );
      expect(wrong.find((c) => c.kind === 'probe')?.message).toMatch(/^runc could not run `cat \/proc\/self\/uid_map` in the container/);
      expect(verified.stderr).toContain('Rootless, runc may map only your own uid');
      await expectNoRootlessContainer(who, id);
    },
    LAB_TIMEOUT_MS,
  );
});
