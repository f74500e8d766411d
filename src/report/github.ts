import type { Finding } from '../kernel/check.js';
import { findingLocation, UNCHECKED_HOW, type ValidateReport } from './types.js';

// Workflow command escaping: data escapes % CR LF; properties also escape : and ,.
const escData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escProp = (s: string) => escData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function annotation(f: Finding): string {
  const level = f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'notice';
  const props: string[] = [];
  if (f.file) props.push(`file=${escProp(f.file)}`);
  if (f.line) props.push(`line=${f.line}`);
  props.push(`title=${escProp(`kdump-layer ${f.class}${f.symbol ? ` CONFIG_${f.symbol}` : ''} (${f.check})`)}`);
  const body = [
    f.message,
    f.requested ? `asked: ${f.requested}` : '',
    f.effective ? `in effect: ${f.effective}` : '',
    f.expected && f.class === 'kdump' ? `expected: ${f.expected}` : '',
    `fix: ${f.fix}`,
    ...(f.details ?? []),
  ].filter(Boolean).join('\n');
  return `::${level} ${props.join(',')}::${escData(body)}`;
}

/** GitHub Actions workflow commands: one annotation per finding (file and line), then a summary line. */
export function renderGithub(report: ValidateReport): string {
  const lines = report.findings.map(annotation);
  const s = report.summary;
  if (report.unchecked.length > 0) {
    // One notice, not one per line: GitHub shows only the first few annotations of a step.
    const first = report.unchecked[0];
    const body = [`${s.lines.unchecked} of ${s.lines.asked} line(s) cannot be checked without the kernel's Kconfig:`,
      ...report.unchecked.map((u) => `${u.file}:${u.line} ${u.requested}`), UNCHECKED_HOW].join('\n');
    lines.push(`::notice file=${escProp(first.file)},line=${first.line},title=${escProp('kdump-layer: not verified')}::${escData(body)}`);
  }
  lines.push(`kdump-layer validate: ${report.target.arch} ${report.target.kernelVersion}: ${s.verdict === 'unverified' ? 'NOT VERIFIED: ' : ''}${s.errors} error(s), ${s.warnings} warning(s), ${s.infos} note(s); ${s.lines.checked} line(s) checked, ${s.lines.unchecked} cannot be checked without the kernel's Kconfig`);
  return `${lines.join('\n')}\n`;
}

export { findingLocation };
