// Whose labs these are when ocilab runs under sudo: decided from the environment and /etc/passwd alone.
import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { findLearner } from '../../src/sys/learner.js';

const PASSWD = ['root:x:0:0:root:/root:/bin/bash', 'ada:x:1000:1000:Ada:/home/ada:/bin/bash', 'bob:x:1001:1001::/srv/bob:/bin/sh'].join(
  '\n',
);
const SUDO = { SUDO_USER: 'ada', SUDO_UID: '1000', SUDO_GID: '1000' };

describe('findLearner', () => {
  it('is the user who typed sudo, with their home, when ocilab runs as root under sudo', () => {
    expect(findLearner(SUDO, 0, PASSWD)).toEqual({ home: '/home/ada', sudoFrom: { name: 'ada', uid: 1000, gid: 1000 } });
  });

  it.each<[string, NodeJS.ProcessEnv, number]>([
    ['not under sudo', {}, 0],
    ['a normal user with SUDO_USER in the environment', SUDO, 1000],
    ['root who typed sudo', { SUDO_USER: 'root', SUDO_UID: '0', SUDO_GID: '0' }, 0],
    ['SUDO_UID missing', { SUDO_USER: 'ada', SUDO_GID: '1000' }, 0],
    ['a name whose uid does not match /etc/passwd', { ...SUDO, SUDO_UID: '1001' }, 0],
    ['a user /etc/passwd does not know', { ...SUDO, SUDO_USER: 'carol' }, 0],
  ])('is whoever runs ocilab when %s', (_what, env, euid) => {
    expect(findLearner(env, euid, PASSWD)).toEqual({ home: homedir() });
  });
});
