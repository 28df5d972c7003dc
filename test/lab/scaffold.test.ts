import { describe, expect, it } from 'vitest';
import { parseLab } from '../../src/lab/parse.js';
import { labScaffold, namesFromFile } from '../../src/lab/scaffold.js';

describe('the lab `ocilab new` writes', () => {
  it('is a valid lab: a reading step, then a step with a command, two checks and one hint', () => {
    const result = parseLab(labScaffold({ id: 'our-registry', title: 'Our registry' }), 'new.md');
    if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
    const { lab } = result;
    expect(lab).toMatchObject({ id: 'our-registry', title: 'Our registry', format: 1 });
    expect(lab.steps.map((s) => [s.title, s.actions.length, s.checks.length, s.hints.length])).toEqual([
      ['What you will do', 0, 0, 0],
      ['Write a file', 1, 2, 1],
    ]);
    expect(lab.variables.map((v) => v.name)).toEqual(['greeting']);
  });

  it.each([
    ['03-our-registry.md', 'our-registry', 'Our registry'],
    ['Registry_Mirror.md', 'registry-mirror', 'Registry mirror'],
    ['01-.md', 'my-lab', 'My lab'],
  ])('names a lab after its file: %s', (file, id, title) => {
    expect(namesFromFile(file)).toEqual({ id, title });
  });
});
