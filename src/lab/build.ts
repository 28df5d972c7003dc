// Building the model from what was scanned: the lab's header from its front matter, and each step from
// its parts, where a block's attributes say whether it runs, is a way, an edit, checks or diagnoses.
import { isSeq } from 'yaml';
import { LAB_FORMAT_VERSION, type Check, type Command, type Diagnosis, type Edit, type Segment, type Step, type Way } from './model.js';
import { errorMessage, parseYaml, reportIssue, type LineOf, type Report } from './problems.js';
import {
  attributesSchema,
  CHECK_KEYS,
  checkSchemas,
  diagnosisSchema,
  frontMatterSchema,
  RUN_ATTRIBUTES,
  type Attributes,
  type LabHeader,
} from './schema.js';
import type { Block, FrontMatterText, ScannedStep } from './scan.js';

const DEFAULT_TIMEOUT_SECONDS = 300;
const SUDO = /(^|[\s;&|(])sudo\s/;

export interface FrontMatter {
  /** Absent when the front matter has problems. */
  header?: LabHeader;
  /** The lab declares a newer format: nothing else about it can be judged. */
  tooNew: boolean;
  lineOf: LineOf;
}

export function readFrontMatter(text: FrontMatterText, report: Report): FrontMatter {
  const { doc, lineOf, broken } = parseYaml(text.source, text.firstLine, 'front matter', report);
  if (broken) return { tooNew: false, lineOf };

  const raw: unknown = doc.toJS();
  const version = isRecord(raw) ? raw.ocilab : undefined;
  if (typeof version === 'number' && version > LAB_FORMAT_VERSION) {
    // A newer format may mean anything: judging the rest by today's rules would only mislead.
    report(
      lineOf(['ocilab']),
      `this lab is written for lab format ${version}; this ocilab understands format ${LAB_FORMAT_VERSION} — upgrade ocilab (npm install -g ocilab@latest)`,
    );
    return { tooNew: true, lineOf };
  }

  const parsed = frontMatterSchema.safeParse(raw ?? {});
  if (parsed.success) return { header: parsed.data, tooNew: false, lineOf };
  for (const issue of parsed.error.issues) reportIssue(issue, 'front matter', lineOf, report);
  return { tooNew: false, lineOf };
}

/** What a block with attributes turns out to be. */
type BlockRead =
  | { kind: 'shown' }
  | { kind: 'command'; command: Command }
  | { kind: 'way'; way: Way }
  | { kind: 'edit'; edit: Edit }
  | { kind: 'checks'; checks: Check[] }
  | { kind: 'diagnoses'; diagnoses: Diagnosis[] };

export function buildStep({ title, line, parts }: ScannedStep, report: Report): Step {
  const step: Step = { id: slugify(title), title, line, content: [], actions: [], hints: [], checks: [], diagnoses: [], root: false };
  // Prose and shown-only blocks between two shown segments become one Markdown segment.
  let prose: string[] = [];
  const flushProse = () => {
    const text = prose.join('\n').trim();
    if (text) step.content.push({ kind: 'markdown', text });
    prose = [];
  };
  const show = (segment: Segment) => {
    flushProse();
    step.content.push(segment);
  };
  // The ways of a step form one action, placed where the first of them is written.
  let ways: Way[] | undefined;

  for (const part of parts) {
    if (part.kind !== 'block') {
      if (part.kind === 'prose') prose.push(part.text);
      else step.hints.push(part.text);
      continue;
    }
    const read = readBlock(part.block, report);
    switch (read?.kind) {
      case undefined:
        break;
      case 'shown':
        prose.push(part.block.raw);
        break;
      case 'diagnoses':
        // Diagnoses are not shown: the learner meets each one only when it applies.
        step.diagnoses.push(...read.diagnoses);
        break;
      case 'checks':
        show({ kind: 'checks', checks: read.checks });
        step.checks.push(...read.checks);
        break;
      case 'edit':
        show({ kind: 'edit', edit: read.edit });
        step.actions.push({ kind: 'edit', edit: read.edit });
        break;
      case 'command':
        show({ kind: 'command', command: read.command });
        step.root ||= read.command.root;
        step.actions.push({ kind: 'command', command: read.command });
        break;
      case 'way': {
        const { way } = read;
        show({ kind: 'command', command: way });
        if (!ways) {
          ways = [];
          step.actions.push({ kind: 'ways', ways });
        } else if (ways.some((w) => w.name === way.name)) {
          report(part.block.line, `this step already has a way named '${way.name}': each way of a step needs its own name`);
        }
        ways.push(way);
        break;
      }
    }
  }
  flushProse();
  // A step with a way that needs no root can be done without root.
  if (ways) step.root ||= ways.every((w) => w.root);
  return step;
}

function readBlock(block: Block, report: Report): BlockRead | undefined {
  let json: unknown;
  try {
    json = JSON.parse(block.attributes);
  } catch (error) {
    report(block.line, `the attributes of this code block are not valid JSON (${errorMessage(error)})`, 'sh {"run": true}', block.column);
    return undefined;
  }
  const parsed = attributesSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportIssue(issue, 'code block attributes', () => block.line, report);
    return undefined;
  }
  const attrs = parsed.data;
  const purposes = [attrs.run && 'run', attrs.edit && 'edit', attrs.checks && 'checks', attrs.diagnoses && 'diagnoses'].filter(Boolean);
  if (purposes.length > 1) {
    report(block.line, `a code block does one thing; this one has ${purposes.join(' and ')}`);
    return undefined;
  }
  if (!attrs.run) {
    const stray = RUN_ATTRIBUTES.filter((key) => attrs[key] !== undefined);
    if (stray.length > 0) {
      report(block.line, `${stray.join(', ')} only apply to a runnable block: add "run": true`, `sh {"run": true, "${stray[0]}": ...}`);
      return undefined;
    }
  }

  if (attrs.diagnoses) return { kind: 'diagnoses', diagnoses: readDiagnoses(block, report) };
  if (attrs.checks) return { kind: 'checks', checks: readChecks(block, report) };
  if (attrs.edit) {
    const edit = readEdit(block, attrs.edit, report);
    return edit && { kind: 'edit', edit };
  }
  if (attrs.run) return readRun(block, attrs, report);
  return { kind: 'shown' };
}

function readRun(block: Block, attrs: Attributes, report: Report): BlockRead {
  const script = block.body.trim();
  const command: Command = {
    line: block.line,
    script,
    interactive: attrs.interactive ?? false,
    root: attrs.root ?? SUDO.test(script),
    timeout: attrs.timeout ?? DEFAULT_TIMEOUT_SECONDS,
    ...(attrs.cleanup ? { cleanup: attrs.cleanup } : {}),
    readonly: attrs.readonly ?? false,
  };
  if (attrs.way) {
    const way: Way = {
      ...command,
      name: attrs.way,
      needs: attrs.needs ?? [],
      ...(attrs.probe ? { probe: attrs.probe } : {}),
      ...(attrs.install ? { install: attrs.install } : {}),
    };
    return { kind: 'way', way };
  }
  if (attrs.needs || attrs.probe || attrs.install) {
    report(block.line, 'needs, probe and install describe an alternative: add "way": "NAME" or remove them');
  }
  return { kind: 'command', command };
}

function readEdit(block: Block, file: string, report: Report): Edit | undefined {
  let set: unknown;
  try {
    set = JSON.parse(block.body);
  } catch (error) {
    report(block.line + 1, `the edit is not valid JSON (${errorMessage(error)})`, '{ "hostname": "runc-demo" }');
    return undefined;
  }
  if (!isRecord(set) || Object.keys(set).length === 0) {
    report(block.line + 1, 'an edit is a JSON object of dotted paths and the values to set', '{ "process.args": ["sh"] }');
    return undefined;
  }
  return { line: block.line, file, set };
}

function readChecks(block: Block, report: Report): Check[] {
  const { items, lineOf } = readYamlList(block, 'checks', '- file: rootfs/bin/sh', report);
  const checks: Check[] = [];
  items.forEach((item, index) => {
    const line = lineOf([index]);
    const key = isRecord(item) ? CHECK_KEYS.find((k) => k in item) : undefined;
    if (!key) {
      report(line, `a check starts with its kind: one of ${CHECK_KEYS.join(', ')}`, '- json: config.json');
      return;
    }
    const parsed = checkSchemas[key].safeParse(item);
    if (parsed.success) checks.push({ ...parsed.data, line });
    else for (const issue of parsed.error.issues) reportIssue(issue, `${key} check`, (path) => lineOf([index, ...path]), report);
  });
  return checks;
}

function readDiagnoses(block: Block, report: Report): Diagnosis[] {
  const example = "- when: { typed: '\\bcurl\\b', lacks: ' -L' }\n      say: curl needs -L to follow the redirect.";
  const { items, lineOf } = readYamlList(block, 'diagnoses', example, report);
  const diagnoses: Diagnosis[] = [];
  items.forEach((item, index) => {
    const parsed = diagnosisSchema.safeParse(item);
    if (parsed.success) diagnoses.push({ line: lineOf([index]), ...parsed.data });
    else for (const issue of parsed.error.issues) reportIssue(issue, 'diagnosis', (path) => lineOf([index, ...path]), report);
  });
  return diagnoses;
}

/** The items of a YAML list block with a way to find the line of each, or no items when the block is not one. */
function readYamlList(block: Block, what: string, example: string, report: Report): { items: unknown[]; lineOf: LineOf } {
  const start = block.line + 1;
  const { doc, lineOf, broken } = parseYaml(block.body, start, what, report);
  if (broken) return { items: [], lineOf };
  if (!isSeq(doc.contents)) {
    report(start, `a ${what} block is a YAML list, one item per \`-\``, example);
    return { items: [], lineOf };
  }
  const items: unknown = doc.toJS();
  return { items: Array.isArray(items) ? items : [], lineOf };
}

export function slugify(title: string): string {
  return title
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
