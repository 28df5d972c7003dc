import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseWorkshop, WORKSHOP_FORMAT_VERSION, type Workshop } from '../../src/lab/workshop.js';
import { checkWorkshopLabs, presetVariables, type NamedLab } from '../../src/lab/workshop-labs.js';
import { workshopFormatJsonSchema } from '../../src/lab/workshop-schema.js';

const ISSUE_FORM = `ocilab-workshop: 1
title: SA onboarding, day 1
labs: [tags, runc, ./our-labs/03-our-registry.md]   # shipped ids, lab files, or a directory of labs
variables: { scheme: http }                          # for every lab
lab-variables:                                       # per lab, winning over the above
  tags: { host: "registry.lan:5000", path: library/busybox }
  runc: { img: "registry.lan:5000/library/busybox:1.36" }
`;

function workshopOf(text: string): Workshop {
  const result = parseWorkshop(text, 'ws.yml');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}:${p.column}: ${p.message}`).join('\n'));
  return result.workshop;
}

function problemsOf(text: string): string[] {
  const result = parseWorkshop(text, 'ws.yml');
  if (result.ok) throw new Error('expected problems, got a workshop');
  for (const problem of result.problems) expect(problem.file).toBe('ws.yml');
  return result.problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
}

describe('parseWorkshop', () => {
  it('reads the form of issue 9: labs in order with where each is named, variables for all and per lab', () => {
    const workshop = workshopOf(ISSUE_FORM);
    expect(workshop).toMatchObject({ file: 'ws.yml', format: WORKSHOP_FORMAT_VERSION, title: 'SA onboarding, day 1' });
    expect(workshop.labs).toEqual([
      { reference: 'tags', kind: 'shipped', line: 3, column: 8 },
      { reference: 'runc', kind: 'shipped', line: 3, column: 14 },
      { reference: './our-labs/03-our-registry.md', kind: 'path', line: 3, column: 20 },
    ]);
    expect(workshop.variables).toEqual([{ name: 'scheme', value: 'http', line: 4, column: 14 }]);
    expect(workshop.labVariables.map(({ lab, line, variables }) => [lab, line, variables.map((v) => `${v.name}=${v.value}`)])).toEqual([
      ['tags', 6, ['host=registry.lan:5000', 'path=library/busybox']],
      ['runc', 7, ['img=registry.lan:5000/library/busybox:1.36']],
    ]);
    expect(workshop.cache).toBeUndefined();
  });

  it('takes one directory as the labs, numbers and booleans as values, and a cache tarball as written', () => {
    const workshop = workshopOf(
      'ocilab-workshop: 1\ntitle: T\nlabs: ./our-labs\nvariables:\n  port: 5000\n  tls: false\ncache: ./images.tar\n',
    );
    expect(workshop.labs).toEqual([{ reference: './our-labs', kind: 'path', line: 3, column: 7 }]);
    expect(workshop.variables.map((v) => [v.name, v.value])).toEqual([
      ['port', '5000'],
      ['tls', 'false'],
    ]);
    expect(workshop.cache).toEqual({ value: './images.tar', line: 7, column: 1 });
  });

  it('takes a bare lab.md as a path and a slug as a shipped id', () => {
    expect(workshopOf('ocilab-workshop: 1\ntitle: T\nlabs: [mine.md, runc]\n').labs.map((l) => l.kind)).toEqual(['path', 'shipped']);
  });

  // One row per broken file: every problem, as line:column: message.
  const cases: [string, string, string[]][] = [
    [
      'a newer format',
      'ocilab-workshop: 2\ntitle: T\nlabs: [x]\n',
      [
        '1:1: this workshop file is written for workshop format 2; this ocilab understands format 1 — upgrade ocilab (npm install -g ocilab@latest)',
      ],
    ],
    [
      'no version, no title, no labs',
      'variables: {}\n',
      [
        '1:1: workshop file: ocilab-workshop: missing: a workshop file starts with its format version, `ocilab-workshop: 1`',
        '1:1: workshop file: title: missing: the title of the workshop, shown above its labs',
        '1:1: workshop file: labs: missing: the labs of the workshop, in order',
      ],
    ],
    ['an empty list of labs', 'ocilab-workshop: 1\ntitle: T\nlabs: []\n', ['3:1: workshop file: labs: a workshop has at least one lab']],
    [
      'a lab that is neither an id nor a path',
      'ocilab-workshop: 1\ntitle: T\nlabs: [tags, Our Lab]\n',
      [
        '3:14: workshop file: labs.1: name a shipped lab by its id (e.g. tags), or a lab file or a directory of labs by a path with a / (e.g. ./our-labs/)',
      ],
    ],
    [
      'an unknown field, on its own line',
      'ocilab-workshop: 1\ntitle: T\nlabs: [tags]\nvariabls: { scheme: http }\n',
      ["4:1: workshop file: unknown field 'variabls'"],
    ],
    [
      'a variable that is not a shell name, and a list as a value',
      'ocilab-workshop: 1\ntitle: T\nlabs: [tags]\nvariables:\n  my-host: x\n  hosts: [a, b]\n',
      [
        '5:3: workshop file: variables.my-host: a variable name is a shell name, e.g. img or tls_verify',
        '6:3: workshop file: variables.hosts: a value is a string, a number, true or false',
      ],
    ],
    [
      'lab-variables for something that cannot be a lab id',
      'ocilab-workshop: 1\ntitle: T\nlabs: [tags]\nlab-variables:\n  Tags: { host: x }\n',
      ['5:3: workshop file: lab-variables.Tags: use lower-case letters, digits and dashes, e.g. runc-basics'],
    ],
    [
      'a YAML syntax error, with its column',
      'ocilab-workshop: 1\ntitle: T\nlabs: [tags\n',
      ['4:1: workshop file: Flow sequence in block collection must be sufficiently indented and end with a ] at line 4, column 1:'],
    ],
    [
      'a key given twice',
      'ocilab-workshop: 1\ntitle: T\ntitle: U\nlabs: [tags]\n',
      ['3:1: workshop file: Map keys must be unique at line 3, column 1:'],
    ],
    ['a list, not a mapping', '- tags\n- runc\n', ['1:1: a workshop file is a YAML mapping that starts with `ocilab-workshop: 1`']],
    ['an empty file', '', ['1:1: a workshop file is a YAML mapping that starts with `ocilab-workshop: 1`']],
    [
      'a lab file given as the workshop',
      '---\nocilab: 1\nid: x\n---\n# X\n',
      ['1:1: this is a lab file (it starts with front matter); a workshop file is YAML that names labs'],
    ],
  ];

  it.each(cases)('reports %s', (_name, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  it('gives every problem an example of the right form', () => {
    const result = parseWorkshop('ocilab-workshop: 1\ntitle: T\nlabs: []\ncache: 7\n', 'ws.yml');
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems.map((p) => p.example)).toEqual(['labs: [tags, runc, ./our-labs/03-our-registry.md]', 'cache: ./images.tar']);
  });
});

/** A lab as read from `file`, with these variables. */
const lab = (id: string, file: string, ...variables: string[]): NamedLab['lab'] => ({
  id,
  file,
  variables: variables.map((name) => ({ name, default: 'd', description: 'x' })),
});

/** The workshop's labs, read: each entry of the workshop names the labs given for it. */
function named(workshop: Workshop, ...labs: NamedLab['lab'][][]): NamedLab[] {
  return workshop.labs.flatMap((entry, i) => (labs[i] ?? []).map((l) => ({ entry, lab: l })));
}

describe('a workshop with its labs', () => {
  const tags = lab('tags', '/pkg/labs/01-tags.md', 'host', 'path', 'img', 'scheme');
  const runc = lab('runc', '/pkg/labs/02-runc.md', 'img');
  const ours = lab('our-registry', '/ws/our-labs/03-our-registry.md', 'host');

  it('has no problems in the form of issue 9', () => {
    const workshop = workshopOf(ISSUE_FORM);
    expect(checkWorkshopLabs(workshop, named(workshop, [tags], [runc], [ours]))).toEqual([]);
  });

  it('gives each lab the variables it declares: for all labs, then its own, which win', () => {
    const workshop = workshopOf(
      `${ISSUE_FORM}  our-registry: { host: "mine:5000" }\n`.replace('{ scheme: http }', '{ scheme: http, host: all:5000 }'),
    );
    expect(presetVariables(workshop, tags)).toEqual({ scheme: 'http', host: 'registry.lan:5000', path: 'library/busybox' });
    expect(presetVariables(workshop, runc)).toEqual({ img: 'registry.lan:5000/library/busybox:1.36' });
    expect(presetVariables(workshop, ours)).toEqual({ host: 'mine:5000' });
    expect(presetVariables(workshop, lab('other', '/x.md', 'host'))).toEqual({ host: 'all:5000' });
  });

  it('names both files of two labs with one id, on the line of the second', () => {
    const workshop = workshopOf('ocilab-workshop: 1\ntitle: T\nlabs:\n  - tags\n  - ./our-labs/\n');
    const problems = checkWorkshopLabs(workshop, named(workshop, [tags], [ours, lab('tags', '/ws/our-labs/04-tags.md')]));
    expect(problems).toEqual([
      {
        file: 'ws.yml',
        line: 5,
        column: 5,
        message:
          "two labs have the id 'tags': /pkg/labs/01-tags.md and /ws/our-labs/04-tags.md; ids are unique across a workshop (they name progress and workspaces): change the id in one of them",
      },
    ]);
  });

  it('says when one lab is named twice', () => {
    const workshop = workshopOf('ocilab-workshop: 1\ntitle: T\nlabs: [tags, ./01-tags.md]\n');
    const [problem] = checkWorkshopLabs(workshop, named(workshop, [tags], [tags]));
    expect(problem).toMatchObject({
      line: 3,
      column: 14,
      message: '/pkg/labs/01-tags.md is already a lab of this workshop (line 3): name each lab once',
    });
  });

  it('reports lab-variables of a lab not in the workshop, or of a variable the lab does not declare, each on its line', () => {
    const workshop = workshopOf('ocilab-workshop: 1\ntitle: T\nlabs: [tags]\nlab-variables:\n  tags:\n    hots: x\n  runc: { img: y }\n');
    expect(checkWorkshopLabs(workshop, named(workshop, [tags])).map((p) => `${p.line}:${p.column}: ${p.message}`)).toEqual([
      "6:5: lab-variables: lab 'tags' has no variable 'hots'; its variables are: host, path, img, scheme",
      "7:3: lab-variables: 'runc' is not a lab of this workshop; its labs are: tags",
    ]);
  });

  it('gives a variable for all labs only to those that declare it, and reports one that no lab declares', () => {
    const workshop = workshopOf('ocilab-workshop: 1\ntitle: T\nlabs: [tags, runc]\nvariables: { scheme: http, shceme: http }\n');
    expect(presetVariables(workshop, runc)).toEqual({});
    expect(checkWorkshopLabs(workshop, named(workshop, [tags], [runc])).map((p) => `${p.line}:${p.column}: ${p.message}`)).toEqual([
      "4:28: variables: no lab of this workshop has a variable 'shceme'; theirs are: host, path, img, scheme",
    ]);
  });
});

describe('docs/workshop.schema.json', () => {
  it('matches the schema the parser uses (regenerate with `npm run schema`)', () => {
    const committed: unknown = JSON.parse(readFileSync('docs/workshop.schema.json', 'utf8'));
    expect(committed).toEqual(workshopFormatJsonSchema());
  });
});
