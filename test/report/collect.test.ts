import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildReport, collectReport } from '../../src/report/collect.js';
import { saveProgress } from '../../src/runner/progress.js';
import { demoInput, demoLab, demoProgress, demoReport } from './fixtures.js';

describe('buildReport', () => {
  it('names the learner, the machine and the ocilab version, and is marked as a report of version 1', () => {
    const report = demoReport();
    expect(report).toMatchObject({
      format: 'ocilab-report',
      version: 1,
      generatedAt: '2025-03-14T10:00:00.000Z',
      ocilab: '0.1.0',
      user: 'alice',
      host: 'ws-07',
      machine: { platform: 'linux', release: '6.1.0-18-amd64', arch: 'x64' },
    });
  });

  it('gives every step of the lab its status, attempts, hints, time and kind', () => {
    const [lab] = demoReport().labs;
    expect(
      lab?.steps.map(({ id, kind, status, attempts, hints, hintsAvailable, seconds }) => ({
        id,
        kind,
        status,
        attempts,
        hints,
        hintsAvailable,
        seconds,
      })),
    ).toEqual([
      { id: 'read-this-first', kind: 'reading', status: 'read', attempts: 0, hints: 0, hintsAvailable: 0, seconds: 20 },
      { id: 'say-hello', kind: 'task', status: 'passed', attempts: 2, hints: 2, hintsAvailable: 2, seconds: 95 },
      { id: 'write-the-greeting', kind: 'task', status: 'failed', attempts: 3, hints: 0, hintsAvailable: 0, seconds: 300 },
      { id: 'sign-it', kind: 'task', status: 'skipped', attempts: 0, hints: 0, hintsAvailable: 0, seconds: 5 },
      { id: 'send-it', kind: 'task', status: 'pending', attempts: 0, hints: 0, hintsAvailable: 0, seconds: 0 },
    ]);
    expect(lab?.steps.map((s) => s.number)).toEqual([1, 2, 3, 4, 5]);
  });

  it('says where the learner is stuck, how long the lab took and when they last worked on it', () => {
    const [lab] = demoReport().labs;
    expect(lab).toMatchObject({ id: 'demo', number: 1, state: 'failed', current: 'write-the-greeting', seconds: 420, duration: '15 min' });
    expect(lab?.lastActivity).toBe('2025-03-14T09:07:05.000Z');
  });

  it('keeps the checks as they last ran, and names the ones that never ran with the lab variables filled in', () => {
    const [lab] = demoReport().labs;
    const greeting = lab?.steps.find((s) => s.id === 'write-the-greeting');
    expect(greeting?.checks.map((c) => c.status)).toEqual(['error', 'failed']);
    expect(greeting?.checks[1]).toMatchObject({ expected: 'hello class', actual: 'hello\u001b[0m <world>\nsecond line' });
    expect(lab?.steps.find((s) => s.id === 'send-it')?.checks).toEqual([{ kind: 'output', label: 'It is signed', status: 'not-run' }]);

    const fresh = demoReport(null).labs[0]?.steps.find((s) => s.id === 'write-the-greeting');
    expect(fresh?.checks.map((c) => [c.label, c.status])).toEqual([
      ['world.txt: exists', 'not-run'],
      ['`cat greeting.txt`: output is "hello class"', 'not-run'],
    ]);
  });

  it.each([
    ['nothing recorded', null, 'not-started', 'read-this-first'],
    ['the next step not tried yet', { 'read-this-first': 'read' }, 'in-progress', 'say-hello'],
    ['the next step failed', { 'read-this-first': 'read', 'say-hello': 'failed' }, 'failed', 'say-hello'],
    [
      'every step passed, read or skipped',
      { 'read-this-first': 'read', 'say-hello': 'passed', 'write-the-greeting': 'passed', 'sign-it': 'skipped', 'send-it': 'passed' },
      'finished',
      undefined,
    ],
  ] as const)('calls a lab with %s %s', (_, statuses, state, current) => {
    const progress =
      statuses === null
        ? null
        : {
            ...demoProgress(),
            steps: Object.fromEntries(
              Object.entries(statuses).map(([id, status]) => [
                id,
                { status, attempts: 1, hints: 0, seconds: 1, at: '2025-03-14T09:00:00.000Z' },
              ]),
            ),
          };
    const [lab] = demoReport(progress).labs;
    expect(lab?.state).toBe(state);
    expect(lab?.current).toBe(current);
  });

  it('shows a step whose hints were opened but that was never tried as started', () => {
    const progress = {
      ...demoProgress(),
      steps: { 'say-hello': { status: 'started' as const, attempts: 0, hints: 1, seconds: 30, at: '2025-03-14T09:00:00.000Z' } },
    };
    const [lab] = demoReport(progress).labs;
    expect(lab?.steps.find((s) => s.id === 'say-hello')?.status).toBe('started');
    expect(lab?.state).toBe('in-progress');
  });

  it("labels checks never run with the workshop's values, under the learner's own", () => {
    const label = (progress: Parameters<typeof demoInput>[0]) =>
      buildReport({ ...demoInput(progress), presets: () => ({ name: 'room-7' }) }).labs[0]?.steps.find((s) => s.id === 'write-the-greeting')
        ?.checks[0]?.label;
    expect(label(null)).toBe('room-7.txt: exists');
    expect(label({ ...demoProgress(), vars: { name: 'mine' }, steps: {} })).toBe('mine.txt: exists');
  });

  it('names the workshop of the report, and each lab file', () => {
    const report = buildReport({ ...demoInput(), workshop: { title: 'Day 1', file: '/etc/ocilab/workshop.yml' } });
    expect(report.workshop).toEqual({ title: 'Day 1', file: '/etc/ocilab/workshop.yml' });
    expect(report.labs[0]?.file).toBe('demo.md');
    expect(demoReport().workshop).toBeUndefined();
  });

  it('falls back to the default variables when the saved ones no longer fit the lab', () => {
    const progress = { ...demoProgress(), vars: { gone: 'x' }, steps: {} };
    const steps = buildReport(demoInput(progress)).labs[0]?.steps;
    expect(steps?.find((s) => s.id === 'write-the-greeting')?.checks[0]?.label).toBe('world.txt: exists');
  });
});

describe('collectReport', () => {
  let dir: string;
  const saved = process.env.XDG_STATE_HOME;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocilab-collect-'));
    process.env.XDG_STATE_HOME = dir;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.XDG_STATE_HOME;
    else process.env.XDG_STATE_HOME = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the saved progress of each lab, and names this user and host', async () => {
    await saveProgress(demoProgress());
    const { report, ignored } = await collectReport([demoLab()], '9.9.9', new Date('2025-03-14T10:00:00.000Z'));
    expect(ignored).toEqual([]);
    expect(report).toMatchObject({ user: userInfo().username, host: hostname(), ocilab: '9.9.9', generatedAt: '2025-03-14T10:00:00.000Z' });
    expect(report.labs[0]?.state).toBe('failed');
  });

  it('reports a lab given by path whose file its progress records, after the labs given', async () => {
    await saveProgress({ ...demoProgress(), lab: 'mine', file: '/labs/mine.md' });
    const readLab = (file: string) => Promise.resolve(file === '/labs/mine.md' ? { ...demoLab(), id: 'mine', file } : undefined);
    const { report, ignored } = await collectReport([demoLab()], '9.9.9', new Date(), { readLab });
    expect(ignored).toEqual([]);
    expect(report.labs.map((l) => [l.number, l.id, l.file, l.state])).toEqual([
      [1, 'demo', 'demo.md', 'not-started'],
      [2, 'mine', '/labs/mine.md', 'failed'],
    ]);
  });

  it('leaves out progress whose lab file is no longer that lab, and says so', async () => {
    await saveProgress({ ...demoProgress(), lab: 'mine', file: '/labs/gone.md' });
    const { report, ignored } = await collectReport([demoLab()], '9.9.9', new Date(), { readLab: () => Promise.resolve(undefined) });
    expect(report.labs.map((l) => l.id)).toEqual(['demo']);
    expect(ignored).toEqual([
      {
        file: join(dir, 'ocilab', 'progress', 'mine.json'),
        reason: "progress in the lab file /labs/gone.md, which is no longer a lab with the id 'mine'",
      },
    ]);
  });

  it('names progress files of labs it does not know, and leaves them out', async () => {
    await mkdir(join(dir, 'ocilab', 'progress'), { recursive: true });
    await writeFile(join(dir, 'ocilab', 'progress', 'my-own-lab.json'), '{}');
    const { report, ignored } = await collectReport([demoLab()], '9.9.9');
    expect(report.labs.map((l) => [l.id, l.state])).toEqual([['demo', 'not-started']]);
    expect(ignored).toEqual([
      { file: join(dir, 'ocilab', 'progress', 'my-own-lab.json'), reason: expect.stringContaining('not one of the labs shipped') },
    ]);
  });
});
