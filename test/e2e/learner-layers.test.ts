// Lab 6 as normal users. With sudo (whose password sudo would ask), in a real terminal: ocilab runs
// each step, rootless umoci, and sudo never asks, since nothing in the lab needs root; or the learner
// types the steps in ocilab's shell, mistakes and their diagnoses included. Without sudo: headless to
// the end, and proven.
import { mkdir, rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { servedBusybox } from '../helpers/image.js';
import { finishInTerminal, labReport, proveAs, runHeadless, skipLearnerLabTests } from '../helpers/learner-lab-tests.js';
import { learner } from '../helpers/learners.js';
import { OcilabShell } from '../helpers/ocilab-shell.js';
import { Terminal } from '../helpers/terminal.js';

const skip = await skipLearnerLabTests();

const LAB_TIMEOUT_MS = 180_000;

/**
 * The XDG_RUNTIME_DIR a login would give the learner (runuser gives none). Without it skopeo looks for
 * credentials in /run/containers/UID, which root's podman leaves unreadable, and gives up.
 */
const runtimeDirs: string[] = [];
async function runtimeDir(who: Awaited<ReturnType<typeof learner>>): Promise<Record<string, string>> {
  const dir = `/tmp/ocilab-ly-run-${who.uid}`;
  runtimeDirs.push(dir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  await execa('chown', [`${who.uid}:${who.gid}`, dir]);
  return { XDG_RUNTIME_DIR: dir };
}

describe.skipIf(skip)('lab 6 as a normal user', () => {
  const served = servedBusybox();

  afterAll(async () => {
    for (const dir of runtimeDirs) await rm(dir, { recursive: true, force: true });
  });

  it(
    'is done to the end in a terminal with rootless umoci, every step passes, and sudo never asks',
    () =>
      finishInTerminal({
        lab: 6,
        labId: 'layers',
        vars: { img: served.image, tlsverify: 'false' },
        wayFor: (step) => (step === 'Copy the image into a layout' ? 'builtin' : 'rootless'),
        passwordAsked: 0,
        timeoutMs: LAB_TIMEOUT_MS,
      }),
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    "passes the steps the learner typed in ocilab's shell, with a diagnosis for each typical mistake",
    async () => {
      const who = await learner('sudo-password');
      const shell = new OcilabShell(await Terminal.open(who, { env: await runtimeDir(who) }), {
        lab: 6,
        id: 'layers',
        steps: 12,
        vars: { img: served.image, tlsverify: 'false' },
        lineTimeoutMs: 60_000,
      });
      const t = shell.terminal;
      // The manifest of base (the last entry once the layout has two), its config's and its layer's file names.
      const manifest = `m=$(jq -r '.manifests[-1].digest' image/index.json | cut -d: -f2)`;
      const layer = `l=$(jq -r '.layers[0].digest' image/blobs/sha256/$m | cut -d: -f2)`;
      try {
        // Copy the image: first to a layout without the tag, then to image:base.
        await shell.enter(2);
        await shell.type('skopeo copy --src-tls-verify="$tlsverify" "docker://$img" oci:image');
        await t.waitFor('Your destination named no tag base');
        await shell.typeUntilPassed('skopeo copy --src-tls-verify="$tlsverify" "docker://$img" oci:image:base');
        await shell.leave();

        // The manifest's blob, hashed through gzip first (a pipe), then as a file.
        await shell.enter(3);
        await shell.type(manifest);
        await shell.type('gzip -dc image/blobs/sha256/$m | sha256sum');
        await t.waitFor('Your sha256sum read a pipe, not the file');
        await shell.typeUntilPassed('sha256sum image/blobs/sha256/$m');
        await shell.leave();

        // The diff_id: the compressed blob hashed first, then the tar inside it.
        await shell.enter(4);
        await shell.type(manifest);
        await shell.type(layer);
        await shell.type('sha256sum image/blobs/sha256/$l');
        await t.waitFor("You hashed the layer's blob as it is stored, compressed");
        await shell.typeUntilPassed('gzip -dc image/blobs/sha256/$l | sha256sum');
        await shell.leave();

        await shell.enter(5);
        await shell.type(manifest);
        await shell.type(layer);
        await shell.typeUntilPassed('tar -tzvf image/blobs/sha256/$l');
        await shell.leave();

        // umoci unpack as a normal user: without --rootless first.
        await shell.enter(6);
        await shell.type('umoci unpack --image image:base bundle');
        await t.waitFor('As a normal user, umoci cannot give the files the owners the image says');
        await shell.typeUntilPassed('umoci unpack --rootless --image image:base bundle');
        await shell.leave();
        expect(await t.count(`[sudo] password for ${who.name}`)).toBe(0);
      } finally {
        await shell.close();
      }
      const lab = await labReport(who, 'layers');
      const status = Object.fromEntries((lab?.steps ?? []).map((s) => [s.id, s.status]));
      expect(status).toMatchObject({
        'copy-the-image-into-a-layout': 'passed',
        'from-index-json-to-the-manifest': 'passed',
        'the-config-and-the-layers-uncompressed': 'passed',
        'inside-a-layer': 'passed',
        'unpack-the-image-with-umoci': 'passed',
      });
    },
    LAB_TIMEOUT_MS,
  );

  it(
    'is done to the end rootless by a learner without sudo, headless, and proves rootless too',
    async () => {
      const who = await learner('no-sudo');
      const vars = { img: served.image, tlsverify: 'false' };
      const env = await runtimeDir(who);
      const run = await runHeadless(who, 6, ['builtin'], vars, env);
      expect(run.all).toMatch(/umoci unpack --rootless/);
      await proveAs(who, 6, ['skopeo'], vars, env);
    },
    LAB_TIMEOUT_MS,
  );
});
