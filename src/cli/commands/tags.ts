// ocilab tags <repository>: every tag of a repository, one a line, as `crane ls` prints them.
import { CancelledError, EnvironmentError, UsageError } from '../../errors.js';
import { InvalidReferenceError, OciError } from '../../oci/errors.js';
import { parseReference, type Reference } from '../../oci/reference.js';
import { listTags } from '../../oci/tags.js';
import { Transport } from '../../oci/transport.js';
import { defineCommand, EXIT } from '../args.js';
import { onCancel, out } from './shared.js';

export default defineCommand({
  help: `Usage: ocilab tags <repository> [options]

Lists every tag of an image repository, one a line (all pages of the registry's list), like
\`crane ls\`. Name the repository as docker does: busybox, registry.k8s.io/pause,
127.0.0.1:5000/x/y. Credentials saved by \`docker login\` are used when the registry asks for them.

Options:
      --json       print {"repository": ..., "tags": [...]} instead
      --insecure   use plain HTTP (loopback registries always do)
  -h, --help       show this help

Exit status: 0 listed, 1 the registry refused or could not be reached, 2 not a repository name.`,
  options: { json: { type: 'boolean' }, insecure: { type: 'boolean' } },
  args: { min: 1, max: 1, usage: '`ocilab tags` takes one repository, e.g. `ocilab tags registry.k8s.io/pause`.' },
  async run([text = ''], flags) {
    const ref = repositoryOf(text);
    const { signal, dispose } = onCancel();
    let tags: string[];
    try {
      tags = await listTags(ref, { transport: new Transport({ insecure: flags.insecure ?? false }), signal });
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      if (error instanceof OciError) throw new EnvironmentError(error.message, { cause: error });
      throw error;
    } finally {
      dispose();
    }
    if (flags.json) out(`${JSON.stringify({ repository: `${ref.registry}/${ref.repository}`, tags }, null, 2)}\n`);
    else if (tags.length > 0) out(`${tags.join('\n')}\n`);
    return EXIT.ok;
  },
});

/** The repository `text` names; a tag or digest is refused, as `crane ls` does: it names one image. */
function repositoryOf(text: string): Reference {
  let ref: Reference;
  try {
    ref = parseReference(text);
  } catch (error) {
    if (error instanceof InvalidReferenceError) throw new UsageError(error.message);
    throw error;
  }
  if (ref.tag === undefined && ref.digest === undefined) return ref;
  const [named = text] = text.split('@');
  const bare = ref.tag === undefined ? named : named.slice(0, -(ref.tag.length + 1));
  throw new UsageError(
    `'${text}' names one image, not a repository: leave off the ${ref.digest === undefined ? 'tag' : 'digest'}, e.g. \`ocilab tags ${bare}\`.`,
  );
}
