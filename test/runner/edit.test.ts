// JSON edits: dotted paths, and array entries named by one of their fields (how a lab removes one
// namespace from config.json whatever else the list holds).
import { describe, expect, it } from 'vitest';
import { planEdit, setPath } from '../../src/runner/edit.js';

const spec = () => ({ hostname: 'runc', linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'user' }] } });

describe('setPath', () => {
  it('sets a dotted path, creating objects on the way', () => {
    const data: Record<string, unknown> = { root: { path: 'rootfs' } };
    setPath(data, 'root.readonly', false);
    setPath(data, 'process.args', ['sh']);
    expect(data).toEqual({ root: { path: 'rootfs', readonly: false }, process: { args: ['sh'] } });
  });

  it('removes the entries of an array that a selector names, and keeps the others in order', () => {
    const data = spec();
    setPath(data, 'linux.namespaces[type=pid]', null);
    expect(data.linux.namespaces).toEqual([{ type: 'network' }, { type: 'user' }]);
    setPath(data, 'linux.namespaces[type=pid]', null);
    expect(data.linux.namespaces).toEqual([{ type: 'network' }, { type: 'user' }]);
  });

  it('appends an entry a selector names when there is none, and replaces it in place when there is', () => {
    const data = spec();
    setPath(data, 'linux.namespaces[type=uts]', { type: 'uts' });
    expect(data.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'network', 'user', 'uts']);
    setPath(data, 'linux.namespaces[type=network]', { type: 'network', path: '/run/netns/x' });
    expect(data.linux.namespaces[1]).toEqual({ type: 'network', path: '/run/netns/x' });
    expect(data.linux.namespaces).toHaveLength(4);
  });

  it('makes the array when it is missing', () => {
    const data: Record<string, unknown> = {};
    setPath(data, 'linux.namespaces[type=network]', { type: 'network' });
    expect(data).toEqual({ linux: { namespaces: [{ type: 'network' }] } });
  });
});

describe('planEdit', () => {
  it('shows the removed entry in the diff and keeps the indentation', () => {
    const text = `${JSON.stringify(spec(), null, '\t')}\n`;
    const plan = planEdit(text, { line: 1, file: 'config.json', set: { 'linux.namespaces[type=pid]': null } });
    expect(plan.after).toContain('\t"linux": {');
    expect(plan.after).not.toContain('"pid"');
    expect(plan.diff).toMatch(/^-\s+"type": "pid"$/m);
  });

  it("replaces ${name} in the edit's strings with the lab variable, nested ones too, and leaves unknown names", () => {
    const text = `${JSON.stringify(spec(), null, 2)}\n`;
    const plan = planEdit(
      text,
      {
        line: 1,
        file: 'config.json',
        set: {
          'linux.cgroupsPath': '/ocilab/${ctr}',
          'process.args': ['echo', '${ctr}', '${nope}'],
          'linux.resources.pids': { limit: 20 },
        },
      },
      { ctr: 'limited' },
    );
    const after = JSON.parse(plan.after) as { linux: { cgroupsPath: string; resources: unknown }; process: { args: string[] } };
    expect(after.linux.cgroupsPath).toBe('/ocilab/limited');
    expect(after.process.args).toEqual(['echo', 'limited', '${nope}']);
    expect(after.linux.resources).toEqual({ pids: { limit: 20 } });
  });
});
