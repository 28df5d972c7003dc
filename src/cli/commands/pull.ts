// ocilab pull <ref> --rootfs DIR: an image's layers unpacked into a directory, with no container tool.
import { dirname, resolve } from 'node:path';
import { CancelledError, EnvironmentError, UsageError } from '../../errors.js';
import { InvalidPlatformError, InvalidReferenceError, OciError } from '../../oci/errors.js';
import type { SpecialFile } from '../../oci/layer-entries.js';
import { parsePlatform } from '../../oci/platform.js';
import { pull, type PullResult } from '../../oci/pull.js';
import { parseReference, type Reference } from '../../oci/reference.js';
import { Transport } from '../../oci/transport.js';
import { createPullProgress } from '../../render/pull-progress.js';
import { runProcess } from '../../sys/exec.js';
import { defineCommand, EXIT } from '../args.js';
import { onCancel, out } from './shared.js';

const MKNOD_TIMEOUT_MS = 10_000;

export default defineCommand({
  help: `Usage: ocilab pull <image> --rootfs DIR [options]

Downloads an image from its registry and unpacks its layers, in order, into DIR: the root
filesystem of a container, as \`docker export\` would give it, without docker. Every manifest and
layer is checked against its digest. Name the image as docker does: busybox, busybox:1.36,
registry.k8s.io/pause:3.9, name@sha256:<digest>. DIR is created if missing; what it already holds is
unpacked over, as tar -x would. As root, owners and device nodes are kept as the image has them.

Downloaded layers are kept in $XDG_CACHE_HOME/ocilab (~/.cache/ocilab): pulling the same image again
downloads nothing (one HEAD request asks whether the tag moved), and --offline uses the cache alone,
so a workshop can load its images before the Wi-Fi gives up.

Progress goes to stderr; stdout gets one line, the digest the image resolved to (for a multi-platform
image, its index's: what name@digest pins).

Options:
      --rootfs DIR       where to unpack (required)
      --platform P       os/architecture[/variant] to choose from a multi-platform image, e.g.
                         linux/arm64/v8 (default: this machine's)
      --offline          use only the cache; ask no registry
      --insecure         use plain HTTP (loopback registries always do)
  -h, --help             show this help

Exit status: 0 pulled, 1 the registry refused, could not be reached, or sent an image ocilab cannot
unpack, 2 bad usage or not an image reference, 130 cancelled.`,
  options: {
    rootfs: { type: 'string' },
    platform: { type: 'string' },
    offline: { type: 'boolean' },
    insecure: { type: 'boolean' },
  },
  args: { min: 1, max: 1, usage: '`ocilab pull` takes one image, e.g. `ocilab pull busybox:1.36 --rootfs rootfs`.' },
  async run([text = ''], flags) {
    const ref = referenceOf(text);
    if (!flags.rootfs) throw new UsageError('`ocilab pull` needs --rootfs DIR, the directory to unpack into, e.g. `--rootfs rootfs`.');
    if (flags.platform !== undefined) checkPlatform(flags.platform);
    const rootfs = resolve(flags.rootfs);
    const progress = createPullProgress({
      write: (chunk) => process.stderr.write(chunk),
      tty: process.stderr.isTTY === true,
      width: process.stderr.columns ?? 80,
    });
    const { signal, dispose } = onCancel();
    let result: PullResult;
    try {
      result = await pull(ref, rootfs, {
        transport: new Transport({ insecure: flags.insecure ?? false }),
        ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
        offline: flags.offline ?? false,
        signal,
        onProgress: progress.onEvent,
        onNote: progress.note,
        makeSpecialFile: (file) => mknod(file, signal),
      });
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      if (error instanceof OciError) throw new EnvironmentError(error.message, { cause: error });
      throw error;
    } finally {
      progress.finish();
      dispose();
    }
    out(`${result.digest}\n`);
    return EXIT.ok;
  },
});

function referenceOf(text: string): Reference {
  try {
    return parseReference(text);
  } catch (error) {
    if (error instanceof InvalidReferenceError) throw new UsageError(error.message);
    throw error;
  }
}

function checkPlatform(text: string): void {
  try {
    parsePlatform(text);
  } catch (error) {
    if (error instanceof InvalidPlatformError) throw new UsageError(error.message);
    throw error;
  }
}

/** Device nodes and FIFOs: Node has no mknod(2), so mknod(1) makes them; unpack.ts sets owner, mode and times after. */
async function mknod(file: SpecialFile, signal: AbortSignal): Promise<void> {
  const type = { 'character device': 'c', 'block device': 'b', fifo: 'p' }[file.kind];
  const numbers = file.kind === 'fifo' ? [] : [String(file.major), String(file.minor)];
  const result = await runProcess('mknod', ['-m', (file.mode & 0o777).toString(8), file.hostPath, type, ...numbers], {
    cwd: dirname(file.hostPath),
    timeoutMs: MKNOD_TIMEOUT_MS,
    signal,
  });
  if (result.exitCode !== 0) {
    const said = result.startError ?? result.output.trim();
    throw new EnvironmentError(
      `Could not create the ${file.kind} ${file.hostPath} with mknod: ${said || `exit status ${result.exitCode}`}.`,
    );
  }
}
