// Export and import never hold a blob in memory: a cache holding a layer of 256 MB of random data is
// exported, and the tarball imported into another cache, each in a process of its own (the built
// dist/), whose peak RSS must stay under the bound a pull of a 1 GB image is held to.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobCache } from '../../src/oci/cache.js';
import { parseReference } from '../../src/oci/reference.js';
import { repoRoot } from '../helpers/cli.js';
import { OCI, configOf, manifestOf } from '../helpers/image-content.js';
import { skipUnless } from '../helpers/services.js';

const LAYER_BYTES = 256 << 20;
/** Peak RSS of the exporting or importing process, in bytes: the bound of test/oci/pull-memory.test.ts. */
const RSS_BOUND = 150 << 20;

const dist = join(repoRoot, 'dist', 'oci');
const notBuilt = skipUnless(existsSync(join(dist, 'cache-export.js')), 'dist/ is not built: run `npm run build` (`npm test` does)');

/** Runs `call` on `new BlobCache(cacheDir)` with the tarball in a process of its own; resolves with its peak RSS. */
async function peakRss(module: string, call: string, cacheDir: string, file: string): Promise<number> {
  const script = `
    const { ${call} } = await import(${JSON.stringify(pathToFileURL(join(dist, `${module}.js`)).href)});
    const { BlobCache } = await import(${JSON.stringify(pathToFileURL(join(dist, 'cache.js')).href)});
    const [cacheDir, file] = process.argv.slice(1);
    await ${call}(new BlobCache(cacheDir), file);
    process.stdout.write(String(process.resourceUsage().maxRSS * 1024));
  `;
  const result = await execa(process.execPath, ['--input-type=module', '-e', script, cacheDir, file], { reject: false });
  expect(result.exitCode, result.stderr).toBe(0);
  return Number(result.stdout);
}

describe.skipIf(notBuilt)('memory', () => {
  let dir: string;
  let layer: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocilab-cache-memory-'));
    const cache = new BlobCache(join(dir, 'instructor'));
    // Written a megabyte at a time, then moved to where the cache keeps it, as a pull would leave it.
    const file = join(dir, 'layer.bin');
    const hash = createHash('sha256');
    const out = await open(file, 'w');
    for (let left = LAYER_BYTES; left > 0; left -= 1 << 20) {
      const chunk = randomBytes(Math.min(left, 1 << 20));
      hash.update(chunk);
      await out.write(chunk);
    }
    await out.close();
    layer = `sha256:${hash.digest('hex')}`;
    await mkdir(dirname(cache.blobPath(layer)), { recursive: true });
    await rename(file, cache.blobPath(layer));
    const config = configOf();
    const manifest = manifestOf({ config, layers: [{ digest: layer, size: LAYER_BYTES, bytes: Buffer.alloc(0) }] });
    await cache.put(config.digest, config.bytes);
    await cache.put(manifest.digest, manifest.bytes);
    await cache.writeTag(parseReference('127.0.0.1:5000/big/layer:1'), {
      digest: manifest.digest,
      mediaType: OCI.manifest,
      size: manifest.size,
      pulledAt: new Date().toISOString(),
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`exports and imports a ${LAYER_BYTES >> 20} MB layer with a peak RSS under ${RSS_BOUND >> 20} MB each`, async () => {
    const tarball = join(dir, 'images.tar');
    const exporting = await peakRss('cache-export', 'exportCache', join(dir, 'instructor'), tarball);
    const importing = await peakRss('cache-import', 'importCache', join(dir, 'learner'), tarball);
    expect((await stat(new BlobCache(join(dir, 'learner')).blobPath(layer))).size).toBe(LAYER_BYTES);
    console.info(
      `peak RSS of ${LAYER_BYTES >> 20} MB: exporting ${(exporting / 2 ** 20).toFixed(0)} MB, importing ${(importing / 2 ** 20).toFixed(0)} MB`,
    );
    expect(exporting).toBeLessThan(RSS_BOUND);
    expect(importing).toBeLessThan(RSS_BOUND);
  });
});
