// Basic authentication: docker's saved username and password, sent to a registry that asks for them
// with a Basic challenge, and from then on to that origin only.
import type { Credentials } from './docker-config.js';
import type { Authorization } from './hop.js';

/** The Authorization of a username and password; it does not expire. */
export function basicAuthorization({ username, password }: Credentials): Authorization {
  return { header: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`, withCredentials: true, expires: Infinity };
}

/** The passwords registries asked for, by origin. */
export class BasicAuth {
  private readonly passwords = new Map<string, Authorization>();

  /** Answers `origin`'s Basic challenge with `credentials`, and keeps the answer for its next requests. */
  meet(origin: string, credentials: Credentials): Authorization {
    const authorization = basicAuthorization(credentials);
    this.passwords.set(origin, authorization);
    return authorization;
  }

  cached(origin: string): Authorization | undefined {
    return this.passwords.get(origin);
  }
}
