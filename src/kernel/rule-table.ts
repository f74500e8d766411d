/**
 * The rule table of docs/validate.md, rendered from KDUMP_RULES and SYMBOL_FACTS so the
 * documentation cannot drift from the data (a test compares them; `npm run docs`
 * rewrites the section between the markers).
 */
import fs from 'node:fs';
import { KERNEL_ARCHES } from './arch.js';
import { formatEntryLine } from './fragment.js';
import { KDUMP_RULES, SYMBOL_FACTS, type RuleScope } from './rules.js';
import { describeRange } from './version.js';

export const RULES_BEGIN = '<!-- kdump-rules:begin (generated from src/kernel/rules.ts by `npm run docs`) -->';
export const RULES_END = '<!-- kdump-rules:end -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function scopeText(scopes: readonly RuleScope[]): string {
  return scopes
    .map((s) => {
      const arches = s.arches.length === KERNEL_ARCHES.length ? 'all arches' : s.arches.join(', ');
      const k = describeRange(s.kernel);
      return k === 'all' ? arches : `${arches} (Linux ${k})`;
    })
    .join('; ');
}

export function renderRuleTableMarkdown(): string {
  const out: string[] = [];
  out.push('| Rule | Severity | Applies to | Needs | Written to kdump.cfg | Why | Source |');
  out.push('|---|---|---|---|---|---|---|');
  for (const r of KDUMP_RULES) {
    const needs = r.oneOf.map((q) => `\`${formatEntryLine(q.symbol, q.value)}\``).join(' or ');
    const check = r.check === 'aligned' ? ' (any multiple of PHYSICAL_ALIGN)' : '';
    const frag = r.configOnly || r.fragment === null ? 'no (checked in the final .config)' : `\`${formatEntryLine(r.oneOf[r.fragment].symbol, r.oneOf[r.fragment].value)}\``;
    out.push(`| \`${r.id}\` | ${r.severity} | ${cell(scopeText(r.scopes))}${r.treeScope ? ` — with a tree: when it defines ${r.treeScope.symbol}${r.treeScope.hasPrompt === undefined ? '' : r.treeScope.hasPrompt ? ' with a prompt' : ' without a prompt'}` : ''} | ${needs}${check} | ${frag} | ${cell(r.why)} | ${r.source} |`);
  }
  out.push('');
  out.push('Symbol facts used to flag invalid and dropped lines without a kernel tree:');
  out.push('');
  out.push('| Symbol | Arches | Linux | Settable | Note | Source |');
  out.push('|---|---|---|---|---|---|');
  for (const f of SYMBOL_FACTS) {
    const arches = f.arches.length === KERNEL_ARCHES.length ? 'all' : f.arches.join(', ');
    const bounds = [...new Set(Object.values(f.range ?? {}).map((r) => `${r[0]}–${r[1]}`))];
    const settable = (f.settable ? (f.promptIf ? `if ${f.promptIf}` : 'yes') : 'no (selected only)')
      + (bounds.length ? `, range ${Object.entries(f.range ?? {}).length === KERNEL_ARCHES.length && bounds.length === 1 ? bounds[0] : Object.entries(f.range ?? {}).map(([a, r]) => `${r[0]}–${r[1]} (${a})`).join(', ')}` : '');
    out.push(`| \`${f.symbol}\` | ${arches} | ${describeRange(f.kernel)} | ${cell(settable)} | ${cell(f.note ?? '')} | ${f.source} |`);
  }
  return out.join('\n');
}

/** Replaces the generated section of the doc; returns whether it changed. */
export function updateValidateDoc(file: string): boolean {
  const text = fs.readFileSync(file, 'utf8');
  const a = text.indexOf(RULES_BEGIN);
  const b = text.indexOf(RULES_END);
  if (a < 0 || b < a) throw new Error(`${file}: the rule table markers are missing`);
  const next = `${text.slice(0, a + RULES_BEGIN.length)}\n${renderRuleTableMarkdown()}\n${text.slice(b)}`;
  if (next === text) return false;
  fs.writeFileSync(file, next);
  return true;
}
