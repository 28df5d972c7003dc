import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { LAB_FORMAT_VERSION } from '../../src/lab/model.js';
import { slugify } from '../../src/lab/build.js';
import { parseLab } from '../../src/lab/parse.js';

const FRONT = `---
ocilab: 1
id: demo
title: Demo lab
summary: A lab for tests
variables:
  host:
    default: example.org
    description: The registry host
  img:
    default: \${host}/busybox
    description: The image
---
# Demo lab
`;

/** A lab made of the standard front matter and the given body; body lines start at line 15. */
const lab = (body: string) => `${FRONT}\n${body}`;
const BODY_LINE = FRONT.split('\n').length + 1;

function problemsOf(text: string) {
  const result = parseLab(text, 'demo.md');
  if (result.ok) throw new Error('expected problems, got a lab');
  return result.problems.map((p) => `${p.line}: ${p.message}`);
}

function labOf(text: string) {
  const result = parseLab(text, 'demo.md');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  return result.lab;
}

describe('parseLab: structure', () => {
  it('reads front matter, intro, steps, hints and shown-only blocks', () => {
    const parsed = labOf(
      lab(`Intro words.

## Install runc

Use your package manager:

\`\`\`sh
sudo dnf install -y runc
\`\`\`

> [!TIP]
> On Debian: apt install runc.

\`\`\`sh {"run": true, "readonly": true}
runc --version
\`\`\`
`),
    );
    expect(parsed).toMatchObject({ id: 'demo', title: 'Demo lab', intro: 'Intro words.', format: LAB_FORMAT_VERSION });
    expect(parsed.variables.map((v) => v.name)).toEqual(['host', 'img']);
    const [step] = parsed.steps;
    expect(step).toMatchObject({ id: 'install-runc', title: 'Install runc', hints: ['On Debian: apt install runc.'], root: false });
    expect(step!.actions).toEqual([{ kind: 'command', command: expect.objectContaining({ script: 'runc --version', readonly: true }) }]);
    // The dnf line is shown, never run.
    expect(step!.content[0]).toEqual({ kind: 'markdown', text: expect.stringContaining('sudo dnf install -y runc') });
    expect(JSON.stringify(step!.actions)).not.toContain('dnf');
  });

  it('groups blocks with a way into one choice, in document order', () => {
    const parsed = labOf(
      lab(`## Make a rootfs

\`\`\`sh {"run": true}
mkdir -p rootfs
\`\`\`

\`\`\`sh {"run": true, "way": "docker", "needs": ["docker"], "probe": "docker info"}
docker export $(docker create "$img") | tar -C rootfs -xf -
\`\`\`

Or with podman:

\`\`\`sh {"run": true, "way": "podman", "needs": ["podman"]}
podman export $(podman create "$img") | tar -C rootfs -xf -
\`\`\`
`),
    );
    const actions = parsed.steps[0]!.actions;
    expect(actions.map((a) => a.kind)).toEqual(['command', 'ways']);
    const ways = actions[1]!.kind === 'ways' ? actions[1]!.ways : [];
    expect(ways.map((w) => [w.name, w.needs, w.probe])).toEqual([
      ['docker', ['docker'], 'docker info'],
      ['podman', ['podman'], undefined],
    ]);
  });

  it('marks commands with sudo as needing root, and keeps interactive and cleanup', () => {
    const parsed = labOf(
      lab(`## Run it

\`\`\`sh {"run": true, "interactive": true, "cleanup": "runc delete --force demo"}
sudo runc run demo
\`\`\`
`),
    );
    const step = parsed.steps[0]!;
    expect(step.root).toBe(true);
    expect(step.actions[0]).toEqual({
      kind: 'command',
      command: expect.objectContaining({ interactive: true, root: true, cleanup: 'runc delete --force demo', timeout: 300 }),
    });
  });

  it.each([
    ['every way needs root', ['"root": true', '"root": true'], true],
    ['one way needs no root', ['"root": true', '"root": false'], false],
    ['no way needs root', ['"root": false', '"root": false'], false],
  ])('marks a step with ways as needing root only when %s', (_, roots, needsRoot) => {
    const ways = roots.map((root, i) => `\`\`\`sh {"run": true, "way": "w${i}", ${root}}\nrunc run demo\n\`\`\`\n`).join('\n');
    expect(labOf(lab(`## Run it\n\n${ways}`)).steps[0]!.root).toBe(needsRoot);
  });

  it('reads edits and every kind of check with its line', () => {
    const parsed = labOf(
      lab(`## Edit

\`\`\`json {"edit": "config.json"}
{ "process.args": ["sh"], "root.readonly": false }
\`\`\`

\`\`\`yaml {"checks": true}
- json: config.json
  path: root.readonly
  equals: false
- file: bin/sh
  root: rootfs
  executable: true
- command: echo $$
  equals: 1
- probe: [hostname]
  equals: runc-demo
\`\`\`
`),
    );
    const step = parsed.steps[0]!;
    expect(step.actions[0]).toEqual({
      kind: 'edit',
      edit: { line: BODY_LINE + 2, file: 'config.json', set: { 'process.args': ['sh'], 'root.readonly': false } },
    });
    expect(step.checks).toEqual([
      { kind: 'json', file: 'config.json', path: 'root.readonly', equals: false, line: BODY_LINE + 7 },
      { kind: 'file', path: 'bin/sh', root: 'rootfs', executable: true, exists: true, line: BODY_LINE + 10 },
      // A number in YAML is compared as text.
      { kind: 'command', run: 'echo $$', equals: '1', line: BODY_LINE + 13 },
      { kind: 'probe', args: ['hostname'], bundle: '.', equals: 'runc-demo', line: BODY_LINE + 15 },
    ]);
  });

  it('ignores ## inside code blocks', () => {
    const parsed = labOf(lab('## One\n\n```md\n## not a step\n```\n'));
    expect(parsed.steps.map((s) => s.title)).toEqual(['One']);
  });
});

/** A step with a command and a file check, to hang diagnoses on; a diagnoses block after it starts on BODY_LINE + 10. */
const DIAGNOSED = '## S\n\n```sh {"run": true}\ntouch a\n```\n\n```yaml {"checks": true}\n- file: a\n```\n\n';

describe('parseLab: diagnoses', () => {
  it('reads each diagnosis with its line and conditions, and shows none of them', () => {
    const parsed = labOf(
      lab(`${DIAGNOSED}\`\`\`yaml {"diagnoses": true}
- when: { check: file, typed: '\\btouch\\b', lacks: ' a$', exit: nonzero, output: denied, exists: b, vars: { host: example.org }, user: normal }
  say: Touch a, not b, on \${host}.
- when: { fact: registry-unreachable }
  say: Nobody answers.
\`\`\`
`),
    );
    const step = parsed.steps[0]!;
    expect(step.diagnoses).toEqual([
      {
        line: BODY_LINE + 11,
        when: {
          check: 'file',
          typed: '\\btouch\\b',
          lacks: ' a$',
          exit: 'nonzero',
          output: 'denied',
          exists: 'b',
          vars: { host: 'example.org' },
          user: 'normal',
        },
        say: 'Touch a, not b, on ${host}.',
      },
      { line: BODY_LINE + 13, when: { fact: 'registry-unreachable' }, say: 'Nobody answers.' },
    ]);
    expect(step.content.map((segment) => segment.kind)).toEqual(['command', 'checks']);
  });
});

describe('parseLab: problems with file:line', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a broken attribute',
      '## S\n\n```sh {"run": tru}\nx\n```\n',
      new RegExp(`^${BODY_LINE + 2}: the attributes of this code block are not valid JSON`),
    ],
    [
      'an unknown attribute',
      '## S\n\n```sh {"run": true, "rnu": 1}\nx\n```\n',
      new RegExp(`^${BODY_LINE + 2}: code block attributes: unknown field 'rnu'`),
    ],
    ['run attributes without run', '## S\n\n```sh {"interactive": true}\nx\n```\n', /interactive only apply to a runnable block/],
    [
      'a check of no known kind',
      '## S\n\n```yaml {"checks": true}\n- filez: a\n```\n',
      new RegExp(`^${BODY_LINE + 3}: a check starts with its kind`),
    ],
    [
      'a wrong field type in a check',
      '## S\n\n```yaml {"checks": true}\n- file: a\n  exists: maybe\n```\n',
      new RegExp(`^${BODY_LINE + 4}: file check: exists`),
    ],
    [
      'a skip without its reason',
      '## S\n\n```yaml {"checks": true}\n- file: a\n  skip: { if: "true" }\n```\n',
      new RegExp(`^${BODY_LINE + 4}: file check: skip.because`),
    ],
    [
      'a skip with an unknown field',
      '## S\n\n```yaml {"checks": true}\n- file: a\n  skip: { if: "true", because: b, unless: c }\n```\n',
      /file check: skip: unknown field 'unless'/,
    ],
    [
      'an unknown variable in the reason of a skip',
      '## S\n\n```yaml {"checks": true}\n- file: a\n  skip: { if: "true", because: "no ${nope}" }\n```\n',
      /\$\{nope\} is not a variable of this lab/,
    ],
    [
      'an unknown variable in a check',
      '## S\n\n```yaml {"checks": true}\n- file: ${nope}/x\n```\n',
      /\$\{nope\} is not a variable of this lab/,
    ],
    [
      'an invalid regular expression',
      '## S\n\n```yaml {"checks": true}\n- command: "true"\n  matches: "("\n```\n',
      /not a valid regular expression/,
    ],
    ['an unclosed fence', '## S\n\n```sh\nx\n', new RegExp(`^${BODY_LINE + 2}: this code block is never closed`)],
    ['two steps with one title', '## Same\n\ntext\n\n## Same\n', new RegExp(`^${BODY_LINE + 4}: two steps have the id 'same'`)],
    [
      'an output check on a command that is not readonly',
      '## S\n\n```sh {"run": true}\nls\n```\n\n```yaml {"checks": true}\n- output: step\n```\n',
      /mark the step's commands "readonly": true/,
    ],
    ['an edit that is not JSON', '## S\n\n```json {"edit": "config.json"}\n{ nope }\n```\n', /the edit is not valid JSON/],
    ['a lab with no steps', 'Only an intro.\n', /a lab needs at least one step/],
    ['two purposes in one block', '## S\n\n```sh {"run": true, "checks": true}\nx\n```\n', /a code block does one thing/],
    [
      'a diagnosis without conditions',
      `${DIAGNOSED}\`\`\`yaml {"diagnoses": true}\n- when: {}\n  say: Hm.\n\`\`\`\n`,
      /diagnosis: when: say when: at least one condition/,
    ],
    [
      'a diagnosis with an unknown condition',
      `${DIAGNOSED}\`\`\`yaml {"diagnoses": true}\n- when: { typo: x }\n  say: Hm.\n\`\`\`\n`,
      /diagnosis: when: unknown field 'typo'/,
    ],
    [
      'a diagnosis naming a check the step does not have',
      `${DIAGNOSED}\`\`\`yaml {"diagnoses": true}\n- when: { check: probe }\n  say: Hm.\n\`\`\`\n`,
      new RegExp(`^${BODY_LINE + 11}: diagnosis: this step has no check 'probe'`),
    ],
    [
      'a diagnosis with a broken pattern',
      `${DIAGNOSED}\`\`\`yaml {"diagnoses": true}\n- when: { typed: '(' }\n  say: Hm.\n\`\`\`\n`,
      /diagnosis: when.typed: not a valid regular expression/,
    ],
    [
      'a diagnosis with an unknown fact',
      `${DIAGNOSED}\`\`\`yaml {"diagnoses": true}\n- when: { fact: sunny }\n  say: Hm.\n\`\`\`\n`,
      /diagnosis: when.fact/,
    ],
    [
      'a diagnosis that names an unknown variable',
      `${DIAGNOSED}\`\`\`yaml {"diagnoses": true}\n- when: { vars: { nope: x } }\n  say: Hm.\n\`\`\`\n`,
      /\$\{nope\} is not a variable of this lab/,
    ],
    [
      'diagnoses in a reading step',
      '## S\n\nJust words.\n\n```yaml {"diagnoses": true}\n- when: { typed: x }\n  say: Hm.\n```\n',
      /diagnoses explain a failed attempt, but this step has neither commands nor checks/,
    ],
    [
      'an alias in a check with no anchor before it',
      '## S\n\n```yaml {"checks": true}\n- file: a\n- file: *x\n```\n',
      new RegExp(`^${BODY_LINE + 4}: checks: the alias \\*x names no anchor \\(&x\\) set before it`),
    ],
    [
      'an output check with a broken typed pattern',
      '## S\n\n```sh {"run": true, "readonly": true}\nls\n```\n\n```yaml {"checks": true}\n- output: step\n  typed: "["\n```\n',
      /output check: typed: not a valid regular expression/,
    ],
  ];
  it.each(cases)('reports %s', (_name, body, expected) => {
    expect(problemsOf(lab(body))).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('reports every problem, not only the first', () => {
    const problems = problemsOf(lab('## A\n\n```sh {"run": tru}\nx\n```\n\n## B\n\n```sh {"bogus": 1}\nx\n```\n'));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(new RegExp(`^${BODY_LINE + 2}:`));
    expect(problems[1]).toMatch(new RegExp(`^${BODY_LINE + 8}:`));
  });

  it('gives the column of a broken attribute', () => {
    const result = parseLab(lab('## S\n\n```sh {"run": tru}\nx\n```\n'), 'demo.md');
    expect(result.ok ? [] : result.problems).toEqual([expect.objectContaining({ file: 'demo.md', line: BODY_LINE + 2, column: 7 })]);
  });

  const frontCases: [string, string, RegExp][] = [
    ['no front matter', '# Just markdown\n', /^1: a lab starts with YAML front matter/],
    ['unclosed front matter', '---\nocilab: 1\n', /^1: the front matter is not closed/],
    ['a missing summary', '---\nocilab: 1\nid: x\ntitle: T\n---\n## S\n', /front matter: summary/],
    ['a bad id', '---\nocilab: 1\nid: Bad Id\ntitle: T\nsummary: s\n---\n## S\n', /^3: front matter: id: use lower-case letters/],
    [
      'an unknown front matter field',
      '---\nocilab: 1\nid: x\ntitle: T\nsummary: s\ncolour: red\n---\n## S\n',
      /^6: front matter: unknown field 'colour'/,
    ],
    [
      'a default using a later variable',
      '---\nocilab: 1\nid: x\ntitle: T\nsummary: s\nvariables:\n  a:\n    default: ${b}\n    description: a\n  b:\n    default: x\n    description: b\n---\n## S\n',
      /^8: the default of 'a' uses \$\{b\}/,
    ],
    ['invalid YAML', '---\nocilab: 1\nid: [x\n---\n## S\n', /^\d+: front matter:/],
    [
      'an alias with no anchor',
      '---\nocilab: 1\nid: x\ntitle: *t\nsummary: s\n---\n## S\n',
      /^4: front matter: the alias \*t names no anchor/,
    ],
  ];
  it.each(frontCases)('reports %s', (_name, text, expected) => {
    expect(problemsOf(text)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('refuses a newer format version and says to upgrade', () => {
    const problems = problemsOf('---\nocilab: 99\nid: x\ntitle: T\nsummary: s\nfuture: thing\n---\n## S\n');
    expect(problems).toEqual([expect.stringMatching(/^2: this lab is written for lab format 99; .*upgrade ocilab/)]);
  });
});

describe('the shipped labs', () => {
  it.each(['labs/01-tags.md', 'labs/02-runc.md'])('%s parses without problems', (file) => {
    const result = parseLab(readFileSync(file, 'utf8'), file);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('lab 01 offers crane and curl, and checks the tags it printed', () => {
    const parsed = labOf(readFileSync('labs/01-tags.md', 'utf8'));
    const ways = parsed.steps.flatMap((s) => s.actions).flatMap((a) => (a.kind === 'ways' ? a.ways.map((w) => w.name) : []));
    expect(ways).toEqual(['crane', 'curl']);
    expect(parsed.variables.map((v) => [v.name, v.default])).toEqual(
      expect.arrayContaining([
        ['host', 'registry.k8s.io'],
        ['path', 'sig-storage/smbplugin'],
        ['scheme', 'https'],
      ]),
    );
    expect(parsed.steps.flatMap((s) => s.checks).map((c) => c.kind)).toContain('tags');
  });

  it('lab 02 offers docker, podman, nerdctl and ocilab pull, root and rootless, and probes the running container', () => {
    const parsed = labOf(readFileSync('labs/02-runc.md', 'utf8'));
    const ways = parsed.steps
      .map((s) => s.actions.flatMap((a) => (a.kind === 'ways' ? a.ways.map((w) => w.name) : [])))
      .filter((w) => w.length);
    expect(ways).toEqual([
      ['docker', 'podman', 'nerdctl', 'builtin'],
      ['root', 'rootless'],
      ['root', 'rootless'],
    ]);
    // Only the root ways need root, so no step of lab 2 does, and neither does the lab.
    expect(
      parsed.steps.flatMap((s) => s.actions).flatMap((a) => (a.kind === 'ways' ? a.ways.filter((w) => w.root).map((w) => w.name) : [])),
    ).toEqual(['root', 'root']);
    expect(parsed.steps.some((s) => s.root)).toBe(false);
    expect(parsed.requires.root).toBe(false);
    expect(parsed.variables.find((v) => v.name === 'img')?.default).toBe('busybox');
    const probes = parsed.steps.flatMap((s) => s.checks).filter((c) => c.kind === 'probe');
    expect(probes.map((p) => (p.kind === 'probe' ? p.args[0] : ''))).toEqual(expect.arrayContaining(['hostname', 'ps']));
  });
});

describe('slugify', () => {
  it.each([
    ['Generate the spec', 'generate-the-spec'],
    ['Run `runc spec`!', 'run-runc-spec'],
    ['  Edit config.json ', 'edit-config-json'],
  ])('%s → %s', (title, slug) => expect(slugify(title)).toBe(slug));
});
