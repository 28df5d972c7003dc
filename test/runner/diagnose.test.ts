import { describe, expect, it } from 'vitest';
import type { JudgedCheck, LearnerCommand } from '../../src/checks/types.js';
import type { Check, CheckFact, DiagnosisCondition, Step } from '../../src/lab/model.js';
import { diagnose } from '../../src/runner/diagnose.js';

const tagsCheck: Check = { kind: 'tags', line: 1, registry: 'x', repository: 'y', title: 'Every line is a tag' };
const fileCheck: Check = { kind: 'file', line: 2, path: 'rootfs', exists: true };

const failed = (check: Check, facts: CheckFact[] = []): JudgedCheck => ({
  status: 'failed',
  message: 'no',
  expected: 'e',
  actual: 'a',
  facts,
  check,
});
const passed = (check: Check): JudgedCheck => ({ status: 'passed', message: 'ok', check });
const typed = (line: string, exit = 0, output = ''): LearnerCommand => ({ line, exit, seconds: 0, at: '', output });

function step(...when: DiagnosisCondition[]): Step {
  return {
    id: 's',
    title: 'S',
    line: 1,
    content: [],
    actions: [],
    hints: [],
    checks: [tagsCheck, fileCheck],
    root: false,
    diagnoses: when.map((w, i) => ({ line: 10 + i, when: w, say: `said ${i} on \${host}` })),
  };
}

const attempt = (results: JudgedCheck[], commands: LearnerCommand[], extra: Partial<{ root: boolean; exists: string[] }> = {}) => ({
  results,
  commands,
  vars: { host: 'registry.lan', scheme: 'http' },
  root: extra.root ?? false,
  exists: async (path: string) => (extra.exists ?? []).includes(path),
});

describe('diagnose', () => {
  const curlNoL = { fact: 'registry-redirects', typed: '\\bcurl\\b', lacks: '(^|\\s)-[A-Za-z]*L|--location' } as const;

  it.each<[string, DiagnosisCondition, JudgedCheck[], LearnerCommand[], boolean]>([
    [
      'curl without -L against a registry that redirects',
      curlNoL,
      [failed(tagsCheck, ['registry-redirects'])],
      [typed('curl -s u | jq')],
      true,
    ],
    ['curl with -sL', curlNoL, [failed(tagsCheck, ['registry-redirects'])], [typed('curl -sL u | jq')], false],
    ['a registry that does not redirect', curlNoL, [failed(tagsCheck, ['registry-unreachable'])], [typed('curl -s u | jq')], false],
    ['the named check passed, another failed', { check: 'tags' }, [passed(tagsCheck), failed(fileCheck)], [], false],
    ['the check named by its title', { check: 'Every line is a tag' }, [failed(tagsCheck)], [], true],
    [
      'the last command of its kind, not the last command',
      { typed: 'tar', exit: 'nonzero' },
      [failed(fileCheck)],
      [typed('tar x', 2), typed('ls')],
      true,
    ],
    ['a command it names that was never typed', { typed: 'crane' }, [failed(tagsCheck)], [typed('curl')], false],
    [
      'an output pattern',
      { typed: 'runc', output: 'already exists' },
      [],
      [typed('sudo runc run demo', 1, 'container with given ID already exists')],
      true,
    ],
    ['an exit status', { typed: 'runc', exit: 0 }, [failed(fileCheck)], [typed('runc spec', 1)], false],
    ['a variable', { vars: { scheme: 'http' }, typed: 'https://' }, [failed(tagsCheck)], [typed('curl https://x')], true],
    ['another value of the variable', { vars: { scheme: 'https' } }, [failed(tagsCheck)], [], false],
  ])('%s', async (_name, when, results, commands, applies) => {
    expect(await diagnose(step(when), attempt(results, commands))).toEqual(applies ? ['said 0 on registry.lan'] : []);
  });

  it('says nothing when every check passed and the last command succeeded', async () => {
    expect(await diagnose(step({ typed: 'ls' }), attempt([passed(tagsCheck), passed(fileCheck)], [typed('ls')]))).toEqual([]);
  });

  it('speaks up for a failed command even when the checks pass', async () => {
    const results = [passed(tagsCheck), passed(fileCheck)];
    expect(await diagnose(step({ typed: 'runc spec', exit: 'nonzero' }), attempt(results, [typed('runc spec', 1)]))).toEqual([
      'said 0 on registry.lan',
    ]);
  });

  it('knows root from a normal user, and looks in the workspace', async () => {
    const results = [failed(fileCheck)];
    expect(await diagnose(step({ user: 'normal' }), attempt(results, [], { root: true }))).toEqual([]);
    expect(await diagnose(step({ user: 'normal' }), attempt(results, []))).toHaveLength(1);
    expect(await diagnose(step({ exists: 'bin/busybox' }), attempt(results, []))).toEqual([]);
    expect(await diagnose(step({ exists: 'bin/busybox' }), attempt(results, [], { exists: ['bin/busybox'] }))).toHaveLength(1);
  });

  it('puts the diagnosis about the latest command first', async () => {
    const commands = [typed('curl https://x'), typed('crane ls $img:1', 127)];
    expect(await diagnose(step({ typed: 'https://' }, { typed: 'crane' }), attempt([failed(tagsCheck)], commands))).toEqual([
      'said 1 on registry.lan',
      'said 0 on registry.lan',
    ]);
  });

  it('gives every diagnosis that applies, in the order the lab writes them', async () => {
    expect(await diagnose(step({ check: 'file' }, { check: 'tags' }, { check: 'file' }), attempt([failed(fileCheck)], []))).toEqual([
      'said 0 on registry.lan',
      'said 2 on registry.lan',
    ]);
  });
});
