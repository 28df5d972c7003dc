// ocilab cache export FILE [IMAGE...] | import [FILE]: the image cache carried as a tarball to machines
// without the network, so that `ocilab pull --offline` works there.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CancelledError, EnvironmentError, EXIT, UsageError } from '../../errors.js';
import { exportCache } from '../../oci/cache-export.js';
import { importCache } from '../../oci/cache-import.js';
import { BlobCache, defaultCacheDir } from '../../oci/cache.js';
import { OciError } from '../../oci/errors.js';
import { parseReference } from '../../oci/reference.js';
import { formatSize } from '../../render/pull-progress.js';
import { defineCommand } from '../command.js';
import { loadWorkshop } from '../workshop.js';
import { CANNOT_WRITE, WORKSHOP_OPTION, onCancel, out } from './shared.js';

const USAGE =
  '`ocilab cache` takes `export FILE [IMAGE...]` or `import [FILE]`, e.g. `ocilab cache export images.tar` on the machine that pulled the images, `ocilab cache import images.tar` on each of the others.';

const note = (message: string) => process.stderr.write(`${message}\n`);

export default defineCommand({
  about: `Carries ocilab's image cache ($XDG_CACHE_HOME/ocilab, ~/.cache/ocilab) in a tarball to machines
without the network, so that \`ocilab pull --offline\` works there: pull once, export, import everywhere.

  ocilab cache export FILE [IMAGE...]   write the cache to the tarball FILE: every image it holds, or
                                        only each IMAGE named (e.g. busybox:1.36) with its tag
  ocilab cache import [FILE]            read such a tarball into your own cache; without FILE, the
                                        tarball the workshop file names (\`cache:\`)

Export checks every blob against its digest as it writes it. A damaged one stops the export: ocilab
removes it from the cache (the next pull downloads it again) and writes nothing; pull the image
again, then export again. An image the cache holds only part of stops the export when named, and is
left out with a note otherwise. FILE is written beside its name and renamed into place once whole.

Import checks every blob against its digest before anything enters the cache. It refuses the whole
tarball, naming the entry to blame and importing nothing, when a blob is not what its name says, a
blob is missing, the tarball holds anything else (links, devices, other files, paths with ..), or a
tag names a manifest that is neither in the tarball nor in the cache. Importing again adds nothing.`,
  more: `Exit status: 0 exported or imported, 1 a damaged blob, an image the cache holds only part of, or a
tarball refused, 2 bad usage, 130 cancelled.`,
  options: {
    workshop: { ...WORKSHOP_OPTION, help: `${WORKSHOP_OPTION.help}; \`import\` without FILE imports the tarball it names` },
  },
  args: { min: 1, max: Number.POSITIVE_INFINITY, usage: USAGE },
  async run([action = '', ...rest], flags) {
    if (action === 'export') {
      const [file, ...images] = rest;
      if (file === undefined) throw new UsageError(USAGE);
      return exportTo(file, images);
    }
    if (action === 'import') {
      if (rest.length > 1) throw new UsageError(`\`ocilab cache import\` takes one tarball. ${USAGE}`);
      return importFrom(rest[0] ?? (await workshopTarball(flags.workshop)));
    }
    throw new UsageError(`Unknown action '${action}'. ${USAGE}`);
  },
});

async function exportTo(file: string, images: readonly string[]): Promise<number> {
  const refs = images.map(parseReference);
  const cache = new BlobCache(defaultCacheDir());
  if (refs.length === 0 && (await cache.blobs()).length === 0) {
    throw new EnvironmentError(
      `The cache (${cache.dir}) holds no image: pull the images the labs need first (\`ocilab pull IMAGE --rootfs DIR\`, or run lab 2), then export.`,
    );
  }
  const path = resolve(file);
  const result = await cancellable((signal) => exportCache(cache, path, { images: refs, onNote: note, signal }), path);
  const what = `${count(result.tags.length, 'tag')} and ${count(result.blobs, 'blob')} (${formatSize(result.bytes)})`;
  out(`Exported ${what} from ${cache.dir} to ${file}${listed(result.tags)}`);
  out(`On each machine: \`ocilab cache import ${file}\`, then \`ocilab pull --offline IMAGE --rootfs DIR\` needs no network.\n`);
  return EXIT.ok;
}

async function importFrom(file: string): Promise<number> {
  const path = resolve(file);
  const found = await stat(path).catch((error: unknown) => error as NodeJS.ErrnoException);
  if (!('isFile' in found) || !found.isFile()) {
    const why = 'isFile' in found ? 'it is not a file' : (found.code ?? String(found));
    throw new UsageError(`Cannot read ${file}: ${why}. Name the tarball \`ocilab cache export\` wrote.`);
  }
  const cache = new BlobCache(defaultCacheDir());
  const result = await cancellable((signal) => importCache(cache, path, { onNote: note, signal }), undefined);
  const counts = `${count(result.blobs, 'blob')} (${formatSize(result.bytes)}) and ${count(result.tags.length, 'tag')}`;
  if (result.newBlobs === 0 && result.newTags === 0) {
    out(`The cache (${cache.dir}) already held everything in ${file}: ${counts}${listed(result.tags)}`);
    return EXIT.ok;
  }
  out(
    `Imported ${file} into ${cache.dir}: ${counts}, new here: ${count(result.newBlobs, 'blob')} and ${count(result.newTags, 'tag')}${listed(result.tags)}`,
  );
  out('`ocilab pull --offline IMAGE --rootfs DIR` now needs no network for them.\n');
  return EXIT.ok;
}

/** The tarball the workshop in effect names, said on stderr; without one, a usage error. */
async function workshopTarball(flag: string | undefined): Promise<string> {
  const workshop = await loadWorkshop(flag);
  if (!workshop?.cache) {
    const which = workshop ? `The workshop ${workshop.file} names no cache tarball (\`cache:\`)` : 'No workshop file is in effect';
    throw new UsageError(`${which}, so \`ocilab cache import\` needs the tarball to import, e.g. \`ocilab cache import images.tar\`.`);
  }
  note(`Importing ${workshop.cache}, the image cache the workshop ${workshop.file} names.`);
  return workshop.cache;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** `:` and one tag a line, or `.` when there are none. */
function listed(tags: readonly string[]): string {
  return tags.length === 0 ? '.\n' : `:\n${tags.map((t) => `  ${t}\n`).join('')}`;
}

/** Runs `work` with Ctrl-C turned into a clean stop; the tarball `written` that cannot be written is said so. */
async function cancellable<T>(work: (signal: AbortSignal) => Promise<T>, written: string | undefined): Promise<T> {
  const { signal, dispose } = onCancel();
  try {
    return await work(signal);
  } catch (error) {
    if (signal.aborted) throw new CancelledError();
    // Written beside its name first: a failure there is a failure to write it.
    const failed = (error as NodeJS.ErrnoException | null)?.path;
    if (written !== undefined && !(error instanceof OciError) && failed !== undefined && dirname(failed) === dirname(written)) {
      throw new UsageError(CANNOT_WRITE(written, error));
    }
    throw error;
  } finally {
    dispose();
  }
}
