import { describe, expect, it } from 'vitest';
import { reportJunit } from '../../src/report/junit.js';
import { readJunit } from './junit-xml.js';
import { demoProgress, demoReport } from './fixtures.js';

describe('JUnit XML', () => {
  const junit = readJunit(reportJunit(demoReport()));
  const cases = junit.suites[0]?.cases ?? [];

  it("is one testsuite per lab, named for the lab and the learner's host, with the learner in its properties", () => {
    expect(junit.name).toBe('ocilab: alice@ws-07');
    expect(junit.suites.map((s) => s.name)).toEqual(['1 demo: A demo lab']);
    expect(junit.suites[0]?.hostname).toBe('ws-07');
    expect(junit.suites[0]?.properties).toMatchObject({ user: 'alice', ocilab: '0.1.0', state: 'failed' });
  });

  it('has one testcase per check, a step without checks one for its commands, and none for reading steps', () => {
    expect(cases.map((c) => [c.classname, c.name, c.outcome])).toEqual([
      ['demo.say-hello', 'Say hello: It says hello', 'passed'],
      ['demo.write-the-greeting', 'Write the greeting: class.txt: exists', 'error'],
      ['demo.write-the-greeting', 'Write the greeting: `cat greeting.txt`: output is "hello class"', 'failure'],
      ['demo.sign-it', 'Sign it: its commands', 'skipped'],
      ['demo.send-it', 'Send it: It is signed', 'skipped'],
    ]);
  });

  it('gives a failure its expected and actual values, and an error its message', () => {
    expect(cases[2]).toMatchObject({
      message: 'The output differs.',
      detail: 'expected: hello class\nactual:   hello\\x1b[0m <world>\nsecond line',
    });
    expect(cases[1]?.message).toBe('The check could not run: EACCES <denied> & "quoted"');
  });

  it('says why a testcase was skipped', () => {
    expect(cases[3]?.message).toBe('the learner skipped this step');
    expect(cases[4]?.message).toBe('the learner has not reached this step');
  });

  it("puts a step's time on its first testcase, so that testcase times add up to the suite's", () => {
    expect(cases.map((c) => c.time)).toEqual([95, 300, 0, 5, 0]);
    expect(junit.suites[0]?.time).toBe(400);
    expect(junit.time).toBe(400);
  });

  it('reports a step whose command failed while its checks passed as a failure of its own', () => {
    const progress = demoProgress();
    const step = progress.steps['say-hello'];
    if (step) step.status = 'failed';
    const cases = readJunit(reportJunit(demoReport(progress))).suites[0]?.cases ?? [];
    expect(cases.filter((c) => c.classname === 'demo.say-hello').map((c) => [c.name, c.outcome, c.message])).toEqual([
      ['Say hello: It says hello', 'passed', undefined],
      ['Say hello: its commands', 'failure', 'a command of this step failed'],
    ]);
  });

  it('escapes markup, keeps line breaks in attributes, and writes out characters XML cannot hold', () => {
    const xml = reportJunit(demoReport());
    expect(xml).toContain('message="The check could not run: EACCES &lt;denied&gt; &amp; &quot;quoted&quot;"');
    expect(xml).toContain('hello\\x1b[0m &lt;world&gt;\nsecond line');
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
  });

  it('is valid with no labs at all', () => {
    const empty = readJunit(reportJunit({ ...demoReport(), labs: [] }));
    expect(empty.suites).toEqual([]);
  });
});
