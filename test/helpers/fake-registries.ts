// Scripted doubles of how public registries answer, for behaviour the local distribution registry
// does not show: Docker Hub's token challenge (anonymous or for a login), registry.k8s.io's redirect to
// another host, Link pagination (including links a client must refuse), a registry that is
// rate-limiting or failing for a while, and a mirror that serves manifests and blobs byte for byte,
// corrupt ones included. Each server records the requests it saw, so tests can assert what was (not)
// sent where.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface SeenRequest {
  /** Path and query, e.g. `/v2/library/busybox/tags/list?n=2&last=b`. */
  path: string;
  authorization: string | undefined;
}

export interface FakeServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/** An HTTP server on a free loopback port that records every request before handling it. */
export async function serve(handler: Handler): Promise<FakeServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push({ path: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
    handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake registry has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on loopback that nobody listens on (the kernel picks it; the listener is closed again). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function tagsPath(repository: string): string {
  return `/v2/${repository}/tags/list`;
}

/** Serves the whole tag list of one repository; anything else is the distribution API's 404. */
function tagList(repository: string, tags: readonly string[]): Handler {
  return (_req, res, url) => {
    if (url.pathname === tagsPath(repository)) return json(res, 200, { name: repository, tags });
    const name = url.pathname.replace(/^\/v2\/|\/tags\/list$/g, '');
    json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name } }] });
  };
}

export interface DockerHubLike {
  registry: FakeServer;
  /** The token service, on a host of its own as auth.docker.io is. */
  auth: FakeServer;
  close(): Promise<void>;
}

export interface DockerHubOptions {
  /** Where the token service puts the token: `token` (Docker's) or `access_token` (OAuth2-style services). */
  tokenField?: 'token' | 'access_token';
  /** A private repository: the token service hands out a token only for this user and password (HTTP Basic). */
  login?: { username: string; password: string };
  /** The token's lifetime the token service announces, in seconds. */
  expiresIn?: number;
}

/**
 * Docker Hub: the registry answers 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`
 * until it gets the token its token service hands out, anonymously or, with `login`, to that user.
 */
export async function startDockerHubLike(
  repository: string,
  tags: readonly string[],
  { tokenField = 'token', login, expiresIn = 300 }: DockerHubOptions = {},
): Promise<DockerHubLike> {
  const token = login ? 'private-pull-token' : 'anonymous-pull-token';
  const password = login && `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`;
  const auth = await serve((req, res, url) => {
    const scopeOk = url.searchParams.get('scope') === `repository:${repository}:pull`;
    const serviceOk = url.searchParams.get('service') === 'registry.fake.io';
    if (url.pathname !== '/token' || !scopeOk || !serviceOk) return json(res, 400, { details: 'bad token request' });
    // What auth.docker.io answers to a wrong password.
    if (password && req.headers.authorization !== password) return json(res, 401, { details: 'incorrect username or password' });
    json(res, 200, { [tokenField]: token, expires_in: expiresIn });
  });
  const serveTags = tagList(repository, tags);
  const registry = await serve((req, res, url) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      const challenge = `Bearer realm="${auth.url}/token",service="registry.fake.io",scope="repository:${repository}:pull"`;
      return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'WWW-Authenticate': challenge });
    }
    serveTags(req, res, url);
  });
  return { registry, auth, close: async () => void (await Promise.all([registry.close(), auth.close()])) };
}

export interface K8sLike {
  /** Where learners point curl: it only redirects. */
  front: FakeServer;
  /** The host the redirect leads to (an Artifact Registry in real life), on another port. */
  backend: FakeServer;
  close(): Promise<void>;
}

/**
 * registry.k8s.io: every `/v2/` request is answered with a 307 to the same path on another host.
 * With `challenge`, the front first demands an anonymous token (as Docker Hub does before redirecting
 * blob downloads to its CDN), so a client that forwards Authorization across hosts gets caught: the
 * backend records what it received.
 */
export async function startK8sLike(repository: string, tags: readonly string[], challenge = false): Promise<K8sLike> {
  const backend = await serve(tagList(repository, tags));
  const token = 'front-token';
  const auth = await serve((_req, res) => json(res, 200, { token }));
  const front = await serve((req, res, url) => {
    if (challenge && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${auth.url}/token",service="front"` });
      return res.end();
    }
    res.writeHead(307, { Location: `${backend.url}${url.pathname}${url.search}` });
    res.end('<a href="...">Temporary Redirect</a>.\n');
  });
  return { front, backend, close: async () => void (await Promise.all([front.close(), backend.close(), auth.close()])) };
}

/**
 * How the next page is linked: `relative` (`</v2/...>`, as distribution does), `absolute`
 * (`<http://same-host/v2/...>`), `foreign` (a page on another host, which a client must refuse), or
 * `loop` (back to the first page, forever).
 */
export type LinkStyle = 'relative' | 'absolute' | 'foreign' | 'loop';

export interface Paginated {
  registry: FakeServer;
  /** The other host a `foreign` link names; it must never be asked anything. */
  foreign: FakeServer;
  close(): Promise<void>;
}

/** A registry that returns `pageSize` tags a page, with `Link: <...>; rel="next"` to the rest. */
export async function startPaginated(repository: string, tags: readonly string[], pageSize: number, style: LinkStyle): Promise<Paginated> {
  const foreign = await serve(tagList(repository, tags));
  const registry = await serve((_req, res, url) => {
    if (url.pathname !== tagsPath(repository)) return tagList(repository, tags)(_req, res, url);
    const last = url.searchParams.get('last');
    const start = last === null ? 0 : tags.indexOf(last) + 1;
    const page = tags.slice(start, start + pageSize);
    const more = start + pageSize < tags.length;
    const nextPath = `${tagsPath(repository)}?n=${pageSize}&last=${encodeURIComponent(page[page.length - 1] ?? '')}`;
    const target = {
      relative: nextPath,
      absolute: `${registry.url}${nextPath}`,
      foreign: `${foreign.url}${nextPath}`,
      loop: tagsPath(repository),
    }[style];
    json(res, 200, { name: repository, tags: page }, more ? { Link: `<${target}>; rel="next"` } : {});
  });
  return { registry, foreign, close: async () => void (await Promise.all([registry.close(), foreign.close()])) };
}

/** A registry that refuses every request with `status` and the distribution API's error JSON. */
export function startRefusing(status: number, code: string, message: string, headers: Record<string, string> = {}): Promise<FakeServer> {
  return serve((_req, res) => json(res, status, { errors: [{ code, message, detail: null }] }, headers));
}

/** One scripted failure: the status, the distribution API's error, and a Retry-After header if any. */
export interface Failure {
  status: number;
  code: string;
  message: string;
  retryAfter?: string;
}

/**
 * A registry under pressure: Docker Hub's pull rate limit (429 TOOMANYREQUESTS with Retry-After) or an
 * overloaded mirror (502, 503). It answers each of `failures` in turn, then serves the tag list.
 */
export function startOverloaded(repository: string, tags: readonly string[], failures: readonly Failure[]): Promise<FakeServer> {
  const pending = [...failures];
  const serveTags = tagList(repository, tags);
  return serve((req, res, url) => {
    const failure = pending.shift();
    if (!failure) return serveTags(req, res, url);
    const headers: Record<string, string> = failure.retryAfter === undefined ? {} : { 'Retry-After': failure.retryAfter };
    json(res, failure.status, { errors: [{ code: failure.code, message: failure.message }] }, headers);
  });
}

/** A manifest as a registry holds it: its bytes, and the Content-Type it is served with (none: no header). */
export interface ServedManifest {
  bytes: Buffer;
  contentType?: string;
}

export interface MirrorContent {
  repository: string;
  /** By tag and by digest. */
  manifests: Record<string, ServedManifest>;
  /** By digest: the bytes served, or a file streamed from disk (a large layer). Nothing checks that they match the digest. */
  blobs: Record<string, Buffer | { file: string }>;
}

export interface MirrorOptions {
  /** Called as a blob is asked for; the answer waits until it resolves (to hold a download back). */
  beforeBlob?: (digest: string) => Promise<void>;
}

export interface Mirror extends FakeServer {
  /** Every request as `METHOD path`: `HEAD /v2/x/y/manifests/1.0`. */
  log: string[];
  /** The most blob downloads that were under way at once. */
  maxBlobsInFlight(): number;
}

/**
 * A registry, or a pull-through mirror, that serves fixed manifests and blobs byte for byte without
 * checking them: what the distribution registry would refuse to store, such as a blob whose bytes do
 * not match its digest (a mirror with a bad disk, a proxy that tampers), Docker schema 1, zstd and
 * foreign layers. Manifests are answered with Docker-Content-Digest, to GET and HEAD.
 */
export async function startMirror(content: MirrorContent, options: MirrorOptions = {}): Promise<Mirror> {
  const prefix = `/v2/${content.repository}/`;
  const log: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const unknown = (res: ServerResponse, code: string, detail: Record<string, string>) =>
    json(res, 404, { errors: [{ code, message: `${code.toLowerCase().replace('_', ' ')}`, detail }] });
  const server = await serve((req, res, url) => {
    log.push(`${req.method} ${url.pathname}`);
    const [kind, reference = '', ...rest] = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length).split('/') : [];
    if (kind === 'manifests' && rest.length === 0) {
      const manifest = content.manifests[decodeURIComponent(reference)];
      if (!manifest) return unknown(res, 'MANIFEST_UNKNOWN', { reference });
      res.writeHead(200, {
        ...(manifest.contentType ? { 'Content-Type': manifest.contentType } : {}),
        'Content-Length': String(manifest.bytes.length),
        'Docker-Content-Digest': `sha256:${createHash('sha256').update(manifest.bytes).digest('hex')}`,
      });
      return res.end(req.method === 'HEAD' ? undefined : manifest.bytes);
    }
    if (kind === 'blobs' && rest.length === 0) {
      const blob = content.blobs[decodeURIComponent(reference)];
      if (!blob) return unknown(res, 'BLOB_UNKNOWN', { digest: reference });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('close', () => inFlight--);
      void (options.beforeBlob?.(reference) ?? Promise.resolve()).then(() => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        if (Buffer.isBuffer(blob)) res.end(blob);
        else createReadStream(blob.file).pipe(res);
      });
      return;
    }
    json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
  });
  return { ...server, log, maxBlobsInFlight: () => maxInFlight };
}
