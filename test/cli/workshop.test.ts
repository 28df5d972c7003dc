import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkshop, NO_WORKSHOP, workshopFile } from '../../src/cli/workshop.js';

describe('which workshop is in effect', () => {
  let dir: string;
  let installed: string;
  const absent = '/nonexistent/ocilab/workshop.yml';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocilab-which-workshop-'));
    installed = join(dir, 'workshop.yml');
    await writeFile(installed, 'ocilab-workshop: 1\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['--workshop, over $OCILAB_WORKSHOP and the installed one', 'flag.yml', 'env.yml', resolve('flag.yml'), 'given with --workshop'],
    ['$OCILAB_WORKSHOP, over the installed one', undefined, 'env.yml', resolve('env.yml'), 'named by $OCILAB_WORKSHOP'],
    ["the machine's, when nothing names one", undefined, undefined, 'installed', "this machine's workshop"],
    ['$OCILAB_WORKSHOP when set but empty is unset', undefined, '', 'installed', "this machine's workshop"],
  ])('is %s', (_name, flag, env, file, namedBy) => {
    const found = workshopFile(flag, env === undefined ? {} : { OCILAB_WORKSHOP: env }, installed);
    expect(found).toEqual({ file: file === 'installed' ? installed : file, namedBy });
  });

  it('is none without any, and none when --workshop or $OCILAB_WORKSHOP says `none`', () => {
    expect(workshopFile(undefined, {}, absent)).toBeUndefined();
    expect(workshopFile(NO_WORKSHOP, { OCILAB_WORKSHOP: 'env.yml' }, installed)).toBeUndefined();
    expect(workshopFile(undefined, { OCILAB_WORKSHOP: NO_WORKSHOP }, installed)).toBeUndefined();
  });
});

describe('a workshop loaded', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocilab-load-workshop-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('has its shipped labs, and the cache tarball it names resolved against its own directory', async () => {
    const file = join(dir, 'workshop.yml');
    await writeFile(file, 'ocilab-workshop: 1\ntitle: T\nlabs: [runc]\ncache: ./images/day-1.tar\n');
    const workshop = await loadWorkshop(file);
    expect(workshop).toMatchObject({ file, title: 'T', cache: join(dir, 'images', 'day-1.tar') });
    expect(workshop?.labs.map((lab) => lab.id)).toEqual(['runc']);
  });

  it('has no cache without one named', async () => {
    const file = join(dir, 'plain.yml');
    await writeFile(file, 'ocilab-workshop: 1\ntitle: T\nlabs: [runc]\n');
    expect((await loadWorkshop(file))?.cache).toBeUndefined();
  });
});
