import type { Finding } from '../kernel/check.js';
import { findingLocation, UNCHECKED_HOW, type ValidateReport } from './types.js';

export interface TextOptions {
  /** ANSI colour; the command turns it on only for a TTY without NO_COLOR. */
  color: boolean;
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;
const LABEL = { error: 'error', warning: 'warning', info: 'note' } as const;

/** A table a person reads: one row per finding, then what was asked, what is in effect, and the fix. */
export function renderText(report: ValidateReport, opts: TextOptions): string {
  const paint = (code: string, s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const sevColor = { error: '31;1', warning: '33', info: '36' } as const;
  const findings = [...report.findings].sort(compareFindings);
  const out: string[] = [];
  const t = report.target;
  out.push(paint('1', `kdump-layer validate: ${t.arch} Linux ${t.kernelVersion}${t.machine ? ` (machine ${t.machine})` : ''}, ${modeText(report)}`));
  out.push(`inputs: ${report.inputs.map((i) => `${i.file} (${i.kind})`).join(', ')}`);
  out.push('');
  if (findings.length > 0) {
    const rows = findings.map((f) => [LABEL[f.severity], findingLocation(f), f.class, f.symbol ? `CONFIG_${f.symbol}` : '-', f.message]);
    const head = ['SEVERITY', 'WHERE', 'CLASS', 'SYMBOL', 'WHY'];
    // A loop, not Math.max(...rows): a report can have more rows than a call can take arguments.
    const widths = head.map((h, i) => (i === head.length - 1 ? 0 : rows.reduce((w, r) => Math.max(w, r[i].length), h.length)));
    const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - s.length));
    const indent = ' '.repeat(widths[0] + 2);
    out.push(paint('1', head.map((h, i) => pad(h, widths[i])).join('  ').trimEnd()));
    findings.forEach((f, n) => {
      const r = rows[n];
      out.push([paint(sevColor[f.severity], pad(r[0], widths[0])), ...r.slice(1).map((c, i) => pad(c, widths[i + 1]))].join('  ').trimEnd());
      const detail = (label: string, value?: string) => {
        if (value) out.push(`${indent}${paint('2', label.padEnd(11))}${value}`);
      };
      detail('asked:', f.requested);
      detail('in effect:', f.effective);
      if (f.class === 'kdump') detail('expected:', f.expected);
      detail('fix:', f.fix);
      for (const d of f.details ?? []) out.push(`${indent}${paint('2', '│ ')}${d}`);
    });
    out.push('');
  }
  const s = report.summary;
  if (report.unchecked.length > 0) {
    out.push(paint('1', `CANNOT BE CHECKED without the kernel's Kconfig: ${s.lines.unchecked} of ${s.lines.asked} line(s)`));
    const shown = report.unchecked.slice(0, 20);
    for (const u of shown) out.push(`  ${u.file}:${u.line}  ${u.requested}`);
    if (report.unchecked.length > shown.length) out.push(`  … and ${report.unchecked.length - shown.length} more (--format json lists them all, with why)`);
    out.push(`  ${UNCHECKED_HOW}`);
    out.push('');
  }
  const verdict = s.verdict === 'pass' ? paint('32;1', 'PASS') : s.verdict === 'fail' ? paint('31;1', 'FAIL') : paint('33;1', 'NOT VERIFIED');
  out.push(`${verdict}: ${s.errors} error(s), ${s.warnings} warning(s), ${s.infos} note(s); ${s.checks - s.failedChecks}/${s.checks} checks passed; lines: ${s.lines.checked} checked, ${s.lines.unchecked} cannot be checked without the kernel's Kconfig${report.werror ? ' (--werror: warnings fail)' : ''}`);
  return `${out.join('\n')}\n`;
}

function modeText(r: ValidateReport): string {
  switch (r.mode) {
    case 'fragments':
      return 'fragments judged by the rule tables (give the final .config or --kernel-source to see what takes effect)';
    case 'config':
      return 'judged against the final .config';
    case 'kernel-source':
      return `resolved with the kernel's own Kconfig (${r.kernelSource?.path}, Linux ${r.kernelSource?.version})`;
  }
}

function compareFindings(a: Finding, b: Finding): number {
  const fa = a.file ?? '\uffff';
  const fb = b.file ?? '\uffff';
  if (fa !== fb) return fa < fb ? -1 : 1;
  const la = a.line ?? Number.MAX_SAFE_INTEGER;
  const lb = b.line ?? Number.MAX_SAFE_INTEGER;
  if (la !== lb) return la - lb;
  return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity];
}
