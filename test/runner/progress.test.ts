// Reading saved progress: a file that is not progress of this lab, in this version, is not taken for it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProgress, progressFile } from '../../src/runner/progress.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-progress-test-'));
  process.env.XDG_STATE_HOME = join(dir, 'state');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function saved(text: string): Promise<void> {
  await mkdir(dirname(progressFile('t')), { recursive: true });
  await writeFile(progressFile('t'), text);
}

describe('loadProgress', () => {
  it('reads progress of this lab, with no variables when the file has none', async () => {
    await saved(JSON.stringify({ version: 1, lab: 't', workdir: '/w', steps: { a: { status: 'passed' } } }));
    expect(await loadProgress('t')).toMatchObject({ lab: 't', steps: { a: { status: 'passed' } }, vars: {} });
  });

  it.each([
    ['not JSON', '{ nope'],
    ['another version', JSON.stringify({ version: 2, lab: 't', steps: {} })],
    ['another lab', JSON.stringify({ version: 1, lab: 'u', steps: {} })],
    ['steps that are null', JSON.stringify({ version: 1, lab: 't', steps: null })],
    ['steps that are a list', JSON.stringify({ version: 1, lab: 't', steps: [] })],
    ['no steps', JSON.stringify({ version: 1, lab: 't' })],
  ])('takes a file with %s for no progress', async (_, text) => {
    await saved(text);
    expect(await loadProgress('t')).toBeUndefined();
  });
});
