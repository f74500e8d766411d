/**
 * The validate engine: parsed inputs + rule data → findings. Pure: no I/O. The kernel tree
 * (when given) enters only through the KernelKnowledge interface, so tests can call this
 * directly and the CLI decides where the final .config came from.
 */
import type { KernelArch } from './arch.js';
import { confRead, formatEntryLine, formatValue, hexValue, valuesEqual, type KconfigValue, type ParsedEntry, type ParsedFragment } from './fragment.js';
import { archAbsence, lookupSymbol, rulesFor, ruleApplies, KDUMP_RULES, type KdumpRule, type Severity, type SymbolFact, type SymbolType } from './rules.js';
import type { KernelVersion } from './version.js';

export type FindingClass = 'syntax' | 'redefinition' | 'invalid' | 'not-in-effect' | 'kdump' | 'input';

export interface Finding {
  class: FindingClass;
  /** What kind of check produced it: a rule id, a syntax code, 'invalid', 'not-in-effect', … */
  check: string;
  /** The id of the CheckResult it belongs to (one JUnit test case per check). */
  checkId?: string;
  severity: Severity;
  file?: string;
  line?: number;
  symbol?: string;
  /** What was asked, as a config line (`CONFIG_X=y`), when something was asked. */
  requested?: string;
  /** What is in effect (or expected by a rule), as a config line. */
  effective?: string;
  expected?: string;
  message: string;
  fix: string;
  /** Where the kernel's Kconfig says it comes from (with a kernel tree): definition, depends, selects, choice. */
  details?: string[];
  source?: string;
}

export interface CheckResult {
  id: string;
  class: FindingClass;
  title: string;
  status: 'pass' | 'fail';
  findings: Finding[];
}

/** What a kernel tree knows; absent in table-only mode. */
export interface KernelKnowledge {
  hasSymbol(symbol: string): boolean;
  symbolType(symbol: string): SymbolType | undefined;
  hasPrompt(symbol: string): boolean;
  /** Why a requested value did not reach the final config, from the tree's Kconfig. */
  explain(symbol: string, config: Map<string, KconfigValue>): string[];
  /** What to do about it, when the tree says something specific (the symbols that select it). */
  suggestFix?(symbol: string, config: Map<string, KconfigValue>): string | undefined;
  /** The one real cause, in a sentence: an unmet depends on, a select, another choice member, the range. */
  cause?(symbol: string, asked: KconfigValue, config: Map<string, KconfigValue>): { message: string; fix: string } | undefined;
}

export interface EvaluateInput {
  arch: KernelArch;
  version: KernelVersion;
  /** Fragments in the order they apply (later wins). */
  fragments: ParsedFragment[];
  /** The final .config, written by the kernel's Kconfig (given, or produced from a tree). */
  config?: ParsedFragment;
  /** How the final config was obtained, for messages. */
  configOrigin?: 'given' | 'kernel-source';
  tree?: KernelKnowledge;
  /** Where messages about missing symbols point when nothing was set (defaults to the last input). */
  anchorFile?: string;
}

/** A line whose fate needs the kernel's Kconfig (no tree, no final .config given). */
export interface UncheckedLine {
  file: string;
  line: number;
  symbol: string;
  requested: string;
  reason: string;
}

export interface Evaluation {
  findings: Finding[];
  checks: CheckResult[];
  /** Lines that ask for a value; with neither a tree nor a final .config, those the tables cannot judge. */
  lines: { asked: number; checked: number; unchecked: UncheckedLine[] };
}

export function evaluate(input: EvaluateInput): Evaluation {
  const findings: Finding[] = [];
  const checks: CheckResult[] = [];
  const add = (check: CheckResult) => {
    check.status = check.findings.some((f) => f.severity !== 'info') ? 'fail' : 'pass';
    checks.push(check);
    // One by one, not push(...): a file can have more findings than the stack has room for arguments.
    for (const f of check.findings) {
      f.checkId = check.id;
      findings.push(f);
    }
  };
  const allFiles = [...input.fragments, ...(input.config && input.configOrigin === 'given' ? [input.config] : [])];

  // 1. syntax, per file
  for (const frag of allFiles) {
    add({
      id: `syntax:${frag.file}`, class: 'syntax', title: `${frag.file} reads as Kconfig intends`, status: 'pass',
      findings: frag.problems.map((p) => ({
        class: 'syntax', check: p.code, severity: p.severity, file: p.file, line: p.line, symbol: p.symbol,
        requested: p.raw, message: p.message, fix: p.fix,
      })),
    });
  }

  // 2. redefinition across and within fragments; the merged request (last one wins)
  const requested = new Map<string, ParsedEntry>();
  const history = new Map<string, ParsedEntry[]>();
  for (const frag of input.fragments) {
    for (const e of frag.entries) {
      const h = history.get(e.symbol) ?? [];
      h.push(e);
      history.set(e.symbol, h);
      requested.set(e.symbol, e);
    }
  }
  const redefs: Finding[] = [];
  for (const [symbol, h] of history) {
    for (let i = 1; i < h.length; i++) {
      const prev = h[i - 1];
      const cur = h[i];
      if (valuesEqual(prev.value, cur.value)) continue;
      const last = h[h.length - 1];
      redefs.push({
        class: 'redefinition', check: 'redefinition', severity: 'warning', file: cur.file, line: cur.line, symbol,
        requested: formatEntryLine(symbol, cur.value), effective: formatEntryLine(symbol, last.value),
        message: `CONFIG_${symbol} is set to ${formatValue(prev.value)} at ${prev.file}:${prev.line} and to ${formatValue(cur.value)} here; the fragment applied last wins: ${formatValue(last.value)} (${last.file}:${last.line})`,
        fix: `keep one value: remove the line you do not mean (${prev.file}:${prev.line} or ${cur.file}:${cur.line})`,
      });
    }
  }
  add({ id: 'redefinition', class: 'redefinition', title: 'no symbol is set to different values', status: 'pass', findings: redefs });

  const config = input.config ? indexConfig(input.config) : undefined;
  // The tree's explanations take the final values by symbol: made once, and only when asked.
  let values: Map<string, KconfigValue> | undefined;
  const finalValues = (): Map<string, KconfigValue> => (values ??= new Map([...config!].map(([s, e]) => [s, e.value])));

  // 3. each requested symbol: type, exists (invalid), reaches the final config (not in effect);
  //    without a final config, the lines whose fate the tool cannot know are listed as unchecked.
  const unchecked: UncheckedLine[] = [];
  for (const [symbol, e] of [...requested]) {
    const out: Finding[] = [];
    const asked = e.rawValue !== undefined ? `CONFIG_${symbol}=${e.rawValue}` : formatEntryLine(symbol, e.value);
    const type = input.tree?.symbolType(symbol) ?? factType(symbol, input);
    const typeProblem = type ? checkType(type, e.value, e.rawValue) : undefined;
    // A value Kconfig does not take leaves the symbol at its default (merge_config.sh removed the base line).
    if (typeProblem?.rejected) requested.delete(symbol);
    if (typeProblem) {
      out.push({
        class: 'syntax', check: 'type', severity: typeProblem.severity, file: e.file, line: e.line, symbol, requested: asked,
        message: `CONFIG_${symbol} is a ${type} symbol: ${typeProblem.message.replace(/\$NAME/g, symbol)}`, fix: typeProblem.fix.replace(/\$NAME/g, symbol),
      });
    }
    let invalid = Boolean(typeProblem?.rejected);
    const archLook = lookupSymbol(symbol, input.arch, input.version);
    if (input.tree && archLook.known && !archLook.exists && archLook.byArch && input.tree.hasSymbol(symbol)) {
      // Defined in the tree, but only for another arch sharing the directory (x86_32 vs x86_64).
      invalid = true;
      out.push({
        class: 'invalid', check: 'invalid', severity: e.value.kind === 'n' ? 'info' : 'error', file: e.file, line: e.line, symbol, requested: asked,
        message: archLook.note, fix: archLook.fix ?? 'remove the line', source: archLook.source,
        details: config ? input.tree.explain(symbol, finalValues()) : undefined,
      });
    } else if (input.tree) {
      if (!input.tree.hasSymbol(symbol)) {
        invalid = true;
        const look = lookupSymbol(symbol, input.arch, input.version);
        out.push({
          class: 'invalid', check: 'invalid', severity: e.value.kind === 'n' ? 'info' : 'error', file: e.file, line: e.line, symbol,
          requested: asked, message: `${e.value.kind === 'n' ? 'harmless, it stays off: ' : ''}CONFIG_${symbol} is not defined by any Kconfig file of this kernel tree for ${input.arch}${look.known && !look.exists ? ` (${look.note})` : ''}`,
          fix: look.known && !look.exists && look.fix ? look.fix : 'remove the line, or check the spelling of the symbol', source: 'kernel tree',
        });
      }
    } else {
      const look = lookupSymbol(symbol, input.arch, input.version);
      const absent = look.known ? undefined : archAbsence(symbol, input.arch, input.version);
      if (look.known && !look.exists) {
        invalid = true;
        const sev: Severity = e.value.kind === 'n' ? 'info' : look.byArch ? 'error' : 'warning';
        out.push({
          class: 'invalid', check: 'invalid', severity: sev, file: e.file, line: e.line, symbol, requested: asked,
          message: look.byArch ? look.note : `${look.note}; vendor kernels may have it backported (pass --kernel-source to check the real tree)`,
          fix: look.fix ?? 'remove the line', source: look.source,
        });
      } else if (absent) {
        invalid = true;
        out.push({
          class: 'invalid', check: 'invalid', severity: e.value.kind === 'n' ? 'info' : 'error', file: e.file, line: e.line, symbol, requested: asked,
          message: `${e.value.kind === 'n' ? 'harmless, it stays off: ' : ''}CONFIG_${symbol} is not defined by any Kconfig file of Linux ${input.version.major}.${input.version.minor} for ${input.arch} (only for ${absent.definedOn.join(', ')}), so Kconfig ignores the line`,
          fix: 'remove the line (it belongs to another arch\'s configuration)', source: `Kconfig files of Linux ${absent.release} (Debian linux-source)`,
        });
      } else if (look.known && look.exists && !config && e.value.kind === 'n' && look.fact.promptIf === 'EXPERT' && look.fact.default?.kind === 'y'
        && requested.get('EXPERT')?.value.kind !== 'y') {
        invalid = true;
        out.push({
          class: 'not-in-effect', check: 'expert-only', severity: 'warning', file: e.file, line: e.line, symbol, requested: asked,
          effective: `${formatEntryLine(symbol, look.fact.default)} (Kconfig default)`,
          message: `CONFIG_${symbol} has a prompt only with CONFIG_EXPERT=y: without it Kconfig ignores '# CONFIG_${symbol} is not set' and keeps the default y (unless the base config has EXPERT=y)`,
          fix: `add CONFIG_EXPERT=y to the fragment if you really mean to turn CONFIG_${symbol} off, else remove the line`, source: look.fact.source,
        });
      } else if (look.known && look.exists && !config && e.value.kind === 'n' && (look.fact.selectedBy ?? []).some((s) => requested.get(s)?.value.kind === 'y')) {
        invalid = true;
        const by = (look.fact.selectedBy ?? []).filter((s) => requested.get(s)?.value.kind === 'y');
        out.push({
          class: 'not-in-effect', check: 'selected', severity: 'error', file: e.file, line: e.line, symbol, requested: asked,
          effective: `CONFIG_${symbol}=y (selected by ${by.map((b) => `CONFIG_${b}=y`).join(', ')})`,
          message: `${by.map((b) => `CONFIG_${b}`).join(' and ')} ${by.length > 1 ? 'select' : 'selects'} CONFIG_${symbol}: Kconfig forces it to y whatever this line says`,
          fix: `remove the line (or turn off ${by.map((b) => `CONFIG_${b}`).join(' and ')})`, source: look.fact.source,
        });
      } else if (look.known && look.exists && !config && !look.fact.settable && e.value.kind !== 'n') {
        const selectors = look.fact.selectedBy ?? [];
        const selected = selectors.some((s) => requested.get(s)?.value.kind === 'y');
        const why = look.fact.note ?? `CONFIG_${symbol} has no prompt on ${input.arch} ${input.version.version}`;
        if (!selected && selectors.every((s) => knownOff(s, input, requested))) {
          invalid = true;
          out.push({
            class: 'not-in-effect', check: 'not-settable', severity: 'error', file: e.file, line: e.line, symbol, requested: asked,
            effective: selectors.length ? `CONFIG_${symbol}=n: ${selectors.map((s) => `CONFIG_${s}`).join(' and ')} ${selectors.length > 1 ? 'are' : 'is'} off here` : undefined,
            message: `Kconfig drops this line: ${why}`,
            fix: look.fact.fix ?? 'remove the line', source: look.fact.source,
          });
        } else if (!selected) {
          // The line does nothing by itself, but the base config may turn on a symbol that selects it.
          out.push({
            class: 'not-in-effect', check: 'not-settable', severity: 'info', file: e.file, line: e.line, symbol, requested: asked,
            effective: `CONFIG_${symbol}=y only if ${selectors.map((s) => `CONFIG_${s}`).join(' or ')} is y in the final config`,
            message: `this line does nothing by itself: ${why}; no fragment sets ${selectors.map((s) => `CONFIG_${s}`).join(' or ')}, so the base config decides`,
            fix: look.fact.fix ?? 'remove the line', source: look.fact.source,
          });
        }
      } else if (look.known && look.exists && !config && !typeProblem?.rejected && outOfRange(look.fact, input.arch, e.value)) {
        invalid = true;
        const [min, max] = look.fact.range![input.arch]!;
        out.push({
          class: 'not-in-effect', check: 'range', severity: 'error', file: e.file, line: e.line, symbol, requested: asked,
          effective: look.fact.default ? `${formatEntryLine(symbol, look.fact.default)} (Kconfig default)` : undefined,
          message: `CONFIG_${symbol} has range ${min} ${max} on ${input.arch} (${look.fact.definedIn}): ${formatValue(e.value)} is outside it, so Kconfig drops it for the default`,
          fix: `give a value from ${min} to ${max}`, source: look.fact.source,
        });
      }
    }
    if (config && !invalid) {
      const found = config.get(symbol);
      const have = found?.value;
      const inEffect = have ? valuesEqual(have, e.value) : e.value.kind === 'n';
      if (!inEffect) {
        const look = lookupSymbol(symbol, input.arch, input.version);
        const details = input.tree?.explain(symbol, finalValues());
        const factNote = look.known && look.exists ? look.fact.note : look.known && !look.exists ? look.note : undefined;
        const treeFix = input.tree?.suggestFix?.(symbol, finalValues());
        const cause = input.tree?.cause?.(symbol, e.value, finalValues());
        const cfgFile = input.config!.file;
        out.push({
          class: 'not-in-effect', check: 'not-in-effect', severity: 'error', file: e.file, line: e.line, symbol, requested: asked,
          effective: have ? `${formatEntryLine(symbol, have)} (${cfgFile}:${found!.line})` : `CONFIG_${symbol} absent from ${cfgFile} (not visible: its dependencies are not met, or it does not exist)`,
          message: `the requested value did not reach the final config${cause ? `: ${cause.message}` : factNote ? `: ${factNote}` : have ? `, which has ${formatValue(have)}` : ''}`,
          fix: cause?.fix || (look.known && look.exists && look.fact.fix) || (look.known && !look.exists && look.fix) || treeFix ||
            (have
              ? `the symbol is visible but the build has another value: make sure this fragment is applied to the build and that nothing applied after it (another fragment, the recipe's defconfig) sets CONFIG_${symbol}`
              : 'make its dependencies true in the same fragment, or remove the line'),
          details: details && details.length ? details : undefined,
          source: input.configOrigin === 'kernel-source' ? 'kernel tree (olddefconfig)' : cfgFile,
        });
      }
    }
    if (!config && !out.some((f) => f.severity !== 'info')) {
      const why = knownToTakeEffect(symbol, e, input, requested);
      if (why !== true) unchecked.push({ file: e.file, line: e.line, symbol, requested: asked, reason: why });
    }
    add({ id: `symbol:CONFIG_${symbol}`, class: out.some((f) => f.class === 'invalid') ? 'invalid' : out[0]?.class ?? 'not-in-effect',
      title: `${asked} (${e.file}:${e.line}) is valid and in effect`, status: 'pass', findings: out });
  }

  // 4. kdump requirements
  const anchor = input.config?.file ?? input.anchorFile ?? input.fragments[input.fragments.length - 1]?.file;
  for (const rule of rulesApplying(input)) {
    if (rule.configOnly && !config) continue;
    add({ id: `kdump:${rule.id}`, class: 'kdump', title: rule.title, status: 'pass', findings: judgeRule(rule, input, requested, config, anchor) });
  }
  const asked = input.fragments.reduce((n, f) => n + f.entries.length + f.problems.filter((p) => p.symbol && p.severity !== 'info').length, 0);
  return { findings, checks, lines: { asked, checked: asked - unchecked.length, unchecked } };
}

/**
 * True when the fragments leave no way for `symbol` to be y whatever the base config says: it
 * does not exist here, or a fragment turns it off and everything that selects it (per the fact
 * table) is known off too, or one of its plain dependencies is.
 */
function knownOff(symbol: string, input: EvaluateInput, requested: Map<string, ParsedEntry>, seen = new Set<string>()): boolean {
  if (seen.has(symbol)) return false;
  seen.add(symbol);
  const look = lookupSymbol(symbol, input.arch, input.version);
  if (look.known && !look.exists) return true;
  if (!look.known) return false;
  const deps = (look.fact.dependsOn ?? '').replace(/\s*\(.*\)\s*$/, '').split('&&').map((t) => t.trim()).filter((t) => /^\w+$/.test(t));
  if (deps.some((d) => knownOff(d, input, requested, seen))) return true;
  return requested.get(symbol)?.value.kind === 'n' && (look.fact.selectedBy ?? []).every((s) => knownOff(s, input, requested, seen));
}

/** An int/hex value outside the literal `range` the fact table gives for this arch. */
function outOfRange(fact: SymbolFact, arch: KernelArch, v: KconfigValue): boolean {
  const r = fact.range?.[arch];
  if (!r || (v.kind !== 'int' && v.kind !== 'hex')) return false;
  const num = (t: string) => (fact.type === 'hex' ? BigInt(/^0x/i.test(t) ? t : `0x${t}`) : BigInt(t));
  try {
    const n = num(v.value);
    return n < num(r[0]) || n > num(r[1]);
  } catch {
    return false;
  }
}

/** Symbols the arch itself defines as y (enough for the fact table's dependencies). */
const ARCH_SYMBOLS: Record<KernelArch, string[]> = {
  x86_64: ['X86', 'X86_64', '64BIT'], i386: ['X86', 'X86_32'], arm64: ['ARM64', '64BIT'], arm: ['ARM'],
  powerpc: ['PPC', 'PPC32'], powerpc64: ['PPC', 'PPC64', '64BIT'], riscv64: ['RISCV', '64BIT'],
};

/**
 * True when the fact table alone shows the line takes effect: the symbol exists here, has an
 * unconditional prompt (or is selected by a symbol the fragments turn on) and its dependencies
 * are plain symbols the fragments, the arch or a default make y. Else why it cannot be known.
 */
function knownToTakeEffect(symbol: string, e: ParsedEntry, input: EvaluateInput, requested: Map<string, ParsedEntry>): true | string {
  const look = lookupSymbol(symbol, input.arch, input.version);
  const unknown = `whether CONFIG_${symbol} takes effect depends on its dependencies, prompt and selects in the kernel's Kconfig, which this run does not have`;
  if (look.known && !look.exists && e.value.kind === 'n') return true; // a symbol that does not exist here stays off
  if (!look.known && e.value.kind === 'n' && archAbsence(symbol, input.arch, input.version)) return true;
  if (!look.known || !look.exists) return unknown;
  const f = look.fact;
  const isY = (s: string): boolean => {
    if (ARCH_SYMBOLS[input.arch].includes(s)) return true;
    const r = requested.get(s);
    if (r) return r.value.kind === 'y';
    const l = lookupSymbol(s, input.arch, input.version);
    if (!l.known || !l.exists) return false;
    if ((l.fact.selectedBy ?? []).some((x) => requested.get(x)?.value.kind === 'y')) return true;
    return l.fact.default?.kind === 'y' && !l.fact.defaultIf;
  };
  // "A && B || C" over plain symbols (`A=y` too); a "(from 6.9)" note limits it to those versions.
  const holds = (expr: string): boolean | undefined => {
    const note = /^(.*?)\s*\(from (\d+)\.(\d+)\)$/.exec(expr.trim());
    if (note) {
      const [maj, min] = [Number(note[2]), Number(note[3])];
      if (input.version.major < maj || (input.version.major === maj && input.version.minor < min)) return true;
      expr = note[1];
    }
    const ors = expr.split('||').map((o) => o.split('&&').map((t) => t.trim().replace(/=y$/, '')));
    if (ors.some((and) => and.some((t) => !/^\w+$/.test(t)))) return undefined;
    return ors.some((and) => and.every(isY));
  };
  if (!f.settable) {
    if (e.value.kind !== 'n' && (f.selectedBy ?? []).some((s) => requested.get(s)?.value.kind === 'y')) return true;
    return `CONFIG_${symbol} has no prompt here: its value comes from selects and defaults in the kernel's Kconfig`;
  }
  if (e.value.kind === 'n') {
    // Off stays off unless something selects it, a default turns it on, or a choice picks it.
    if ((f.type === 'bool' || f.type === 'tristate') && !(f.selectedBy ?? []).length && f.default?.kind !== 'y' && !/choice/.test(f.definedIn)) return true;
    return `'is not set' for CONFIG_${symbol} holds only if nothing selects it and no default or choice turns it on, which this run cannot see`;
  }
  if (f.promptIf && !(e.value.kind === 'y' && f.default?.kind === 'y' && !f.defaultIf) && holds(f.promptIf) !== true) {
    return `CONFIG_${symbol} has a prompt only if ${f.promptIf}, which this run cannot evaluate`;
  }
  if (f.dependsOn && holds(f.dependsOn) !== true) return `CONFIG_${symbol} depends on ${f.dependsOn}, which this run cannot evaluate`;
  return true;
}

function rulesApplying(input: EvaluateInput): KdumpRule[] {
  if (!input.tree) return rulesFor(input.arch, input.version);
  // With a tree, what the tree defines decides, not the version table (vendor backports).
  const tree = input.tree;
  return KDUMP_RULES.filter((r) => {
    if (r.treeScope) {
      if (!r.scopes.some((s) => s.arches.includes(input.arch))) return false;
      if (!tree.hasSymbol(r.treeScope.symbol)) return false;
      return r.treeScope.hasPrompt === undefined || tree.hasPrompt(r.treeScope.symbol) === r.treeScope.hasPrompt;
    }
    return ruleApplies(r, input.arch, input.version);
  });
}

type State = { value?: KconfigValue; from: 'config' | 'fragment' | 'default' | 'unknown'; entry?: ParsedEntry; line?: number };

function judgeRule(
  rule: KdumpRule, input: EvaluateInput, requested: Map<string, ParsedEntry>, config: Map<string, ParsedEntry> | undefined,
  anchor: string | undefined,
): Finding[] {
  const stateOf = (symbol: string): State => {
    if (config) {
      const e = config.get(symbol);
      return { value: e?.value ?? { kind: 'n' }, from: 'config', line: e?.line };
    }
    const e = requested.get(symbol);
    if (e) return { value: e.value, from: 'fragment', entry: e };
    const look = lookupSymbol(symbol, input.arch, input.version);
    if (look.known && look.exists && look.fact.default && defaultHolds(look.fact.defaultIf, (s) => stateOf(s).value)) {
      return { value: look.fact.default, from: 'default' };
    }
    if (look.known && look.exists && look.fact.default) return { value: { kind: 'n' }, from: 'default' };
    return { from: 'unknown' };
  };
  const alternatives = rule.oneOf.map((req) => ({ req, state: stateOf(req.symbol) }));
  const holds = (req: { symbol: string; value: KconfigValue }, st: State): boolean => {
    if (!st.value) return false;
    if (rule.check === 'aligned') {
      if (st.value.kind !== 'hex' && st.value.kind !== 'int') return false;
      const align = alignmentOf(config, requested);
      try {
        return BigInt(st.value.kind === 'hex' || /^0x/i.test(st.value.value) ? st.value.value : `0x${st.value.value}`) % align === 0n;
      } catch {
        return false;
      }
    }
    if (req.value.kind === 'n') return st.value.kind === 'n';
    return valuesEqual(st.value, req.value);
  };
  const ok = alternatives.find((a) => holds(a.req, a.state));
  const expected = rule.oneOf.map((r) => formatEntryLine(r.symbol, r.value)).join(' or ');
  if (ok) {
    if (ok.state.from === 'default') {
      return [{
        class: 'kdump', check: rule.id, severity: 'info', file: anchor, symbol: ok.req.symbol, expected,
        effective: `${formatEntryLine(ok.req.symbol, ok.state.value!)} (Kconfig default)`,
        message: `not set by the fragments; relies on the Kconfig default, which a base defconfig may change (${rule.title})`,
        fix: `to be sure, add ${formatEntryLine(ok.req.symbol, ok.req.value)} or validate the final .config`, source: rule.source,
      }];
    }
    return [];
  }
  // Point at the line that set a wrong value, if any; else at the file where it belongs.
  // Point at the fragment line that asked for it, else the given .config's line, else the file
  // where the setting belongs (a .config resolved from a tree is not a file the user has).
  const givenConfigLine = (a: (typeof alternatives)[number]) => input.configOrigin === 'given' && a.state.from === 'config' && a.state.line;
  const wrong = alternatives.find((a) => requested.has(a.req.symbol)) ?? alternatives.find((a) => givenConfigLine(a));
  const primary = wrong ?? alternatives[0];
  const st = primary.state;
  const asked = requested.get(primary.req.symbol);
  const fileLine = asked ? { file: asked.file, line: asked.line }
    : givenConfigLine(primary) ? { file: input.config!.file, line: st.line }
      : { file: input.configOrigin === 'kernel-source' ? input.anchorFile ?? anchor : anchor };
  const effective = st.value && (st.entry || st.from === 'config')
    ? `${formatEntryLine(primary.req.symbol, st.value)}${st.from === 'config' ? (st.line ? ` (${input.configOrigin === 'kernel-source' ? 'final config' : `${input.config!.file}:${st.line}`})` : ` (absent from the final config)`) : ''}`
    : st.from === 'default' ? `${formatEntryLine(primary.req.symbol, st.value ?? { kind: 'n' })} (not set; Kconfig default)`
      : `CONFIG_${primary.req.symbol} not set`;
  const what = rule.check === 'aligned'
    ? `CONFIG_${primary.req.symbol} is not a multiple of PHYSICAL_ALIGN (0x${alignmentOf(config, requested).toString(16)})`
    : `kdump needs ${expected}`;
  return [{
    class: 'kdump', check: rule.id, severity: rule.severity, ...fileLine, symbol: primary.req.symbol,
    requested: asked ? formatEntryLine(primary.req.symbol, asked.value) : undefined, expected, effective,
    message: `${what}: ${rule.why}`, fix: rule.fix, source: rule.source,
  }];
}

function alignmentOf(config: Map<string, ParsedEntry> | undefined, requested: Map<string, ParsedEntry>): bigint {
  const v = config?.get('PHYSICAL_ALIGN')?.value ?? requested.get('PHYSICAL_ALIGN')?.value;
  if (v && (v.kind === 'hex' || v.kind === 'int')) {
    try {
      const n = BigInt(v.kind === 'hex' || /^0x/i.test(v.value) ? v.value : `0x${v.value}`);
      if (n > 0n) return n;
    } catch { /* fall through to the default */ }
  }
  return 0x200000n;
}

/** `A && B` conditions of the fact table's defaults; anything else counts as unknown (false). */
function defaultHolds(cond: string | undefined, valueOf: (s: string) => KconfigValue | undefined): boolean {
  if (!cond) return true;
  return cond.split('&&').map((s) => s.trim()).every((s) => valueOf(s)?.kind === 'y');
}

function factType(symbol: string, input: EvaluateInput): SymbolType | undefined {
  const look = lookupSymbol(symbol, input.arch, input.version);
  if (look.known && look.exists) return look.fact.type;
  return undefined;
}

/**
 * Whether a line's value fits a symbol type, the way confdata.c's conf_set_sym_val reads it:
 * undefined when Kconfig takes it as meant; else what Kconfig does with it. `rejected` is true
 * when Kconfig takes no value from the line (the symbol keeps its default).
 */
export function checkType(type: SymbolType, v: KconfigValue, raw?: string):
  { message: string; fix: string; severity: 'error' | 'warning' | 'info'; rejected?: boolean } | undefined {
  if (raw === undefined && v.kind === 'n') {
    if (type === 'bool' || type === 'tristate') return undefined;
    return { message: `'is not set' does nothing for a ${type} symbol: Kconfig ignores the line and CONFIG_$NAME keeps its default`,
      fix: `remove the line, or give the ${type} value you want`, severity: 'warning', rejected: true };
  }
  const text = raw ?? formatValue(v);
  const r = confRead(type, text, '$NAME');
  if ('rejected' in r) {
    const fix = {
      bool: "write CONFIG_$NAME=y or '# CONFIG_$NAME is not set'" + (v.kind === 'm' ? ' (a bool cannot be a module)' : ''),
      tristate: "write CONFIG_$NAME=y, =m or '# CONFIG_$NAME is not set'",
      string: `write CONFIG_$NAME="${text.replace(/^'|'$/g, '').replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
      int: 'write a decimal number alone on the line, e.g. CONFIG_$NAME=64',
      hex: 'write a hex number alone on the line, e.g. CONFIG_$NAME=0x1000000',
    }[type];
    return {
      message: r.warning
        ? `Kconfig rejects '${text}' ("${r.warning}") and CONFIG_$NAME keeps its default`
        : `a string value must start with a double quote: Kconfig ignores the line and CONFIG_$NAME keeps its default`,
      fix, severity: 'error', rejected: true,
    };
  }
  if (type === 'hex' && !/^0[xX]/.test(text) && hexValue(text)! >= 10n) {
    return { message: `'${text}' has no 0x: Kconfig reads it as 0x${text}${/^\d+$/.test(text) ? `, not decimal ${text}` : ''}`,
      fix: `write CONFIG_$NAME=0x${text}${/^\d+$/.test(text) ? ` (or 0x${BigInt(text).toString(16)} for decimal ${text})` : ''}`, severity: 'info' };
  }
  return undefined;
}

/**
 * The final config's entries by symbol (the last one wins): one map for value and line, not two
 * (a distribution's .config has some 8 000 entries, and a second map cost validate 3–4 ms).
 */
function indexConfig(frag: ParsedFragment): Map<string, ParsedEntry> {
  const config = new Map<string, ParsedEntry>();
  for (const e of frag.entries) config.set(e.symbol, e);
  return config;
}

export function summarize(findings: Finding[]): { errors: number; warnings: number; infos: number } {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    infos: findings.filter((f) => f.severity === 'info').length,
  };
}
