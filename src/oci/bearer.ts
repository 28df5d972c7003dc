// Bearer tokens, as the distribution token spec has them: asked of the service a Bearer challenge
// names, with docker's saved credentials for the registry when it has some (sent to that service
// only), and kept per origin and scope until shortly before they expire.
import { basicAuthorization } from './basic.js';
import type { Credentials } from './docker-config.js';
import { RegistryError } from './errors.js';
import type { Authorization, Hop } from './hop.js';
import { registryName } from './reference.js';
import type { SchemePolicy } from './scheme.js';

/** How long a token lives when the token service does not say (the token spec's default). */
const DEFAULT_TOKEN_SECONDS = 60;
/** A token is used for this share of its lifetime, so it does not expire on the way. */
const TOKEN_LIFETIME_USED = 0.9;

/** What a token is for: `repository:library/busybox:pull`, and the repository in the reader's words. */
export interface Access {
  repository: string;
  scope: string;
}

/** How a token request is sent: redirects followed and retries made like any other request's. */
export type TokenRequest = (url: URL, hop: Hop) => Promise<Response>;

export class BearerAuth {
  /** Bearer tokens by `origin scope`. */
  private readonly tokens = new Map<string, Authorization>();

  constructor(
    private readonly send: TokenRequest,
    private readonly schemes: SchemePolicy,
  ) {}

  /** A token `origin` gave for `scope` that is still good. */
  cached(origin: string, scope: string): Authorization | undefined {
    const key = `${origin} ${scope}`;
    const token = this.tokens.get(key);
    if (token === undefined || token.expires > Date.now()) return token;
    this.tokens.delete(key);
    return undefined;
  }

  /**
   * Answers the Bearer challenge of `challenger`, whose parameters are `params`, with a token from the
   * service it names (`realm`), for `service` and the scope; kept for the origin's next requests.
   */
  async meet(
    challenger: URL,
    params: Record<string, string>,
    credentials: Credentials | undefined,
    signal: AbortSignal | undefined,
    access: Access,
  ): Promise<Authorization> {
    const what = `getting a token to read ${access.repository}`;
    let realm: URL;
    try {
      realm = new URL(params.realm ?? '');
    } catch {
      throw new RegistryError(`${challenger.origin} names '${params.realm}' as its token service, which is not a URL.`);
    }
    this.schemes.check(realm, challenger, what);
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', params.scope ?? access.scope);
    const password = credentials ? basicAuthorization(credentials) : undefined;
    const hop: Hop = {
      method: 'GET',
      accept: ['application/json'],
      signal,
      what,
      registry: registryName(challenger.host),
      authorizationFor: (to) => (to.origin === realm.origin ? password : undefined),
    };
    const response = await this.send(realm, hop);
    const { token, expiresIn } = tokenOf(await response.text());
    if (!token) throw new RegistryError(`${realm.origin} answered without a token while ${what}.`);
    const seconds = expiresIn ?? DEFAULT_TOKEN_SECONDS;
    const authorization = {
      header: `Bearer ${token}`,
      withCredentials: credentials !== undefined,
      expires: Date.now() + seconds * 1000 * TOKEN_LIFETIME_USED,
    };
    this.tokens.set(`${challenger.origin} ${access.scope}`, authorization);
    return authorization;
  }
}

// Docker's token services answer `token`; OAuth2-style ones (GCR, Artifact Registry) `access_token`.
function tokenOf(body: string): { token?: string; expiresIn?: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { token, access_token: accessToken, expires_in: expiresIn } = parsed as Record<string, unknown>;
  const value = typeof token === 'string' && token ? token : typeof accessToken === 'string' && accessToken ? accessToken : undefined;
  return {
    ...(value ? { token: value } : {}),
    ...(typeof expiresIn === 'number' && expiresIn > 0 ? { expiresIn } : {}),
  };
}
