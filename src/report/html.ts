// The report as one self-contained HTML page for an instructor: a card per lab, then each lab's steps as
// a timeline with status, time spent, attempts, hints and, where a check failed, what it expected.
import { count, duration, when, whenNear } from './format.js';
import { failedByCommand, isDoneStatus, type CheckReport, type LabReport, type Report, type StepReport } from './model.js';
import { esc, icon, page, STATUS_ICONS, STATUS_LABELS } from './page.js';

export function reportHtml(report: Report): string {
  const who = `${report.user} on ${report.host}`;
  const { platform, release, arch } = report.machine;
  const body = `<div class="wrap">
<header class="page-head">
  <p class="eyebrow">ocilab progress report</p>
  <h1>${esc(report.user)} <span class="quiet">on</span> ${esc(report.host)}</h1>
  <dl class="meta">
    <div><dt>Generated</dt><dd><time datetime="${esc(report.generatedAt)}">${esc(when(report.generatedAt))}</time></dd></div>
    <div><dt>Machine</dt><dd>${esc(`${platform} ${release} ${arch}`)}</dd></div>
    <div><dt>ocilab</dt><dd>${esc(report.ocilab)}</dd></div>
  </dl>
</header>
<main>
<nav aria-label="Labs">
<ul class="cards">
${report.labs.map(labCard).join('\n')}
</ul>
</nav>
${legend()}
${report.labs.map(labSection).join('\n')}
</main>
<footer class="foot">Made with <code>ocilab report --html</code>. Time is the time spent in a step, summed over its attempts; checks show how they went the last time they ran.</footer>
</div>`;
  return page({ title: `ocilab report: ${who}`, generator: `ocilab ${report.ocilab}`, body });
}

function labCard(lab: LabReport): string {
  const tasks = lab.steps.filter((s) => s.kind === 'task');
  const passed = tasks.filter((s) => s.status === 'passed').length;
  const hints = lab.steps.reduce((sum, s) => sum + s.hints, 0);
  const segments = tasks.map((s) => `<span data-status="${s.status}"></span>`).join('');
  return `<li class="card" data-lab="${esc(lab.id)}" data-state="${lab.state}">
  <div class="card-top">
    <p class="card-title"><span class="num">Lab ${lab.number} · ${esc(lab.id)}</span><a href="#lab-${esc(lab.id)}"><strong>${esc(lab.title)}</strong></a></p>
    ${stateBadge(lab)}
  </div>
  <div class="segments" role="img" aria-label="${esc(`Task steps: ${tallyWords(tasks)}`)}">${segments}</div>
  <dl class="stats">
    <div><dt>Tasks passed</dt><dd>${passed}<small> / ${tasks.length}</small></dd></div>
    <div><dt>Time spent</dt><dd>${esc(duration(lab.seconds))}${lab.duration ? `<small class="expected">about ${esc(lab.duration)} expected</small>` : ''}</dd></div>
    <div><dt>Hints opened</dt><dd>${hints}</dd></div>
  </dl>
</li>`;
}

function stateBadge(lab: LabReport): string {
  const current = lab.steps.find((s) => s.id === lab.current);
  const text =
    lab.state === 'finished'
      ? 'Finished'
      : lab.state === 'not-started'
        ? 'Not started'
        : lab.state === 'failed'
          ? `Stuck at step ${current?.number ?? '?'}`
          : `In progress, step ${current?.number ?? '?'} next`;
  const mark = lab.state === 'finished' ? icon('check') : lab.state === 'failed' ? icon('cross') : '';
  return `<span class="badge" data-state="${lab.state}">${mark}${esc(text)}</span>`;
}

/** "3 passed, 1 failed, 1 not reached" */
function tallyWords(steps: readonly StepReport[]): string {
  const tally = new Map<string, number>();
  for (const step of steps)
    tally.set(STATUS_LABELS[step.status].toLowerCase(), (tally.get(STATUS_LABELS[step.status].toLowerCase()) ?? 0) + 1);
  return [...tally].map(([word, n]) => `${n} ${word}`).join(', ') || 'none';
}

function legend(): string {
  const items = (['passed', 'read', 'failed', 'error', 'skipped', 'pending'] as const).map(
    (status) => `<li data-status="${status}"><span class="swatch">${icon(STATUS_ICONS[status])}</span>${STATUS_LABELS[status]}</li>`,
  );
  return `<ul class="legend" aria-label="What the marks mean">${items.join('')}</ul>`;
}

function labSection(lab: LabReport): string {
  const busiest = Math.max(1, ...lab.steps.map((s) => s.seconds));
  const steps = lab.steps.map((step) => (step.kind === 'task' ? taskStep(lab, step, busiest) : readingStep(step))).join('\n');
  return `<section class="lab" id="lab-${esc(lab.id)}" data-lab="${esc(lab.id)}" data-state="${lab.state}" aria-labelledby="lab-${esc(lab.id)}-title">
<div class="lab-head">
  <h2 id="lab-${esc(lab.id)}-title"><span class="num">${lab.number}</span>${esc(lab.title)}</h2>
  ${stateBadge(lab)}
</div>
<p class="lab-summary">${esc(lab.summary)}${lab.lastActivity ? ` Last activity <time datetime="${esc(lab.lastActivity)}">${esc(when(lab.lastActivity))}</time>.` : ''}</p>
<ol class="timeline" aria-label="${esc(`Steps of ${lab.title}`)}">
${steps}
</ol>
</section>`;
}

function stepClasses(step: StepReport): string {
  return `step ${step.kind}${isDoneStatus(step.status) ? ' done' : ''}`;
}

function readingStep(step: StepReport): string {
  const facts = [STATUS_LABELS[step.status], ...(step.seconds > 0 ? [duration(step.seconds)] : [])];
  return `<li class="${stepClasses(step)}" data-step="${esc(step.id)}" data-status="${step.status}">
  <span class="node">${icon(STATUS_ICONS[step.status])}</span>
  <div class="reading-line"><span class="title">${esc(step.title)}</span><span class="status">${esc(facts.join(' · '))}</span></div>
</li>`;
}

function taskStep(lab: LabReport, step: StepReport, busiest: number): string {
  const titleId = `step-${lab.id}-${step.id}`;
  const reached = step.status !== 'pending';
  const facts = [
    `<li>${icon('retry')}<strong>${step.attempts}</strong> ${step.attempts === 1 ? 'attempt' : 'attempts'}</li>`,
    ...(step.hintsAvailable > 0
      ? [`<li>${icon('hint')}<strong>${step.hints}</strong> of ${count(step.hintsAvailable, 'hint')} opened</li>`]
      : []),
    ...(step.way ? [`<li>with <strong>${esc(step.way)}</strong></li>`] : []),
    ...(step.at
      ? [
          `<li>at <time datetime="${esc(step.at)}" title="${esc(when(step.at))}">${esc(whenNear(step.at, lab.lastActivity ?? step.at))}</time></li>`,
        ]
      : []),
  ];
  const share = lab.seconds > 0 ? Math.round((100 * step.seconds) / lab.seconds) : 0;
  const spent = `<span class="spent"><span class="bar" aria-hidden="true"><span style="width:${((100 * step.seconds) / busiest).toFixed(1)}%"></span></span>${icon('clock')}<strong>${esc(duration(step.seconds))}</strong><span class="sr-only"> spent</span>${share > 0 ? `<small>${share}%<span class="sr-only"> of the time in this lab</span></small>` : ''}</span>`;
  return `<li class="${stepClasses(step)}" data-step="${esc(step.id)}" data-status="${step.status}">
  <span class="node">${icon(STATUS_ICONS[step.status])}</span>
  <article class="step-card" aria-labelledby="${esc(titleId)}">
    <div class="step-head">
      <h3 id="${esc(titleId)}"><span class="n">${step.number}</span> ${esc(step.title)}</h3>
      ${reached ? spent : ''}
      <span class="badge" data-status="${step.status}">${icon(STATUS_ICONS[step.status])}${esc(STATUS_LABELS[step.status])}</span>
    </div>
    ${reached ? `<ul class="facts">${facts.join('')}</ul>` : ''}
  ${checksList(step)}
  </article>
</li>`;
}

function checksList(step: StepReport): string {
  if (step.checks.length === 0 && !failedByCommand(step)) return '';
  if (step.status === 'pending') {
    return `<p class="facts">${esc(count(step.checks.length, 'check'))} waiting for the learner</p>`;
  }
  const items = step.checks.map(checkItem);
  if (failedByCommand(step)) {
    items.push(
      `<li class="check" data-status="failed">${icon('cross')}<span class="check-label">A command of this step failed${step.checks.length > 0 ? ', though its checks passed' : ''}.</span></li>`,
    );
  }
  return `<ul class="checks" aria-label="Checks">${items.join('')}</ul>`;
}

const CHECK_ICONS: Record<CheckReport['status'], Parameters<typeof icon>[0]> = {
  passed: 'check',
  failed: 'cross',
  error: 'bang',
  skipped: 'skip',
  'not-run': 'dot',
};
const CHECK_WORDS: Record<CheckReport['status'], string> = {
  passed: 'passed',
  failed: 'failed',
  error: 'could not run',
  skipped: 'skipped',
  'not-run': 'not run',
};

function checkItem(check: CheckReport): string {
  const detail =
    check.status === 'failed'
      ? `<dl class="diff"><dt>expected</dt><dd>${esc(check.expected ?? '')}</dd><dt>actual</dt><dd>${esc(check.actual ?? '')}</dd></dl>`
      : check.status === 'error' || check.status === 'skipped'
        ? `<p class="note">${esc(check.message ?? '')}</p>`
        : '';
  return `<li class="check" data-status="${check.status}" data-kind="${esc(check.kind)}">${icon(CHECK_ICONS[check.status])}<span class="check-label"><span class="sr-only">${CHECK_WORDS[check.status]}: </span>${withCode(check.label)}</span>${detail}</li>`;
}

/** Check labels quote commands in backticks, as Markdown does. */
function withCode(text: string): string {
  return text
    .split('`')
    .map((part, i) => (i % 2 === 1 ? `<code>${esc(part)}</code>` : esc(part)))
    .join('');
}
