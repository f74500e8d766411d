import type { CheckResult, Finding } from '../kernel/check.js';

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
  summary: { errors: number; warnings: number; infos: number; checks: number; failedChecks: number; exitCode: 0 | 1 };
  checks: (Omit<CheckResult, 'findings'> & { findings: number })[];
  findings: Finding[];
}

export function findingLocation(f: Finding): string {
  if (!f.file) return '-';
  return f.line ? `${f.file}:${f.line}` : f.file;
}

/** A finding fails the run at error level, or at warning level with --werror; info never does. */
export function failsRun(f: Finding, werror: boolean): boolean {
  return f.severity === 'error' || (werror && f.severity === 'warning');
}
