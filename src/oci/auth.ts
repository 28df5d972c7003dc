// A registry's 401 met: its WWW-Authenticate challenge read and answered, with a password (`basic.ts`)
// or a token (`bearer.ts`) for the origin that asked only, and the request sent again, once per origin.
import { BasicAuth } from './basic.js';
import type { Access, BearerAuth } from './bearer.js';
import { readDockerConfig, type Credentials, type DockerConfig } from './docker-config.js';
import type { Authorization, Hop, Send } from './hop.js';
import { discard } from './send.js';

interface Challenge {
  /** Lower-case: 'bearer', 'basic'. */
  scheme: string;
  /** Parameter names in lower case, values unquoted. */
  params: Record<string, string>;
}

/** A challenge the keychain can meet, and the credentials docker has for the host that sent it. */
interface Meetable {
  challenge: Challenge;
  credentials: Credentials | undefined;
}

/** What a transport knows to send: docker's saved credentials, and the passwords and tokens registries asked for. */
export class Keychain {
  private readonly basic = new BasicAuth();
  private dockerConfig: Promise<DockerConfig> | undefined;

  constructor(
    /** Path of docker's config.json, read when a registry first asks. */
    private readonly dockerConfigPath: string,
    private readonly bearer: BearerAuth,
  ) {}

  /** What to send to `origin` for `scope`: a token it gave that is still good, else a password it asked for. */
  cached(origin: string, scope: string): Authorization | undefined {
    return this.bearer.cached(origin, scope) ?? this.basic.cached(origin);
  }

  /** The challenge of a 401 from `url`, unless it has none ocilab can meet: a password challenge without a password is one. */
  async meetable(response: Response, url: URL): Promise<Meetable | undefined> {
    const challenge = pickChallenge(parseChallenges(response.headers.get('www-authenticate')));
    if (!challenge) return undefined;
    this.dockerConfig ??= readDockerConfig(this.dockerConfigPath);
    const credentials = (await this.dockerConfig).credentialsFor(url.host);
    return challenge.scheme === 'basic' && !credentials ? undefined : { challenge, credentials };
  }

  /** Meets the challenge `url` sent, and keeps the answer for that origin's next requests. */
  async meet({ challenge, credentials }: Meetable, url: URL, signal: AbortSignal | undefined, access: Access): Promise<Authorization> {
    if (challenge.scheme === 'basic' && credentials) return this.basic.meet(url.origin, credentials);
    return this.bearer.meet(url, challenge.params, credentials, signal, access);
  }
}

/**
 * Wraps `inner` for requests about `access`: each origin is sent what the keychain holds for it; on a
 * 401 with a challenge the keychain can meet, the request is sent again with the answer, once per origin.
 */
export function authenticate(inner: Send, keychain: Keychain, access: Access): Send {
  return async (url, hop) => {
    const met = new Set<string>();
    // What this request was just given is sent once even if it is already stale (a very short-lived token).
    const fresh = new Map<string, Authorization>();
    const authorized: Hop = { ...hop, authorizationFor: (to) => fresh.get(to.origin) ?? keychain.cached(to.origin, access.scope) };
    for (;;) {
      const answer = await inner(url, authorized);
      const { origin } = answer.url;
      if (answer.response.status !== 401 || met.has(origin)) return answer;
      const meetable = await keychain.meetable(answer.response, answer.url);
      if (!meetable) return answer;
      met.add(origin);
      await discard(answer.response);
      fresh.set(origin, await keychain.meet(meetable, answer.url, hop.signal, access));
    }
  };
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const CHALLENGE_SCHEME = new RegExp(`[\\s,]*(${TOKEN})(?=\\s|,|$)`, 'y');
const CHALLENGE_PARAM = new RegExp(`[\\s,]*(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s,"]*))`, 'y');

/**
 * The challenges of a `WWW-Authenticate` header (RFC 9110 §11.6.1), e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`.
 * Quoted values may hold commas and escaped quotes; several challenges may share the header.
 */
export function parseChallenges(header: string | null): Challenge[] {
  const challenges: Challenge[] = [];
  let at = 0;
  while (header && at < header.length) {
    CHALLENGE_SCHEME.lastIndex = at;
    const scheme = CHALLENGE_SCHEME.exec(header);
    if (!scheme) break;
    at = CHALLENGE_SCHEME.lastIndex;
    const params: Record<string, string> = {};
    for (;;) {
      CHALLENGE_PARAM.lastIndex = at;
      const param = CHALLENGE_PARAM.exec(header);
      if (!param) break;
      params[(param[1] as string).toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
      at = CHALLENGE_PARAM.lastIndex;
    }
    challenges.push({ scheme: (scheme[1] as string).toLowerCase(), params });
  }
  return challenges;
}

/** A Bearer challenge with a realm, else a Basic one: the two a registry uses. */
function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
}
