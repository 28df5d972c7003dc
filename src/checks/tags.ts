// The `tags` check: the step's output, one tag a line, is exactly the tag list the registry reports
// for the repository — no other lines, and no page of the list left out. ocilab asks the registry
// first, whatever the output, so that a wrong output is explained by what the registry really does
// (it cannot be reached, it redirects) rather than by a guess.
import type { CheckFact, TagsCheck } from '../lab/model.js';
import { expand, references } from '../lab/variables.js';
import { OciError, UnreachableError } from '../oci/errors.js';
import type { Redirect } from '../oci/hop.js';
import { proxyFor, type NetworkFailure } from '../oci/network.js';
import { listTags } from '../oci/tags.js';
import { Transport } from '../oci/transport.js';
import { outputOf } from './output.js';
import { isSettled, type CheckContext, type CheckResult } from './types.js';

/** How many offending names a message quotes. */
const EXAMPLES = 3;

/** A tag as the distribution spec allows one: a line that is not one cannot be part of a tag list. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** What the output holds when curl printed a redirect instead of following it. */
const UNFOLLOWED_REDIRECT = [
  /parse error/i, // jq, given the redirect's body
  /<\s*(a|html|head|title|body)\b/i, // the body itself: registry.k8s.io sends `<a href="...">Temporary Redirect</a>.`
  /^HTTP\/[\d.]+\s+30[12378]\b/i, // curl -i
  /^location:/i,
];

const EMPTY_OUTPUT = (repository: string) => `The output is empty; expected the tags of ${repository}, one a line.`;
const REDIRECT_NOT_FOLLOWED = ({ from, to, status }: Redirect) =>
  `${from.origin} answers the tag list with a ${status} redirect to ${to.origin}, and the output shows the redirect was not followed: curl follows redirects only with -L (--location).`;
const CANNOT_REACH_EITHER = (origin: string, reason: string) => `ocilab cannot reach ${origin} either: ${reason}.`;
const CANNOT_REACH = (origin: string, reason: string) => `ocilab cannot reach ${origin} to get the tags to compare with: ${reason}.`;
const ASKED_TOO = 'ocilab asked the registry too:';
const THROUGH_PROXY = (variable: string, proxy: string, origin: string) =>
  `${variable}=${proxy} is set: curl goes through that proxy, ocilab asks the registry directly; \`curl -sS -D - ${origin}/v2/\` shows what the proxy answers.`;
const USE_WORKSHOP_REGISTRY = (vars: string) => `In a workshop, use the workshop's registry: ${vars}.`;

/** The `--var` settings that change the check's registry, in the words of the fixes below. */
interface Settings {
  /** `--var host=HOST:PORT`, or the address itself when no variable sets it. */
  host: string;
  /** `--var scheme=http`, or how to write an http:// address. */
  plainHttp: string;
  /** The sentence pointing at a workshop's registry, or '' when no variable can. */
  workshop: string;
}

const CHECK_NETWORK = (s: Settings) => `Check the address (${s.host}), this machine's network and its firewall. ${s.workshop}`;

/** What to do when ocilab gets no answer from the registry, by why. */
const UNREACHABLE_FIX: Record<NetworkFailure, (s: Settings) => string> = {
  'name-not-resolved': (s) => `Check the host name (${s.host}) and this machine's DNS. ${s.workshop}`,
  'connection-refused': (s) => `Check the host and port (${s.host}) and that the registry is running. ${s.workshop}`,
  timeout: CHECK_NETWORK,
  'no-route': CHECK_NETWORK,
  'connection-reset': (s) => `Something on the way cut the connection (a firewall?); check the address (${s.host}). ${s.workshop}`,
  'tls-to-plain-http': (s) => `The registry speaks plain HTTP, not https: ask it with ${s.plainHttp}.`,
  'untrusted-certificate': () => 'Give ocilab its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (curl takes --cacert).',
  'blocked-port': (s) =>
    `Node.js, which ocilab runs on, refuses that port (browsers block it): serve the registry on another port (${s.host}).`,
  unknown: CHECK_NETWORK,
};

/** Failures a proxy explains when one is set: the machine may reach the registry only through it. */
const PROXY_EXPLAINS = new Set<NetworkFailure>([
  'name-not-resolved',
  'connection-refused',
  'timeout',
  'no-route',
  'connection-reset',
  'unknown',
]);

type Asked = { tags: string[]; redirect?: Redirect } | { error: OciError; redirect?: Redirect };

export async function tagsCheck(check: TagsCheck, ctx: CheckContext): Promise<CheckResult> {
  const output = outputOf(check, ctx);
  if (typeof output !== 'string') return output;
  const registry = expand(check.registry, ctx.vars);
  const repository = expand(check.repository, ctx.vars);
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const address = registryAddress(registry);
  if (typeof address === 'string') return { status: 'error', message: address };

  const asked = await askRegistry(address, repository, ctx.signal);
  const result = 'error' in asked ? withoutTagList(asked.error, lines, check, repository) : againstTagList(asked, lines, repository);
  const facts: CheckFact[] = [
    ...('error' in asked && asked.error instanceof UnreachableError ? (['registry-unreachable'] as const) : []),
    ...(asked.redirect ? (['registry-redirects'] as const) : []),
  ];
  return isSettled(result) || facts.length === 0 ? result : { ...result, facts };
}

/** ocilab could not get the tag list: the output fails when it holds no tag at all, else it cannot be judged. */
function withoutTagList(error: OciError, lines: string[], check: TagsCheck, repository: string): CheckResult {
  const noTags = !lines.some((line) => TAG.test(line));
  let why = error.message;
  if (error instanceof UnreachableError) why = explainUnreachable(error, check, noTags);
  else if (noTags) why = `${ASKED_TOO} ${error.message}`;
  if (!noTags) return { status: 'error', message: why };
  const output = lines.length === 0 ? EMPTY_OUTPUT(repository) : notTags(lines, repository);
  return { status: 'failed', message: `${output} ${why}`, expected: expectedTags(repository), actual: describeLines(lines, 0) };
}

/** The output against the registry's tag list; a redirect is blamed only when the output shows it was not followed. */
function againstTagList({ tags, redirect }: { tags: string[]; redirect?: Redirect }, lines: string[], repository: string): CheckResult {
  const known = new Set(tags);
  const tagLines = lines.filter((line) => known.has(line)).length;
  const unfollowed = lines.length === 0 || lines.some((line) => UNFOLLOWED_REDIRECT.some((sign) => sign.test(line)));
  if (redirect && tagLines === 0 && unfollowed) {
    const output = lines.length === 0 ? EMPTY_OUTPUT(repository) : notTags(lines, repository);
    const message = `${output} ${REDIRECT_NOT_FOLLOWED(redirect)}`;
    return { status: 'failed', message, expected: expectedTags(repository), actual: describeLines(lines, 0) };
  }
  if (lines.length === 0)
    return { status: 'failed', message: EMPTY_OUTPUT(repository), expected: expectedTags(repository), actual: '(no output)' };

  const listed = new Set(lines);
  const extra = [...listed].filter((line) => !known.has(line));
  const missing = tags.filter((tag) => !listed.has(tag));
  if (extra.length === 0 && missing.length === 0) {
    return { status: 'passed', message: `the output lists all ${tags.length} tags of ${repository}` };
  }

  const problems: string[] = [];
  if (extra.length > 0) problems.push(`${notTags(extra, repository)}${jsonAdvice(lines)}`);
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
    actual: describeLines(lines, tagLines),
  };
}

/** The registry's tag list, or why ocilab could not get it; and the redirect it answered with, if any. */
async function askRegistry(address: URL, repository: string, signal: AbortSignal | undefined): Promise<Asked> {
  let redirect: Redirect | undefined;
  try {
    // Asked with the scheme the lab gives, as the learner's command asks: https to a plain-HTTP registry fails for both.
    const http = address.protocol === 'http:';
    const transport = new Transport({ insecure: http, scheme: http ? 'http' : 'https' });
    const tags = await listTags(
      { host: address.host, repository },
      { transport, onRedirect: (r) => void (redirect ??= r), ...(signal ? { signal } : {}) },
    );
    return { tags, ...(redirect ? { redirect } : {}) };
  } catch (error) {
    if (error instanceof OciError) return { error, ...(redirect ? { redirect } : {}) };
    throw error;
  }
}

/** Why ocilab got no answer, and what the learner can do about it; `either` when the learner got none too. */
function explainUnreachable(error: UnreachableError, check: TagsCheck, either: boolean): string {
  const origin = error.url.origin;
  const { failure, reason } = error.network;
  const said = either ? CANNOT_REACH_EITHER(origin, reason) : CANNOT_REACH(origin, reason);
  const settings = settingsOf(check.registry);
  const proxy = proxyFor(error.url, process.env);
  const fix =
    proxy && PROXY_EXPLAINS.has(failure)
      ? `${THROUGH_PROXY(proxy.variable, proxy.url, origin)} ${settings.workshop}`
      : UNREACHABLE_FIX[failure](settings);
  return `${said} ${fix}`.trim();
}

/** The variables that set the scheme and the host of a registry address such as `${scheme}://${host}`. */
function settingsOf(registry: string): Settings {
  const at = registry.indexOf('://');
  const [schemeVar] = references(registry.slice(0, Math.max(at, 0)));
  const [hostVar] = references(registry.slice(at + 3));
  const host = hostVar ? `--var ${hostVar}=HOST:PORT` : `the lab's address ${registry}`;
  return {
    host,
    plainHttp: schemeVar ? `--var ${schemeVar}=http` : 'an http:// address in the lab',
    workshop: hostVar ? USE_WORKSHOP_REGISTRY(`${host}${schemeVar ? ` --var ${schemeVar}=http` : ''}`) : '',
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

function expectedTags(repository: string): string {
  return `the tags of ${repository}, one a line`;
}

function notTags(lines: string[], repository: string): string {
  const verb = lines.length === 1 ? 'is not a tag' : 'are not tags';
  return `${count(lines.length, 'line', 'lines')} of the output ${verb} of ${repository}: ${examples(lines)}.`;
}

function describeLines(lines: string[], tagLines: number): string {
  if (lines.length === 0) return '(no output)';
  return `${count(lines.length, 'line', 'lines')}: ${count(tagLines, 'tag', 'tags')}, ${count(lines.length - tagLines, 'other line', 'other lines')}`;
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
