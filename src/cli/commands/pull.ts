// ocilab pull <ref> --rootfs DIR: an image's layers unpacked into a directory, with no container tool;
// --layout DIR[:TAG]: the image copied into an OCI image layout.
import { resolve } from 'node:path';
import { CancelledError, EnvironmentError, EXIT, UsageError } from '../../errors.js';
import type { SpecialFile } from '../../oci/layer-entries.js';
import { parseLayoutTarget } from '../../oci/layout.js';
import { parsePlatform } from '../../oci/platform.js';
import { pull, type PullResult } from '../../oci/pull.js';
import { parseReference } from '../../oci/reference.js';
import { Transport } from '../../oci/transport.js';
import { createPullProgress } from '../../render/pull-progress.js';
import { mknod } from '../../sys/mknod.js';
import { defineCommand } from '../command.js';
import { INSECURE_OPTION, isTerminal, onCancel, out, widthOf } from './shared.js';

export default defineCommand({
  about: `Downloads an image from its registry and unpacks its layers, in order, into DIR: the root
filesystem of a container, as \`docker export\` would give it, without docker. Every manifest and
layer is checked against its digest. Name the image as docker does: busybox, busybox:1.36,
registry.k8s.io/pause:3.9, name@sha256:<digest>. DIR is created if missing; what it already holds is
unpacked over, as tar -x would. As root, owners and device nodes are kept as the image has them.

With --layout DIR[:TAG] (with or without --rootfs), the image's manifest, config and layers are also
copied, as the registry has them, into DIR as an OCI image layout (oci-layout, index.json,
blobs/sha256/...), named TAG in index.json (default: the image's own tag), as skopeo copy
docker://IMAGE oci:DIR:TAG does; a Docker manifest is written anew with OCI's media types, as skopeo
writes it. A layout already in DIR keeps its other tags.

Downloaded layers are kept in $XDG_CACHE_HOME/ocilab (~/.cache/ocilab): pulling the same image again
downloads nothing (one HEAD request asks whether the tag moved), and --offline uses the cache alone,
so a workshop can load its images before the Wi-Fi gives up.

Progress goes to stderr; stdout gets one line, the digest the image resolved to (for a multi-platform
image, its index's: what name@digest pins).`,
  more: `Exit status: 0 pulled, 1 the registry refused, could not be reached, or sent an image ocilab cannot
unpack, 2 bad usage or not an image reference, 130 cancelled.`,
  options: {
    rootfs: { type: 'string', value: 'DIR', help: 'where to unpack (this, --layout, or both)' },
    layout: { type: 'string', value: 'DIR[:TAG]', help: 'also copy the image into this OCI image layout, named TAG (default: its tag)' },
    platform: {
      type: 'string',
      value: 'P',
      help: "os/architecture[/variant] to choose from a multi-platform image, e.g. linux/arm64/v8 (default: this machine's)",
    },
    offline: { type: 'boolean', help: 'use only the cache; ask no registry' },
    insecure: INSECURE_OPTION,
  },
  args: { min: 1, max: 1, usage: '`ocilab pull` takes one image, e.g. `ocilab pull busybox:1.36 --rootfs rootfs`.' },
  async run([text = ''], flags) {
    const ref = parseReference(text);
    if (!flags.rootfs && !flags.layout) {
      throw new UsageError(
        '`ocilab pull` needs --rootfs DIR, the directory to unpack into, e.g. `--rootfs rootfs`, or --layout DIR[:TAG], an OCI image layout to copy the image into.',
      );
    }
    if (flags.platform !== undefined) parsePlatform(flags.platform);
    const rootfs = flags.rootfs ? resolve(flags.rootfs) : undefined;
    const layout = flags.layout
      ? parseLayoutTarget(resolve(flags.layout), ref.tag ?? (ref.digest === undefined ? 'latest' : undefined))
      : undefined;
    const progress = createPullProgress({
      write: (chunk) => process.stderr.write(chunk),
      tty: isTerminal(process.stderr),
      width: widthOf(process.stderr),
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
        makeSpecialFile: (file) => makeSpecialFile(file, signal),
        ...(layout ? { layout } : {}),
      });
    } catch (error) {
      throw signal.aborted ? new CancelledError() : error;
    } finally {
      progress.finish();
      dispose();
    }
    out(`${result.digest}\n`);
    return EXIT.ok;
  },
});

/** Device nodes and FIFOs for the unpacker, which sets their owner, mode and times after. */
async function makeSpecialFile(file: SpecialFile, signal: AbortSignal): Promise<void> {
  const failed = await mknod({ ...file, path: file.hostPath }, signal);
  if (failed !== undefined) throw new EnvironmentError(`Could not create the ${file.kind} ${file.hostPath} with mknod: ${failed}.`);
}
