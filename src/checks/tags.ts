// The `tags` check: the step's output, one tag a line, is exactly the tag list the registry reports
// for the repository — no other lines, and no page of the list left out.
import type { TagsCheck } from '../lab/model.js';
import { expand } from '../lab/variables.js';
import { OciError } from '../oci/errors.js';
import { listTags } from '../oci/tags.js';
import { Transport } from '../oci/transport.js';
import { outputOf } from './output.js';
import type { CheckContext, CheckOutcome } from './types.js';

/** How many offending names a message quotes. */
const EXAMPLES = 3;

export async function tagsCheck(check: TagsCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const output = outputOf(check, ctx);
  if (typeof output !== 'string') return output;
  const registry = expand(check.registry, ctx.vars);
  const repository = expand(check.repository, ctx.vars);
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

  if (lines.length === 0) {
    return {
      status: 'failed',
      message: `The output is empty; expected the tags of ${repository}, one a line.${redirectAdvice(registry)}`,
      expected: `the tags of ${repository}, one a line`,
      actual: '(no output)',
    };
  }

  const address = registryAddress(registry);
  if (typeof address === 'string') return { status: 'error', message: address };
  let tags: string[];
  try {
    // An http:// registry is one the lab means to reach over plain HTTP, loopback or not.
    const transport = new Transport({ insecure: address.protocol === 'http:' });
    tags = await listTags({ host: address.host, repository }, { transport, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  } catch (error) {
    if (error instanceof OciError) return { status: 'error', message: error.message };
    throw error;
  }

  const known = new Set(tags);
  const listed = new Set(lines);
  const extra = [...listed].filter((line) => !known.has(line));
  const missing = tags.filter((tag) => !listed.has(tag));
  if (extra.length === 0 && missing.length === 0) {
    return { status: 'passed', message: `the output lists all ${tags.length} tags of ${repository}` };
  }

  const tagLines = lines.filter((line) => known.has(line)).length;
  const problems: string[] = [];
  if (extra.length > 0) {
    const verb = extra.length === 1 ? 'is not a tag' : 'are not tags';
    problems.push(
      `${count(extra.length, 'line', 'lines')} of the output ${verb} of ${repository}: ${examples(extra)}.${jsonAdvice(lines)}`,
    );
  }
  if (missing.length > 0) {
    problems.push(
      `${count(missing.length, 'tag', 'tags')} of the ${tags.length} the registry reports ${missing.length === 1 ? 'is' : 'are'} missing: ${examples(missing)}. ` +
        'Only the first page? The registry sends the rest through the Link header.',
    );
  }
  return {
    status: 'failed',
    message: problems.join(' '),
    expected: `the ${tags.length} tags of ${repository}, one a line`,
    actual: `${count(lines.length, 'line', 'lines')}: ${count(tagLines, 'tag', 'tags')}, ${count(lines.length - tagLines, 'other line', 'other lines')}`,
  };
}

/** The check's `registry` (`scheme://host[:port]`) as a URL, or why it is not one. */
function registryAddress(registry: string): URL | string {
  let url: URL;
  try {
    url = new URL(registry);
  } catch {
    return `'${registry}' is not a registry address; expected scheme://host, e.g. https://registry-1.docker.io.`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `'${registry}' is not a registry address; the scheme must be https or http.`;
  }
  return url;
}

// registry.k8s.io answers the tags API with a 307 to another host; curl without -L prints nothing.
function redirectAdvice(registry: string): string {
  let host: string | undefined;
  try {
    host = new URL(registry).hostname;
  } catch {
    return '';
  }
  return host === 'registry.k8s.io'
    ? ' registry.k8s.io answers the tags API with a redirect to another host: curl needs -L to follow it.'
    : '';
}

function jsonAdvice(lines: string[]): string {
  return lines[0]?.startsWith('{') ? " This looks like the registry's JSON: print only the tags (e.g. jq -r '.tags[]')." : '';
}

function examples(names: string[]): string {
  const shown = names.slice(0, EXAMPLES).map((name) => JSON.stringify(name));
  return names.length > EXAMPLES ? `${shown.join(', ')} and ${names.length - EXAMPLES} more` : shown.join(', ');
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
