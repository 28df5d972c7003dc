import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import type { Lab } from '../../src/lab/model.js';
import { parseLab } from '../../src/lab/parse.js';
import { judgeCheck, proveLab, type ProvedStep, type ProveOptions } from '../../src/runner/prove.js';
import { newProgress, saveProgress, stateDir } from '../../src/runner/progress.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-prove-test-'));
  process.env.XDG_STATE_HOME = join(dir, 'state');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const labText = (body: string, variables = '') => `---\nocilab: 1\nid: t\ntitle: T\nsummary: s\n${variables}---\n${body}`;

function makeLab(body: string, variables = ''): Lab {
  const result = parseLab(labText(body, variables), 't.md');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  return result.lab;
}

const step = (title: string, script: string, checks: string, attrs = '') =>
  `## ${title}\n\n\`\`\`sh {"run": true${attrs}}\n${script}\n\`\`\`\n\n\`\`\`yaml {"checks": true}\n${checks}\n\`\`\`\n\n`;

function prove(lab: Lab, options: Partial<ProveOptions> = {}) {
  return proveLab(lab, { vars: {}, keepGoing: false, keep: false, signal: new AbortController().signal, ...options });
}

const verdicts = (steps: ProvedStep[]) => steps.flatMap((s) => s.checks.map((c) => [c.label, c.verdict]));

describe('proving checks', () => {
  it('proves a check that fails before its step and passes after it', async () => {
    const report = await prove(makeLab(step('Make a', 'echo a > a.txt', '- file: a.txt\n  title: a.txt is there')));
    expect(report.proven).toBe(true);
    expect(report.steps).toMatchObject([
      {
        id: 'make-a',
        status: 'proven',
        checks: [{ label: 'a.txt is there', verdict: 'ok', before: { status: 'failed' }, after: { status: 'passed' } }],
      },
    ]);
  });

  it('reports a check that passes before its step as one that cannot fail, with its file:line', async () => {
    const body = step('Make a', 'echo a > a.txt', '- file: a.txt\n- command: exit 0\n  title: always');
    const report = await prove(makeLab(body));
    expect(report.proven).toBe(false);
    expect(report.steps[0]?.status).toBe('unproven');
    const check = report.steps[0]?.checks[1];
    expect(check).toMatchObject({ label: 'always', verdict: 'cannot-fail', before: { status: 'passed' } });
    const line = labText(body).split('\n').indexOf('- command: exit 0') + 1;
    expect(check?.at).toBe(`t.md:${line}`);
  });

  it('accepts a passesBefore check that passes before its step, and reports one that does not', async () => {
    const lab = makeLab(
      step('Prepare', 'touch old', '- file: old') +
        step(
          'Add new',
          'touch new',
          '- file: old\n  passesBefore: true\n  title: kept\n- file: new\n  passesBefore: true\n  title: marked wrongly',
        ),
    );
    const report = await prove(lab);
    expect(verdicts(report.steps)).toEqual([
      ['old: exists', 'ok'],
      ['kept', 'ok'],
      ['marked wrongly', 'fails-before'],
    ]);
    expect(report.proven).toBe(false);
  });

  it('reports a check that does not pass after its step as never passing, with what it found', async () => {
    const report = await prove(makeLab(step('Write', 'echo hello > greeting.txt', '- json: greeting.txt\n  title: JSON')));
    expect(report.steps[0]?.checks[0]).toMatchObject({
      verdict: 'never-passes',
      after: { status: 'failed', expected: 'valid JSON' },
    });
    expect(report.proven).toBe(false);
  });

  it('counts a check that cannot run before its step (there is no output yet) as one that can fail', async () => {
    const report = await prove(makeLab(step('Print', 'echo one; echo two', '- output: step\n  lines: 2', ', "readonly": true')));
    expect(report.steps[0]?.checks[0]).toMatchObject({ verdict: 'ok', before: { status: 'error' }, after: { status: 'passed' } });
  });

  it('reports a check skipped on this machine as skipped, not proven and not a problem, with its reason', async () => {
    const body = step(
      'Make a',
      'echo a > a.txt',
      "- file: a.txt\n- file: b.txt\n  title: b is there\n  skip:\n    if: 'true'\n    because: b does not apply here",
    );
    const report = await prove(makeLab(body));
    expect(report.proven).toBe(true);
    expect(report.steps[0]).toMatchObject({ status: 'proven' });
    expect(report.steps[0]?.checks[1]).toMatchObject({
      label: 'b is there',
      verdict: 'skipped',
      after: { status: 'skipped', message: 'b does not apply here' },
    });
  });

  it('skips interactive commands as headless runs do, so their checks are judged on what earlier steps left', async () => {
    const lab = makeLab(
      step('Prepare', 'echo demo > hostname', '- file: hostname') +
        step('Look inside', 'cat hostname', '- command: cat hostname\n  equals: demo\n  title: the name is demo', ', "interactive": true'),
    );
    const report = await prove(lab);
    expect(report.steps[1]).toMatchObject({ status: 'unproven', checks: [{ label: 'the name is demo', verdict: 'cannot-fail' }] });
  });
});

describe('running the lab', () => {
  it('runs the steps in order in one throwaway workspace, and removes it afterwards', async () => {
    const seen: string[] = [];
    const lab = makeLab(
      step('First', 'echo 1 > one', '- file: one') +
        '## Read only\n\nWords.\n\n' +
        step('Second', 'cat one > two', '- file: two\n  notEmpty: true'),
    );
    const report = await prove(lab, { onStep: (s) => seen.push(s.id) });
    expect(report.proven).toBe(true);
    expect(seen).toEqual(['first', 'second']);
    expect(report.steps.map((s) => s.id)).toEqual(['first', 'second']);
    expect(report.kept).toBe(false);
    expect(existsSync(report.workdir)).toBe(false);
  });

  it('keeps the workspace with keep', async () => {
    const report = await prove(makeLab(step('First', 'echo 1 > one', '- file: one')), { keep: true });
    expect(report.kept).toBe(true);
    expect(await readFile(join(report.workdir, 'one'), 'utf8')).toBe('1\n');
    await rm(report.workdir, { recursive: true, force: true });
  });

  it('stops at a step whose commands fail: its checks prove nothing, and later steps are not reached', async () => {
    const lab = makeLab(step('Break', 'echo broken >&2; exit 3', '- file: x') + step('Later', 'touch y', '- file: y'));
    const report = await prove(lab);
    expect(report.proven).toBe(false);
    expect(report.steps).toMatchObject([
      { id: 'break', status: 'commands-failed', output: 'broken' },
      { id: 'later', status: 'not-reached', checks: [{ label: 'y: exists' }] },
    ]);
    expect(report.steps[0]?.checks[0]?.verdict).toBeUndefined();
    expect(report.steps[1]?.checks[0]?.before).toBeUndefined();
  });

  it('reports a step without checks whose commands fail', async () => {
    const lab = makeLab('## Break\n\n```sh {"run": true}\nexit 1\n```\n\n' + step('Later', 'touch y', '- file: y'));
    const report = await prove(lab);
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([
      ['break', 'commands-failed'],
      ['later', 'not-reached'],
    ]);
  });

  it('goes on after a step that does not pass with keepGoing', async () => {
    const lab = makeLab(step('Wrong', 'touch a', '- file: b') + step('Later', 'touch y', '- file: y'));
    const report = await prove(lab, { keepGoing: true });
    expect(report.steps.map((s) => s.status)).toEqual(['unproven', 'proven']);
  });

  it('counts a failed edit as a failed command', async () => {
    const lab = makeLab(
      '## Edit\n\n```json {"edit": "config.json"}\n{"hostname": "x"}\n```\n\n```yaml {"checks": true}\n- json: config.json\n```\n',
    );
    const report = await prove(lab);
    expect(report.steps[0]).toMatchObject({
      status: 'commands-failed',
      notices: [expect.stringContaining('config.json is not in the workspace')],
    });
  });

  it('passes the lab variables to commands and checks', async () => {
    const lab = makeLab(
      step('Name', 'touch "$name.txt"', '- file: ${name}.txt\n- command: test -e "$name.txt"'),
      'variables:\n  name:\n    default: x\n    description: n\n',
    );
    const report = await prove(lab, { vars: { name: 'demo' } });
    expect(verdicts(report.steps)).toEqual([
      ['demo.txt: exists', 'ok'],
      ['`test -e "$name.txt"`: exit status 0', 'ok'],
    ]);
  });

  it("leaves the learner's saved progress in the lab alone", async () => {
    const saved = newProgress('t', join(dir, 'my-work'), { name: 'mine' });
    saved.steps.first = { status: 'passed', attempts: 3, hints: 1, seconds: 60, at: '2025-01-01T00:00:00.000Z' };
    await saveProgress(saved);
    const file = join(stateDir(), 'progress', 't.json');
    const before = await readFile(file, 'utf8');
    await prove(makeLab(step('First', 'touch one', '- file: one')));
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('writes no progress at all', async () => {
    await prove(makeLab(step('First', 'touch one', '- file: one')));
    expect(existsSync(join(stateDir(), 'progress'))).toBe(false);
  });

  it('refuses a way the lab does not offer, before running anything', async () => {
    const lab = makeLab(
      '## Pick\n\n```sh {"run": true, "way": "plain", "needs": ["sh"]}\ntouch way\n```\n\n```sh {"run": true, "way": "other", "needs": ["sh"]}\ntouch way\n```\n\n```yaml {"checks": true}\n- file: way\n```\n',
    );
    await expect(prove(lab, { use: ['plian'] })).rejects.toThrow(UsageError);
    await expect(prove(lab, { use: ['other', 'plian'] })).rejects.toThrow("Lab 't' has no way named 'plian'; its ways are: plain, other.");
    const report = await prove(lab, { use: ['other'] });
    expect(report.steps[0]).toMatchObject({ status: 'proven', way: 'other' });
  });
});

describe('judgeCheck', () => {
  const passed = { status: 'passed', message: '' } as const;
  const failed = { status: 'failed', message: '' } as const;
  const error = { status: 'error', message: '' } as const;
  const skipped = { status: 'skipped', message: '' } as const;
  it.each([
    [false, failed, passed, 'ok'],
    [false, error, passed, 'ok'],
    [false, passed, passed, 'cannot-fail'],
    [true, passed, passed, 'ok'],
    [true, failed, passed, 'fails-before'],
    [true, error, passed, 'fails-before'],
    [false, failed, failed, 'never-passes'],
    [false, passed, error, 'never-passes'],
    [false, failed, skipped, 'skipped'],
    [false, skipped, passed, 'skipped'],
    [true, skipped, skipped, 'skipped'],
    [true, passed, failed, 'never-passes'],
  ] as const)('passesBefore %s, before %o, after %o: %s', (passesBefore, before, after, verdict) => {
    expect(judgeCheck({ passesBefore }, before, after)).toBe(verdict);
  });
});
