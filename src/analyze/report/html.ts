import type { AnalyzeSummary } from '../analyze.js';
import type { AnalyzeReport } from '../types.js';
import { flaggedModule, frameSource, frameText, summaryRows } from './shared.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Inline styles only: the page is one file a person can open offline and forward. */
const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:.2em .8em .2em 0;text-align:left;vertical-align:top}
th{color:#555;font-weight:600}pre,code{font:13px/1.4 ui-monospace,monospace}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto}.warn{background:#fff4d6;border-left:4px solid #e0a800;padding:.5em .8em;margin:.4em 0}
.bt td{font-family:ui-monospace,monospace;padding-right:1.5em}.bt .exc{color:#b00;font-weight:600}.src{color:#666}.flag{color:#b00}`;

function page(title: string, body: string[]): string {
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${esc(title)}</title>\n<style>\n${STYLE}\n</style>\n</head>\n<body>\n${body.join('\n')}\n</body>\n</html>\n`;
}

/** One self-contained page: warnings and summary first, the backtrace, then log, modules, memory. */
export function renderHtml(r: AnalyzeReport): string {
  const b: string[] = [`<h1>Kernel crash: ${esc(r.crash?.panic ?? r.input.name)}</h1>`];
  for (const w of r.warnings) b.push(`<div class="warn"><strong>Warning:</strong> ${esc(w)}</div>`);
  b.push('<table class="summary">');
  for (const [k, v] of summaryRows(r)) b.push(`<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`);
  b.push('</table>');
  const c = r.crash;
  if (c) {
    b.push('<h2>Backtrace</h2>', '<table class="bt">');
    for (const f of c.backtrace) {
      b.push(`<tr${f.exception ? ' class="exc"' : ''}><td>${f.exception ? '&rarr;' : `#${f.level}`}</td><td>${esc(frameText(f))}</td><td class="src">${esc(frameSource(f))}</td></tr>`);
    }
    b.push('</table>');
    b.push(`<h2>Kernel log (last ${c.log.length} lines)</h2>`, `<pre>${esc(c.log.join('\n'))}</pre>`);
    b.push(`<h2>Modules (${c.modules.length})</h2>`, '<table><tr><th>module</th><th>size</th><th>flags</th></tr>');
    for (const m of c.modules) b.push(`<tr><td>${esc(m.name)}</td><td>${m.size ?? ''}</td><td class="flag">${esc(flaggedModule(m))}</td></tr>`);
    b.push('</table>');
    if (c.memory) {
      b.push('<h2>Memory</h2>', '<table>');
      for (const [k, v] of Object.entries(c.memory)) b.push(`<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`);
      b.push('</table>');
    }
  } else {
    const os = Object.entries(r.image.osRelease);
    if (os.length) b.push('<h2>os-release</h2>', `<pre>${esc(os.map(([k, v]) => `${k}=${v}`).join('\n'))}</pre>`);
    const meta = Object.entries(r.input.metadata);
    if (meta.length) b.push('<h2>Archive metadata</h2>', `<pre>${esc(meta.map(([k, v]) => `${k}=${v}`).join('\n'))}</pre>`);
  }
  b.push(`<p class="src">kdump-layer analyze${c?.crashVersion ? `, crash ${esc(c.crashVersion)}` : ''}</p>`);
  return page(`Kernel crash: ${r.crash?.panic ?? r.input.name}`, b);
}

export function renderSummaryHtml(s: AnalyzeSummary): string {
  const b = [`<h1>Crash dumps in ${esc(s.directory)}</h1>`, `<p>${s.reports.length} analyzed, ${s.groups.length} signature(s), ${s.unanalyzed.length} not analyzed.</p>`];
  b.push('<table><tr><th>signature</th><th>count</th><th>first</th><th>last</th><th>releases</th><th>hosts</th><th>example</th><th>kind / frames</th></tr>');
  for (const g of s.groups) {
    b.push(`<tr><td><code>${esc(g.signature)}</code></td><td>${g.count}</td><td>${esc(g.firstCrash ?? '')}</td><td>${esc(g.lastCrash ?? '')}</td><td>${esc(g.releases.join(', '))}</td><td>${esc(g.hosts.join(', '))}</td><td>${esc(g.example)}</td><td>${esc(`${g.kind}: ${g.frames.join(' < ')}`)}</td></tr>`);
  }
  b.push('</table>');
  if (s.unanalyzed.length) {
    b.push('<h2>Not analyzed</h2>', '<ul>');
    for (const u of s.unanalyzed) b.push(`<li>${esc(u.source)}: ${esc(u.reason)}</li>`);
    b.push('</ul>');
  }
  return page(`Crash dumps in ${s.directory}`, b);
}
