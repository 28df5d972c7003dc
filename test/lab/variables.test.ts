import { describe, expect, it } from 'vitest';
import { expand, parseVarFlags, references, resolveVariables } from '../../src/lab/variables.js';
import { UsageError } from '../../src/errors.js';

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

  it('refuses a variable the lab does not have, naming the ones it has', () => {
    expect(() => resolveVariables(lab, { imgg: 'x' })).toThrow(/no variable 'imgg'; its variables are: host, path, img/);
  });

  it('parses --var flags, keeping = and shell characters in the value', () => {
    expect(parseVarFlags(['a=b=c', 'path=x; rm -rf ~'])).toEqual({ a: 'b=c', path: 'x; rm -rf ~' });
  });

  it.each(['novalue', '=x', '1a=b', 'a-b=c'])('refuses the flag %s', (flag) => {
    expect(() => parseVarFlags([flag])).toThrow(UsageError);
  });

  it('expands only ${name}, leaving everything else alone', () => {
    expect(expand('${host}/$path/${unknown} $(rm -rf /)', { host: 'h', path: 'p' })).toBe('h/$path/${unknown} $(rm -rf /)');
    expect(references('${a}-${b}-$c')).toEqual(['a', 'b']);
  });
});
