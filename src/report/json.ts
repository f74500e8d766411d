import type { ValidateReport } from './types.js';

/** The report as JSON, as described by schemas/validate-report.schema.json. */
export function renderJson(report: ValidateReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
