// Lab 6 as normal users. With sudo (whose password sudo would ask), in a real terminal: ocilab runs
// each step, rootless umoci, and sudo never asks, since nothing in the lab needs root; or the learner
// types the steps in ocilab's shell, mistakes and their diagnoses included. Without sudo: headless to
// the end, and proven.
import { mkdir, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { pushBusybox } from '../helpers/image.js';
import { driveLab } from '../helpers/lab-driver.js';
import { asLearner, learner, learnerOcilab, learnersUsable } from '../helpers/learners.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';
import { Terminal } from '../helpers/terminal.js';

const STEP_PASSES = 'every check of this step passes';

const skip = skipUnless(
  (await learnersUsable()) && (await registryToolsUsable()),
  'needs root (to create learners), sudo, runuser, tmux, script, docker-registry, busybox-static, umoci and skopeo',
);

const LAB_TIMEOUT_MS = 180_000;

interface ReportJson {
  labs: { id: string; state: string; steps: { id: string; kind: string; status: string; checks: { status: string }[] }[] }[];
}

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

async function reportOf(who: Awaited<ReturnType<typeof learner>>) {
  const reported = await asLearner(who, [learnerOcilab, 'report', '--json']);
  expect(reported.exitCode, reported.all).toBe(0);
  return (JSON.parse(reported.stdout) as ReportJson).labs.find((l) => l.id === 'layers');
}

describe.skipIf(skip)('lab 6 as a normal user', () => {
  let registry: Registry;
  let image: string;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
  });

  afterAll(async () => {
    await registry?.stop();
    for (const dir of runtimeDirs) await rm(dir, { recursive: true, force: true });
  });

  it(
    'is done to the end in a terminal with rootless umoci, every step passes, and sudo never asks',
    async () => {
      const who = await learner('sudo-password');
      const terminal = await Terminal.open(who);
      try {
        await terminal.line(`${learnerOcilab} run 6 --var img=${image} --var tlsverify=false; echo "ocilab exited with $?"`);
        await driveLab(terminal, {
          who,
          timeoutMs: LAB_TIMEOUT_MS,
          wayFor: (step) => (step === 'Copy the image into a layout' ? 'builtin' : 'rootless'),
        });
        const screen = await terminal.waitFor(/ocilab exited with \d+/, 1, LAB_TIMEOUT_MS);
        expect(screen).toContain('ocilab exited with 0');
        expect(await terminal.count('[sudo] password for')).toBe(0);
      } finally {
        await terminal.close();
      }
      const lab = await reportOf(who);
      expect(lab?.state).toBe('finished');
      for (const step of lab?.steps ?? []) {
        expect(step.status, step.id).toBe(step.kind === 'task' ? 'passed' : 'read');
        for (const check of step.checks) expect(check.status, step.id).toBe('passed');
      }
    },
    LAB_TIMEOUT_MS + 30_000,
  );

  it(
    "passes the steps the learner typed in ocilab's shell, with a diagnosis for each typical mistake",
    async () => {
      const who = await learner('sudo-password');
      const vars = `--var img=${image} --var tlsverify=false`;
      const t = await Terminal.open(who, { env: await runtimeDir(who) });
      // The shell's prompt runs the checks before it reads the next line: type only at the prompt.
      const PROMPT = '~/ocilab/layers $';
      const type = async (line: string) => {
        const prompts = await t.count(PROMPT);
        await t.line(line);
        await t.waitFor(PROMPT, prompts + 1, 60_000);
      };
      const typeUntilPassed = async (line: string) => {
        const passes = await t.next(STEP_PASSES);
        await type(line);
        await passes(60_000);
      };
      let done = 0;
      const shell = async (step: number) => {
        await t.line(`${learnerOcilab} shell 6 ${vars}`);
        await t.waitFor(`[ocilab layers ${step}/12`);
      };
      const leave = async () => {
        await t.line('exit');
        await t.waitFor('Step done.', ++done);
      };
      // The manifest of base (the last entry once the layout has two), its config's and its layer's file names.
      const manifest = `m=$(jq -r '.manifests[-1].digest' image/index.json | cut -d: -f2)`;
      const layer = `l=$(jq -r '.layers[0].digest' image/blobs/sha256/$m | cut -d: -f2)`;
      try {
        await t.waitFor('$ ');
        // Copy the image: first to a layout without the tag, then to image:base.
        await shell(2);
        await type('skopeo copy --src-tls-verify="$tlsverify" "docker://$img" oci:image');
        await t.waitFor('Your destination named no tag base');
        await typeUntilPassed('skopeo copy --src-tls-verify="$tlsverify" "docker://$img" oci:image:base');
        await leave();

        // The manifest's blob, hashed through gzip first (a pipe), then as a file.
        await shell(3);
        await type(manifest);
        await type('gzip -dc image/blobs/sha256/$m | sha256sum');
        await t.waitFor('Your sha256sum read a pipe, not the file');
        await typeUntilPassed('sha256sum image/blobs/sha256/$m');
        await leave();

        // The diff_id: the compressed blob hashed first, then the tar inside it.
        await shell(4);
        await type(manifest);
        await type(layer);
        await type('sha256sum image/blobs/sha256/$l');
        await t.waitFor("You hashed the layer's blob as it is stored, compressed");
        await typeUntilPassed('gzip -dc image/blobs/sha256/$l | sha256sum');
        await leave();

        await shell(5);
        await type(manifest);
        await type(layer);
        await typeUntilPassed('tar -tzvf image/blobs/sha256/$l');
        await leave();

        // umoci unpack as a normal user: without --rootless first.
        await shell(6);
        await type('umoci unpack --image image:base bundle');
        await t.waitFor('As a normal user, umoci cannot give the files the owners the image says');
        await typeUntilPassed('umoci unpack --rootless --image image:base bundle');
        await leave();
        expect(await t.count(`[sudo] password for ${who.name}`)).toBe(0);
      } finally {
        await t.close();
      }
      const lab = await reportOf(who);
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
      const vars = ['--var', `img=${image}`, '--var', 'tlsverify=false'];
      const env = await runtimeDir(who);
      const run = await asLearner(who, [learnerOcilab, 'run', '6', '--yes', '--use', 'builtin', ...vars], { env });
      expect(run.exitCode, run.all).toBe(0);
      expect(run.all).not.toMatch(/✗|could not check/);
      expect(run.all).toMatch(/umoci unpack --rootless/);
      const proved = await asLearner(who, [learnerOcilab, 'prove', '6', '--use', 'skopeo', ...vars], { env });
      expect(proved.exitCode, proved.all).toBe(0);
      expect(proved.stdout).not.toMatch(/✗/);
    },
    LAB_TIMEOUT_MS,
  );
});
