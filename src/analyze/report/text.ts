import type { AnalyzeSummary } from '../analyze.js';
import type { AnalyzeReport } from '../types.js';
import { flaggedModule, frameSource, frameText, summaryRows } from './shared.js';

export interface TextOptions {
  color: boolean;
}

/** For a terminal: warnings first, the summary, the backtrace, then the log tail and modules. */
export function renderText(r: AnalyzeReport, opts: TextOptions = { color: false }): string {
  const paint = (code: string, s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const out: string[] = [];
  for (const w of r.warnings) out.push(paint('33;1', `warning: ${w}`));
  if (r.warnings.length) out.push('');
  out.push(paint('1', r.crash ? `kdump-layer analyze: ${r.input.name}` : `kdump-layer analyze --info: ${r.input.name}`));
  const rows = summaryRows(r);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out.push(`  ${paint('2', k.padEnd(w))}  ${v}`);
  if (!r.crash) {
    const os = Object.entries(r.image.osRelease);
    if (os.length) {
      out.push('', paint('1', 'os-release'));
      for (const [k, v] of os) out.push(`  ${k}=${v}`);
    }
    const meta = Object.entries(r.input.metadata);
    if (meta.length) {
      out.push('', paint('1', 'archive metadata'));
      for (const [k, v] of meta) out.push(`  ${k}=${v}`);
    }
    return `${out.join('\n')}\n`;
  }
  const c = r.crash;
  out.push('', paint('1', 'backtrace'));
  for (const f of c.backtrace) {
    const src = frameSource(f);
    out.push(`  ${f.exception ? ' ->' : `#${String(f.level).padStart(2)}`} ${frameText(f)}${src ? `  ${paint('2', src)}` : ''}`);
  }
  out.push('', paint('1', `kernel log (last ${c.log.length} lines)`));
  for (const l of c.log) out.push(`  ${l}`);
  const flagged = c.modules.filter((m) => m.outOfTree || m.unsigned || m.proprietary);
  out.push('', paint('1', `modules (${c.modules.length} loaded${flagged.length ? `, ${flagged.length} flagged` : ''})`));
  for (const m of c.modules) {
    const f = flaggedModule(m);
    out.push(`  ${m.name.padEnd(24)} ${String(m.size ?? '').padStart(8)}  ${f ? paint('33', f) : ''}`.trimEnd());
  }
  if (c.memory) {
    out.push('', paint('1', 'memory'));
    for (const [k, v] of Object.entries(c.memory)) out.push(`  ${k.padEnd(14)} ${v}`);
  }
  if (c.tasks) out.push('', `${paint('1', 'tasks')}: ${c.tasks.length} (${c.tasks.map((t) => `${t.pid}:${t.command}`).slice(0, 12).join(' ')}${c.tasks.length > 12 ? ' …' : ''})`);
  out.push('', paint('2', `read by crash${c.crashVersion ? ` ${c.crashVersion}` : ''} (sys, bt -l, log, mod, kmem -i, the task list)`));
  return `${out.join('\n')}\n`;
}

/** One table for many dumps: a row per signature, then the dumps that could not be analyzed. */
export function renderSummaryText(s: AnalyzeSummary): string {
  const out: string[] = [`kdump-layer analyze: ${s.reports.length + s.unanalyzed.length} dump(s) in ${s.directory}: ${s.groups.length} signature(s), ${s.unanalyzed.length} not analyzed`, ''];
  if (s.groups.length) {
    const rows = [['SIGNATURE', 'COUNT', 'FIRST', 'LAST', 'RELEASES', 'HOSTS', 'EXAMPLE', 'KIND / FRAMES']];
    for (const g of s.groups) {
      rows.push([g.signature, String(g.count), g.firstCrash ?? '-', g.lastCrash ?? '-', g.releases.join(',') || '-', g.hosts.join(',') || '-', g.example, `${g.kind}: ${g.frames.join(' < ')}`]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) out.push(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
  }
  if (s.unanalyzed.length) {
    out.push('', 'not analyzed:');
    for (const u of s.unanalyzed) out.push(`  ${u.source}: ${u.reason}`);
  }
  return `${out.join('\n')}\n`;
}
