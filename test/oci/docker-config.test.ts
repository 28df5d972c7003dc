import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDockerConfig } from '../../src/oci/docker-config.js';

const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-docker-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function config(contents: unknown): Promise<string> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, typeof contents === 'string' ? contents : JSON.stringify(contents));
  return file;
}

describe('readDockerConfig', () => {
  it('finds the credentials `docker login` saved, whatever form the key has', async () => {
    const file = await config({
      auths: {
        'https://index.docker.io/v1/': { auth: auth('hub-user', 'hub:pass') },
        'registry.example:5000': { auth: auth('a', '1') },
        'https://ghcr.io': { auth: auth('b', '2') },
        'http://10.0.0.5:5000/v2/': { username: 'c', password: '3' },
        'quay.io': { auth: '' },
      },
      credsStore: 'desktop',
    });
    const { credentialsFor } = await readDockerConfig(file);
    expect(credentialsFor('registry-1.docker.io')).toEqual({ username: 'hub-user', password: 'hub:pass' });
    expect(credentialsFor('registry.example:5000')).toEqual({ username: 'a', password: '1' });
    expect(credentialsFor('GHCR.io')).toEqual({ username: 'b', password: '2' });
    expect(credentialsFor('10.0.0.5:5000')).toEqual({ username: 'c', password: '3' });
    expect(credentialsFor('quay.io')).toBeUndefined();
    expect(credentialsFor('registry.example')).toBeUndefined();
  });

  it('has no credentials when the file does not exist', async () => {
    expect((await readDockerConfig(join(dir, 'missing.json'))).credentialsFor('registry-1.docker.io')).toBeUndefined();
  });

  it('names the file when it is not JSON', async () => {
    const file = await config('{"auths":');
    await expect(readDockerConfig(file)).rejects.toThrow(`docker's config ${file} is not valid JSON`);
  });
});
