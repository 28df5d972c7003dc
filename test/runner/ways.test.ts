import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Way } from '../../src/lab/model.js';
import { assessWays, WAY_NEEDS_ROOT } from '../../src/runner/ways.js';
import type { Privilege } from '../../src/sys/privilege.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-ways-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const way = (name: string, over: Partial<Way> = {}): Way => ({
  line: 1,
  script: 'true',
  interactive: false,
  root: false,
  timeout: 300,
  readonly: false,
  name,
  needs: [],
  ...over,
});

describe('assessWays', () => {
  it.each<[Privilege, boolean]>([
    ['root', true],
    ['sudo-nopasswd', true],
    ['sudo-password', true],
    ['none', false],
  ])('with privilege %s, a way that needs root is usable: %s', async (privilege, usable) => {
    const [rooted, rootless] = await assessWays([way('root', { root: true }), way('rootless')], dir, privilege);
    expect(rooted).toMatchObject({ usable, reason: usable ? 'works here' : WAY_NEEDS_ROOT });
    expect(rootless).toMatchObject({ usable: true });
  });

  it('does not run the probe of a way that needs root when there is none to be had', async () => {
    const probe = `touch ${JSON.stringify(join(dir, 'probed'))}`;
    await assessWays([way('root', { root: true, probe })], dir, 'none');
    expect(existsSync(join(dir, 'probed'))).toBe(false);
    await assessWays([way('root', { root: true, probe })], dir, 'sudo-password');
    expect(existsSync(join(dir, 'probed'))).toBe(true);
  });

  it('says what is missing before it says root is', async () => {
    const [option] = await assessWays([way('root', { root: true, needs: ['no-such-command-ocilab'] })], dir, 'none');
    expect(option?.reason).toBe('no-such-command-ocilab not found.');
  });

  it('gives the last line a failed probe printed', async () => {
    const [option] = await assessWays([way('broken', { probe: 'echo first; echo "config.json is not rootless"; exit 1' })], dir, 'none');
    expect(option).toMatchObject({ usable: false, reason: expect.stringMatching(/failed: config.json is not rootless$/) });
  });
});
