// A small made-up lab and the progress of one learner in it, for the report tests: a reading step, a
// step passed after hints, a failed step (a check failed, another could not run), a skipped step, and
// a step not reached.
import type { Lab } from '../../src/lab/model.js';
import { parseLab } from '../../src/lab/parse.js';
import type { LabProgress } from '../../src/runner/progress.js';
import { buildReport, type ReportInput } from '../../src/report/collect.js';
import type { Report } from '../../src/report/model.js';

const DEMO = `---
ocilab: 1
id: demo
title: A demo lab
summary: Made up by the report tests.
duration: 15 min
variables:
  name:
    default: world
    description: Who to greet
---
# A demo lab

## Read this first

Prose only.

## Say hello

\`\`\`sh {"run": true, "readonly": true}
echo "hello $name"
\`\`\`

\`\`\`yaml {"checks": true}
- output: step
  contains: hello
  title: It says hello
\`\`\`

> [!TIP]
> Run it.

> [!TIP]
> Really, run it.

## Write the greeting

\`\`\`sh {"run": true}
echo "hello $name" > greeting.txt
\`\`\`

\`\`\`yaml {"checks": true}
- file: \${name}.txt
- command: cat greeting.txt
  equals: hello class
\`\`\`

## Sign it

\`\`\`sh {"run": true}
echo signed >> greeting.txt
\`\`\`

## Send it

\`\`\`sh {"run": true, "readonly": true}
cat greeting.txt
\`\`\`

\`\`\`yaml {"checks": true}
- output: step
  contains: signed
  title: It is signed
\`\`\`
`;

export function demoLab(): Lab {
  const parsed = parseLab(DEMO, 'demo.md');
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  return parsed.lab;
}

export function demoProgress(): LabProgress {
  return {
    version: 1,
    lab: 'demo',
    workdir: '/home/alice/ocilab/demo',
    vars: { name: 'class' },
    steps: {
      'read-this-first': { status: 'read', attempts: 0, hints: 0, seconds: 20, at: '2025-03-14T09:00:20.000Z' },
      'say-hello': {
        status: 'passed',
        attempts: 2,
        hints: 2,
        seconds: 95,
        at: '2025-03-14T09:02:00.000Z',
        checks: [{ kind: 'output', label: 'It says hello', status: 'passed', message: 'The output contains "hello".' }],
      },
      'write-the-greeting': {
        status: 'failed',
        attempts: 3,
        hints: 0,
        seconds: 300,
        at: '2025-03-14T09:07:00.000Z',
        checks: [
          { kind: 'file', label: 'class.txt: exists', status: 'error', message: 'The check could not run: EACCES <denied> & "quoted"' },
          {
            kind: 'command',
            label: '`cat greeting.txt`: output is "hello class"',
            status: 'failed',
            message: 'The output differs.',
            expected: 'hello class',
            actual: 'hello\u001b[0m <world>\nsecond line',
          },
        ],
      },
      'sign-it': { status: 'skipped', attempts: 0, hints: 0, seconds: 5, at: '2025-03-14T09:07:05.000Z' },
    },
  };
}

/** `null`: the learner never started the lab. */
export function demoInput(progress: LabProgress | null = demoProgress()): ReportInput {
  const lab = demoLab();
  return {
    labs: [lab],
    progress: new Map(progress ? [[lab.id, progress]] : []),
    user: 'alice',
    host: 'ws-07',
    machine: { platform: 'linux', release: '6.1.0-18-amd64', arch: 'x64' },
    ocilab: '0.1.0',
    now: new Date('2025-03-14T10:00:00.000Z'),
  };
}

export function demoReport(progress: LabProgress | null = demoProgress()): Report {
  return buildReport(demoInput(progress));
}
