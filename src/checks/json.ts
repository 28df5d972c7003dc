// The `json` check: a JSON file of the workspace is valid, and a value at a dotted path is what the
// lab expects, types included ("false" is not false).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { JsonCheck } from '../lab/model.js';
import { expand } from '../lab/variables.js';
import type { CheckContext, CheckResult } from './types.js';

export async function jsonCheck(check: JsonCheck, ctx: CheckContext): Promise<CheckResult> {
  const file = expand(check.file, ctx.vars);
  let source: string;
  try {
    source = await readFile(resolve(ctx.workdir, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return { status: 'failed', message: `${file} does not exist.`, expected: `${file} with valid JSON`, actual: 'no such file' };
    if (code === 'EISDIR')
      return { status: 'failed', message: `${file} is a directory.`, expected: `${file} with valid JSON`, actual: 'a directory' };
    throw error;
  }

  let document: unknown;
  try {
    document = JSON.parse(source);
  } catch (error) {
    const where = describeSyntaxError(source) ?? (error as Error).message;
    return { status: 'failed', message: `${file} is not valid JSON: ${where}.`, expected: 'valid JSON', actual: where };
  }
  if (check.path === undefined) return { status: 'passed', message: `${file} is valid JSON` };

  const found = valueAt(document, check.path);
  const expected = check.equals === undefined ? 'present' : toJson(check.equals);
  if (!found.found) {
    return { status: 'failed', message: `${file} has no ${check.path}: ${found.reason}.`, expected, actual: '(absent)' };
  }
  if (check.equals === undefined) return { status: 'passed', message: `${file}: ${check.path} is present` };
  if (!isDeepStrictEqual(found.value, check.equals)) {
    const actual = toJson(found.value);
    return { status: 'failed', message: `${file}: ${check.path} is ${actual}, not ${expected}.`, expected, actual };
  }
  return { status: 'passed', message: `${file}: ${check.path} is ${expected}` };
}

type Found = { found: true; value: unknown } | { found: false; reason: string };

/** Walks a dotted path (`process.args.0`): object keys, and numeric segments as array indexes. */
export function valueAt(document: unknown, path: string): Found {
  let value = document;
  let walked = '';
  for (const key of path.split('.')) {
    const here = walked || 'the document';
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(key)) return { found: false, reason: `${here} is an array, indexed by numbers, not "${key}"` };
      if (Number(key) >= value.length)
        return { found: false, reason: `${here} has ${value.length} ${value.length === 1 ? 'item' : 'items'}, so no index ${key}` };
      value = value[Number(key)];
    } else if (typeof value === 'object' && value !== null) {
      if (!Object.hasOwn(value, key)) return { found: false, reason: `${here} has no key "${key}"` };
      value = (value as Record<string, unknown>)[key];
    } else {
      return { found: false, reason: `${here} is ${toJson(value)}, not an object` };
    }
    walked = walked ? `${walked}.${key}` : key;
  }
  return { found: true, value };
}

function toJson(value: unknown): string {
  // Undefined for undefined, a function or a symbol, whatever the lib's type says.
  const json = JSON.stringify(value) as string | undefined;
  return json ?? String(value);
}

/**
 * "line 3, column 3: expected ',' or '}' after a property value, found '"'" for text JSON.parse
 * refused. V8's own messages name a character offset at best, and sometimes no position at all,
 * which does not help someone looking at the file in an editor.
 */
export function describeSyntaxError(source: string): string | undefined {
  try {
    new JsonSyntax(source).document();
    return undefined;
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const before = source.slice(0, error.offset);
    const line = before.split('\n').length;
    const column = error.offset - (before.lastIndexOf('\n') + 1) + 1;
    return `line ${line}, column ${column}: ${error.message}`;
  }
}

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** A recognizer for RFC 8259 JSON that only finds the first error; JSON.parse builds the values. */
class JsonSyntax {
  private i = 0;

  constructor(private readonly s: string) {}

  document(): void {
    this.value();
    this.space();
    if (this.i < this.s.length) this.fail(`unexpected ${this.found()} after the end of the JSON value`);
  }

  private value(): void {
    this.space();
    const c = this.s[this.i];
    if (c === '{') this.container('}');
    else if (c === '[') this.container(']');
    else if (c === '"') this.string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) this.number();
    else this.literal();
  }

  private literal(): void {
    for (const literal of ['true', 'false', 'null']) {
      if (this.s.startsWith(literal, this.i)) {
        this.i += literal.length;
        return;
      }
    }
    this.fail(`expected a value, found ${this.found()}`);
  }

  /** An object (`}`: its members) or an array (`]`: its items). */
  private container(close: '}' | ']'): void {
    this.i++;
    this.space();
    if (this.s[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      if (close === '}') this.member();
      else this.value();
      this.space();
      if (this.s[this.i] === close) {
        this.i++;
        return;
      }
      if (this.s[this.i] !== ',')
        this.fail(`expected ',' or '${close}' after ${close === '}' ? 'a property value' : 'an item'}, found ${this.found()}`);
      this.i++;
      this.space();
      if (this.s[this.i] === close) this.fail(`a comma before '${close}' is not allowed in JSON`);
    }
  }

  private member(): void {
    this.space();
    if (this.s[this.i] !== '"') this.fail(`expected a property name in double quotes, found ${this.found()}`);
    this.string();
    this.space();
    if (this.s[this.i] !== ':') this.fail(`expected ':' after the property name, found ${this.found()}`);
    this.i++;
    this.value();
  }

  private string(): void {
    const start = this.i;
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i] as string;
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === '\\') {
        const escape = /^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/.exec(this.s.slice(this.i + 1, this.i + 6));
        if (!escape) this.fail(`invalid escape sequence in a string`);
        this.i += 1 + escape[0].length;
        continue;
      }
      if (c < ' ') this.fail(c === '\n' ? 'line break inside a string (a closing quote missing?)' : 'control character inside a string');
      this.i++;
    }
    this.i = start;
    this.fail('string without a closing quote');
  }

  private number(): void {
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = this.i;
    if (!number.test(this.s)) this.fail(`invalid number`);
    this.i = number.lastIndex;
  }

  private space(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i] as string)) this.i++;
  }

  private found(): string {
    return this.i >= this.s.length ? 'the end of the file' : `'${this.s[this.i]}'`;
  }

  private fail(message: string): never {
    throw new JsonSyntaxError(this.i, message);
  }
}
