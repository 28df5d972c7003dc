// Lab 3 as normal users. With sudo, in a real terminal as a person would do it: let ocilab run each
// step (the diffs of the three bundles, the password when sudo first asks), or type the steps in
// ocilab's shell, mistakes and their diagnoses included. No container of the lab's is left.
// Without sudo, rootless, headless and proven. Container ids start with `ns-`, so other test runs' containers never clash.
import { describe, it } from 'vitest';
import { servedBusybox } from '../helpers/image.js';
import {
  builtinThenRoot,
  expectNoRootlessContainer,
  finishInTerminal,
  proveAs,
  runRootless,
  skipLearnerLabTests,
  typedInShell,
} from '../helpers/learner-lab-tests.js';
import { newContainerId } from '../helpers/leftovers.js';

const skip = await skipLearnerLabTests();

const LAB_TIMEOUT_MS = 240_000;

describe.skipIf(skip)('lab 3 as a normal user, with sudo or rootless', () => {
  const served = servedBusybox();

  it(
    'is done to the end in a terminal: sudo asks for the password once, every step passes, no container is left',
    () =>
      finishInTerminal({
        lab: 3,
        labId: 'namespaces',
        vars: { img: served.image, ctr: newContainerId('ns') },
        wayFor: builtinThenRoot,
        passwordAsked: 1,
        timeoutMs: LAB_TIMEOUT_MS,
      }),
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    "passes the hands-on steps on what the learner typed in ocilab's shell, with a diagnosis for a taken id and for a container started before the edit",
    () =>
      typedInShell({ lab: 3, labId: 'namespaces', steps: 9, idPrefix: 'ns', image: served.image }, async (shell, id) => {
        const t = shell.terminal;
        // Look at it from the host: the password typed where sudo first asks.
        await shell.enter(4);
        await shell.type('sudo runc run -d "$ctr"');
        await shell.type('sudo runc state "$ctr"');
        await t.waitFor('"status": "running"');
        await shell.type(`pid=$(sudo runc state "$ctr" | sed -n 's/^ *"pid": *\\([0-9]*\\).*/\\1/p')`);
        await shell.typeUntilPassed('sudo ls -l /proc/$pid/ns');
        // Still running: the next step's first try finds the id taken.
        await shell.leave();

        await shell.enter(5);
        await shell.type('sudo runc run -d "$ctr"');
        await t.waitFor(`runc already knows a container named ${id}`);
        await shell.type('sudo runc exec "$ctr" hostname');
        await t.waitFor(/^inside\s*$/m);
        await shell.typeUntilPassed('sudo runc exec "$ctr" ps');
        await shell.leave();

        // Without a PID namespace: the copy edited with jq, but ps typed in the container that still
        // runs from the first bundle; then deleted and started again from the copy.
        await shell.enter(6);
        await shell.type(
          `mkdir -p no-pid && jq '.root.path = "../rootfs" | .linux.namespaces |= map(select(.type != "pid"))' config.json > no-pid/config.json`,
        );
        await shell.type('sudo runc exec "$ctr" ps');
        await t.waitFor('The container you looked into still has a PID namespace of its own');
        await shell.type('sudo runc delete --force "$ctr"');
        await shell.type('sudo runc run -d --bundle no-pid "$ctr"');
        await shell.typeUntilPassed('sudo runc exec "$ctr" ps');
        await shell.type('sudo runc delete --force "$ctr"');
        await shell.leave();
      }),
    LAB_TIMEOUT_MS,
  );

  it(
    'is done to the end rootless by a learner without sudo, headless, and proves rootless too',
    async () => {
      const { who, id, vars } = await runRootless({ lab: 3, idPrefix: 'ns', image: served.image });
      await proveAs(who, 3, ['builtin', 'rootless'], vars);
      await expectNoRootlessContainer(who, id);
    },
    LAB_TIMEOUT_MS,
  );
});
