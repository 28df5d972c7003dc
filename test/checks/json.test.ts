import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSyntaxError, jsonCheck, valueAt } from '../../src/checks/json.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { JsonCheck } from '../../src/lab/model.js';

const CONFIG = {
  ociVersion: '1.0.2-dev',
  hostname: 'runc-demo',
  process: { terminal: false, args: ['sh', '-c', 'echo hi'], user: { uid: 0, gid: 0 } },
  root: { path: 'rootfs', readonly: false },
  annotations: { '1': 'numeric key' },
};

let workdir: string;

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'ocilab-json-check-'));
  await writeFile(join(workdir, 'config.json'), JSON.stringify(CONFIG, null, 2));
  await writeFile(join(workdir, 'broken.json'), '{\n  "hostname": "runc-demo"\n  "root": {}\n}\n');
  await mkdir(join(workdir, 'bundle'));
  await writeFile(join(workdir, 'bundle', 'config.json'), '{"hostname": "in-bundle"}');
});

afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

const ctx = (): CheckContext => ({ workdir, vars: { bundle: 'bundle' }, privilege: 'none' });

function check(fields: Partial<JsonCheck>): JsonCheck {
  return { kind: 'json', line: 1, file: 'config.json', ...fields };
}

describe('json check', () => {
  const passing: [name: string, fields: Partial<JsonCheck>][] = [
    ['accepts valid JSON when no path is given', {}],
    ['compares a string', { path: 'hostname', equals: 'runc-demo' }],
    ['compares a boolean with its type', { path: 'root.readonly', equals: false }],
    ['compares a number with its type', { path: 'process.user.uid', equals: 0 }],
    ['compares an array deeply', { path: 'process.args', equals: ['sh', '-c', 'echo hi'] }],
    ['compares an object deeply', { path: 'root', equals: { readonly: false, path: 'rootfs' } }],
    ['indexes arrays with numeric segments', { path: 'process.args.2', equals: 'echo hi' }],
    ['reads numeric keys of objects as keys', { path: 'annotations.1', equals: 'numeric key' }],
    ['checks only presence without equals', { path: 'process.terminal' }],
    ['expands variables in the file name', { file: '${bundle}/config.json', path: 'hostname', equals: 'in-bundle' }],
  ];
  it.each(passing)('passes: %s', async (_name, fields) => {
    expect(await jsonCheck(check(fields), ctx())).toMatchObject({ status: 'passed' });
  });

  const failing: [name: string, fields: Partial<JsonCheck>, expected: string, actual: string][] = [
    ['tells the string "false" from false', { path: 'root.readonly', equals: 'false' }, '"false"', 'false'],
    ['tells the string "0" from 0', { path: 'process.user.uid', equals: '0' }, '"0"', '0'],
    ['shows a wrong string as JSON', { path: 'hostname', equals: 'runc' }, '"runc"', '"runc-demo"'],
    ['shows a wrong array as JSON', { path: 'process.args', equals: ['sh'] }, '["sh"]', '["sh","-c","echo hi"]'],
    ['reports an absent key', { path: 'process.cwd', equals: '/' }, '"/"', '(absent)'],
    ['reports an index past the end', { path: 'process.args.5' }, 'present', '(absent)'],
    ['reports a path through a string', { path: 'hostname.x' }, 'present', '(absent)'],
    ['fails a missing file', { file: 'nope.json' }, 'nope.json with valid JSON', 'no such file'],
  ];
  it.each(failing)('fails: %s', async (_name, fields, expected, actual) => {
    expect(await jsonCheck(check(fields), ctx())).toMatchObject({ status: 'failed', expected, actual });
  });

  it('says where an index runs past the end of an array', async () => {
    const outcome = await jsonCheck(check({ path: 'process.args.5' }), ctx());
    expect(outcome.message).toBe('config.json has no process.args.5: process.args has 3 items, so no index 5.');
  });

  it('says where an absent path stops', async () => {
    const outcome = await jsonCheck(check({ path: 'process.user.name' }), ctx());
    expect(outcome.message).toBe('config.json has no process.user.name: process.user has no key "name".');
  });

  it('says on which line and column the JSON is broken', async () => {
    const outcome = await jsonCheck(check({ file: 'broken.json', path: 'hostname' }), ctx());
    expect(outcome).toMatchObject({
      status: 'failed',
      expected: 'valid JSON',
      actual: "line 3, column 3: expected ',' or '}' after a property value, found '\"'",
    });
    expect(outcome.message).toMatch(/^broken\.json is not valid JSON: line 3, column 3/);
  });
});

describe('describeSyntaxError', () => {
  it.each([
    ['{"a": 1,}', "line 1, column 9: a comma before '}' is not allowed in JSON"],
    ['[1, 2,]', "line 1, column 7: a comma before ']' is not allowed in JSON"],
    ['{a: 1}', "line 1, column 2: expected a property name in double quotes, found 'a'"],
    ["{'a': 1}", "line 1, column 2: expected a property name in double quotes, found '''"],
    ['{"a": tru}', "line 1, column 7: expected a value, found 't'"],
    ['', 'line 1, column 1: expected a value, found the end of the file'],
    ['{"a": "x', 'line 1, column 7: string without a closing quote'],
    ['{"a": "x\ny"}', 'line 1, column 9: line break inside a string (a closing quote missing?)'],
    ['{"a": 1}}', "line 1, column 9: unexpected '}' after the end of the JSON value"],
    ['{"a": 01}', "line 1, column 8: expected ',' or '}' after a property value, found '1'"],
    ['{"a": "\\x"}', 'line 1, column 8: invalid escape sequence in a string'],
  ])('locates the error in %j', (source, description) => {
    expect(() => JSON.parse(source)).toThrow();
    expect(describeSyntaxError(source)).toBe(description);
  });

  it.each(['{}', '[]', '"x"', '-1.5e3', ' {"a": [true, false, null, {"b": "\\u00e9\\n"}]} '])('accepts valid JSON %j', (source) => {
    expect(describeSyntaxError(source)).toBeUndefined();
  });
});

describe('valueAt', () => {
  it('reads a top-level key', () => {
    expect(valueAt({ a: 1 }, 'a')).toEqual({ found: true, value: 1 });
  });

  it('does not read inherited properties', () => {
    expect(valueAt({}, 'constructor')).toMatchObject({ found: false });
  });

  it('does not take a non-numeric segment as an array index', () => {
    expect(valueAt({ a: [1] }, 'a.length')).toEqual({ found: false, reason: 'a is an array, indexed by numbers, not "length"' });
  });
});
