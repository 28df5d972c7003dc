// parseLab: Markdown text → Lab model, or every problem found, each with file:line.
// Pure: no file system, no terminal. The Markdown is scanned line by line (fences, `##` headings,
// `> [!TIP]` alerts) so that each problem can name the line it is on.
import { LineCounter, parseDocument, isSeq, type Document } from 'yaml';
import type * as z from 'zod';
import {
  LAB_FORMAT_VERSION,
  type Check,
  type Command,
  type OutputCheck,
  type TagsCheck,
  type Diagnosis,
  type Edit,
  type Lab,
  type Problem,
  type Step,
  type Variable,
  type Way,
} from './model.js';
import {
  attributesSchema,
  checkSchemas,
  CHECK_KEYS,
  diagnosisSchema,
  frontMatterSchema,
  RUN_ATTRIBUTES,
  type Attributes,
  type CheckKey,
} from './schema.js';
import { references } from './variables.js';

export type ParseResult = { ok: true; lab: Lab } | { ok: false; problems: Problem[] };

const DEFAULT_TIMEOUT_SECONDS = 300;
const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const STEP_HEADING = /^##\s+(.+?)\s*#*\s*$/;
const TITLE_HEADING = /^#\s+(.+?)\s*#*\s*$/;
const TIP = /^>\s*\[!TIP\]\s*(.*)$/i;
const SUDO = /(^|[\s;&|(])sudo\s/;

export function parseLab(text: string, file: string): ParseResult {
  const problems: Problem[] = [];
  const report = (line: number, message: string, example?: string, column?: number) =>
    problems.push({ file, line, message, ...(example ? { example } : {}), ...(column ? { column } : {}) });

  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const front = readFrontMatter(lines, report);
  if (!front) return { ok: false, problems };
  if (front.version !== undefined && front.version > LAB_FORMAT_VERSION) {
    // A newer format may mean anything: judging the rest by today's rules would only mislead.
    report(
      front.versionLine,
      `this lab is written for lab format ${front.version}; this ocilab understands format ${LAB_FORMAT_VERSION} — upgrade ocilab (npm install -g ocilab@latest)`,
    );
    return { ok: false, problems };
  }

  const body = scanBody(lines, front.endLine, report);
  const variables = front.data ? toVariables(front.data.variables) : [];
  const known = new Set(variables.map((v) => v.name));
  checkVariableDefaults(variables, front, report);
  for (const step of body.steps) checkStep(step, known, report);
  if (body.steps.length === 0)
    report(front.endLine + 1, 'a lab needs at least one step: a `## Heading` with content', '## Generate the spec');

  if (problems.length > 0 || !front.data) return { ok: false, problems: problems.sort((a, b) => a.line - b.line) };
  const data = front.data;
  return {
    ok: true,
    lab: {
      file,
      format: data.ocilab,
      id: data.id,
      title: data.title,
      summary: data.summary,
      ...(data.duration ? { duration: data.duration } : {}),
      variables,
      requires: data.requires,
      intro: body.intro,
      steps: body.steps as Step[],
    },
  };
}

type Report = (line: number, message: string, example?: string, column?: number) => void;

interface FrontMatterRead {
  data?: z.output<typeof frontMatterSchema>;
  version?: number;
  versionLine: number;
  /** 1-based line of the closing `---`. */
  endLine: number;
  lineOf: (path: (string | number)[]) => number;
}

function readFrontMatter(lines: string[], report: Report): FrontMatterRead | undefined {
  if (lines[0]?.trim() !== '---') {
    report(
      1,
      'a lab starts with YAML front matter between two `---` lines',
      '--- / ocilab: 1 / id: my-lab / title: ... / summary: ... / ---',
    );
    return undefined;
  }
  const close = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
  if (close < 0) {
    report(1, 'the front matter is not closed: add a line `---` after it');
    return undefined;
  }
  const { doc, lineOf } = parseYaml(lines.slice(1, close).join('\n'), 2);
  const read: FrontMatterRead = { versionLine: lineOf(['ocilab']), endLine: close + 1, lineOf };
  for (const error of doc.errors) report(2 + (error.linePos?.[0].line ?? 1) - 1, `front matter: ${firstLine(error.message)}`);
  if (doc.errors.length > 0) return read;

  const raw: unknown = doc.toJS();
  const version = isRecord(raw) ? raw.ocilab : undefined;
  if (typeof version === 'number') read.version = version;
  if (typeof version === 'number' && version > LAB_FORMAT_VERSION) return read;

  const parsed = frontMatterSchema.safeParse(raw ?? {});
  if (parsed.success) read.data = parsed.data;
  else for (const issue of parsed.error.issues) reportIssue(issue, 'front matter', lineOf, report);
  return read;
}

interface BodyRead {
  intro: string;
  steps: StepDraft[];
}

/** A step as it is assembled; `ways` collects the alternatives before they become one action. */
interface StepDraft extends Step {
  ways?: Way[];
  markdown: string[];
  /** Checks that need `${name}` resolved, with the line each name appears on. */
  varRefs: { name: string; line: number }[];
}

function scanBody(lines: string[], frontEnd: number, report: Report): BodyRead {
  const intro: string[] = [];
  const steps: StepDraft[] = [];
  let current: StepDraft | undefined;
  let sawTitle = false;

  const flushMarkdown = () => {
    if (!current) return;
    const text = current.markdown.join('\n').trim();
    if (text) current.content.push({ kind: 'markdown', text });
    current.markdown = [];
  };

  for (let i = frontEnd; i < lines.length; i++) {
    const line = lines[i] as string;
    const lineNo = i + 1;

    const fence = FENCE.exec(line);
    if (fence) {
      const [, indent = '', marker = '```', info = ''] = fence;
      const closeAt = findFenceClose(lines, i + 1, marker);
      if (closeAt < 0) report(lineNo, `this code block is never closed: add a line \`${marker}\``);
      const end = closeAt < 0 ? lines.length : closeAt;
      const block: Block = {
        line: lineNo,
        info: info.trim(),
        infoColumn: indent.length + marker.length + 1 + (info.length - info.trimStart().length),
        body: lines.slice(i + 1, end).join('\n'),
        raw: lines.slice(i, Math.min(end + 1, lines.length)).join('\n'),
      };
      i = end;
      if (!current) {
        intro.push(block.raw);
        continue;
      }
      readBlock(block, current, flushMarkdown, report);
      continue;
    }

    const heading = STEP_HEADING.exec(line);
    if (heading) {
      flushMarkdown();
      const title = (heading[1] as string).trim();
      current = {
        id: slugify(title),
        title,
        line: lineNo,
        content: [],
        actions: [],
        hints: [],
        checks: [],
        diagnoses: [],
        root: false,
        markdown: [],
        varRefs: [],
      };
      steps.push(current);
      continue;
    }

    if (!current && !sawTitle && TITLE_HEADING.test(line)) {
      sawTitle = true; // The `# Title` repeats the front matter's title for readers on GitHub.
      continue;
    }

    const tip = TIP.exec(line);
    if (tip && current) {
      const hint: string[] = tip[1] ? [tip[1]] : [];
      while (i + 1 < lines.length && /^>/.test(lines[i + 1] as string)) {
        i++;
        hint.push((lines[i] as string).replace(/^>\s?/, ''));
      }
      const text = hint.join('\n').trim();
      if (text) current.hints.push(text);
      else report(lineNo, 'this hint is empty: write the hint on the `>` lines below `> [!TIP]`');
      continue;
    }

    (current ? current.markdown : intro).push(line);
  }
  flushMarkdown();

  const seen = new Map<string, number>();
  for (const step of steps) {
    const first = seen.get(step.id);
    if (first !== undefined)
      report(step.line, `two steps have the id '${step.id}' (the other is on line ${first}): give this step a different title`);
    else seen.set(step.id, step.line);
    // A step with a way that needs no root can be done without root.
    if (step.ways) step.root ||= step.ways.every((w) => w.root);
  }
  return { intro: intro.join('\n').trim(), steps };
}

interface Block {
  line: number;
  info: string;
  infoColumn: number;
  body: string;
  /** The block as written, fences included, for shown-only blocks. */
  raw: string;
}

function readBlock(block: Block, step: StepDraft, flushMarkdown: () => void, report: Report): void {
  const brace = block.info.indexOf('{');
  if (brace < 0) {
    step.markdown.push(block.raw);
    return;
  }
  let json: unknown;
  try {
    json = JSON.parse(block.info.slice(brace));
  } catch (error) {
    report(
      block.line,
      `the attributes of this code block are not valid JSON (${(error as Error).message})`,
      'sh {"run": true}',
      block.infoColumn + brace,
    );
    return;
  }
  const parsed = attributesSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportIssue(issue, 'code block attributes', () => block.line, report);
    return;
  }
  const attrs = parsed.data;
  const purposes = [attrs.run && 'run', attrs.edit && 'edit', attrs.checks && 'checks', attrs.diagnoses && 'diagnoses'].filter(Boolean);
  if (purposes.length > 1) {
    report(block.line, `a code block does one thing; this one has ${purposes.join(' and ')}`);
    return;
  }
  if (!attrs.run) {
    const stray = RUN_ATTRIBUTES.filter((key) => attrs[key] !== undefined);
    if (stray.length > 0) {
      report(block.line, `${stray.join(', ')} only apply to a runnable block: add "run": true`, `sh {"run": true, "${stray[0]}": ...}`);
      return;
    }
  }

  if (attrs.diagnoses) {
    // Diagnoses are not shown: the learner meets each one only when it applies.
    step.diagnoses.push(...readDiagnoses(block, step, report));
  } else if (attrs.checks) {
    flushMarkdown();
    const checks = readChecks(block, step, report);
    step.checks.push(...checks);
    step.content.push({ kind: 'checks', checks });
  } else if (attrs.edit) {
    const edit = readEdit(block, attrs.edit, report);
    if (!edit) return;
    flushMarkdown();
    step.content.push({ kind: 'edit', edit });
    step.actions.push({ kind: 'edit', edit });
  } else if (attrs.run) {
    flushMarkdown();
    const command = toCommand(block, attrs);
    if (attrs.way) {
      const way: Way = {
        ...command,
        name: attrs.way,
        needs: attrs.needs ?? [],
        ...(attrs.probe ? { probe: attrs.probe } : {}),
        ...(attrs.install ? { install: attrs.install } : {}),
      };
      step.content.push({ kind: 'command', command: way });
      if (!step.ways) {
        step.ways = [];
        step.actions.push({ kind: 'ways', ways: step.ways });
      } else if (step.ways.some((w) => w.name === way.name)) {
        report(block.line, `this step already has a way named '${way.name}': each way of a step needs its own name`);
      }
      step.ways.push(way);
    } else {
      if (attrs.needs || attrs.probe || attrs.install) {
        report(block.line, 'needs, probe and install describe an alternative: add "way": "NAME" or remove them');
      }
      step.root ||= command.root;
      step.content.push({ kind: 'command', command });
      step.actions.push({ kind: 'command', command });
    }
  } else {
    step.markdown.push(block.raw);
  }
}

function toCommand(block: Block, attrs: Attributes): Command {
  const script = block.body.trim();
  return {
    line: block.line,
    script,
    interactive: attrs.interactive ?? false,
    root: attrs.root ?? SUDO.test(script),
    timeout: attrs.timeout ?? DEFAULT_TIMEOUT_SECONDS,
    ...(attrs.cleanup ? { cleanup: attrs.cleanup } : {}),
    readonly: attrs.readonly ?? false,
  };
}

function readEdit(block: Block, file: string, report: Report): Edit | undefined {
  let set: unknown;
  try {
    set = JSON.parse(block.body);
  } catch (error) {
    report(block.line + 1, `the edit is not valid JSON (${(error as Error).message})`, '{ "hostname": "runc-demo" }');
    return undefined;
  }
  if (!isRecord(set) || Object.keys(set).length === 0) {
    report(block.line + 1, 'an edit is a JSON object of dotted paths and the values to set', '{ "process.args": ["sh"] }');
    return undefined;
  }
  return { line: block.line, file, set };
}

/** The items of a YAML list block with the 1-based line of each, or none when the block is not one. */
function readYamlList(block: Block, what: string, example: string, report: Report) {
  const start = block.line + 1;
  const { doc, lineOf } = parseYaml(block.body, start);
  for (const error of doc.errors) report(start + (error.linePos?.[0].line ?? 1) - 1, `${what}: ${firstLine(error.message)}`);
  if (doc.errors.length > 0) return { items: [], lineOf };
  if (!isSeq(doc.contents)) {
    report(start, `a ${what} block is a YAML list, one item per \`-\``, example);
    return { items: [], lineOf };
  }
  return { items: doc.toJS() as unknown[], lineOf };
}

function readChecks(block: Block, step: StepDraft, report: Report): Check[] {
  const { items, lineOf } = readYamlList(block, 'checks', '- file: rootfs/bin/sh', report);
  const checks: Check[] = [];
  items.forEach((item, index) => {
    const itemLine = lineOf([index]);
    const key = isRecord(item) ? CHECK_KEYS.find((k) => k in item) : undefined;
    if (!key) {
      report(itemLine, `a check starts with its kind: one of ${CHECK_KEYS.join(', ')}`, '- json: config.json');
      return;
    }
    const parsed = checkSchemas[key].safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) reportIssue(issue, `${key} check`, (path) => lineOf([index, ...path]), report);
      return;
    }
    const check = toCheck(key, parsed.data, itemLine);
    for (const text of checkStrings(check)) for (const name of references(text)) step.varRefs.push({ name, line: itemLine });
    checks.push(check);
  });
  return checks;
}

function readDiagnoses(block: Block, step: StepDraft, report: Report): Diagnosis[] {
  const example = "- when: { typed: '\\bcurl\\b', lacks: ' -L' }\n      say: curl needs -L to follow the redirect.";
  const { items, lineOf } = readYamlList(block, 'diagnoses', example, report);
  const diagnoses: Diagnosis[] = [];
  items.forEach((item, index) => {
    const parsed = diagnosisSchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) reportIssue(issue, 'diagnosis', (path) => lineOf([index, ...path]), report);
      return;
    }
    const line = lineOf([index]);
    const { when, say } = parsed.data;
    const defined = Object.fromEntries(Object.entries(when).filter(([, value]) => value !== undefined));
    for (const text of [say, when.exists ?? '']) for (const name of references(text)) step.varRefs.push({ name, line });
    for (const name of Object.keys(when.vars ?? {})) step.varRefs.push({ name: name, line });
    diagnoses.push({ line, when: defined, say });
  });
  return diagnoses;
}

/** Turns a validated check item into the model, where the kind is a field rather than the first key. */
function toCheck(key: CheckKey, data: Record<string, unknown>, line: number): Check {
  const { [key]: subject, ...rest } = data;
  const fields = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
  switch (key) {
    case 'command':
      return { kind: 'command', run: subject as string, line, ...fields } as Check;
    case 'output':
      return { kind: 'output', line, ...fields } as Check;
    case 'file':
      return { kind: 'file', path: subject as string, line, ...fields } as Check;
    case 'json':
      return { kind: 'json', file: subject as string, line, ...fields } as Check;
    case 'probe':
      return { kind: 'probe', args: subject as string[], line, ...fields } as Check;
    case 'tags':
      return { kind: 'tags', repository: subject as string, line, ...fields } as Check;
  }
}

/** The fields of a check in which `${name}` is expanded. */
function checkStrings(check: Check): string[] {
  switch (check.kind) {
    case 'file':
      return [check.path, check.root ?? ''];
    case 'json':
      return [check.file];
    case 'probe':
      return [check.bundle, ...check.args, check.listsDirectory ?? ''];
    case 'tags':
      return [check.registry, check.repository];
    case 'command':
    case 'output':
      return [];
  }
}

function checkStep(step: StepDraft, known: Set<string>, report: Report): void {
  for (const ref of step.varRefs) {
    if (!known.has(ref.name))
      report(ref.line, `\${${ref.name}} is not a variable of this lab: declare it under variables in the front matter`);
  }
  const needsOutput = step.checks.filter(judgesOutput);
  if (needsOutput.length > 0) {
    const commands = step.actions.flatMap((a) => (a.kind === 'command' ? [a.command] : a.kind === 'ways' ? a.ways : []));
    if (commands.length === 0) {
      report(needsOutput[0]!.line, "this check judges the output of the step's command, but the step runs no command");
    } else if (commands.some((c) => !c.readonly)) {
      report(
        needsOutput[0]!.line,
        'this check judges the step\'s output, which `verify` gets by running the command again: mark the step\'s commands "readonly": true (only if they really only read)',
      );
    }
  }
  for (const diagnosis of step.diagnoses) {
    const named = diagnosis.when.check;
    if (named !== undefined && !step.checks.some((c) => c.kind === named || c.title === named)) {
      report(diagnosis.line, `diagnosis: this step has no check '${named}': name a check by its kind (e.g. tags) or its title`);
    }
  }
  if (step.diagnoses.length > 0 && step.checks.length === 0 && step.actions.length === 0) {
    report(step.diagnoses[0]!.line, 'diagnoses explain a failed attempt, but this step has neither commands nor checks');
  }
  // Drop the assembly-only fields so the model is plain.
  delete step.ways;
  delete (step as Partial<StepDraft>).markdown;
  delete (step as Partial<StepDraft>).varRefs;
}

function checkVariableDefaults(variables: Variable[], front: FrontMatterRead, report: Report): void {
  const earlier = new Set<string>();
  for (const variable of variables) {
    for (const name of references(variable.default)) {
      if (!earlier.has(name)) {
        report(
          front.lineOf(['variables', variable.name, 'default']),
          `the default of '${variable.name}' uses \${${name}}, which is not a variable declared above it`,
        );
      }
    }
    earlier.add(variable.name);
  }
}

function toVariables(record: Record<string, { default: string; description: string }>): Variable[] {
  return Object.entries(record).map(([name, v]) => ({ name, default: v.default, description: v.description }));
}

/** Parses YAML and gives a way to find the 1-based file line of a node by its path. */
function parseYaml(source: string, firstLine: number): { doc: Document; lineOf: (path: (string | number)[]) => number } {
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  const lineOf = (path: (string | number)[]) => {
    // Walk up to the nearest node that exists (a missing key is reported on its parent's line).
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) {
        // For a key's value, point at the pair's line rather than the value's (same line in practice).
        return firstLine + counter.linePos(range[0]).line - 1;
      }
    }
    return firstLine;
  };
  return { doc, lineOf };
}

function reportIssue(issue: z.core.$ZodIssue, where: string, lineOf: (path: (string | number)[]) => number, report: Report): void {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const at = path.length > 0 ? `${where}: ${path.join('.')}` : where;
  if (issue.code === 'unrecognized_keys') {
    report(
      lineOf([...path, issue.keys[0] ?? '']),
      `${at}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`,
    );
  } else {
    report(lineOf(path), `${at}: ${issue.message}`);
  }
}

function findFenceClose(lines: string[], from: number, marker: string): number {
  const char = marker[0] as string;
  for (let i = from; i < lines.length; i++) {
    const m = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[i] as string);
    if (m && (m[1] as string)[0] === char && (m[1] as string).length >= marker.length) return i;
  }
  return -1;
}

/** The check judges the output of the step's command (so `verify` needs that output, and the command must only read). */
export function judgesOutput(check: Check): check is OutputCheck | TagsCheck {
  return check.kind === 'output' || check.kind === 'tags';
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

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
