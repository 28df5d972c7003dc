// A pull never holds a layer in memory: a layer of 256 MB of incompressible data, gzipped, served by
// a registry double from disk, is pulled in a process of its own (the built dist/), whose peak RSS
// must stay under the bound the benchmark also holds a 1 GB image to.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { startMirror, type Mirror } from '../helpers/fake-registries.js';
import { OCI, configOf, manifestOf, type Blob } from '../helpers/image-content.js';
import { entryHeader, padding } from '../helpers/layers.js';
import { skipUnless } from '../helpers/services.js';

const LAYER_BYTES = 256 << 20;
/** Peak RSS of the pulling process, in bytes: the bound for a 1 GB image. */
const RSS_BOUND = 150 << 20;
const REPO = 'big/layer';

const dist = join(repoRoot, 'dist', 'oci');

/** A gzip layer of one file of `size` random bytes, written to `path` a megabyte at a time. */
async function writeLayer(path: string, size: number): Promise<Blob> {
  const hash = createHash('sha256');
  async function* tar() {
    yield entryHeader({ path: 'random.bin', type: 'file' }, size);
    for (let left = size; left > 0; left -= 1 << 20) yield randomBytes(Math.min(left, 1 << 20));
    yield padding(size);
    yield Buffer.alloc(1024);
  }
  const gzip = createGzip({ level: 1 });
  gzip.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(Readable.from(tar()), gzip, createWriteStream(path));
  return { digest: `sha256:${hash.digest('hex')}`, size: (await stat(path)).size, bytes: Buffer.alloc(0) };
}

const notBuilt = skipUnless(existsSync(join(dist, 'pull.js')), 'dist/ is not built: run `npm run build` (`npm test` does)');

describe.skipIf(notBuilt)('memory', () => {
  let dir: string;
  let mirror: Mirror;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocilab-pull-memory-'));
    const layerFile = join(dir, 'layer.tar.gz');
    const layer = await writeLayer(layerFile, LAYER_BYTES);
    const config = configOf();
    const manifest = manifestOf({ config, layers: [layer] });
    mirror = await startMirror({
      repository: REPO,
      manifests: { latest: { bytes: manifest.bytes, contentType: OCI.manifest } },
      blobs: { [config.digest]: config.bytes, [layer.digest]: { file: layerFile } },
    });
  });

  afterAll(async () => {
    await mirror?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`pulls a ${LAYER_BYTES >> 20} MB layer with a peak RSS under ${RSS_BOUND >> 20} MB`, async () => {
    const script = `
      const { pull } = await import(${JSON.stringify(pathToFileURL(join(dist, 'pull.js')).href)});
      const { parseReference } = await import(${JSON.stringify(pathToFileURL(join(dist, 'reference.js')).href)});
      const [ref, rootfs, cacheDir] = process.argv.slice(1);
      await pull(parseReference(ref), rootfs, { cacheDir, platform: 'linux/amd64' });
      process.stdout.write(String(process.resourceUsage().maxRSS * 1024));
    `;
    const rootfs = join(dir, 'rootfs');
    const result = await execa(
      process.execPath,
      ['--input-type=module', '-e', script, `${new URL(mirror.url).host}/${REPO}:latest`, rootfs, join(dir, 'cache')],
      {
        reject: false,
      },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await stat(join(rootfs, 'random.bin'))).size).toBe(LAYER_BYTES);
    const peak = Number(result.stdout);
    console.info(`peak RSS pulling ${LAYER_BYTES >> 20} MB: ${(peak / 2 ** 20).toFixed(0)} MB`);
    expect(peak).toBeLessThan(RSS_BOUND);
  });
});
