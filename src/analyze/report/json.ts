import type { AnalyzeSummary } from '../analyze.js';
import type { AnalyzeReport } from '../types.js';

/** The report as JSON, as described by schemas/analyze-report.schema.json. */
export function renderJson(r: AnalyzeReport | AnalyzeSummary): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
