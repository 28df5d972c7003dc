// Lab 6 (layers) as root against a registry on loopback: proven with each way of making the layout
// (builtin, podman, skopeo), run to the end headless, every digest of the finished layout computed
// again here with sha256sum, skopeo inspect and umoci stat (never with ocilab), and verify on that
// workspace with a learner's mistake applied. The lab starts no container.
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { busyboxLayout, DEFAULT_TAG } from '../helpers/image.js';
import { rootLabSkips, rootLabTests } from '../helpers/lab-tests.js';
import { failedChecks } from '../helpers/leftovers.js';

const { noLab, noPodman } = await rootLabSkips(6, false);

const REF_NAME = 'org.opencontainers.image.ref.name';

interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
  annotations?: Record<string, string>;
}
interface Manifest {
  config: Descriptor;
  layers: Descriptor[];
}

async function tool(file: string, args: string[], cwd?: string): Promise<string> {
  const result = await execa(file, args, { reject: false, stdin: 'ignore', ...(cwd ? { cwd } : {}) });
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed (${result.exitCode}):\n${result.stderr}`);
  return result.stdout;
}

const hex = (digest: string) => digest.replace(/^sha256:/, '');
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe.skipIf(noLab)('lab 6: an image is a stack of tarballs', () => {
  const lab = rootLabTests({
    lab: 6,
    short: 'ly',
    containers: false,
    podman: !noPodman,
    vars: ['tlsverify=false'],
    registriesConf: false,
    env: (dir) => ({ XDG_CACHE_HOME: join(dir, 'cache') }),
    timeouts: { run: 200_000, verify: 120_000 },
  });
  const proves = (way: string, image?: string) => lab.proves(way, image ? { image } : {});

  it('proves every check with the builtin way (ocilab pull --layout)', () => proves('builtin'), 220_000);
  it('proves every check with the skopeo way', () => proves('skopeo'), 220_000);
  it.skipIf(noPodman)('proves every check with the podman way', () => proves('podman'), 220_000);

  it("proves the builtin way on an image pushed in Docker's format, whose manifest ocilab writes anew in OCI's for umoci", async () => {
    const docker = `${lab.registry.host}/library/busybox:docker-format`;
    await tool('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--format',
      'v2s2',
      '--dest-tls-verify=false',
      `oci:${await busyboxLayout()}:${DEFAULT_TAG}`,
      `docker://${docker}`,
    ]);
    const raw = await fetch(`${lab.registry.url}/v2/library/busybox/manifests/docker-format`, {
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(raw.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v2+json');
    await raw.body?.cancel();
    await proves('builtin', docker);
  }, 220_000);

  describe('a finished workspace', () => {
    const workspace = lab.finishedWorkspace();
    const layout = () => join(workspace.workdir, 'image');
    const index = async () => JSON.parse(await readFile(join(layout(), 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    const blob = (digest: string) => readFile(join(layout(), 'blobs', 'sha256', hex(digest)));
    const manifestOf = async (tag: string) => {
      const entry = (await index()).manifests.find((m) => m.annotations?.[REF_NAME] === tag);
      if (!entry) throw new Error(`index.json names no ${tag}`);
      return { digest: entry.digest, manifest: JSON.parse((await blob(entry.digest)).toString()) as Manifest };
    };

    it('runs headless to the end, and verify passes on it', () => workspace.expectVerifyPasses(), 140_000);

    it('holds what sha256sum, skopeo inspect and umoci stat say, computed apart from ocilab', async () => {
      // Every blob, hashed by sha256sum itself: its name is its digest.
      const summed = await tool('sh', ['-c', 'sha256sum *'], join(layout(), 'blobs', 'sha256'));
      const lines = summed.trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(7);
      for (const line of lines) expect(line).toMatch(/^([0-9a-f]{64}) {2}\1$/);

      // base is the registry's image, blob for blob: ocilab pull --layout copied it unchanged.
      const remote = JSON.parse(await tool('skopeo', ['inspect', '--tls-verify=false', `docker://${lab.image}`])) as {
        Digest: string;
        Layers: string[];
      };
      const base = JSON.parse(await tool('skopeo', ['inspect', `oci:${layout()}:base`])) as { Digest: string; Layers: string[] };
      expect(base).toMatchObject({ Digest: remote.Digest, Layers: remote.Layers });

      // changed: base's layers and one more; its diff_ids are the layers uncompressed, as umoci stat gives them.
      const changed = JSON.parse(await tool('skopeo', ['inspect', `oci:${layout()}:changed`])) as { Digest: string; Layers: string[] };
      expect(changed.Layers.slice(0, -1)).toEqual(base.Layers);
      expect(changed.Layers).toHaveLength(base.Layers.length + 1);
      const stat = JSON.parse(await tool('umoci', ['stat', '--json', '--image', `${layout()}:changed`])) as {
        history: { layer: Descriptor | null; diff_id: string }[];
      };
      const layered = stat.history.filter((h) => h.layer !== null);
      expect(layered.map((h) => h.layer?.digest)).toEqual(changed.Layers);
      for (const { layer, diff_id } of layered) expect(sha256(gunzipSync(await blob(layer!.digest)))).toBe(diff_id);

      // The new layer, listed by tar: the whiteout and the new file.
      const top = changed.Layers.at(-1)!;
      const listed = (await tool('tar', ['-tzf', join(layout(), 'blobs', 'sha256', hex(top))])).split('\n');
      expect(listed).toContain('bin/.wh.hostname');
      expect(listed).toContain('etc/motd');

      // configured: the same layers, another config, another manifest.
      const configured = JSON.parse(await tool('skopeo', ['inspect', `oci:${layout()}:configured`])) as {
        Digest: string;
        Layers: string[];
        Env: string[];
      };
      expect(configured.Layers).toEqual(changed.Layers);
      expect(configured.Digest).not.toBe(changed.Digest);
      expect(configured.Env).toContain('GREETING=hello');
      const [a, b] = await Promise.all([manifestOf('changed'), manifestOf('configured')]);
      expect(a.digest).toBe(changed.Digest);
      expect(b.manifest.config.digest).not.toBe(a.manifest.config.digest);
    }, 60_000);

    it('a layer edited in the layout instead of the rootfs: the digest checks recompute and find its name and diff_id wrong', async () => {
      const { manifest } = await manifestOf('base');
      const layer = manifest.layers[0]!;
      const file = join(layout(), 'blobs', 'sha256', hex(layer.digest));
      const saved = join(lab.dir, 'saved-layer');
      await copyFile(file, saved);
      // As a learner might: unpack the base layer's tar, drop bin/hostname from it, pack it under the same name.
      const tarFile = join(lab.dir, 'layer.tar');
      await writeFile(tarFile, gunzipSync(await readFile(file)));
      await tool('tar', ['--delete', '-f', tarFile, 'bin/hostname']);
      await writeFile(file, gzipSync(await readFile(tarFile)));
      try {
        const now = await readFile(file);
        expect(sha256(now), 'the blob no longer has the digest its name says').not.toBe(layer.digest);
        const { result, report } = await workspace.verify();
        expect(result.exitCode).toBe(1);
        const wrong = failedChecks(report);
        const byTitle = (step: string) => wrong.filter((c) => c.step === step && c.kind === 'command');
        expect(byTitle('copy-the-image-into-a-layout')[0]?.actual).toContain(`${hex(layer.digest)}: FAILED`);
        const diffId = byTitle('the-config-and-the-layers-uncompressed')[0];
        expect(diffId?.actual).toContain(`layer ${layer.digest} uncompressed is ${sha256(gunzipSync(now))}`);
        expect(byTitle('make-a-layer-add-a-file-delete-one').at(-1)?.actual).toContain(`${hex(layer.digest)}: FAILED`);
      } finally {
        await copyFile(saved, file);
      }
    }, 140_000);

    it('a deletion made outside bundle/rootfs: the new layer has no whiteout, and the diagnosis says where to delete', async () => {
      const saved = await readFile(join(layout(), 'index.json'));
      const hostname = join(workspace.workdir, 'bundle', 'rootfs', 'bin', 'hostname');
      // bin/hostname back in the unpacked rootfs, and repacked as changed: as if rm had gone elsewhere.
      await symlink('/bin/busybox', hostname);
      await tool('umoci', ['repack', '--image', `${layout()}:changed`, join(workspace.workdir, 'bundle')]);
      try {
        const { result, report } = await workspace.verify();
        expect(result.exitCode).toBe(1);
        const wrong = failedChecks(report);
        const steps = new Set(wrong.map((c) => c.step));
        expect(steps.has('make-a-layer-add-a-file-delete-one')).toBe(true);
        const whiteout = wrong.find((c) => c.step === 'make-a-layer-add-a-file-delete-one');
        expect(whiteout?.message).toMatch(/does not match/);
        expect(whiteout?.hint).toContain('rm bundle/rootfs/bin/hostname');
        expect(wrong.find((c) => c.step === 'find-the-new-layer-and-its-whiteout')?.kind).toBe('output');
        expect(result.stderr).toContain('bundle/rootfs/bin/hostname is still there, so umoci repack had no deletion to record');
      } finally {
        await rm(hostname, { force: true });
        await writeFile(join(layout(), 'index.json'), saved);
      }
    }, 140_000);

    it('Cmd given as one word: the config check fails and shows the Cmd the image got', async () => {
      const saved = await readFile(join(layout(), 'index.json'));
      await tool('umoci', ['config', '--image', `${layout()}:changed`, '--tag', 'configured', '--config.cmd', 'cat /etc/motd']);
      try {
        const { result, report } = await workspace.verify();
        expect(result.exitCode).toBe(1);
        const wrong = failedChecks(report);
        expect(wrong.map((c) => c.step)).toEqual(['change-the-config-not-the-layers']);
        expect(wrong[0]).toMatchObject({ kind: 'command', expected: '[["cat","/etc/motd"],["GREETING=hello"]]' });
        expect(wrong[0]?.actual).toContain('[["cat /etc/motd"]');
      } finally {
        await writeFile(join(layout(), 'index.json'), saved);
      }
    }, 140_000);
  });
});
