import { failsRun, findingLocation, UNCHECKED_HOW, type ValidateReport } from './types.js';

/**
 * Characters XML 1.0 cannot carry at all, even escaped: control characters but tab, LF and
 * CR, lone UTF-16 surrogates, U+FFFE and U+FFFF. They become U+FFFD.
 */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text content: markup characters as entities. */
const esc = (s: string) => s.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Attribute values: also quotes, and tab/LF/CR as references (a parser turns them into spaces otherwise). */
const attr = (s: string) => esc(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');

/** JUnit XML: one test case per check; a case fails when it has a finding that fails the run. */
export function renderJunit(report: ValidateReport): string {
  const byCheck = new Map<string, typeof report.findings>();
  for (const f of report.findings) {
    const key = f.checkId ?? f.check;
    const list = byCheck.get(key) ?? [];
    list.push(f);
    byCheck.set(key, list);
  }
  const cases: string[] = [];
  let failures = 0;
  for (const c of report.checks) {
    const fs = byCheck.get(c.id) ?? [];
    const failing = fs.filter((f) => failsRun(f, report.werror));
    const text = fs.map((f) => [
      `[${f.severity}] ${findingLocation(f)}${f.symbol ? ` CONFIG_${f.symbol}` : ''}: ${f.message}`,
      f.requested ? `  asked: ${f.requested}` : '',
      f.effective ? `  in effect: ${f.effective}` : '',
      `  fix: ${f.fix}`,
      ...(f.details ?? []).map((d) => `  ${d}`),
    ].filter(Boolean).join('\n')).join('\n');
    let body = '';
    if (failing.length) {
      failures++;
      const first = failing[0];
      body += `\n      <failure type="${attr(first.severity)}" message="${attr(`${findingLocation(first)}: ${first.message}`)}">${esc(text)}</failure>`;
    } else if (fs.length) {
      body += `\n      <system-out>${esc(text)}</system-out>`;
    }
    cases.push(`    <testcase classname="kdump-layer.validate.${attr(c.class)}" name="${attr(`${c.id}: ${c.title}`)}">${body}${body ? '\n    ' : ''}</testcase>`);
  }
  // Lines the tables cannot judge are one skipped case: not failed, and not passed either.
  const skipped = report.unchecked.length > 0 ? 1 : 0;
  if (skipped) {
    const u = report.summary.lines;
    const list = report.unchecked.map((x) => `${x.file}:${x.line} ${x.requested}: ${x.reason}`).join('\n');
    cases.push(`    <testcase classname="kdump-layer.validate.unchecked" name="unchecked: lines that cannot be checked without the kernel's Kconfig">
      <skipped message="${attr(`${u.unchecked} of ${u.asked} line(s) cannot be checked without the kernel's Kconfig; ${UNCHECKED_HOW}`)}">${esc(list)}</skipped>
    </testcase>`);
  }
  const tests = report.checks.length + skipped;
  const name = `kdump-layer validate (${report.target.arch} ${report.target.kernelVersion})`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kdump-layer" tests="${tests}" failures="${failures}" skipped="${skipped}">`,
    `  <testsuite name="${attr(name)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

