// Reads JUnit XML the way a CI grader would, and checks its structure on the way: the file is
// well-formed XML, <testsuites> holds <testsuite>s of <testcase>s, and the tests / failures / errors /
// skipped / time attributes agree with what the elements contain. Throws with what is wrong.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface JunitCase {
  name: string;
  classname: string;
  time: number;
  outcome: 'passed' | 'failure' | 'error' | 'skipped';
  message?: string;
  /** The text of a <failure> or <error>. */
  detail?: string;
}

export interface JunitSuite {
  name: string;
  time: number;
  hostname?: string;
  properties: Record<string, string>;
  cases: JunitCase[];
}

export interface Junit {
  name?: string;
  time: number;
  suites: JunitSuite[];
}

type Element = Record<string, unknown>;

const COUNTS = ['tests', 'failures', 'errors', 'skipped'] as const;
const TIME_SLACK = 0.0015;

function fail(message: string): never {
  throw new Error(`invalid JUnit XML: ${message}`);
}

function number(element: Element, name: string, where: string): number {
  const text = element[`@${name}`];
  if (typeof text !== 'string' || !/^\d+(\.\d+)?$/.test(text)) fail(`${where} has ${name}="${String(text)}", not a number`);
  return Number(text);
}

function string(element: Element, name: string, where: string): string {
  const text = element[`@${name}`];
  if (typeof text !== 'string' || text === '') fail(`${where} has no ${name}`);
  return text;
}

function only(element: Element, allowed: readonly string[], where: string): void {
  const unknown = Object.keys(element).filter((k) => !k.startsWith('@') && !allowed.includes(k));
  if (unknown.length > 0) fail(`${where} contains <${unknown.join('>, <')}>`);
}

function tally(cases: readonly JunitCase[]): Record<(typeof COUNTS)[number], number> {
  const of = (outcome: JunitCase['outcome']) => cases.filter((c) => c.outcome === outcome).length;
  return { tests: cases.length, failures: of('failure'), errors: of('error'), skipped: of('skipped') };
}

function checkCounts(element: Element, cases: readonly JunitCase[], where: string): number {
  const expected = tally(cases);
  for (const name of COUNTS) {
    const written = number(element, name, where);
    if (written !== expected[name]) fail(`${where} says ${name}="${written}" but holds ${expected[name]}`);
  }
  const time = number(element, 'time', where);
  const sum = cases.reduce((s, c) => s + c.time, 0);
  if (Math.abs(time - sum) > TIME_SLACK) fail(`${where} says time="${time}" but its testcases add up to ${sum}`);
  return time;
}

function readCase(element: Element, where: string): JunitCase {
  only(element, ['failure', 'error', 'skipped', 'system-out', 'system-err'], where);
  const outcomes = (['failure', 'error', 'skipped'] as const).filter((k) => k in element);
  if (outcomes.length > 1) fail(`${where} has both <${outcomes.join('> and <')}>`);
  const base = {
    name: string(element, 'name', where),
    classname: string(element, 'classname', where),
    time: number(element, 'time', where),
  };
  const outcome = outcomes[0];
  if (!outcome) return { ...base, outcome: 'passed' };
  const child = element[outcome] as Element | string;
  const body = typeof child === 'string' ? { '#text': child } : child;
  if (outcome !== 'skipped' && typeof body['@message'] !== 'string') fail(`${where}: <${outcome}> has no message`);
  const message = body['@message'];
  const detail = body['#text'];
  return {
    ...base,
    outcome,
    ...(typeof message === 'string' ? { message } : {}),
    ...(typeof detail === 'string' ? { detail } : {}),
  };
}

export function readJunit(xml: string): Junit {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) fail(`not well-formed: ${valid.err.msg} at line ${valid.err.line}`);
  const document = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    ignoreDeclaration: true,
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: true,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  }).parse(xml) as Element;
  const roots = Object.keys(document).filter((k) => !k.startsWith('#'));
  if (roots.length !== 1 || roots[0] !== 'testsuites') fail(`the root element is <${roots.join('>, <')}>, not <testsuites>`);
  const root = document.testsuites as Element;
  only(root, ['testsuite', '#text'], '<testsuites>');
  const suites = ((root.testsuite as Element[] | undefined) ?? []).map((suite, i): JunitSuite => {
    const where = `testsuite ${i + 1}`;
    only(suite, ['properties', 'testcase', 'system-out', 'system-err', '#text'], where);
    const properties: Record<string, string> = {};
    const props = suite.properties as Element | undefined;
    for (const property of (props?.property as Element[] | undefined) ?? []) {
      properties[string(property, 'name', `${where} property`)] = String(property['@value'] ?? '');
    }
    const cases = ((suite.testcase as Element[] | undefined) ?? []).map((c, j) => readCase(c, `${where} testcase ${j + 1}`));
    const time = checkCounts(suite, cases, where);
    const hostname = suite['@hostname'];
    return {
      name: string(suite, 'name', where),
      time,
      ...(typeof hostname === 'string' ? { hostname } : {}),
      properties,
      cases,
    };
  });
  const time = checkCounts(
    root,
    suites.flatMap((s) => s.cases),
    '<testsuites>',
  );
  const name = root['@name'];
  return { ...(typeof name === 'string' ? { name } : {}), time, suites };
}
