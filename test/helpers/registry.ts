// A real CNCF distribution registry (Debian's docker-registry) on a free loopback port, with its
// storage in a temporary directory: one per test file, started in beforeAll and stopped in afterAll.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, stopProcess } from './daemon.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

const READY_TIMEOUT_MS = 20_000;

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

/**
 * Starts a registry and resolves once `GET /v2/` answers 200. The port is free when picked but could be
 * taken before the registry binds it, so a registry that exits early is started again on another port.
 */
export async function startRegistry(): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'ocilab-registry-'));
  const url = (port: number) => `http://127.0.0.1:${port}`;
  try {
    const { port, child } = await startDaemon({
      file: REGISTRY_BINARY,
      argsFor: async (port) => {
        const configFile = join(dir, 'config.yml');
        await writeFile(configFile, config(join(dir, 'storage'), port));
        return ['serve', configFile];
      },
      answers: (port) => answers(url(port)),
      asked: (port) => `GET ${url(port)}/v2/`,
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
    return {
      host: `127.0.0.1:${port}`,
      url: url(port),
      async stop() {
        await stopProcess(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
