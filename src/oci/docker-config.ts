// Registry credentials from docker's config.json, as `docker login` leaves them: `auths` keyed by
// registry, each with `auth` (base64 of `user:password`). Credential helpers (`credsStore`,
// `credHelpers`) are programs ocilab does not run.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OciError } from './errors.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface DockerConfig {
  /** The file read (it need not exist). */
  path: string;
  /** The credentials docker would use for `host` (as in a URL: 'registry-1.docker.io', '127.0.0.1:5000'). */
  credentialsFor(host: string): Credentials | undefined;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: where docker looks. */
export function defaultDockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG || join(homedir(), '.docker');
  return join(dir, 'config.json');
}

// `docker login` with no server saves Docker Hub's credentials under its v1 index address.
const DOCKER_HUB_KEYS = ['index.docker.io', 'docker.io', 'registry-1.docker.io'];

/** Reads `path`; a missing file means no credentials, an unreadable or malformed one is an error. */
export async function readDockerConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, credentialsFor: () => undefined };
    throw new OciError(`Could not read docker's config ${path}: ${(error as Error).message}.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OciError(
      `docker's config ${path} is not valid JSON (${(error as Error).message}); fix it, or set DOCKER_CONFIG to another directory.`,
    );
  }
  const auths = isRecord(parsed) && isRecord(parsed.auths) ? parsed.auths : {};
  const byHost = new Map<string, Credentials>();
  for (const [key, entry] of Object.entries(auths)) {
    const credentials = isRecord(entry) ? credentialsOf(entry) : undefined;
    if (credentials) byHost.set(hostOfKey(key), credentials);
  }
  return {
    path,
    credentialsFor(host) {
      const wanted = host.toLowerCase();
      const keys = DOCKER_HUB_KEYS.includes(wanted) ? DOCKER_HUB_KEYS : [wanted];
      for (const key of keys) {
        const credentials = byHost.get(key);
        if (credentials) return credentials;
      }
      return undefined;
    },
  };
}

/** `https://index.docker.io/v1/` → `index.docker.io`, as docker's `ConvertToHostname` does. */
function hostOfKey(key: string): string {
  const [host = ''] = key.replace(/^https?:\/\//i, '').split('/');
  return host.toLowerCase();
}

function credentialsOf(entry: Record<string, unknown>): Credentials | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
