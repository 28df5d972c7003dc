// A real CNCF distribution registry (Debian's docker-registry) on a free loopback port, with its
// storage in a temporary directory: one per test file, started in beforeAll and stopped in afterAll.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;
/** Enough of the registry's own log to explain why it did not start. */
const LOG_TAIL_CHARS = 4_000;

export interface Registry {
  /** `127.0.0.1:PORT`, as it goes in an image reference. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  stop(): Promise<void>;
}

/**
 * Writes a registries.conf (v2) that lets podman and skopeo use this plain-HTTP registry, and returns
 * its path. Labs run `podman create "$img"` unchanged, so tests hand the file to ocilab as
 * `CONTAINERS_REGISTRIES_CONF`, which ocilab passes on to lab commands. (docker trusts plain HTTP on
 * 127.0.0.1 by itself.)
 */
export async function writeRegistriesConf(host: string, dir: string): Promise<string> {
  const file = join(dir, 'registries.conf');
  await writeFile(file, `[[registry]]\nlocation = "${host}"\ninsecure = true\n`);
  return file;
}

/** A port nobody listens on right now (the kernel picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

function config(storage: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    // Fixed, so the registry does not warn about generating one on every start.
    '  secret: ocilab-tests',
    '',
  ].join('\n');
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function stopProcess(child: ResultPromise): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const exited = await Promise.race([child.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
  if (!exited) {
    child.kill('SIGKILL');
    await child;
  }
}

/**
 * Starts a registry and resolves once `GET /v2/` answers 200. The port is free when picked but could be
 * taken before the registry binds it, so a registry that exits early is started again on another port.
 */
export async function startRegistry(): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'ocilab-registry-'));
  let lastError = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const configFile = join(dir, 'config.yml');
    await writeFile(configFile, config(join(dir, 'storage'), port));
    const child = execa(REGISTRY_BINARY, ['serve', configFile], {
      reject: false,
      stdin: 'ignore',
      stdout: 'ignore',
      buffer: false,
      cleanup: true,
    });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-LOG_TAIL_CHARS);
    });
    let exited = false;
    void child.then(() => {
      exited = true;
    });

    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      if (await answers(url)) {
        return {
          host: `127.0.0.1:${port}`,
          url,
          async stop() {
            await stopProcess(child);
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      await sleep(100);
    }
    await stopProcess(child);
    const started = await child;
    lastError = exited
      ? `${REGISTRY_BINARY} exited (${started.exitCode ?? started.signal}) on port ${port}:\n${log}`
      : `${REGISTRY_BINARY} did not answer GET ${url}/v2/ within ${READY_TIMEOUT_MS} ms:\n${log}`;
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(lastError);
}
