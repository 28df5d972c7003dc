import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, EnvironmentError } from '../../src/errors.js';
import type { Lab } from '../../src/lab/model.js';
import { parseLab } from '../../src/lab/parse.js';
import type { RunnerEvent } from '../../src/runner/events.js';
import { loadProgress, newProgress } from '../../src/runner/progress.js';
import type { EditChoice, Prompter, StepChoice } from '../../src/runner/prompter.js';
import { runLab, type LabRunOptions } from '../../src/runner/run.js';

let dir: string;
let workdir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocilab-run-'));
  workdir = join(dir, 'work');
  process.env.XDG_STATE_HOME = join(dir, 'state');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeLab(body: string, variables = ''): Lab {
  const text = `---\nocilab: 1\nid: t\ntitle: T\nsummary: s\n${variables}---\n${body}`;
  const result = parseLab(text, 't.md');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  return result.lab;
}

const step = (title: string, script: string, checks: string, attrs = '') =>
  `## ${title}\n\n\`\`\`sh {"run": true${attrs}}\n${script}\n\`\`\`\n\n\`\`\`yaml {"checks": true}\n${checks}\n\`\`\`\n\n`;

/** A prompter that answers from a script and records what it was offered. */
function scripted(answers: StepChoice[], edits: EditChoice[] = []): Prompter & { offered: StepChoice[][] } {
  const offered: StepChoice[][] = [];
  return {
    offered,
    async stepAction(_step, choices) {
      offered.push(choices);
      const answer = answers.shift();
      if (!answer || !choices.includes(answer)) throw new Error(`unexpected prompt, offered ${choices.join(',')}; next answer ${answer}`);
      return answer;
    },
    async chooseWay(_step, options) {
      return options.find((o) => o.usable)!.way;
    },
    async editAction() {
      return edits.shift() ?? 'skip';
    },
  };
}

async function run(lab: Lab, options: Partial<LabRunOptions> = {}) {
  const events: RunnerEvent[] = [];
  const progress = (await loadProgress(lab.id)) ?? newProgress(lab.id, workdir);
  const outcome = await runLab(lab, {
    workdir,
    vars: {},
    mode: 'headless',
    keepGoing: false,
    signal: new AbortController().signal,
    emit: (e) => events.push(e),
    progress,
    ...options,
  });
  return { outcome, events, progress: (await loadProgress(lab.id))! };
}

const checkStatuses = (events: RunnerEvent[]) => events.flatMap((e) => (e.type === 'check-result' ? [e.result.status] : []));

describe('headless runs', () => {
  const lab = () =>
    makeLab(
      step('Make a file', 'echo hello > a.txt', '- file: a.txt\n  notEmpty: true') +
        step('Expect b', 'true', '- file: b.txt') +
        step('Make c', 'echo c > c.txt', '- file: c.txt'),
    );

  it('stops at the first failed check and keeps progress', async () => {
    const { outcome, progress, events } = await run(lab());
    expect(outcome.passed).toBe(false);
    expect(checkStatuses(events)).toEqual(['passed', 'failed']);
    expect(progress.steps['make-a-file']?.status).toBe('passed');
    expect(progress.steps['expect-b']).toMatchObject({ status: 'failed', attempts: 1 });
    expect(progress.steps['make-c']).toBeUndefined();
    expect(existsSync(join(workdir, 'c.txt'))).toBe(false);
  });

  it('resumes at the first unfinished step', async () => {
    await run(lab());
    await writeFile(join(workdir, 'b.txt'), 'now here');
    const { outcome, events, progress } = await run(lab());
    expect(outcome.passed).toBe(true);
    expect(events.find((e) => e.type === 'lab-start')).toMatchObject({ resumeAt: 1 });
    expect(events.filter((e) => e.type === 'step-start').map((e) => (e.type === 'step-start' ? e.step.id : ''))).toEqual([
      'expect-b',
      'make-c',
    ]);
    expect(progress.steps['expect-b']).toMatchObject({ status: 'passed', attempts: 2 });
  });

  it('goes on after a failure with keepGoing', async () => {
    const { outcome, progress } = await run(lab(), { keepGoing: true });
    expect(outcome.passed).toBe(false);
    expect(progress.steps['make-c']?.status).toBe('passed');
  });

  it('calls beforeActions before a step runs its commands, and keeps progress where save puts it', async () => {
    const seen: string[] = [];
    const saved: string[] = [];
    const lab = makeLab('## Read\n\nWords.\n\n' + step('Make a', 'touch a', '- file: a') + step('Make b', 'touch b', '- file: b'));
    const { outcome } = await run(lab, {
      beforeActions: async (s) => void seen.push(`${s.id}: a ${existsSync(join(workdir, 'a')) ? 'exists' : 'missing'}`),
      save: async (p) => void saved.push(Object.keys(p.steps).join(',')),
    });
    expect(outcome.passed).toBe(true);
    expect(seen).toEqual(['make-a: a missing', 'make-b: a exists']);
    expect(saved).toEqual(['read', 'read,make-a', 'read,make-a,make-b']);
    expect(await loadProgress('t')).toBeUndefined();
  });

  it('fails a step whose command fails, even without checks', async () => {
    const { outcome, events } = await run(makeLab('## Fail\n\n```sh {"run": true}\nexit 3\n```\n'));
    expect(outcome.passed).toBe(false);
    expect(events.find((e) => e.type === 'command-end')).toMatchObject({ exitCode: 3 });
  });

  it('does not run interactive commands, and runs their checks instead', async () => {
    const { outcome, events } = await run(makeLab(step('Shell', 'touch ran', '- file: ran\n  exists: false', ', "interactive": true')));
    expect(outcome.passed).toBe(true);
    expect(events.some((e) => e.type === 'command-skipped')).toBe(true);
  });

  it('passes variables as environment, never as command text', async () => {
    const marker = join(dir, 'pwned');
    const lab = makeLab(
      step('Echo', 'printf %s "$path" > out.txt', '- file: out.txt'),
      'variables:\n  path:\n    default: x\n    description: p\n',
    );
    const { outcome } = await run(lab, { vars: { path: `x; touch ${marker}` } });
    expect(outcome.passed).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(await readFile(join(workdir, 'out.txt'), 'utf8')).toBe(`x; touch ${marker}`);
  });

  it('applies edits and keeps the file indentation', async () => {
    const lab = makeLab(
      `## Spec\n\n\`\`\`sh {"run": true}\nprintf '{\\n\\t"hostname": "runc",\\n\\t"root": {"readonly": true}\\n}\\n' > config.json\n\`\`\`\n\n` +
        '## Edit\n\n```json {"edit": "config.json"}\n{"hostname": "runc-demo", "root.readonly": false, "process.args": ["sh"]}\n```\n\n```yaml {"checks": true}\n- json: config.json\n  path: root.readonly\n  equals: false\n```\n',
    );
    const { outcome, events } = await run(lab);
    expect(outcome.passed).toBe(true);
    const config = await readFile(join(workdir, 'config.json'), 'utf8');
    expect(JSON.parse(config)).toEqual({ hostname: 'runc-demo', root: { readonly: false }, process: { args: ['sh'] } });
    expect(config).toContain('\n\t"hostname"');
    const edit = events.find((e) => e.type === 'edit');
    expect(edit).toMatchObject({ applied: true, diff: expect.stringContaining('- \t"hostname": "runc",') });
  });
});

describe('ways', () => {
  const lab = () =>
    makeLab(
      '## Pick\n\n' +
        '```sh {"run": true, "way": "missing", "needs": ["no-such-command-ocilab"], "install": "Install it from the moon."}\necho missing > way.txt\n```\n\n' +
        '```sh {"run": true, "way": "broken", "needs": ["sh"], "probe": "exit 1"}\necho broken > way.txt\n```\n\n' +
        '```sh {"run": true, "way": "plain", "needs": ["sh"]}\necho plain > way.txt\n```\n\n' +
        '```yaml {"checks": true}\n- file: way.txt\n```\n',
    );

  it('picks the first way that works here and says why the others do not', async () => {
    const { events, progress } = await run(lab());
    expect(await readFile(join(workdir, 'way.txt'), 'utf8')).toBe('plain\n');
    const notices = events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
    expect(notices).toEqual(
      expect.arrayContaining([expect.stringContaining('Install it from the moon.'), expect.stringContaining('`exit 1` failed')]),
    );
    expect(progress.steps.pick?.way).toBe('plain');
  });

  it('uses the way named with --use', async () => {
    await run(lab(), { use: ['broken'] });
    expect(await readFile(join(workdir, 'way.txt'), 'utf8')).toBe('broken\n');
  });

  it('takes, of several ways named with --use, the first that each step offers', async () => {
    const two = makeLab(
      '## Fetch\n\n' +
        '```sh {"run": true, "way": "tool", "needs": ["sh"]}\necho tool > fetch.txt\n```\n\n' +
        '```sh {"run": true, "way": "builtin", "needs": ["sh"]}\necho builtin > fetch.txt\n```\n\n' +
        '## Start\n\n' +
        '```sh {"run": true, "way": "root", "needs": ["sh"]}\necho root > start.txt\n```\n\n' +
        '```sh {"run": true, "way": "rootless", "needs": ["sh"]}\necho rootless > start.txt\n```\n',
    );
    const { progress } = await run(two, { use: ['builtin', 'rootless'] });
    expect(await readFile(join(workdir, 'fetch.txt'), 'utf8')).toBe('builtin\n');
    expect(await readFile(join(workdir, 'start.txt'), 'utf8')).toBe('rootless\n');
    expect([progress.steps.fetch?.way, progress.steps.start?.way]).toEqual(['builtin', 'rootless']);
  });

  it('explains when no way works', async () => {
    const only = makeLab('## Pick\n\n```sh {"run": true, "way": "missing", "needs": ["no-such-command-ocilab"]}\ntrue\n```\n');
    await expect(run(only)).rejects.toThrow(EnvironmentError);
    await expect(run(only)).rejects.toThrow(/missing: no-such-command-ocilab not found/);
  });
});

describe('interactive runs', () => {
  const lab = () =>
    makeLab(
      '## Read me\n\nJust words.\n\n' +
        step('Make a', 'touch a', '- file: a') +
        '> [!TIP]\n> First hint.\n\n> [!TIP]\n> Second hint.\n\n' +
        step('Make b', 'touch b', '- file: b'),
    );

  it('offers the shell first, hints one at a time, then runs, and records hints and attempts', async () => {
    const prompter = scripted(['next', 'hint', 'hint', 'run', 'skip']);
    const { events, progress } = await run(lab(), { mode: 'interactive', prompter });
    expect(prompter.offered[0]).toEqual(['next', 'quit']);
    expect(prompter.offered[1]).toEqual(['shell', 'run', 'self', 'hint', 'skip', 'quit']);
    expect(prompter.offered[3]).toEqual(['shell', 'run', 'self', 'skip', 'quit']);
    expect(events.flatMap((e) => (e.type === 'hint' ? [e.text] : []))).toEqual(['First hint.', 'Second hint.']);
    expect(progress.steps['read-me']?.status).toBe('read');
    expect(progress.steps['make-a']).toMatchObject({ status: 'passed', hints: 2, attempts: 1 });
    expect(progress.steps['make-b']?.status).toBe('skipped');
  });

  it("checks the learner's own work without running the command", async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(workdir, { recursive: true }));
    const prompter = scripted(['next', 'self', 'quit']);
    await expect(run(lab(), { mode: 'interactive', prompter })).rejects.toThrow(CancelledError);
    expect(existsSync(join(workdir, 'a'))).toBe(false);
    const progress = await loadProgress('t');
    expect(progress?.steps['make-a']).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('records a step whose hint was read but that was never tried as started', async () => {
    await expect(run(lab(), { mode: 'interactive', prompter: scripted(['next', 'hint', 'quit']) })).rejects.toThrow(CancelledError);
    expect((await loadProgress('t'))?.steps['make-a']).toMatchObject({ status: 'started', hints: 1, attempts: 0 });
  });

  it('quits with progress saved, and the next run resumes there', async () => {
    await expect(run(lab(), { mode: 'interactive', prompter: scripted(['next', 'quit']) })).rejects.toThrow(/progress is saved/);
    const { events } = await run(lab(), { mode: 'interactive', prompter: scripted(['run', 'run']) });
    expect(events.find((e) => e.type === 'lab-start')).toMatchObject({ resumeAt: 1 });
  });
});

describe('cancellation', () => {
  it('ends the whole process group, runs the cleanup and saves progress', async () => {
    const pidFile = join(dir, 'child.pid');
    const cleaned = join(dir, 'cleaned');
    const lab = makeLab(
      '## First\n\n```sh {"run": true}\ntrue\n```\n\n' +
        `## Slow\n\n\`\`\`sh {"run": true, "cleanup": "touch ${cleaned}"}\nsleep 60 & echo $! > ${pidFile}; wait\n\`\`\`\n`,
    );
    const controller = new AbortController();
    const running = run(lab, {
      signal: controller.signal,
      emit: (e) => {
        if (e.type === 'command-start' && e.command.script.startsWith('sleep')) setTimeout(() => controller.abort(), 300);
      },
    });
    await expect(running).rejects.toThrow(CancelledError);
    expect(existsSync(cleaned)).toBe(true);
    const pid = Number(await readFile(pidFile, 'utf8'));
    // The grandchild got SIGTERM with its group. It may linger as a zombie where nothing reaps
    // orphans, so "ended" means gone or zombie; poll, because a loaded machine is slow to deliver.
    const ended = async () => {
      for (let i = 0; i < 50; i++) {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
        if (!stat || / Z /.test(stat)) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    expect(await ended()).toBe(true);
    const progress = await loadProgress('t');
    expect(progress?.steps.first?.status).toBe('passed');
    expect(progress?.steps.slow?.status).not.toBe('passed');
  });
});
