import { KDUMP_RULES } from '../kernel/rules.js';
import { formatEntryLine } from '../kernel/fragment.js';

/**
 * The kdump rules as data for the build-time check (recipes-kernel/linux/files/kdump-rules.json):
 * rendered from KDUMP_RULES, the rules `validate` and the fragment use, so the layer carries no
 * second list. Every rule is kept (the task picks by arch and by the kernel tree's version);
 * `treeScope` is left out: the task judges a final .config, as `validate .config` does.
 */
export function kdumpRulesJson(marker: string): string {
  const rules = KDUMP_RULES.map((r) => ({
    id: r.id,
    title: r.title,
    severity: r.severity,
    scopes: r.scopes.map((s) => ({ arches: [...s.arches], ...(s.kernel?.from ? { from: s.kernel.from } : {}), ...(s.kernel?.until ? { until: s.kernel.until } : {}) })),
    oneOf: r.oneOf.map((q) => ({ symbol: q.symbol, value: q.value, line: formatEntryLine(q.symbol, q.value) })),
    ...(r.check ? { check: r.check } : {}),
    why: r.why,
    fix: r.fix,
    source: r.source,
  }));
  return `${JSON.stringify({ comment: `${marker} (from the rules of kdump-layer validate)`, rules }, null, 1)}\n`;
}
