// The class roll-up as one self-contained HTML page: the students × steps matrix, then the steps ranked
// by how many students are stuck on them, and the files that could not be read.
import type { ClassRollUp } from './class.js';
import { count, duration, when } from './format.js';
import { esc, icon, page, STATUS_ICONS, STATUS_LABELS } from './page.js';

export interface ClassPageOptions {
  /** Files that were given but are not reports this ocilab reads, and why. */
  unread: readonly { file: string; reason: string }[];
  generatedAt: string;
  ocilab: string;
}

export function classHtml(roll: ClassRollUp, options: ClassPageOptions): string {
  const body = `<div class="wrap">
<header class="page-head">
  <p class="eyebrow">ocilab class roll-up</p>
  <h1>${esc(count(roll.students.length, 'student'))} <span class="quiet">×</span> ${esc(count(roll.steps.length, 'task step'))}</h1>
  <dl class="meta">
    <div><dt>Generated</dt><dd><time datetime="${esc(options.generatedAt)}">${esc(when(options.generatedAt))}</time></dd></div>
    <div><dt>Reports read</dt><dd>${roll.students.length}</dd></div>
    ${options.unread.length > 0 ? `<div><dt>Files skipped</dt><dd>${options.unread.length}</dd></div>` : ''}
    <div><dt>ocilab</dt><dd>${esc(options.ocilab)}</dd></div>
  </dl>
</header>
<main>
${options.unread.length > 0 ? unreadBox(options.unread) : ''}
<div class="matrix-wrap">${matrix(roll)}</div>
<ul class="legend" aria-label="What the marks mean" style="margin-top:14px">${(['passed', 'failed', 'skipped', 'pending'] as const)
    .map(
      (s) =>
        `<li data-status="${s}"><span class="swatch">${icon(STATUS_ICONS[s])}</span>${s === 'passed' ? 'Done' : STATUS_LABELS[s]}</li>`,
    )
    .join('')}</ul>
<h2 class="section-title">Where students are stuck</h2>
${ranking(roll)}
</main>
<footer class="foot">Made with <code>ocilab class</code> from the students' <code>ocilab report --json</code> files. Columns are the labs' task steps, those where most students failed or have not arrived yet first, then those that took longest; reading steps are left out.</footer>
</div>`;
  return page({
    title: `ocilab class: ${count(roll.students.length, 'student')}`,
    generator: `ocilab ${options.ocilab}`,
    body,
    landscape: true,
  });
}

function matrix(roll: ClassRollUp): string {
  const head = roll.steps
    .map(
      (step, i) =>
        `<th scope="col" class="step-col" data-step="${esc(`${step.lab}/${step.id}`)}"><div class="vertical"><span class="lab-id">${i + 1} · ${esc(step.lab)} ·</span> ${esc(step.title)}</div></th>`,
    )
    .join('');
  const rows = roll.students.map((student) => {
    const cells = student.cells
      .map((status, i) => {
        const step = roll.steps[i];
        const label = `${step?.title ?? ''}: ${STATUS_LABELS[status]}`;
        return `<td class="cell" data-status="${status}" data-step="${esc(`${step?.lab}/${step?.id}`)}" title="${esc(label)}"><span>${icon(STATUS_ICONS[status])}<span class="sr-only">${esc(STATUS_LABELS[status])}</span></span></td>`;
      })
      .join('');
    return `<tr data-student="${esc(student.name)}"><th scope="row">${esc(student.name)}</th>${cells}<td class="num">${student.done} / ${roll.steps.length}</td><td class="num">${esc(duration(student.seconds))}</td></tr>`;
  });
  const stuck = roll.steps.map((step) => `<td>${step.stuck > 0 ? step.stuck : ''}</td>`).join('');
  return `<table class="matrix">
<caption class="sr-only">Each student's status in each task step</caption>
<thead><tr><th scope="col" style="text-align:left">Student</th>${head}<th scope="col">Done</th><th scope="col">Time</th></tr></thead>
<tbody>
${rows.join('\n')}
<tr class="stuck-row"><th scope="row" style="font-weight:500;color:inherit">stuck</th>${stuck}<td></td><td></td></tr>
</tbody>
</table>`;
}

function ranking(roll: ClassRollUp): string {
  const total = Math.max(1, roll.students.length);
  const items = roll.steps.map((step, i) => {
    const stuck = (100 * step.stuck) / total;
    const skipped = (100 * step.skipped) / total;
    const words = [`${step.stuck} of ${roll.students.length} stuck`, ...(step.skipped > 0 ? [`${step.skipped} skipped`] : [])].join(', ');
    const time = step.medianSeconds > 0 ? `median ${duration(step.medianSeconds)}` : 'no time spent yet';
    return `<li data-step="${esc(`${step.lab}/${step.id}`)}">
  <span class="rank">${i + 1}</span>
  <span class="what"><strong>${esc(step.title)}</strong><small>Lab ${step.labNumber} · ${esc(step.labTitle)} · step ${step.number}</small></span>
  <span class="bar" role="img" aria-label="${esc(words)}"><span class="stuck" style="width:${stuck.toFixed(1)}%"></span><span class="skipped" style="width:${skipped.toFixed(1)}%"></span></span>
  <span class="num"><span><strong>${step.stuck}</strong> of ${roll.students.length} stuck${step.skipped > 0 ? `, ${step.skipped} skipped` : ''}</span><span>${esc(time)}</span></span>
</li>`;
  });
  return `<ol class="hot">${items.join('\n')}</ol>`;
}

function unreadBox(unread: ClassPageOptions['unread']): string {
  return `<section class="problems" aria-labelledby="unread-title">
<h2 id="unread-title">${esc(count(unread.length, 'file'))} could not be read</h2>
<ul>${unread.map(({ file, reason }) => `<li><code>${esc(file)}</code>: ${esc(reason)}</li>`).join('')}</ul>
</section>`;
}
