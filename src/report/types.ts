import type { CheckResult, Finding, UncheckedLine } from '../kernel/check.js';

export type ReportFormat = 'text' | 'json' | 'junit' | 'github';
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'junit', 'github'];

/** Everything one `validate` run found; every reporter renders this and nothing else. */
export interface ValidateReport {
  schemaVersion: 1;
  tool: 'kdump-layer validate';
  target: {
    arch: string;
    kernelVersion: string;
    /** Where arch and version came from. */
    from: 'machine' | 'options' | 'config-header' | 'kernel-source';
    machine?: string;
  };
  /** fragments: rule tables only; config: judged against a kernel-written .config; kernel-source: resolved with the tree's Kconfig. */
  mode: 'fragments' | 'config' | 'kernel-source';
  inputs: { file: string; kind: 'fragment' | 'config' | 'base-config'; entries: number }[];
  kernelSource?: { path: string; version: string; steps: string[] };
  werror: boolean;
  summary: {
    errors: number; warnings: number; infos: number; checks: number; failedChecks: number; exitCode: 0 | 1;
    /** Lines that ask for a value; `unchecked` of them need the kernel's Kconfig to judge. */
    lines: { asked: number; checked: number; unchecked: number };
    /** pass only when nothing fails and every line was checked; unverified when lines are unchecked. */
    verdict: 'pass' | 'fail' | 'unverified';
  };
  checks: (Omit<CheckResult, 'findings'> & { findings: number })[];
  findings: Finding[];
  /** The lines that cannot be checked without the kernel's Kconfig, and why. */
  unchecked: UncheckedLine[];
}

/** How to learn what the unchecked lines do. */
export const UNCHECKED_HOW = 'to check them, pass --kernel-source <Linux tree> (runs the kernel\'s own Kconfig) or --config <the build\'s final .config> (the layer\'s in-build check does that inside BitBake)';

export function findingLocation(f: Finding): string {
  if (!f.file) return '-';
  return f.line ? `${f.file}:${f.line}` : f.file;
}

/** A finding fails the run at error level, or at warning level with --werror; info never does. */
export function failsRun(f: Finding, werror: boolean): boolean {
  return f.severity === 'error' || (werror && f.severity === 'warning');
}
