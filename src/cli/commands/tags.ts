// ocilab tags <repository>: every tag of a repository, one a line, as `crane ls` prints them.
import { CancelledError, EXIT, UsageError } from '../../errors.js';
import { parseReference, type Reference } from '../../oci/reference.js';
import { listTags } from '../../oci/tags.js';
import { Transport } from '../../oci/transport.js';
import { defineCommand } from '../command.js';
import { INSECURE_OPTION, onCancel, out } from './shared.js';

export default defineCommand({
  about: `Lists every tag of an image repository, one a line (all pages of the registry's list), like
\`crane ls\`. Name the repository as docker does: busybox, registry.k8s.io/pause,
127.0.0.1:5000/x/y. Credentials saved by \`docker login\` are used when the registry asks for them.`,
  more: `Exit status: 0 listed, 1 the registry refused or could not be reached, 2 not a repository name.`,
  options: {
    json: { type: 'boolean', help: 'print {"repository": ..., "tags": [...]} instead' },
    insecure: INSECURE_OPTION,
  },
  args: { min: 1, max: 1, usage: '`ocilab tags` takes one repository, e.g. `ocilab tags registry.k8s.io/pause`.' },
  async run([text = ''], flags) {
    const ref = repositoryOf(text);
    const { signal, dispose } = onCancel();
    let tags: string[];
    try {
      tags = await listTags(ref, { transport: new Transport({ insecure: flags.insecure ?? false }), signal });
    } catch (error) {
      throw signal.aborted ? new CancelledError() : error;
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
  const ref = parseReference(text);
  if (ref.tag === undefined && ref.digest === undefined) return ref;
  const [named = text] = text.split('@');
  const bare = ref.tag === undefined ? named : named.slice(0, -(ref.tag.length + 1));
  throw new UsageError(
    `'${text}' names one image, not a repository: leave off the ${ref.digest === undefined ? 'tag' : 'digest'}, e.g. \`ocilab tags ${bare}\`.`,
  );
}
