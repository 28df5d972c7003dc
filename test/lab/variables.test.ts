import { describe, expect, it } from 'vitest';
import { expand, references, resolveVariables, unknownVariables } from '../../src/lab/variables.js';

const lab = {
  id: 'tags',
  variables: [
    { name: 'host', default: 'registry.k8s.io', description: '' },
    { name: 'path', default: 'sig-storage/smbplugin', description: '' },
    { name: 'img', default: '${host}/${path}', description: '' },
  ],
};

describe('lab variables', () => {
  it('expands defaults in order', () => {
    expect(resolveVariables(lab, {})).toEqual({
      host: 'registry.k8s.io',
      path: 'sig-storage/smbplugin',
      img: 'registry.k8s.io/sig-storage/smbplugin',
    });
  });

  it('lets a derived default follow an overridden variable', () => {
    expect(resolveVariables(lab, { host: '127.0.0.1:5000' }).img).toBe('127.0.0.1:5000/sig-storage/smbplugin');
  });

  it('keeps an override of a derived variable as given', () => {
    expect(resolveVariables(lab, { img: 'x/y' }).img).toBe('x/y');
  });

  it('names the overrides the lab does not declare', () => {
    expect(unknownVariables(lab, { imgg: 'x', host: 'h', other: 'y' })).toEqual(['imgg', 'other']);
    expect(resolveVariables(lab, { imgg: 'x' })).toEqual(resolveVariables(lab, {}));
  });

  it('expands only ${name}, leaving everything else alone', () => {
    expect(expand('${host}/$path/${unknown} $(rm -rf /)', { host: 'h', path: 'p' })).toBe('h/$path/${unknown} $(rm -rf /)');
    expect(references('${a}-${b}-$c')).toEqual(['a', 'b']);
  });
});
