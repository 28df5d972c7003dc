// Lab 5 as normal users. With sudo, in a real terminal as a person would do it: let ocilab run each
// step (the password when sudo first asks), or type the life of one container in ocilab's shell across
// five steps, keeping it between them (created, then running, then stopped), with the diagnoses of a
// taken id, of a TERM that PID 1 ignores and of hooks written into config.json after create. Without
// sudo, rootless, headless and proven. No container of the lab's is left. Container ids start with
// `lc-`, so other test runs' containers never clash.
import { existsSync } from 'node:fs';
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
import { expectNothingLeft, newContainerId } from '../helpers/leftovers.js';

const skip = await skipLearnerLabTests();

const LAB_TIMEOUT_MS = 240_000;

describe.skipIf(skip)('lab 5 as a normal user, with sudo or rootless', () => {
  const served = servedBusybox();

  it(
    'is done to the end in a terminal: sudo asks for the password once, every step passes, no container is left',
    () =>
      finishInTerminal({
        lab: 5,
        labId: 'lifecycle',
        vars: { img: served.image, ctr: newContainerId('lc') },
        wayFor: builtinThenRoot,
        passwordAsked: 1,
        // Where systemd is not PID 1 (here, in CI), the systemctl step's checks do not apply.
        checkStatus: (step) => (step === 'start-it-with-systemctl' && !existsSync('/run/systemd/system') ? 'skipped' : 'passed'),
        timeoutMs: LAB_TIMEOUT_MS,
      }),
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    "passes five steps on one container's life typed in ocilab's shell, kept from step to step, with diagnoses for a taken id, a TERM that PID 1 ignores and hooks added after create",
    () =>
      typedInShell({ lab: 5, labId: 'lifecycle', steps: 12, idPrefix: 'lc', image: served.image }, async (shell, id) => {
        const t = shell.terminal;
        // Created: left so for the next step. The shell ends although runc init holds its terminal.
        await shell.enter(4);
        await shell.type('sudo runc create "$ctr"');
        await shell.type('sudo runc state "$ctr"');
        await t.waitFor('"status": "created"');
        await shell.typeUntilPassed('sudo runc ps "$ctr"');
        await shell.leave();

        // Running: a second create finds the id taken; start lets the created container go.
        await shell.enter(5);
        await shell.type('sudo runc create "$ctr"');
        await t.waitFor(`The container ${id} is still there from the previous step`);
        await shell.type('sudo runc start "$ctr"');
        await shell.type('sudo runc state "$ctr"');
        await shell.typeUntilPassed('sudo runc ps "$ctr"');
        await shell.leave();

        // Signals: TERM is ignored, which the diagnosis explains; KILL stops it.
        await shell.enter(6);
        await shell.type('sudo runc kill "$ctr" TERM');
        await shell.type('sudo runc ps "$ctr"');
        await shell.type('sudo runc state "$ctr"');
        await t.waitFor('TERM will not, because its PID 1 is a shell with no handler for it');
        await shell.type('sudo runc kill "$ctr" KILL');
        await shell.typeUntilPassed('sleep 1; sudo runc state "$ctr"');
        await shell.leave();

        // Deleted: the stopped one goes quietly; a running one is refused until --force.
        await shell.enter(7);
        await shell.type('sudo runc delete "$ctr"');
        await shell.type('sudo runc run -d "$ctr"');
        await shell.type('sudo runc delete "$ctr"');
        await t.waitFor('that is not stopped: running');
        await shell.type('sudo runc delete --force "$ctr"');
        await shell.typeUntilPassed('sudo runc state "$ctr"');
        await shell.leave();

        // Hooks: written into config.json after the container was created, so its delete runs none;
        // created again, it runs both.
        await shell.enter(8);
        await shell.type('sudo runc create "$ctr"');
        await shell.type(`printf '#!/bin/sh\\necho "$1 $(cat)" >> "$(dirname "$0")/hooks.log"\\n' > hook.sh && chmod +x hook.sh`);
        await shell.type(
          `jq --arg hook "$PWD/hook.sh" '.hooks = {"poststart": [{"path": $hook, "args": ["hook.sh", "poststart"]}], "poststop": [{"path": $hook, "args": ["hook.sh", "poststop"]}]}' config.json > c.json && mv c.json config.json`,
        );
        await shell.type('sudo runc start "$ctr"');
        await shell.type('sudo runc kill "$ctr" KILL');
        await shell.type('sleep 1; sudo runc delete "$ctr"');
        await t.waitFor('it was created before the hooks were in config.json');
        await shell.type('sudo runc create "$ctr"');
        await shell.type('sudo runc start "$ctr"');
        await shell.type('sudo runc kill "$ctr" KILL');
        await shell.typeUntilPassed('sleep 1; sudo runc delete "$ctr"');
        await shell.leave();
      }),
    LAB_TIMEOUT_MS,
  );

  it(
    'is done to the end rootless by a learner without sudo, headless, and proves rootless too',
    async () => {
      const { who, id, vars } = await runRootless({ lab: 5, idPrefix: 'lc', image: served.image });
      await proveAs(who, 5, ['builtin', 'rootless'], vars);
      await expectNoRootlessContainer(who, id);
      await expectNothingLeft(id);
    },
    LAB_TIMEOUT_MS,
  );
});
