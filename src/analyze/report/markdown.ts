import type { AnalyzeSummary } from '../analyze.js';
import type { AnalyzeReport } from '../types.js';
import { flaggedModule, frameSource, frameText, summaryRows } from './shared.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const fence = (lines: string[]) => {
  const body = lines.join('\n');
  const ticks = body.includes('```') ? '````' : '```';
  return [ticks, body, ticks];
};

/** For pasting into a bug: summary table, backtrace and log in code blocks, modules table. */
export function renderMarkdown(r: AnalyzeReport): string {
  const out: string[] = [`## Kernel crash: ${r.crash?.panic ?? r.input.name}`, ''];
  for (const w of r.warnings) out.push(`> **Warning:** ${w}`, '');
  out.push('| | |', '|---|---|');
  for (const [k, v] of summaryRows(r)) out.push(`| ${cell(k)} | ${cell(v)} |`);
  out.push('');
  const c = r.crash;
  if (!c) return `${out.join('\n')}\n`;
  out.push('### Backtrace', '', ...fence(c.backtrace.map((f) => `${f.exception ? ' ->' : `#${String(f.level).padStart(2)}`} ${frameText(f)}${frameSource(f) ? `  ${frameSource(f)}` : ''}`)), '');
  out.push(`### Kernel log (last ${c.log.length} lines)`, '', ...fence(c.log), '');
  out.push('### Modules', '', '| module | size | flags |', '|---|---:|---|');
  for (const m of c.modules) out.push(`| ${cell(m.name)} | ${m.size ?? ''} | ${flaggedModule(m) ? `**${flaggedModule(m)}**` : ''} |`);
  out.push('');
  if (c.memory) {
    out.push('### Memory', '', '| | |', '|---|---|');
    for (const [k, v] of Object.entries(c.memory)) out.push(`| ${cell(k)} | ${cell(v)} |`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

export function renderSummaryMarkdown(s: AnalyzeSummary): string {
  const out = [`## Crash dumps in ${s.directory}`, '', `${s.reports.length} analyzed, ${s.groups.length} signature(s), ${s.unanalyzed.length} not analyzed.`, ''];
  out.push('| signature | count | first | last | releases | hosts | example | kind / frames |', '|---|---:|---|---|---|---|---|---|');
  for (const g of s.groups) {
    out.push(`| \`${g.signature}\` | ${g.count} | ${g.firstCrash ?? ''} | ${g.lastCrash ?? ''} | ${cell(g.releases.join(', '))} | ${cell(g.hosts.join(', '))} | ${cell(g.example)} | ${cell(`${g.kind}: ${g.frames.join(' < ')}`)} |`);
  }
  if (s.unanalyzed.length) {
    out.push('', '### Not analyzed', '');
    for (const u of s.unanalyzed) out.push(`- ${cell(u.source)}: ${cell(u.reason)}`);
  }
  return `${out.join('\n')}\n`;
}
