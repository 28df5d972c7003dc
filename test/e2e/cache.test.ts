// `ocilab cache export` and `import` as an instructor and learners run them: busybox pulled once from the
// CNCF distribution registry on loopback (and a second image from a registry double), exported, the
// registries stopped, then imported into clean caches (root's, and a learner's own) from which
// `ocilab pull --offline` unpacks the same trees; tampered tarballs refused with nothing imported.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cacheListing,
  contentsOf,
  memoryImage,
  readTarball,
  tamper,
  unpackedTree,
  withContents,
  type TarballEntry,
} from '../helpers/cache-tarball.js';
import { runCli } from '../helpers/cli.js';
import { startMirror, type Mirror } from '../helpers/fake-registries.js';
import { pushBusybox } from '../helpers/image.js';
import { OCI } from '../helpers/image-content.js';
import { asLearner, learner, learnerOcilab, learnersUsable } from '../helpers/learners.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { registryToolsUsable, skipUnless } from '../helpers/services.js';

const noRegistry = skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');
const noLearners = !(await learnersUsable());

let dir: string;
let count = 0;
const fresh = (name: string) => join(dir, `${++count}-${name}`);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-cache-cli-'));
  // Learners read the tarballs from here.
  await chmod(dir, 0o755);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const USAGE = 'ocilab: `ocilab cache` takes `export FILE [IMAGE...]` or `import [FILE]`';

describe('ocilab cache without a registry', () => {
  it('is listed in the main help, and has its own', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(
      /ocilab cache export\|import <file>\s+carry the image cache to machines without the network/,
    );
    const help = await runCli(['cache', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ocilab cache export\|import <file> \[options\]/);
    expect(help.stdout).toContain('ocilab cache import [FILE]');
  });

  it.each([
    [['cache'], USAGE],
    [['cache', 'frob'], "ocilab: Unknown action 'frob'. "],
    [['cache', 'export'], USAGE],
    [['cache', 'import', 'a.tar', 'b.tar'], 'ocilab: `ocilab cache import` takes one tarball.'],
    [['cache', 'import', '/nonexistent/images.tar'], 'ocilab: Cannot read /nonexistent/images.tar: ENOENT.'],
    [['cache', 'export', '/nonexistent/images.tar', 'Busybox'], "ocilab: 'Busybox' is not an image reference"],
    [['cache', 'import'], 'ocilab: No workshop file is in effect, so `ocilab cache import` needs the tarball to import'],
  ])('refuses %j with exit 2', async (args, message) => {
    const result = await runCli(args, { env: { XDG_CACHE_HOME: fresh('cache'), OCILAB_WORKSHOP: 'none' } });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(message), result.stderr).toBe(true);
  });

  it('exits 1 for an export of an empty cache, saying what to pull', async () => {
    const result = await runCli(['cache', 'export', fresh('images.tar')], { env: { XDG_CACHE_HOME: fresh('cache') } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^ocilab: The cache \(.*\) holds no image: pull the images the labs need first/);
  });
});

describe.skipIf(noRegistry)('ocilab cache with images pulled from registries that are then stopped', () => {
  let registry: Registry | undefined;
  let mirror: Mirror | undefined;
  let busybox: string;
  let tools: string;
  const instructor = { XDG_CACHE_HOME: '' };
  const trees: Record<string, string> = {};
  let all: string;
  let one: string;
  let other: string;

  beforeAll(async () => {
    registry = await startRegistry();
    busybox = await pushBusybox(registry.host);
    const image = memoryImage('unused', 'tools');
    mirror = await startMirror({
      repository: 'team/tools',
      manifests: { '2': { bytes: image.manifest.bytes, contentType: OCI.manifest } },
      blobs: Object.fromEntries([image.config, ...image.layers].map((b) => [b.digest, b.bytes])),
    });
    tools = `${new URL(mirror.url).host}/team/tools:2`;
    instructor.XDG_CACHE_HOME = fresh('instructor-cache');
    for (const reference of [busybox, tools]) {
      trees[reference] = fresh('rootfs');
      const pulled = await runCli(['pull', reference, '--rootfs', trees[reference]], { env: instructor });
      expect(pulled.exitCode, pulled.all).toBe(0);
    }
    all = join(dir, 'all.tar');
    one = join(dir, 'busybox.tar');
    other = join(dir, 'tools.tar');
  });
  afterAll(async () => {
    await registry?.stop();
    await mirror?.close();
  });
  /** The two images, a line each, in the order of their references (their ports decide it). */
  const bothListed = () =>
    [busybox, tools]
      .sort()
      .map((t) => `  ${t}\n`)
      .join('');

  it('exports every image, or only the one named with only its blobs, and says what it wrote', async () => {
    const everything = await runCli(['cache', 'export', all], { env: instructor });
    expect(everything.exitCode, everything.all).toBe(0);
    expect(everything.stdout).toMatch(new RegExp(`^Exported 2 tags and 7 blobs \\([\\d.]+ [kM]B\\) from .* to ${all}:\n${bothListed()}`));
    expect((await runCli(['cache', 'export', other, tools], { env: instructor })).exitCode).toBe(0);
    const only = await runCli(['cache', 'export', one, busybox], { env: instructor });
    expect(only.exitCode, only.all).toBe(0);
    expect(only.stdout).toMatch(new RegExp(`^Exported 1 tag and 3 blobs \\(.*\\) from .* to ${one}:\n  ${busybox}\n`));

    const entries = readTarball(await readFile(one));
    const contents = contentsOf(entries);
    expect(contents.tags.map((t) => t.image)).toEqual([busybox]);
    const manifest = JSON.parse((await readBlob(contents.tags[0]?.digest ?? '')).toString()) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    const reached = [contents.tags[0]?.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    expect(entries.map((e) => e.path)).toEqual(['ocilab-cache.json', ...reached.map((d) => `blobs/sha256/${d?.slice(7) ?? ''}`)]);

    // From here on, no registry answers: what follows works without the network.
    await registry?.stop();
    registry = undefined;
    await mirror?.close();
    mirror = undefined;
  });

  const readBlob = (digest: string) => readFile(join(instructor.XDG_CACHE_HOME, 'ocilab', 'blobs', 'sha256', digest.slice(7)));

  it('imported into a clean cache, lets pull --offline unpack the same trees as the pulls from the registries', async () => {
    const env = { XDG_CACHE_HOME: fresh('cache') };
    const imported = await runCli(['cache', 'import', all], { env });
    expect(imported.exitCode, imported.all).toBe(0);
    expect(imported.stdout).toMatch(
      new RegExp(
        `^Imported ${all} into ${env.XDG_CACHE_HOME}/ocilab: 7 blobs \\(.*\\) and 2 tags, new here: 7 blobs and 2 tags:\n${bothListed()}`,
      ),
    );
    for (const reference of [busybox, tools]) {
      const rootfs = fresh('rootfs');
      const pulled = await runCli(['pull', reference, '--rootfs', rootfs, '--offline'], { env });
      expect(pulled.exitCode, pulled.all).toBe(0);
      expect(await unpackedTree(rootfs)).toEqual(await unpackedTree(trees[reference] ?? ''));
    }
  });

  it('imported twice, adds nothing the second time', async () => {
    const env = { XDG_CACHE_HOME: fresh('cache') };
    expect((await runCli(['cache', 'import', one], { env })).exitCode).toBe(0);
    const before = await cacheListing(join(env.XDG_CACHE_HOME, 'ocilab'));
    const again = await runCli(['cache', 'import', one], { env });
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toMatch(
      new RegExp(
        `^The cache \\(${env.XDG_CACHE_HOME}/ocilab\\) already held everything in ${one}: 3 blobs \\(.*\\) and 1 tag:\n  ${busybox}\n$`,
      ),
    );
    expect(await cacheListing(join(env.XDG_CACHE_HOME, 'ocilab'))).toEqual(before);
  });

  const layerOf = (entries: TarballEntry[]) => entries[entries.length - 1]?.path ?? '';
  it.each<[string, (entries: TarballEntry[]) => TarballEntry[], (entries: TarballEntry[]) => string]>([
    [
      'one byte of its layer changed',
      (entries) =>
        entries.map((e, i) => {
          if (i !== entries.length - 1 || !e.body) return e;
          const body = Buffer.from(e.body);
          body[body.length >> 1] = (body[body.length >> 1] ?? 0) ^ 1;
          return { ...e, body };
        }),
      (entries) => `the blob ${layerOf(entries)} is not what its name says`,
    ],
    [
      'a symbolic link',
      (entries) => [...entries, { path: 'blobs/sha256/link', type: 'symlink', target: '/etc/shadow' }],
      () => 'the entry blobs/sha256/link is a symbolic link (to /etc/shadow)',
    ],
    [
      'an entry with ../',
      (entries) => [...entries, { path: '../.profile', type: 'file', body: Buffer.from('echo owned\n') }],
      () => "the entry ../.profile is a path that climbs out with '..'",
    ],
    [
      'a tag naming a manifest it does not hold',
      (entries) => {
        const contents = contentsOf(entries);
        const manifest = contents.tags[0]?.digest ?? '';
        contents.blobs = contents.blobs.filter((b) => b.digest !== manifest);
        return withContents(
          entries.filter((e) => e.path !== `blobs/sha256/${manifest.slice(7)}`),
          contents,
        );
      },
      () => `the tag ${busybox} in its ocilab-cache.json names the manifest sha256:`,
    ],
  ])('refuses a tarball with %s with exit 1, naming it, and imports nothing', async (_, change, named) => {
    const bad = fresh('bad.tar');
    await tamper(one, bad, change);
    const env = { XDG_CACHE_HOME: fresh('cache') };
    // A cache in use: it holds the other image already.
    expect((await runCli(['cache', 'import', other], { env })).exitCode).toBe(0);
    const before = await cacheListing(join(env.XDG_CACHE_HOME, 'ocilab'));
    const result = await runCli(['cache', 'import', bad], { env });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`ocilab: ocilab refused ${bad}: ${named(readTarball(await readFile(one)))}`);
    expect(result.stderr).toMatch(/Nothing of it was imported\.\n$/);
    expect(await cacheListing(join(env.XDG_CACHE_HOME, 'ocilab'))).toEqual(before);
  });

  it('imports the tarball the workshop names when given none, and says so', async () => {
    const workshops = fresh('workshop');
    await mkdir(workshops);
    const workshop = join(workshops, 'workshop.yml');
    await writeFile(workshop, `ocilab-workshop: 1\ntitle: Offline room\nlabs: [runc]\ncache: ../${one.split('/').pop() ?? ''}\n`);
    const env = { XDG_CACHE_HOME: fresh('cache') };
    const result = await runCli(['cache', 'import', '--workshop', workshop], { env });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stderr).toBe(`Importing ${one}, the image cache the workshop ${workshop} names.\n`);
    expect(result.stdout).toContain(`Imported ${one} into ${env.XDG_CACHE_HOME}/ocilab: 3 blobs`);

    await writeFile(workshop, 'ocilab-workshop: 1\ntitle: Online room\nlabs: [runc]\n');
    const none = await runCli(['cache', 'import'], { env: { ...env, OCILAB_WORKSHOP: workshop } });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toBe(
      `ocilab: The workshop ${workshop} names no cache tarball (\`cache:\`), so \`ocilab cache import\` needs the tarball to import, e.g. \`ocilab cache import images.tar\`.\n`,
    );
  });

  it.skipIf(noLearners)('is imported by a learner into their own cache, from which they pull --offline as themselves', async () => {
    const who = await learner('no-sudo');
    const imported = await asLearner(who, [learnerOcilab, 'cache', 'import', one]);
    expect(imported.exitCode, imported.all).toBe(0);
    expect(imported.stdout).toContain(`Imported ${one} into ${who.home}/.cache/ocilab: 3 blobs`);
    const pulled = await asLearner(who, [learnerOcilab, 'pull', busybox, '--rootfs', 'rootfs', '--offline']);
    expect(pulled.exitCode, pulled.all).toBe(0);
    const cache = await cacheListing(join(who.home, '.cache', 'ocilab'));
    expect([...cache.values()].filter((node) => node.uid !== who.uid)).toEqual([]);
    const theirs = await unpackedTree(join(who.home, 'rootfs'));
    const ours = await unpackedTree(trees[busybox] ?? '');
    const shape = (tree: typeof ours) => [...tree].map(([path, { type, mode, size, content }]) => ({ path, type, mode, size, content }));
    expect(shape(theirs)).toEqual(shape(ours));
  });
});
