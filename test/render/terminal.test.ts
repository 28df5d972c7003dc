// The terminal renderer, fed events as the runner emits them.
import { describe, expect, it } from 'vitest';
import type { Check, Step } from '../../src/lab/model.js';
import { createRenderer, hanging } from '../../src/render/terminal.js';

const probe = (title: string): Check => ({ kind: 'probe', line: 1, bundle: '.', args: ['hostname'], title });
const step: Step = {
  id: 's',
  title: 'Run the container',
  line: 1,
  content: [],
  actions: [],
  hints: [],
  checks: [],
  diagnoses: [],
  root: true,
};

describe('check results', () => {
  it('says a reason once when the next checks cannot run for the same one', async () => {
    let text = '';
    const renderer = await createRenderer({ color: false, width: 100, write: (t) => (text += t), prose: false, vars: {} });
    const reason = 'Container probes need root: sudo wants your password.';
    renderer.render({ type: 'checks-start', step });
    for (const title of ['one', 'two']) {
      renderer.render({ type: 'check-result', label: title, result: { status: 'error', message: reason, check: probe(title) } });
    }
    renderer.render({ type: 'checks-start', step });
    renderer.render({ type: 'check-result', label: 'three', result: { status: 'error', message: reason, check: probe('three') } });
    expect(text.split('\n').filter((l) => l.includes('could not check'))).toEqual([
      `  ! one: could not check — ${reason}`,
      '  ! two: could not check — as above',
      `  ! three: could not check — ${reason}`,
    ]);
  });
});

describe('diagnoses', () => {
  const said =
    'The container you looked into still has a PID namespace of its own: it was started from the first bundle, or before you edited no-pid/config.json.';
  const shown = async (prose: boolean) => {
    let text = '';
    const renderer = await createRenderer({ color: false, width: 60, write: (t) => (text += t), prose, vars: {} });
    renderer.render({ type: 'diagnosis', text: said });
    return text;
  };

  it('wrap at words under their arrow on a terminal', async () => {
    const lines = (await shown(true)).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ {2}→ The container/);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(60);
    for (const line of lines.slice(1)) expect(line).toMatch(/^ {4}\S/);
    expect(lines.map((l) => l.slice(4)).join(' ')).toBe(said);
  });

  it('stay one line in a pipe or a log', async () => {
    expect(await shown(false)).toBe(`  → ${said}\n`);
  });
});

describe('hanging', () => {
  it('wraps at word boundaries within the width, the lines after the first indented under its text', () => {
    const text = 'The rootfs has sleep, chown, touch, mkdir and grep, the commands this lab runs in it';
    const wrapped = hanging(text, '  • ', 40);
    expect(wrapped.split('\n')).toEqual([
      '  • The rootfs has sleep, chown, touch,',
      '    mkdir and grep, the commands this',
      '    lab runs in it',
    ]);
    for (const line of wrapped.split('\n')) expect(line.length).toBeLessThanOrEqual(40);
  });

  it('leaves a word longer than the width whole, on a line of its own', () => {
    expect(hanging('see /a/very/long/path/that/cannot/break now', '  • ', 20)).toBe(
      '  • see\n    /a/very/long/path/that/cannot/break\n    now',
    );
  });

  it('keeps a short text on one line', () => {
    expect(hanging('a.txt: exists', '  • ', 80)).toBe('  • a.txt: exists');
  });
});
