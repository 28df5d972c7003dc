// What the HTML report and the class page share: escaping, the page around them, the style sheet and
// the status icons. Everything is inline and the page's policy forbids fetching anything, so a file
// mailed to an instructor or opened offline looks the same.
import { visibleControls } from './format.js';
import type { ReportStepStatus } from './model.js';

/** Escapes text for HTML content and double-quoted attribute values. */
export function esc(value: string | number): string {
  return visibleControls(String(value)).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

const ICON_PATHS: Record<'check' | 'cross' | 'skip' | 'dot' | 'bang' | 'hint' | 'clock' | 'retry', string> = {
  check: '<path d="M4 8.5l2.5 2.5L12 5.5"/>',
  cross: '<path d="M5 5l6 6M11 5l-6 6"/>',
  skip: '<path d="M4 10.5c0-3 2-5 5-5h3M9.5 3l2.5 2.5L9.5 8"/>',
  dot: '<circle cx="8" cy="8" r="1.6" fill="currentColor" stroke="none"/>',
  bang: '<path d="M8 4v5"/><circle cx="8" cy="11.8" r=".9" fill="currentColor" stroke="none"/>',
  hint: '<path d="M6 13h4M6.5 11h3c0-1.5 2.5-2.5 2.5-5a4 4 0 0 0-8 0c0 2.5 2.5 3.5 2.5 5z"/>',
  clock: '<circle cx="8" cy="8" r="5.5"/><path d="M8 5v3.2l2 1.3"/>',
  retry: '<path d="M12.5 8A4.5 4.5 0 1 1 11 4.6M12.5 2.5v2.8H9.7"/>',
};

export type IconName = keyof typeof ICON_PATHS;

/** A decorative icon: screen readers get the words beside it instead. */
export function icon(name: IconName, className = 'icon'): string {
  return `<svg class="${className}" viewBox="0 0 16 16" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${ICON_PATHS[name]}</svg>`;
}

export const STATUS_ICONS: Record<ReportStepStatus, IconName> = {
  passed: 'check',
  read: 'check',
  skipped: 'skip',
  failed: 'cross',
  error: 'bang',
  started: 'dot',
  pending: 'dot',
};

/** Capitalised status names for labels and badges. */
export const STATUS_LABELS: Record<ReportStepStatus, string> = {
  passed: 'Passed',
  read: 'Read',
  skipped: 'Skipped',
  failed: 'Failed',
  error: 'Could not check',
  started: 'Started',
  pending: 'Not reached',
};

export function page(options: { title: string; generator: string; body: string; landscape?: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="${esc(options.generator)}">
<meta name="color-scheme" content="light dark">
<title>${esc(options.title)}</title>
<style>${STYLE}${options.landscape ? '@page{size:landscape}' : ''}</style>
</head>
<body>
${options.body}
</body>
</html>
`;
}

// Colours are chosen for WCAG AA contrast of text on its own background, in light and dark schemes;
// every status also has an icon and a word, so nothing depends on colour alone (or on a colour printer).
const STYLE = `
:root{
  --bg:#f6f7f9;--surface:#fff;--ink:#1b1f24;--muted:#57606a;--faint:#8c959f;--line:#d8dee4;--rail:#d0d7de;
  --accent:#3b4cca;
  --passed:#1a7f37;--passed-bg:#dcf5e3;--read:#0b64c7;--read-bg:#e1effd;--failed:#c21f2c;--failed-bg:#ffe8e8;
  --error:#a64a00;--error-bg:#fff0df;--skipped:#8a6100;--skipped-bg:#fcf3cf;--started:#7140c7;--started-bg:#f2eafe;
  --pending:#57606a;--pending-bg:#eef1f4;
  --mono:ui-monospace,SFMono-Regular,"DejaVu Sans Mono",Menlo,Consolas,monospace;
  --radius:10px;--shadow:0 1px 2px rgba(27,31,36,.06),0 4px 14px rgba(27,31,36,.05);
}
@media (prefers-color-scheme:dark){:root{
  --bg:#0f1216;--surface:#171b21;--ink:#e6edf3;--muted:#9aa5b1;--faint:#6e7781;--line:#2d333b;--rail:#373e47;
  --accent:#8c9bff;
  --passed:#56d364;--passed-bg:#12301b;--read:#6cb6ff;--read-bg:#112840;--failed:#ff7b72;--failed-bg:#3a1618;
  --error:#f0883e;--error-bg:#3a2412;--skipped:#e3b341;--skipped-bg:#362a0b;--started:#c297ff;--started-bg:#2b1d45;
  --pending:#9aa5b1;--pending-bg:#22272e;--shadow:none;
}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
.wrap{max-width:980px;margin:0 auto;padding:40px 24px 56px}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
a{color:var(--accent)}
a:focus-visible{outline:3px solid var(--accent);outline-offset:2px;border-radius:4px}
h1,h2,h3{line-height:1.25;margin:0}
code{font-family:var(--mono);font-size:.88em}
.icon{width:1em;height:1em;flex:none;vertical-align:-.125em}
.eyebrow{margin:0 0 6px;color:var(--muted);font-size:12px;font-weight:650;letter-spacing:.08em;text-transform:uppercase}
.page-head h1{font-size:30px;font-weight:750;letter-spacing:-.01em}
.page-head h1 .quiet{color:var(--muted);font-weight:400}
.meta{display:flex;flex-wrap:wrap;gap:6px 28px;margin:14px 0 0;padding:0;color:var(--muted);font-size:13px}
.meta div{display:flex;gap:6px}.meta dt{font-weight:600}.meta dd{margin:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:16px;margin:28px 0 8px;padding:0;list-style:none}
.card{background:var(--surface);border:1px solid var(--line);border-radius:var(--radius);padding:16px 18px;box-shadow:var(--shadow);color:inherit;text-decoration:none}
.card-top{display:flex;justify-content:space-between;align-items:flex-start;gap:12px}
.card-title{margin:0;font-size:16px;line-height:1.3}
.card-title a{color:inherit;text-decoration:none}.card-title a:hover{text-decoration:underline}
.card .num{display:block;color:var(--muted);font-size:12px;font-weight:600;margin-bottom:3px}
.stats{display:grid;grid-template-columns:1fr 1.35fr 1fr;gap:8px;margin:14px 0 0;padding:0}
.stats div{min-width:0}.stats dt{color:var(--muted);font-size:12px}.stats dd{margin:0;font-size:17px;font-weight:650;font-variant-numeric:tabular-nums}
.stats dd small{color:var(--muted);font-size:12px;font-weight:500}
.stats dd .expected{display:block;margin-top:-2px}
.badge{display:inline-flex;align-items:center;gap:5px;padding:2px 10px;border-radius:999px;font-size:12px;font-weight:650;white-space:nowrap;color:var(--c);background:var(--c-bg)}
.segments{display:flex;gap:3px;margin-top:14px;height:8px}
.segments span{flex:1;border-radius:3px;background:var(--c)}
.segments span[data-status=pending],.segments span[data-status=started]{background:var(--rail)}
[data-status=passed]{--c:var(--passed);--c-bg:var(--passed-bg)}
[data-status=read]{--c:var(--read);--c-bg:var(--read-bg)}
[data-status=failed]{--c:var(--failed);--c-bg:var(--failed-bg)}
[data-status=error]{--c:var(--error);--c-bg:var(--error-bg)}
[data-status=skipped]{--c:var(--skipped);--c-bg:var(--skipped-bg)}
[data-status=started]{--c:var(--started);--c-bg:var(--started-bg)}
[data-status=pending]{--c:var(--pending);--c-bg:var(--pending-bg)}
[data-state=finished]{--c:var(--passed);--c-bg:var(--passed-bg)}
[data-state=failed]{--c:var(--failed);--c-bg:var(--failed-bg)}
[data-state=in-progress]{--c:var(--read);--c-bg:var(--read-bg)}
[data-state=not-started]{--c:var(--pending);--c-bg:var(--pending-bg)}
.lab{margin-top:44px}
.lab-head{display:flex;flex-wrap:wrap;align-items:center;gap:8px 14px;padding-bottom:12px;border-bottom:1px solid var(--line)}
.lab-head h2{font-size:22px;font-weight:700;flex:1 1 auto}
.lab-head h2 .num{color:var(--muted);font-weight:500;margin-right:6px}
.lab-summary{margin:10px 0 0;color:var(--muted);max-width:70ch}
.timeline{list-style:none;margin:22px 0 0;padding:0;position:relative}
.step{position:relative;padding:0 0 14px 46px}
.step::before{content:"";position:absolute;left:15px;top:4px;bottom:-4px;width:2px;background:var(--rail)}
.step:last-child::before{display:none}
.step.done::before{background:var(--passed)}
.node{position:absolute;left:2px;top:0;width:28px;height:28px;border-radius:50%;display:grid;place-items:center;background:var(--c-bg);color:var(--c);border:2px solid var(--c);font-size:16px}
.node .icon{stroke-width:2.4}
.step[data-status=pending] .node,.step[data-status=started] .node{background:var(--surface);border-style:dashed}
.step.reading{padding-bottom:8px}
.step.reading .node{left:10px;top:6px;width:12px;height:12px;border-width:0;background:var(--c)}
.step.reading[data-status=pending] .node{background:var(--surface);border:2px solid var(--rail)}
.step.reading .node .icon{display:none}
.reading-line{display:flex;gap:10px;align-items:baseline;color:var(--muted);font-size:14px;min-height:24px}
.reading-line .title{color:var(--ink)}
.step.reading[data-status=pending] .title{color:var(--muted)}
.step-card{background:var(--surface);border:1px solid var(--line);border-radius:var(--radius);padding:12px 16px 14px;box-shadow:var(--shadow)}
.step[data-status=failed] .step-card,.step[data-status=error] .step-card{border-color:var(--c);box-shadow:0 0 0 3px var(--c-bg)}
.step[data-status=pending] .step-card{background:transparent;box-shadow:none;border-style:dashed}
.step-head{display:flex;flex-wrap:wrap;align-items:center;gap:6px 12px}
.step-head h3{font-size:16px;font-weight:650;flex:1 1 16em}
.step-head h3 .n{color:var(--muted);font-weight:500;font-variant-numeric:tabular-nums;margin-right:4px}
.facts{display:flex;flex-wrap:wrap;gap:4px 16px;margin:8px 0 0;padding:0;list-style:none;color:var(--muted);font-size:13px}
.facts li{display:inline-flex;align-items:center;gap:5px}
.facts strong{color:var(--ink);font-weight:600;font-variant-numeric:tabular-nums}
.spent{display:inline-flex;align-items:center;gap:6px;color:var(--muted);font-size:13px;font-variant-numeric:tabular-nums}
.spent strong{color:var(--ink);font-weight:600}
.spent small{font-size:12px;min-width:2.6em}
.spent .bar{width:88px;height:6px;border-radius:3px;background:var(--pending-bg);overflow:hidden;margin-right:4px}
.spent .bar span{display:block;height:100%;min-width:2px;border-radius:3px;background:var(--c)}
.checks{list-style:none;margin:12px 0 0;padding:10px 0 0;border-top:1px solid var(--line);display:grid;gap:6px}
.check{display:grid;grid-template-columns:18px 1fr;gap:2px 8px;font-size:13.5px;align-items:start}
.check>.icon{margin-top:3px;color:var(--c)}
.check[data-status=not-run]{color:var(--muted)}
.check[data-status=not-run]>.icon{color:var(--faint)}
.check-label{min-width:0;overflow-wrap:anywhere}
.diff{grid-column:2;margin:4px 0 2px;display:grid;grid-template-columns:auto 1fr;gap:4px 12px;padding:10px 12px;background:var(--c-bg);border-radius:8px;font-size:12.5px}
.diff dt{color:var(--muted);font-weight:600}
.diff dd{margin:0;font-family:var(--mono);white-space:pre-wrap;overflow-wrap:anywhere;color:var(--ink)}
.note{grid-column:2;margin:0 0 2px;color:var(--c);font-size:13px}
.check[data-status=passed]{--c:var(--passed)}.check[data-status=failed]{--c:var(--failed);--c-bg:var(--failed-bg)}
.check[data-status=error]{--c:var(--error);--c-bg:var(--error-bg)}
.legend{display:flex;flex-wrap:wrap;gap:8px 18px;margin:18px 0 0;padding:0;list-style:none;font-size:13px;color:var(--muted)}
.legend li{display:inline-flex;align-items:center;gap:6px}
.legend .swatch{display:inline-grid;place-items:center;width:20px;height:20px;border-radius:6px;background:var(--c-bg);color:var(--c)}
.foot{margin-top:48px;padding-top:16px;border-top:1px solid var(--line);color:var(--muted);font-size:12.5px}
.matrix-wrap{overflow-x:auto;margin-top:24px;background:var(--surface);border:1px solid var(--line);border-radius:var(--radius);box-shadow:var(--shadow)}
table.matrix{border-collapse:collapse;width:100%;font-size:14px}
.matrix th,.matrix td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:center}
.matrix tbody tr:last-child>*{border-bottom:0}
.matrix thead th{vertical-align:bottom;font-weight:600;color:var(--muted);font-size:12.5px}
.matrix thead th.step-col{padding:10px 2px 8px}
.matrix .vertical{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;max-height:24em;overflow:hidden;text-overflow:ellipsis;margin:0 auto;text-align:left}
.matrix .vertical .lab-id{color:var(--faint);font-weight:500}
.matrix th[scope=row]{text-align:left;font-weight:600;white-space:nowrap;color:var(--ink)}
.matrix td.cell{padding:5px 3px}
.cell span{display:inline-grid;place-items:center;width:28px;height:28px;border-radius:7px;background:var(--c-bg);color:var(--c);font-size:15px}
.cell[data-status=pending] span,.cell[data-status=started] span{background:transparent;border:1.5px dashed var(--rail)}
.matrix td.num{font-variant-numeric:tabular-nums;color:var(--muted);white-space:nowrap}
.matrix .stuck-row td{font-size:12px;color:var(--muted);font-variant-numeric:tabular-nums}
.hot{list-style:none;margin:16px 0 0;padding:0;display:grid;gap:10px}
.hot li{display:grid;grid-template-columns:2.2em minmax(0,1fr) minmax(120px,240px) 10.5em;gap:12px;align-items:center;background:var(--surface);border:1px solid var(--line);border-radius:var(--radius);padding:10px 14px}
.hot .rank{color:var(--muted);font-weight:650;font-variant-numeric:tabular-nums}
.hot .what{min-width:0}.hot .what small{display:block;color:var(--muted)}
.hot .bar{height:8px;border-radius:4px;background:var(--pending-bg);overflow:hidden;display:flex}
.hot .bar span{display:block;height:100%}
.hot .bar .stuck{background:var(--failed)}.hot .bar .skipped{background:var(--skipped)}
.hot .num{text-align:right;color:var(--muted);font-size:13px;font-variant-numeric:tabular-nums}
.hot .num span{display:block;white-space:nowrap}.hot .num strong{color:var(--ink);font-weight:600}
.section-title{margin-top:40px;font-size:20px;font-weight:700}
.problems{margin-top:24px;padding:12px 16px;border:1px solid var(--error);border-radius:var(--radius);background:var(--error-bg)}
.problems h2{font-size:15px}.problems ul{margin:6px 0 0;padding-left:20px;font-size:13.5px}
@media (max-width:600px){.wrap{padding:24px 14px 40px}.stats{grid-template-columns:repeat(2,1fr)}.hot li{grid-template-columns:2em 1fr 9em}.hot .bar{display:none}}
@media print{
  @page{margin:14mm}
  :root{--bg:#fff;--surface:#fff;--shadow:none}
  body{font-size:12px}
  .wrap{max-width:none;padding:0}
  a{color:inherit;text-decoration:none}
  .card,.step-card,.hot li,.matrix-wrap{box-shadow:none}
  .step,.card,.hot li{break-inside:avoid}
  .lab-head{break-after:avoid}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
`;
