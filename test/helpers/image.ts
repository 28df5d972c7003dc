// A small real image for the labs to pull: Debian's static busybox in one layer, built as an OCI
// layout with umoci and pushed with skopeo, so no test needs a public registry; and a registry on
// loopback that serves it to every test of a describe block.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll } from 'vitest';
import { startRegistry, type Registry } from './registry.js';
import { BUSYBOX, makeBusyboxRootfs } from './rootfs.js';
import { isRoot } from './services.js';

export const DEFAULT_REPOSITORY = 'library/busybox';
export const DEFAULT_TAG = '1.36';

/** Bump when buildLayout changes, so a cached layout of the old recipe is not reused. */
const RECIPE = 'umoci-1';
const ROOTFS_SOURCE = new URL('./rootfs.ts', import.meta.url);
const TOOL_TIMEOUT_MS = 120_000;

async function tool(file: string, args: string[]): Promise<void> {
  const result = await execa(file, args, { reject: false, stdin: 'ignore', timeout: TOOL_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    throw new Error(`${file} ${args.join(' ')} failed (${result.exitCode ?? result.signal}):\n${result.stderr}`);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function buildLayout(layout: string): Promise<void> {
  const image = `${layout}:${DEFAULT_TAG}`;
  const bundle = `${layout}.bundle`;
  // umoci needs --rootless to unpack and repack without root; the files are then owned by us.
  const rootless = isRoot() ? [] : ['--rootless'];
  await tool('umoci', ['init', '--layout', layout]);
  await tool('umoci', ['new', '--image', image]);
  await tool('umoci', ['unpack', ...rootless, '--image', image, bundle]);
  await makeBusyboxRootfs(join(bundle, 'rootfs'));
  await tool('umoci', ['repack', '--image', image, bundle]);
  await tool('umoci', ['config', '--image', image, '--config.cmd', 'sh']);
  await tool('umoci', ['gc', '--layout', layout]);
  await rm(bundle, { recursive: true, force: true });
}

let layoutPromise: Promise<string> | undefined;

/**
 * The OCI layout of the busybox image (tag `1.36`), its one layer the rootfs of `makeBusyboxRootfs`.
 * Built once and kept in the temp directory under a name made of the hashes of the busybox binary and
 * of the recipe, so later test files and runs reuse it.
 */
export function busyboxLayout(): Promise<string> {
  layoutPromise ??= (async () => {
    const hash = createHash('sha256')
      .update(RECIPE)
      .update(await readFile(ROOTFS_SOURCE))
      .update(await readFile(BUSYBOX))
      .digest('hex')
      .slice(0, 16);
    const layout = join(tmpdir(), `ocilab-test-image-${hash}${isRoot() ? '' : `-${process.getuid?.()}`}`);
    if (await exists(join(layout, 'index.json'))) return layout;
    // Built beside and renamed into place, so a build cut short never passes for a finished one.
    const work = await mkdtemp(`${layout}.partial-`);
    try {
      await buildLayout(join(work, 'layout'));
      await rename(join(work, 'layout'), layout).catch(async (error: unknown) => {
        // Another test process finished first: its layout is as good as ours.
        if (!(await exists(join(layout, 'index.json')))) throw error;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return layout;
  })();
  return layoutPromise;
}

export type Engine = 'docker' | 'podman';

/**
 * Removes what a lab's `docker create` or `podman create` left of `reference` on this machine: its
 * containers and the pulled image. Returns the ids of the containers removed.
 */
export async function removeLocalCopies(engine: Engine, reference: string): Promise<string[]> {
  const quiet = { reject: false, stdin: 'ignore', timeout: TOOL_TIMEOUT_MS } as const;
  const listed = await execa(engine, ['ps', '--all', '--quiet', '--no-trunc', '--filter', `ancestor=${reference}`], quiet);
  const ids = listed.exitCode === 0 ? listed.stdout.split('\n').filter(Boolean) : [];
  if (ids.length > 0) await execa(engine, ['rm', '--force', ...ids], quiet);
  await execa(engine, ['rmi', '--force', reference], quiet);
  return ids;
}

/** Pushes the busybox image to `host/repository:tag` and returns that reference. */
export async function pushBusybox(host: string, repository = DEFAULT_REPOSITORY, tag = DEFAULT_TAG): Promise<string> {
  const layout = await busyboxLayout();
  const reference = `${host}/${repository}:${tag}`;
  // --insecure-policy: the test machine's /etc/containers/policy.json is not ours to rely on.
  await tool('skopeo', [
    '--insecure-policy',
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    `oci:${layout}:${DEFAULT_TAG}`,
    `docker://${reference}`,
  ]);
  return reference;
}

/** A registry serving busybox to the tests of a describe block; its fields are set once beforeAll has run. */
export interface ServedBusybox {
  readonly registry: Registry;
  /** The pushed image's reference, `127.0.0.1:PORT/library/busybox:1.36`. */
  readonly image: string;
}

/**
 * Starts a registry and pushes busybox to it before the tests of the describe block this is called in,
 * and stops it after them.
 */
export function servedBusybox(): ServedBusybox {
  let registry: Registry | undefined;
  let image = '';
  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
  });
  afterAll(async () => {
    await registry?.stop();
  });
  return {
    get registry() {
      if (!registry) throw new Error('the registry is started in beforeAll: read it inside a test');
      return registry;
    },
    get image() {
      return image;
    },
  };
}

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/**
 * Makes `repository` carry every tag in `tags`, all naming the busybox image: one push, then one small
 * manifest PUT per further tag (the blobs are already there), so a repository with many tags is cheap.
 */
export async function pushTags(host: string, repository: string, tags: readonly string[]): Promise<void> {
  const [first, ...rest] = tags;
  if (first === undefined) return;
  await pushBusybox(host, repository, first);
  const base = `http://${host}/v2/${repository}/manifests`;
  const got = await fetch(`${base}/${encodeURIComponent(first)}`, { headers: { Accept: MANIFEST_TYPE } });
  if (!got.ok) throw new Error(`GET ${base}/${first}: HTTP ${got.status} ${await got.text()}`);
  const manifest = await got.text();
  const type = got.headers.get('content-type') ?? MANIFEST_TYPE;
  for (const tag of rest) {
    const put = await fetch(`${base}/${encodeURIComponent(tag)}`, {
      method: 'PUT',
      headers: { 'Content-Type': type },
      body: manifest,
    });
    if (put.status !== 201) throw new Error(`PUT ${base}/${tag}: HTTP ${put.status} ${await put.text()}`);
    await put.body?.cancel();
  }
}
