// The HTML pages as text: self-contained, escaped, and carrying each step's status in words and in
// data attributes. How they look is checked in a real browser by the end-to-end tests.
import { describe, expect, it } from 'vitest';
import { classHtml } from '../../src/report/class-html.js';
import { rollUp } from '../../src/report/class.js';
import { reportHtml } from '../../src/report/html.js';
import { demoProgress, demoReport } from './fixtures.js';

/** Anything that would make a browser fetch something. */
const FETCHES = [
  /<script/i,
  /<link/i,
  /<img/i,
  /<iframe/i,
  /@import/i,
  /url\(/i,
  /\b(src|srcset|action|poster)=/i,
  /https?:\/\//i,
  /\/\/[a-z]/i,
];

function expectSelfContained(html: string): void {
  for (const pattern of FETCHES) expect(html, String(pattern)).not.toMatch(pattern);
  expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
  expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
  // Icons are decoration: the status is always in words too.
  for (const svg of html.match(/<svg[^>]*>/g) ?? []) expect(svg).toContain('aria-hidden="true"');
}

describe('reportHtml', () => {
  const html = reportHtml(demoReport());

  it('is one page that fetches nothing', () => expectSelfContained(html));

  it('names the learner and host in the title and heading', () => {
    expect(html).toContain('<title>ocilab report: alice on ws-07</title>');
    expect(html).toMatch(/<h1>alice <span class="quiet">on<\/span> ws-07<\/h1>/);
  });

  it('shows every step in lab order with its status as a data attribute and a word', () => {
    const steps = [...html.matchAll(/<li class="step (\w+)[^"]*" data-step="([^"]+)" data-status="(\w+)">/g)].map((m) => m.slice(1));
    expect(steps).toEqual([
      ['reading', 'read-this-first', 'read'],
      ['task', 'say-hello', 'passed'],
      ['task', 'write-the-greeting', 'failed'],
      ['task', 'sign-it', 'skipped'],
      ['task', 'send-it', 'pending'],
    ]);
    for (const word of ['Passed', 'Failed', 'Skipped', 'Not reached', 'Stuck at step 3']) expect(html).toContain(word);
  });

  it('shows attempts, hints opened, time spent and its share of the lab', () => {
    expect(html).toContain('<strong>2</strong> attempts');
    expect(html).toContain('<strong>2</strong> of 2 hints opened');
    expect(html).toContain('<strong>5m 00s</strong>');
    expect(html).toMatch(/<small>71%<span class="sr-only"> of the time in this lab<\/span><\/small>/);
  });

  it('shows what a failed check expected and got, escaped, with control characters written out', () => {
    expect(html).toContain('<dt>expected</dt><dd>hello class</dd><dt>actual</dt><dd>hello\\x1b[0m &lt;world&gt;\nsecond line</dd>');
    expect(html).toContain('The check could not run: EACCES &lt;denied&gt; &amp; &quot;quoted&quot;');
  });

  it('escapes whatever the learner or the lab put in names and titles', () => {
    const report = demoReport();
    report.user = '<script>alert(1)</script>';
    const step = report.labs[0]?.steps[1];
    if (step) step.title = 'A & B <i>';
    const page = reportHtml(report);
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('A &amp; B &lt;i&gt;');
  });

  it('says that a step failed by a command when none of its checks did', () => {
    const progress = demoProgress();
    const step = progress.steps['say-hello'];
    if (step) step.status = 'failed';
    expect(reportHtml(demoReport(progress))).toContain('A command of this step failed, though its checks passed.');
  });
});

describe('classHtml', () => {
  const roll = rollUp([{ file: 'alice.json', report: demoReport() }]);
  const html = classHtml(roll, {
    unread: [{ file: 'bad<1>.json', reason: 'not valid JSON' }],
    generatedAt: '2025-03-14T10:00:00.000Z',
    ocilab: '0.1.0',
  });

  it('is one page that fetches nothing', () => expectSelfContained(html));

  it('has a row per student with a cell per step, its status as a data attribute and a word', () => {
    const cells = [...html.matchAll(/<td class="cell" data-status="(\w+)" data-step="([^"]+)"/g)].map((m) => [m[2], m[1]]);
    expect(cells).toEqual(roll.steps.map((step, i) => [`${step.lab}/${step.id}`, roll.students[0]?.cells[i]]));
    expect(html).toContain('<tr data-student="alice@ws-07">');
    expect(html).toContain('<span class="sr-only">Failed</span>');
  });

  it('names the files it could not read, escaped', () => {
    expect(html).toContain('<code>bad&lt;1&gt;.json</code>: not valid JSON');
  });
});
