import { describe, expect, it } from 'vitest';
import { labVariables, parseVarFlags } from '../../src/cli/vars.js';
import { UsageError } from '../../src/errors.js';

const lab = {
  id: 'tags',
  variables: [
    { name: 'host', default: 'registry.k8s.io', description: '' },
    { name: 'path', default: 'sig-storage/smbplugin', description: '' },
    { name: 'img', default: '${host}/${path}', description: '' },
  ],
};

describe('--var flags', () => {
  it('refuses a variable the lab does not have, naming the ones it has', () => {
    expect(() => labVariables(lab, { imgg: 'x' })).toThrow(/no variable 'imgg'; its variables are: host, path, img/);
  });

  it('parses --var flags, keeping = and shell characters in the value', () => {
    expect(parseVarFlags(['a=b=c', 'path=x; rm -rf ~'])).toEqual({ a: 'b=c', path: 'x; rm -rf ~' });
  });

  it.each(['novalue', '=x', '1a=b', 'a-b=c'])('refuses the flag %s', (flag) => {
    expect(() => parseVarFlags([flag])).toThrow(UsageError);
  });
});
