// pull() against the real CNCF distribution registry on loopback, judged by umoci: an image of four
// layers built here with umoci (busybox; many small files with setuid, sticky, symlinks, hard links,
// owners and a FIFO; deletions umoci writes as whiteouts; a hand-written layer with an opaque
// whiteout) is pushed with skopeo, pulled by ocilab, and the tree compared with what `skopeo copy` +
// `umoci unpack` make of the same image. Then the cache: a second pull downloads no blob, and
// --offline needs no registry.
import { randomBytes } from 'node:crypto';
import { chmod, chown, link, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PullError } from '../../src/oci/errors.js';
import type { SpecialFile } from '../../src/oci/layer-entries.js';
import { pull } from '../../src/oci/pull.js';
import { parseReference } from '../../src/oci/reference.js';
import { Transport } from '../../src/oci/transport.js';
import { layerTar, snapshotTree, type NodeSnapshot } from '../helpers/layers.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { makeBusyboxRootfs } from '../helpers/rootfs.js';
import { isRoot, registryToolsUsable, skipUnless } from '../helpers/services.js';

const noRegistry = skipUnless(await registryToolsUsable(), 'docker-registry, busybox-static, umoci or skopeo is not installed');

const REPOSITORY = 'ocilab/layered';
const TAG = '1.0';
const TOOL_TIMEOUT_MS = 120_000;
/** Small files in the second layer, spread over directories. */
const SMALL_FILES = 600;

async function tool(file: string, args: string[]): Promise<void> {
  const result = await execa(file, args, { reject: false, stdin: 'ignore', timeout: TOOL_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed (${result.exitCode ?? result.signal}):\n${result.stderr}`);
}

/** Device nodes and FIFOs as the CLI makes them: mknod(1). */
async function mknod(special: SpecialFile): Promise<void> {
  const type = { 'character device': 'c', 'block device': 'b', fifo: 'p' }[special.kind];
  const numbers = special.kind === 'fifo' ? [] : [String(special.major), String(special.minor)];
  await tool('mknod', ['-m', '0600', special.hostPath, type, ...numbers]);
}

/** Builds the image in an OCI layout with umoci, one layer per stage, and returns the layout's path. */
async function buildImage(dir: string): Promise<string> {
  const layout = join(dir, 'layout');
  const image = `${layout}:${TAG}`;
  const bundle = join(dir, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  const at = (path: string) => join(rootfs, path);
  const rootless = isRoot() ? [] : ['--rootless'];
  const repack = () => tool('umoci', ['repack', '--refresh-bundle', '--image', image, bundle]);
  await tool('umoci', ['init', '--layout', layout]);
  await tool('umoci', ['new', '--image', image]);
  await tool('umoci', ['unpack', ...rootless, '--image', image, bundle]);

  // 1: busybox.
  await makeBusyboxRootfs(rootfs);
  await repack();

  // 2: many small files and every kind of entry.
  for (let i = 0; i < SMALL_FILES; i++) {
    const sub = at(`usr/share/many/d${i % 10}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `f${i}.txt`), `file ${i}\n`.repeat(i % 7));
  }
  await mkdir(at('usr/bin'), { recursive: true });
  await mkdir(at('usr/lib'), { recursive: true });
  await writeFile(at('usr/bin/setuid-tool'), '#!/bin/sh\n');
  await chmod(at('usr/bin/setuid-tool'), 0o4755);
  await writeFile(at('usr/bin/setgid-tool'), '#!/bin/sh\n');
  await chmod(at('usr/bin/setgid-tool'), 0o2711);
  await mkdir(at('var/tmp'), { recursive: true });
  await chmod(at('var/tmp'), 0o1777);
  await mkdir(at('root'), { mode: 0o700 });
  await chmod(at('root'), 0o700);
  await writeFile(at('root/secret'), 'only root\n', { mode: 0o600 });
  await writeFile(at('usr/lib/libdemo.so.1.2.3'), randomBytes(3 << 20));
  await symlink('libdemo.so.1.2.3', at('usr/lib/libdemo.so.1'));
  await symlink('libdemo.so.1', at('usr/lib/libdemo.so'));
  await symlink('lib', at('usr/lib64'));
  await symlink('/usr/share/zoneinfo/UTC', at('etc/localtime'));
  await writeFile(at('usr/bin/hard-a'), 'one inode, two names\n');
  await link(at('usr/bin/hard-a'), at('usr/bin/hard-b'));
  await writeFile(at('etc/old-config'), 'deleted in layer 3\n');
  await writeFile(at('etc/motd'), 'layer 2\n');
  await writeFile(at('etc/empty'), '');
  await writeFile(at('etc/read-only'), 'r\n', { mode: 0o444 });
  await chmod(at('etc/read-only'), 0o444);
  await writeFile(at('etc/ünïcode name with spaces.txt'), 'ü\n');
  const deep = at(`opt/${'a-long-directory-name/'.repeat(6)}`);
  await mkdir(deep, { recursive: true });
  await writeFile(join(deep, 'a-file-whose-path-is-longer-than-one-hundred-characters.txt'), 'pax\n');
  await mkdir(at('opt/dir-to-file'), { recursive: true });
  await writeFile(at('opt/dir-to-file/child'), 'goes away with its directory\n');
  await mkdir(at('run'), { recursive: true });
  await tool('mknod', [at('run/fifo'), 'p']);
  if (isRoot()) {
    await writeFile(at('home-of-ada'), 'owned by 1000:1000\n');
    await chown(at('home-of-ada'), 1000, 1000);
    await mkdir(at('dev'), { recursive: true });
    await tool('mknod', ['-m', '0666', at('dev/null-like'), 'c', '1', '3']);
  }
  await repack();

  // 3: deletions (whiteouts) and changes.
  await unlink(at('etc/old-config'));
  await rm(at('usr/share/many/d3'), { recursive: true });
  await rm(at('opt/dir-to-file'), { recursive: true });
  await writeFile(at('opt/dir-to-file'), 'a directory replaced by a file\n');
  await writeFile(at('etc/motd'), 'layer 3\n');
  await chmod(at('usr/bin/setgid-tool'), 0o755);
  await repack();

  // 4: written by hand: an opaque directory, a whiteout of one name of a hard-linked file, a file replaced by a directory.
  const layer4 = join(dir, 'layer4.tar');
  await writeFile(
    layer4,
    layerTar([
      { path: 'usr/share/many/d1/', type: 'dir' },
      { path: 'usr/share/many/d1/.wh..wh..opq', type: 'file' },
      { path: 'usr/share/many/d1/only-this', type: 'file', content: 'the rest of d1 is hidden\n' },
      { path: 'usr/bin/.wh.hard-a', type: 'file' },
      { path: 'etc/empty/', type: 'dir', mode: 0o750 },
      { path: 'etc/empty/child', type: 'file', content: 'a file replaced by a directory\n' },
    ]),
  );
  await tool('umoci', ['raw', 'add-layer', '--image', image, layer4]);
  await tool('umoci', ['gc', '--layout', layout]);
  return layout;
}

/** A snapshot without what differs by design: the mtimes of directories whose contents a later layer changed. */
function comparable(tree: Map<string, NodeSnapshot>, root: boolean): Record<string, Partial<NodeSnapshot>> {
  return Object.fromEntries(
    [...tree].map(([path, { type, mode, uid, gid, size, content, mtimeMs }]) => [
      path,
      {
        type,
        mode,
        ...(type === 'dir' ? {} : { size, mtimeMs }),
        ...(content === undefined ? {} : { content }),
        ...(root ? { uid, gid } : {}),
      },
    ]),
  );
}

describe.skipIf(noRegistry)('pull from the CNCF distribution registry', () => {
  let registry: Registry;
  let dir: string;
  let reference: string;
  /** What umoci unpacks from the image as skopeo copies it from the registry. */
  let umociTree: Map<string, NodeSnapshot>;

  beforeAll(async () => {
    registry = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'ocilab-pull-registry-'));
    const layout = await buildImage(join(dir, 'build'));
    reference = `${registry.host}/${REPOSITORY}:${TAG}`;
    await tool('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${layout}:${TAG}`,
      `docker://${reference}`,
    ]);
    const copied = join(dir, 'copied');
    await tool('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${reference}`,
      `oci:${copied}:${TAG}`,
    ]);
    await tool('umoci', ['unpack', ...(isRoot() ? [] : ['--rootless']), '--image', `${copied}:${TAG}`, join(dir, 'umoci')]);
    umociTree = await snapshotTree(join(dir, 'umoci', 'rootfs'));
  });

  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A transport that counts what it asks for. */
  function countingTransport(): { transport: Transport; asked: string[] } {
    const asked: string[] = [];
    const counting: typeof fetch = (input, init) => {
      asked.push(`${init?.method ?? 'GET'} ${new URL(input instanceof Request ? input.url : input.toString()).pathname}`);
      return fetch(input, init);
    };
    return { transport: new Transport({ fetch: counting, dockerConfig: join(dir, 'no-docker-config.json') }), asked };
  }

  it('unpacks the same tree as skopeo copy + umoci unpack: paths, types, modes, owners, link targets, sizes, contents', async () => {
    const rootfs = join(dir, 'ocilab');
    const notes: string[] = [];
    const result = await pull(parseReference(reference), rootfs, {
      cacheDir: join(dir, 'cache-compare'),
      platform: 'linux/amd64',
      makeSpecialFile: mknod,
      onNote: (n) => notes.push(n),
    });
    expect(notes).toEqual([]);
    expect(result.layers).toHaveLength(4);
    expect(result.layers.map((l) => l.whiteouts)).toEqual([0, 0, 3, 2]);
    const ours = comparable(await snapshotTree(rootfs), isRoot());
    const theirs = comparable(umociTree, isRoot());
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    expect(ours).toEqual(theirs);
    // The layers did what the test meant them to do, so the comparison covers it.
    expect(ours['usr/share/many/d1']).toBeDefined();
    expect(Object.keys(ours).filter((p) => p.startsWith('usr/share/many/d1/'))).toEqual(['usr/share/many/d1/only-this']);
    expect(ours['usr/share/many/d3']).toBeUndefined();
    expect(ours['usr/bin/hard-a']).toBeUndefined();
    expect(ours['opt/dir-to-file']?.type).toBe('file');
    expect(ours['etc/empty']?.type).toBe('dir');
    expect(ours['usr/bin/setuid-tool']?.mode).toBe(0o4755);
    expect(ours['var/tmp']?.mode).toBe(0o1777);
    expect(ours['etc/localtime']?.content).toBe('/usr/share/zoneinfo/UTC');
    expect(ours['run/fifo']?.type).toBe('other');
  });

  it('pulls a second time without downloading a blob: one HEAD request for the tag, none by digest', async () => {
    const cacheDir = join(dir, 'cache-twice');
    const first = countingTransport();
    const pulled = await pull(parseReference(reference), join(dir, 'first'), {
      transport: first.transport,
      cacheDir,
      platform: 'linux/amd64',
      makeSpecialFile: mknod,
    });
    expect(first.asked.filter((a) => a.includes('/blobs/'))).toHaveLength(5);
    expect(pulled.cachedLayers).toBe(0);

    const second = countingTransport();
    const again = await pull(parseReference(reference), join(dir, 'second'), {
      transport: second.transport,
      cacheDir,
      platform: 'linux/amd64',
      makeSpecialFile: mknod,
    });
    expect(second.asked).toEqual([`HEAD /v2/${REPOSITORY}/manifests/${TAG}`]);
    expect(again).toMatchObject({ digest: pulled.digest, downloadedBytes: 0, cachedLayers: 4 });
    expect(comparable(await snapshotTree(join(dir, 'second')), isRoot())).toEqual(comparable(umociTree, isRoot()));

    const byDigest = countingTransport();
    const pinned = parseReference(`${registry.host}/${REPOSITORY}@${pulled.digest}`);
    await pull(pinned, join(dir, 'pinned'), { transport: byDigest.transport, cacheDir, platform: 'linux/amd64', makeSpecialFile: mknod });
    expect(byDigest.asked).toEqual([]);
  });

  it('pulls --offline from what an earlier pull cached, and without a cache says what is missing', async () => {
    const cacheDir = join(dir, 'cache-offline');
    const refusing = new Transport({
      fetch: () => Promise.reject(new Error('an offline pull asked the network')),
      dockerConfig: join(dir, 'no-docker-config.json'),
    });
    const error = await pull(parseReference(reference), join(dir, 'offline-empty'), { transport: refusing, cacheDir, offline: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PullError);
    expect((error as Error).message).toContain(`--offline: ${reference} was never pulled with this cache (${cacheDir})`);

    await pull(parseReference(reference), join(dir, 'online'), { cacheDir, platform: 'linux/amd64', makeSpecialFile: mknod });
    const rootfs = join(dir, 'offline');
    await pull(parseReference(reference), rootfs, {
      transport: refusing,
      cacheDir,
      offline: true,
      platform: 'linux/amd64',
      makeSpecialFile: mknod,
    });
    expect(comparable(await snapshotTree(rootfs), isRoot())).toEqual(comparable(umociTree, isRoot()));
  });
});
