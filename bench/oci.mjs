// The registry client: `ocilab pull` of a 3-layer image of about 1 GB unpacked (busybox; thousands of
// small files; large files of random data) against `skopeo copy` + `umoci unpack` and against
// `curl | gzip -d | tar -x` layer by layer, and `ocilab tags` of a repository with 3000 tags against
// `skopeo list-tags`, all from a CNCF distribution registry on loopback, side by side in one run; and
// `ocilab cache export` / `import` of the cache that pull left, against `tar -cf` / `tar -xf` of it.
// Wall time (median) and peak RSS (GNU time's %M: the largest process of the command).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, median } from './common.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Where the registry, the image and every unpacked tree go: a disk's file system by default; BENCH_DIR=/dev/shm takes the disk out. */
const BASE = process.env.BENCH_DIR ?? tmpdir();
const GOALS = { skopeo: 0.5, pipeline: 1.1, tags: 1.5, rssMb: 150 };
const SMALL_FILES = 20_000;
const LARGE_FILES = 9;
const LARGE_FILE_MB = 100;
const TAGS = 3000;
const REPOSITORY = 'bench/image';
const TAG_REPOSITORY = 'bench/tags';
const TIME = '/usr/bin/time';
const root = process.geteuid?.() === 0;

function log(text) {
  process.stderr.write(`${text}\n`);
}

/** Runs a command to the end; throws with its stderr unless it succeeds. */
function must(file, args, options = {}) {
  const result = spawnSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26, ...options });
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return result.stdout.toString();
}

async function sha256File(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRegistry(dir) {
  const port = await freePort();
  const config = join(dir, 'registry.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: ocilab-bench\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { host: `127.0.0.1:${port}`, url, stop: () => child.kill('SIGTERM') };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('docker-registry did not start');
}

/** A monolithic blob upload; curl streams the file. */
async function pushBlob(registry, repository, file) {
  const digest = await sha256File(file);
  const started = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(started.headers.get('location'), registry.url);
  location.searchParams.set('digest', digest);
  must('curl', ['-sSf', '-X', 'PUT', '-H', 'Content-Type: application/octet-stream', '-T', file, location.href]);
  return { digest, size: statSync(file).size };
}

async function pushManifest(registry, repository, tag, manifest) {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  if (response.status !== 201) throw new Error(`PUT manifest ${tag}: ${response.status} ${await response.text()}`);
}

/** tar of `dir`, gzipped at `level`; returns the gzip file, the uncompressed tar's digest (the layer's diff_id) and the bytes of the files. */
async function makeLayer(dir, out, level) {
  const bytes = Number(must('du', ['-sb', '--apparent-size', dir]).split('\t')[0]);
  const tar = `${out}.tar`;
  must('tar', ['-C', dir, '--numeric-owner', '-cf', tar, '.']);
  const diffId = await sha256File(tar);
  must('gzip', [`-${level}`, tar]);
  rmSync(dir, { recursive: true, force: true });
  return { file: `${tar}.gz`, diffId, bytes };
}

async function buildImage(registry, dir) {
  log('bench oci: building a 3-layer image of about 1 GB unpacked');
  const busybox = join(dir, 'l1');
  mkdirSync(join(busybox, 'bin'), { recursive: true });
  for (const d of ['etc', 'tmp', 'proc', 'sys', 'dev']) mkdirSync(join(busybox, d));
  copyFileSync('/bin/busybox', join(busybox, 'bin', 'busybox'));
  for (const applet of ['sh', 'ls', 'cat', 'echo', 'ps', 'hostname', 'mkdir', 'rm', 'cp', 'mv'])
    symlinkSync('/bin/busybox', join(busybox, 'bin', applet));

  const small = join(dir, 'l2');
  for (let i = 0; i < SMALL_FILES; i++) {
    const sub = join(small, 'usr', 'share', 'many', `d${i % 200}`);
    if (i < 200) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `file-${i}.txt`), `line ${i} of a small file\n`.repeat(1 + (i % 150)));
  }

  const large = join(dir, 'l3');
  mkdirSync(join(large, 'var', 'lib', 'data'), { recursive: true });
  for (let i = 0; i < LARGE_FILES; i++) {
    must('sh', ['-c', `head -c ${LARGE_FILE_MB << 20} /dev/urandom > "$1"`, 'sh', join(large, 'var', 'lib', 'data', `blob-${i}.bin`)]);
  }

  const layers = [
    await makeLayer(busybox, join(dir, 'layer1'), 6),
    await makeLayer(small, join(dir, 'layer2'), 6),
    await makeLayer(large, join(dir, 'layer3'), 1),
  ];
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const config = await pushBlob(registry, REPOSITORY, configFile);
  const blobs = [];
  for (const layer of layers) {
    blobs.push(await pushBlob(registry, REPOSITORY, layer.file));
    rmSync(layer.file);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: blobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...b })),
  });
  await pushManifest(registry, REPOSITORY, 'bench', manifest);
  return { reference: `${registry.host}/${REPOSITORY}:bench`, blobs, unpackedBytes: layers.reduce((s, l) => s + l.bytes, 0) };
}

async function pushTags(registry) {
  log(`bench oci: a repository with ${TAGS} tags`);
  const config = join(mkdtempSync(join(BASE, 'ocilab-bench-tags-')), 'config.json');
  writeFileSync(config, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const blob = await pushBlob(registry, TAG_REPOSITORY, config);
  rmSync(join(config, '..'), { recursive: true, force: true });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob },
    layers: [],
  });
  for (let i = 0; i < TAGS; i++) await pushManifest(registry, TAG_REPOSITORY, `${Math.floor(i / 100)}.${i % 100}.0`, manifest);
}

/** Seconds and peak RSS (MB, the largest process) of one command. */
function timed(file, args, env = {}) {
  const useTime = existsSync(TIME);
  const [command, commandArgs] = useTime ? [TIME, ['-f', '%M', file, ...args]] : [file, args];
  const start = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const stderr = result.stderr.toString();
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${result.status ?? result.signal}): ${stderr}`);
  const kb = useTime ? Number(stderr.trim().split('\n').at(-1)) : NaN;
  return { seconds, rssMb: kb / 1024 };
}

function sum(...parts) {
  return { seconds: parts.reduce((s, p) => s + p.seconds, 0), rssMb: Math.max(...parts.map((p) => p.rssMb)) };
}

function summarise(name, samples) {
  const seconds = median(samples.map((s) => s.seconds));
  const rssMb = Math.max(...samples.map((s) => s.rssMb));
  log(`bench oci: ${name}: median ${seconds.toFixed(2)} s, peak RSS ${rssMb.toFixed(0)} MB over ${samples.length} runs`);
  return { seconds, rssMb };
}

const mb = (value) => (Number.isNaN(value) ? 'n/a' : value.toFixed(0));

/** Measures the registry client and returns the Markdown section for bench/results.md. */
export async function run() {
  const scratch = mkdtempSync(join(BASE, 'ocilab-bench-oci-'));
  const registry = await startRegistry(scratch);
  try {
    const { reference, blobs, unpackedBytes } = await buildImage(registry, join(scratch, 'build'));
    await pushTags(registry);
    log(`bench oci: pushed ${reference} (${blobs.map((b) => `${(b.size / 2 ** 20).toFixed(1)} MB`).join(' + ')} compressed)`);

    const samples = {
      ocilab: [],
      cached: [],
      skopeo: [],
      pipeline: [],
      tags: [],
      skopeoTags: [],
      export: [],
      tarCreate: [],
      import: [],
      tarExtract: [],
    };
    const work = join(scratch, 'work');
    const fresh = (name) => {
      rmSync(join(work, name), { recursive: true, force: true });
      mkdirSync(join(work, name), { recursive: true });
      return join(work, name);
    };
    const rootless = root ? [] : ['--rootless'];
    for (let i = 0; i < RUNS; i++) {
      log(`bench oci: run ${i + 1} of ${RUNS}`);
      const cache = fresh('cache');
      samples.ocilab.push(timed(process.execPath, [CLI, 'pull', reference, '--rootfs', fresh('ocilab')], { XDG_CACHE_HOME: cache }));
      samples.cached.push(timed(process.execPath, [CLI, 'pull', reference, '--rootfs', fresh('ocilab')], { XDG_CACHE_HOME: cache }));
      const tarball = join(fresh('tarballs'), 'images.tar');
      samples.export.push(timed(process.execPath, [CLI, 'cache', 'export', tarball], { XDG_CACHE_HOME: cache }));
      samples.tarCreate.push(timed('tar', ['-C', cache, '-cf', join(work, 'tarballs', 'plain.tar'), 'ocilab']));
      samples.import.push(timed(process.execPath, [CLI, 'cache', 'import', tarball], { XDG_CACHE_HOME: fresh('imported') }));
      samples.tarExtract.push(timed('tar', ['-C', fresh('extracted'), '-xf', join(work, 'tarballs', 'plain.tar')]));
      for (const name of ['tarballs', 'imported', 'extracted']) rmSync(join(work, name), { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
      rmSync(join(work, 'ocilab'), { recursive: true, force: true });

      const layout = join(fresh('layout'), 'image');
      const copy = timed('skopeo', [
        '--insecure-policy',
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        `docker://${reference}`,
        `oci:${layout}:bench`,
      ]);
      rmSync(join(work, 'bundle'), { recursive: true, force: true });
      const unpack = timed('umoci', ['unpack', ...rootless, '--image', `${layout}:bench`, join(work, 'bundle')]);
      samples.skopeo.push(sum(copy, unpack));
      rmSync(join(work, 'layout'), { recursive: true, force: true });
      rmSync(join(work, 'bundle'), { recursive: true, force: true });

      const script = 'set -eo pipefail; for digest in "${@:3}"; do curl -sSf "$1/blobs/$digest" | gzip -d | tar -x -C "$2"; done';
      const base = `${registry.url}/v2/${REPOSITORY}`;
      samples.pipeline.push(timed('bash', ['-c', script, 'bash', base, fresh('pipeline'), ...blobs.map((b) => b.digest)]));
      rmSync(join(work, 'pipeline'), { recursive: true, force: true });

      samples.tags.push(timed(process.execPath, [CLI, 'tags', `${registry.host}/${TAG_REPOSITORY}`]));
      samples.skopeoTags.push(timed('skopeo', ['list-tags', '--tls-verify=false', `docker://${registry.host}/${TAG_REPOSITORY}`]));
    }

    const ocilab = summarise('ocilab pull', samples.ocilab);
    const cached = summarise('ocilab pull (cached)', samples.cached);
    const skopeo = summarise('skopeo copy + umoci unpack', samples.skopeo);
    const pipeline = summarise('curl | gzip -d | tar -x', samples.pipeline);
    const tags = summarise('ocilab tags', samples.tags);
    const skopeoTags = summarise('skopeo list-tags', samples.skopeoTags);
    const exported = summarise('ocilab cache export', samples.export);
    const tarCreate = summarise('tar -cf of the cache', samples.tarCreate);
    const imported = summarise('ocilab cache import', samples.import);
    const tarExtract = summarise('tar -xf of the cache', samples.tarExtract);

    const verdict = (ok) => (ok ? 'met' : 'missed');
    const row = (what, m, ratio = '', goal = '', met = '') =>
      `| ${what} | ${m.seconds.toFixed(2)} | ${ratio} | ${mb(m.rssMb)} | ${goal} | ${met} |`;
    const ratioTo = (a, b) => `${(a.seconds / b.seconds).toFixed(2)}×`;
    const rssOk = ocilab.rssMb <= GOALS.rssMb;
    const compressedMb = blobs.reduce((s, b) => s + b.size, 0) / 2 ** 20;
    return `## Registry client: pull and tags

The image: 3 gzip layers, ${compressedMb.toFixed(0)} MB compressed, ${(unpackedBytes / 2 ** 20).toFixed(0)} MB unpacked (busybox; ${SMALL_FILES} small files;
${LARGE_FILES} files of ${LARGE_FILE_MB} MB of random data), and a repository of ${TAGS} tags, in a CNCF distribution registry on loopback.
Median of ${RUNS} runs, interleaved; each pull into an empty directory, \`ocilab pull\` with an empty cache
except for the row that says cached. Peak RSS is GNU time's %M, the largest single process of the command
(skopeo or umoci; curl, gzip or tar). ${root ? 'Run as root: every tool keeps owners.' : 'Run as a normal user: umoci with --rootless.'}

| what | median (s) | ratio | peak RSS (MB) | goal | |
|---|---|---|---|---|---|
${row('`ocilab pull`', ocilab, '1.00×', `RSS ≤ ${GOALS.rssMb} MB`, verdict(rssOk))}
${row('`skopeo copy` + `umoci unpack`', skopeo, `ocilab ${ratioTo(ocilab, skopeo)}`, `ocilab ≤ ${GOALS.skopeo}×`, verdict(ocilab.seconds <= GOALS.skopeo * skopeo.seconds))}
${row('`curl \\| gzip -d \\| tar -x`, layer by layer', pipeline, `ocilab ${ratioTo(ocilab, pipeline)}`, `ocilab ≤ ${GOALS.pipeline}×`, verdict(ocilab.seconds <= GOALS.pipeline * pipeline.seconds))}
${row('`ocilab pull`, everything in the cache', cached, `${ratioTo(cached, ocilab)} of a cold pull`)}
${row('`ocilab tags` (3000 tags)', tags, '1.00×')}
${row('`skopeo list-tags`', skopeoTags, `ocilab ${ratioTo(tags, skopeoTags)}`, `ocilab ≤ ${GOALS.tags}×`, verdict(tags.seconds <= GOALS.tags * skopeoTags.seconds))}
${row('`ocilab cache export` of the cache that pull left', exported, '1.00×', `RSS ≤ ${GOALS.rssMb} MB`, verdict(exported.rssMb <= GOALS.rssMb))}
${row('`tar -cf` of the cache directory', tarCreate, `ocilab ${ratioTo(exported, tarCreate)}`)}
${row('`ocilab cache import` into an empty cache', imported, '1.00×', `RSS ≤ ${GOALS.rssMb} MB`, verdict(imported.rssMb <= GOALS.rssMb))}
${row('`tar -xf` of that directory into an empty one', tarExtract, `ocilab ${ratioTo(imported, tarExtract)}`)}

\`ocilab pull\` also verifies the digest of every blob and writes each layer to its cache; the curl pipeline does neither.
\`ocilab cache export\` and \`import\` verify the digest of every blob, \`import\` before any enters the cache; \`tar\` checks nothing.
`;
  } finally {
    registry.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
