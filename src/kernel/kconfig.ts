/**
 * The kernel's own Kconfig, two ways:
 *  - readKconfigTree(): a small purpose-built reader of Kconfig files, for the "why" of a dropped
 *    value (where a symbol is defined, its depends on, what selects it, its choice group);
 *  - resolveWithKernel(): the kernel's own scripts/kconfig/conf run as kernel-yocto runs it
 *    (base defconfig or given config, fragments merged, olddefconfig), built in a separate
 *    output directory so the tree is never written to.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import type { KernelArch } from './arch.js';
import { formatValue, parseFragment, type KconfigValue, type ParsedFragment } from './fragment.js';
import type { KernelKnowledge } from './check.js';
import type { SymbolType } from './rules.js';
import { UserError } from '../errors.js';
import { probeCache, type ProbeCache } from './probe-cache.js';
import { writeAtomic } from '../layer/write-atomic.js';

/** The kernel's ARCH= and SRCARCH for each arch, and the defconfig `make defconfig` would pick. */
export const KBUILD_ARCH: Record<KernelArch, { arch: string; srcarch: string; defconfig: string }> = {
  x86_64: { arch: 'x86_64', srcarch: 'x86', defconfig: 'x86_64_defconfig' },
  i386: { arch: 'i386', srcarch: 'x86', defconfig: 'i386_defconfig' },
  arm64: { arch: 'arm64', srcarch: 'arm64', defconfig: 'defconfig' },
  arm: { arch: 'arm', srcarch: 'arm', defconfig: 'multi_v7_defconfig' },
  powerpc: { arch: 'powerpc', srcarch: 'powerpc', defconfig: 'ppc6xx_defconfig' },
  powerpc64: { arch: 'powerpc', srcarch: 'powerpc', defconfig: 'ppc64_defconfig' },
  riscv64: { arch: 'riscv', srcarch: 'riscv', defconfig: 'defconfig' },
};

export interface Where {
  file: string;
  line: number;
}

export interface KconfigChoice extends Where {
  prompt: string;
  dependsOn: string[];
  /** Its member symbols, in order, and its `default` lines. */
  members: string[];
  defaults: { value: string; cond?: string }[];
}

export interface KconfigSymbolDef extends Where {
  symbol: string;
  type?: SymbolType;
  prompts: { text: string; cond?: string }[];
  dependsOn: string[];
  /** Conditions of the enclosing if / menu / choice blocks. */
  context: { kind: 'if' | 'menu' | 'choice'; expr: string; at: Where }[];
  choice?: KconfigChoice;
  defaults: { value: string; cond?: string }[];
  ranges: { min: string; max: string; cond?: string }[];
}

export interface KconfigSelect extends Where {
  by: string;
  kind: 'select' | 'imply';
  cond?: string;
}

export interface KconfigTree {
  root: string;
  srcarch: string;
  version: string;
  defs: Map<string, KconfigSymbolDef[]>;
  selects: Map<string, KconfigSelect[]>;
  /** Every file the reader tried (relative; missing ones too) and every directory a glob listed: what the parse depends on. */
  inputs: { files: string[]; dirs: string[] };
}

/** What the "why" of a value needs from a tree: a symbol's definitions and what selects it. */
export interface KconfigLookup {
  defs: { get(symbol: string): KconfigSymbolDef[] | undefined };
  selects: { get(symbol: string): KconfigSelect[] | undefined };
}

/** VERSION.PATCHLEVEL.SUBLEVEL from the tree's top Makefile. */
export function kernelTreeVersion(root: string): string {
  const makefile = path.join(root, 'Makefile');
  let text: string;
  try {
    text = fs.readFileSync(makefile, 'utf8').slice(0, 4000);
  } catch {
    throw new UserError(`--kernel-source ${root}: no Makefile there`, { hint: 'point --kernel-source at the top of a Linux source tree' });
  }
  const get = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\d*)`, 'm').exec(text)?.[1];
  const v = get('VERSION');
  const p = get('PATCHLEVEL');
  if (!v || !p) throw new UserError(`--kernel-source ${root}: its Makefile names no VERSION/PATCHLEVEL`, { hint: 'point it at a Linux source tree' });
  return `${v}.${p}.${get('SUBLEVEL') || '0'}`;
}

/**
 * The width of the leading blanks of the line text[start, end) (a tab to the next multiple of
 * 8); -1 for a blank line. Reads the text in place: help text, most of a Kconfig file, is
 * skipped without making a string of each line.
 */
function indentWidth(text: string, start: number, end: number): number {
  let w = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) w++;
    else if (c === 9) w = w - (w % 8) + 8;
    // Past the blanks: a visible ASCII character ends it, anything else (\r, \f, a no-break
    // space) is blank if trim() says so.
    else return (c > 32 && c < 127) || text.slice(i, end).trim() !== '' ? w : -1;
  }
  return -1;
}

function firstQuoted(s: string): { text: string; rest: string } | undefined {
  const m = /^\s*"((?:[^"\\]|\\.)*)"(.*)$/.exec(s) ?? /^\s*'((?:[^'\\]|\\.)*)'(.*)$/.exec(s);
  return m ? { text: m[1], rest: m[2] } : undefined;
}

function ifCond(rest: string): string | undefined {
  const m = /^\s*if\s+(.+)$/.exec(rest);
  return m ? m[1].trim() : undefined;
}

/** Reads every Kconfig file reachable from the tree's top Kconfig for this arch. */
export function readKconfigTree(root: string, arch: KernelArch, texts?: Map<string, string>): KconfigTree {
  const { srcarch, arch: kbuildArch } = KBUILD_ARCH[arch];
  const vars: Record<string, string> = { SRCARCH: srcarch, ARCH: kbuildArch, srctree: '.', HEADER_ARCH: srcarch };
  const tree: KconfigTree = { root, srcarch, version: kernelTreeVersion(root), defs: new Map(), selects: new Map(), inputs: { files: [], dirs: [] } };
  if (!fs.existsSync(path.join(root, 'Kconfig'))) {
    throw new UserError(`--kernel-source ${root}: no top-level Kconfig file`, { hint: 'point it at the top of a Linux source tree' });
  }
  type Block = { kind: 'if' | 'menu' | 'choice'; deps: string[]; at: Where; choice?: KconfigChoice };
  const stack: Block[] = [];
  const seen = new Set<string>();
  // The context of the entries at this point: one array shared by every entry until the stack
  // (or a block's depends on) changes.
  let ctx: KconfigSymbolDef['context'] | undefined;
  const context = (): KconfigSymbolDef['context'] => {
    if (ctx) return ctx;
    ctx = [];
    for (const b of stack) {
      const expr = b.deps.join(' && ');
      if (expr) ctx.push({ kind: b.kind, expr, at: b.at });
    }
    return ctx;
  };

  const expand = (p: string) => p.replace(/\$\((\w+)\)|\$(\w+)/g, (_, a, b) => vars[a ?? b] ?? '');

  type Cur = { kind: 'config'; def: KconfigSymbolDef } | { kind: 'choice'; block: Block } | { kind: 'menu'; block: Block } | { kind: 'other' };
  const OTHER: Cur = { kind: 'other' };
  // The entry the lines belong to, and whether they are help text (lines indented at least
  // helpIndent, once known), in the file being read.
  let cur: Cur = OTHER;
  let helpIndent = -1;
  let inHelp = false;

  // One entry line (its first word and the rest), in the file being read.
  const entry = (word: string, rest: string, rel: string, startLine: number): void => {
    const here: Where = { file: rel, line: startLine };
    switch (word) {
      case 'config':
      case 'menuconfig': {
        const def: KconfigSymbolDef = {
          symbol: rest.trim(), file: rel, line: startLine, type: undefined, prompts: [], dependsOn: [],
          context: context(), choice: undefined, defaults: [], ranges: [],
        };
        const ch = stack[stack.length - 1];
        if (ch?.kind === 'choice' && ch.choice) {
          def.choice = ch.choice;
          ch.choice.members.push(def.symbol);
        }
        const list = tree.defs.get(def.symbol) ?? [];
        list.push(def);
        tree.defs.set(def.symbol, list);
        cur = { kind: 'config', def };
        break;
      }
      case 'choice': {
        const block: Block = { kind: 'choice', deps: [], at: here, choice: { prompt: '', ...here, dependsOn: [], members: [], defaults: [] } };
        stack.push(block);
        ctx = undefined;
        cur = { kind: 'choice', block };
        break;
      }
      case 'menu': {
        const block: Block = { kind: 'menu', deps: [], at: here, choice: undefined };
        stack.push(block);
        ctx = undefined;
        cur = { kind: 'menu', block };
        break;
      }
      case 'if': {
        stack.push({ kind: 'if', deps: [rest.trim()], at: here, choice: undefined });
        ctx = undefined;
        cur = OTHER;
        break;
      }
      case 'endchoice':
      case 'endmenu':
      case 'endif':
        stack.pop();
        ctx = undefined;
        cur = OTHER;
        break;
      case 'comment':
      case 'mainmenu':
        cur = OTHER;
        break;
      case 'source':
      case 'rsource':
      case 'osource':
      case 'orsource': {
        const q = firstQuoted(rest);
        if (!q) break;
        let target = expand(q.text);
        if (word === 'rsource' || word === 'orsource') target = path.join(path.dirname(rel), target);
        target = path.normalize(target);
        if (target.includes('*')) {
          for (const f of globOne(root, target, tree.inputs.dirs)) readFile(f);
        } else {
          readFile(target);
        }
        break;
      }
      case 'help':
      case '---help---':
        inHelp = true;
        helpIndent = -1;
        break;
      case 'bool':
      case 'boolean':
      case 'tristate':
      case 'string':
      case 'int':
      case 'hex':
      case 'def_bool':
      case 'def_tristate': {
        if (cur.kind !== 'config' && cur.kind !== 'choice') break;
        if (cur.kind === 'config') {
          const type = word.replace('def_', '').replace('boolean', 'bool') as SymbolType;
          cur.def.type = type;
          if (word.startsWith('def_')) {
            const m = /^(.+?)(?:\s+if\s+(.+))?$/.exec(rest.trim());
            if (m) cur.def.defaults.push({ value: m[1], cond: m[2] });
          } else {
            const q = firstQuoted(rest);
            if (q) cur.def.prompts.push({ text: q.text, cond: ifCond(q.rest) });
          }
        } else {
          const q = firstQuoted(rest);
          if (q && cur.block.choice) cur.block.choice.prompt = q.text;
        }
        break;
      }
      case 'prompt': {
        const q = firstQuoted(rest);
        if (!q) break;
        if (cur.kind === 'config') cur.def.prompts.push({ text: q.text, cond: ifCond(q.rest) });
        else if (cur.kind === 'choice' && cur.block.choice) cur.block.choice.prompt = q.text;
        break;
      }
      case 'depends': {
        const expr = rest.replace(/^on\s+/, '').trim();
        if (cur.kind === 'config') cur.def.dependsOn.push(expr);
        else if (cur.kind === 'choice' || cur.kind === 'menu') {
          cur.block.deps.push(expr);
          cur.block.choice?.dependsOn.push(expr);
          ctx = undefined;
        }
        break;
      }
      case 'select':
      case 'imply': {
        if (cur.kind !== 'config') break;
        const m = /^(\w+)(?:\s+if\s+(.+))?$/.exec(rest.trim());
        if (!m) break;
        const list = tree.selects.get(m[1]) ?? [];
        list.push({ by: cur.def.symbol, kind: word, cond: m[2], ...here });
        tree.selects.set(m[1], list);
        break;
      }
      case 'default': {
        const m = /^(.+?)(?:\s+if\s+(.+))?$/.exec(rest.trim());
        if (!m) break;
        if (cur.kind === 'config') cur.def.defaults.push({ value: m[1], cond: m[2] });
        else if (cur.kind === 'choice') cur.block.choice?.defaults.push({ value: m[1], cond: m[2] });
        break;
      }
      case 'range': {
        if (cur.kind !== 'config') break;
        const m = /^(\S+)\s+(\S+)(?:\s+if\s+(.+))?$/.exec(rest.trim());
        if (m) cur.def.ranges.push({ min: m[1], max: m[2], cond: m[3] });
        break;
      }
      default:
        break;
    }
  };

  const readFile = (rel: string) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    tree.inputs.files.push(rel);
    let text = texts?.get(rel);
    if (text === undefined) {
      try {
        text = fs.readFileSync(path.join(root, rel), 'utf8');
      } catch {
        return;
      }
    }
    const src = text;
    const n = src.length;
    // A sourced file starts afresh and its includer goes on where it was.
    const outer = { cur, helpIndent, inHelp };
    cur = OTHER;
    helpIndent = -1;
    inHelp = false;
    // Line by line as text.split('\n') gives them (a final newline ends in an empty line).
    let lineNo = 0;
    for (let pos = 0, end = 0; pos <= n; pos = end + 1) {
      end = src.indexOf('\n', pos);
      if (end < 0) end = n;
      lineNo++;
      if (inHelp) {
        const w = indentWidth(src, pos, end);
        if (w < 0) continue;
        if (helpIndent < 0) helpIndent = w;
        if (w >= helpIndent && w > 0) continue;
        inHelp = false;
      }
      const startLine = lineNo;
      let line = src.slice(pos, end);
      while (line.endsWith('\\') && end < n) {
        const next = end + 1;
        end = src.indexOf('\n', next);
        if (end < 0) end = n;
        lineNo++;
        line = line.slice(0, -1) + src.slice(next, end);
      }
      const t = stripComment(line).trim();
      if (t === '') continue;
      let sp = 0;
      while (sp < t.length && t.charCodeAt(sp) > 32) sp++;
      const word = t.slice(0, sp);
      const rest = sp < t.length ? t.slice(sp).trimStart() : '';
      entry(word, rest, rel, startLine);
    }
    ({ cur, helpIndent, inHelp } = outer);
  };
  readFile('Kconfig');
  return tree;
}

/** Drops a trailing # comment, but not a # inside a quoted prompt ("#!" scripts). */
function stripComment(line: string): string {
  if (!line.includes('#')) return line;
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#') {
      return line.slice(0, i);
    }
  }
  return line;
}

function globOne(root: string, pattern: string, listed?: string[]): string[] {
  const parts = pattern.split('/');
  let paths = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const p of paths) {
      if (!part.includes('*')) {
        next.push(p ? `${p}/${part}` : part);
        continue;
      }
      const re = new RegExp(`^${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      let names: string[] = [];
      listed?.push(p);
      try {
        names = fs.readdirSync(path.join(root, p)).sort();
      } catch {
        /* no such directory */
      }
      for (const n of names) if (re.test(n)) next.push(p ? `${p}/${n}` : n);
    }
    paths = next;
  }
  return paths.filter((p) => fs.existsSync(path.join(root, p)));
}

// ---- Kconfig expressions, evaluated on a resolved config (tristate logic: n=0, m=1, y=2) ----

type Tok = { t: 'sym' | 'str' | 'op'; v: string };

function tokenize(expr: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c)) { i++; continue; }
    const two = expr.slice(i, i + 2);
    if (['&&', '||', '!=', '<=', '>='].includes(two)) { out.push({ t: 'op', v: two }); i += 2; continue; }
    if ('!()=<>'.includes(c)) { out.push({ t: 'op', v: c }); i++; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < expr.length && expr[j] !== c) { if (expr[j] === '\\') j++; s += expr[j] ?? ''; j++; }
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    const m = /^[A-Za-z0-9_.$-]+/.exec(expr.slice(i));
    if (m) { out.push({ t: 'sym', v: m[0] }); i += m[0].length; continue; }
    i++;
  }
  return out;
}

/** Evaluates a Kconfig expression against a config: 0 (n), 1 (m) or 2 (y). Unknown syntax gives 0. */
export function evalExpr(expr: string, config: Map<string, KconfigValue>): number {
  const toks = tokenize(expr);
  let pos = 0;
  const peek = () => toks[pos];
  const strOf = (tok: Tok): string => {
    if (tok.t === 'str') return tok.v;
    const v = config.get(tok.v);
    if (v) return 'value' in v ? v.value : v.kind;
    if (tok.v === 'y' || tok.v === 'm' || tok.v === 'n') return tok.v;
    if (/^-?(0x)?[0-9a-fA-F]+$/.test(tok.v)) return tok.v;
    return 'n';
  };
  const tri = (s: string) => (s === 'y' ? 2 : s === 'm' ? 1 : 0);
  const num = (s: string) => (/^0x/i.test(s) ? parseInt(s, 16) : Number(s));
  const primary = (): number => {
    const tok = toks[pos++];
    if (!tok) return 0;
    if (tok.t === 'op' && tok.v === '!') return 2 - primary();
    if (tok.t === 'op' && tok.v === '(') {
      const v = orExpr();
      if (peek()?.v === ')') pos++;
      return v;
    }
    if (tok.t === 'op') return 0;
    const nextTok = peek();
    if (nextTok?.t === 'op' && ['=', '!=', '<', '<=', '>', '>='].includes(nextTok.v)) {
      pos++;
      const rhs = toks[pos++];
      if (!rhs) return 0;
      const a = strOf(tok);
      const b = strOf(rhs);
      const na = num(a);
      const nb = num(b);
      const numeric = !Number.isNaN(na) && !Number.isNaN(nb) && !['y', 'm', 'n'].includes(a);
      switch (nextTok.v) {
        case '=': return a === b ? 2 : 0;
        case '!=': return a !== b ? 2 : 0;
        case '<': return numeric && na < nb ? 2 : 0;
        case '<=': return numeric && na <= nb ? 2 : 0;
        case '>': return numeric && na > nb ? 2 : 0;
        default: return numeric && na >= nb ? 2 : 0;
      }
    }
    return tri(strOf(tok));
  };
  const andExpr = (): number => {
    let v = primary();
    while (peek()?.v === '&&') { pos++; v = Math.min(v, primary()); }
    return v;
  };
  const orExpr = (): number => {
    let v = andExpr();
    while (peek()?.v === '||') { pos++; v = Math.max(v, andExpr()); }
    return v;
  };
  return orExpr();
}

const TRI = ['n', 'm', 'y'];

/** KernelKnowledge over a parsed tree: existence, type, prompt, and the "why" of a dropped value. */
export function treeKnowledge(tree: KconfigLookup): KernelKnowledge {
  const defsOf = (s: string) => tree.defs.get(s) ?? [];
  const state = (expr: string, config: Map<string, KconfigValue>) => TRI[evalExpr(expr, config)];
  return {
    hasSymbol: (s) => defsOf(s).length > 0,
    symbolType: (s) => defsOf(s).find((d) => d.type)?.type,
    hasPrompt: (s) => defsOf(s).some((d) => d.prompts.length > 0),
    explain(symbol, config) {
      const out: string[] = [];
      for (const d of defsOf(symbol)) {
        out.push(`defined at ${d.file}:${d.line}${d.type ? ` (${d.type})` : ''}`);
        if (d.prompts.length === 0) out.push('  has no prompt: only a select or a default can set it');
        for (const p of d.prompts) if (p.cond) out.push(`  prompt "${p.text}" only if ${p.cond} — ${state(p.cond, config)} here`);
        for (const dep of d.dependsOn) out.push(`  depends on ${dep} — ${state(dep, config)} here`);
        for (const c of d.context) out.push(`  inside ${c.kind} at ${c.at.file}:${c.at.line}: depends on ${c.expr} — ${state(c.expr, config)} here`);
        if (d.choice) {
          out.push(`  member of choice "${d.choice.prompt}" (${d.choice.file}:${d.choice.line}): one member only; another set member or the choice default wins`);
        }
      }
      const sel = tree.selects.get(symbol) ?? [];
      if (sel.length) {
        const shown = sel.slice(0, 8).map((s) => `${s.by}${s.cond ? ` if ${s.cond}` : ''} (${s.file}:${s.line}, ${s.by} is ${fmt(config.get(s.by))})`);
        out.push(`  ${sel[0].kind === 'imply' && sel.every((s) => s.kind === 'imply') ? 'implied' : 'selected'} by: ${shown.join('; ')}${sel.length > 8 ? `; and ${sel.length - 8} more` : ''}`);
      }
      return out;
    },
    cause(symbol, asked, config) {
      const defs = defsOf(symbol);
      if (defs.length === 0) return undefined;
      const have = config.get(symbol);
      const now = (e: string) => `${e} is ${state(e, config)} here${valuesIn(e, config)}`;
      // 1. Not visible: an unmet depends on (own or of the enclosing if/menu/choice).
      const visible = defs.filter((d) => [...d.dependsOn, ...d.context.map((c) => c.expr)].every((e) => evalExpr(e, config) > 0));
      if (visible.length === 0) {
        const d = defs[0];
        const unmet = [...d.dependsOn, ...d.context.map((c) => c.expr)].filter((e) => evalExpr(e, config) === 0);
        return { message: `CONFIG_${symbol} depends on ${unmet.join(' && ')}, and ${unmet.map(now).join('; ')}`, fix: `make ${unmet.join(' && ')} true in the same build, or remove the line if it cannot be on this arch` };
      }
      // 2. Forced on by a select (or an imply for a value below it).
      const tri = (v?: KconfigValue) => (v?.kind === 'y' ? 2 : v?.kind === 'm' ? 1 : 0);
      if (tri(have) > tri(asked) && (asked.kind === 'n' || asked.kind === 'm')) {
        const forcing = (tree.selects.get(symbol) ?? []).filter((x) => tri(config.get(x.by)) > 0 && (!x.cond || evalExpr(x.cond, config) > 0));
        const sel = forcing.filter((x) => x.kind === 'select');
        if (sel.length) {
          return {
            message: `${sel.slice(0, 4).map((x) => `CONFIG_${x.by}=${fmt(config.get(x.by))} selects it (${x.file}:${x.line})`).join('; ')}${sel.length > 4 ? ` and ${sel.length - 4} more` : ''}: a select forces CONFIG_${symbol} to ${fmt(have)} whatever the fragment says`,
            fix: `remove the line, or turn off ${[...new Set(sel.map((x) => `CONFIG_${x.by}`))].slice(0, 4).join(' and ')} if you really need CONFIG_${symbol} off`,
          };
        }
      }
      // 3. A member of a choice: another member is set, or the choice's default wins.
      const ch = visible.find((d) => d.choice)?.choice;
      if (ch) {
        const other = ch.members.filter((m) => m !== symbol && config.get(m)?.kind === 'y');
        if (other.length && asked.kind === 'y') {
          return {
            message: `CONFIG_${symbol} is a member of the choice "${ch.prompt}" (${ch.file}:${ch.line}), which takes one member only: it ended with CONFIG_${other[0]}=y`,
            fix: `set one member of the choice only: remove CONFIG_${other[0]}=y (or this line) from the fragments`,
          };
        }
        if (asked.kind === 'n' && have?.kind === 'y') {
          return {
            message: `CONFIG_${symbol} is a member of the choice "${ch.prompt}" (${ch.file}:${ch.line}), which must pick one member: with no other member set to y it picks CONFIG_${symbol} (its default)`,
            fix: `to leave CONFIG_${symbol} off, set another member of the choice to y (${ch.members.filter((m) => m !== symbol).slice(0, 4).map((m) => `CONFIG_${m}`).join(', ')})`,
          };
        }
      }
      // 4. No prompt (or a prompt whose condition is false): only selects and defaults set it.
      const prompts = visible.flatMap((d) => d.prompts);
      if (prompts.length === 0) {
        const sel = (tree.selects.get(symbol) ?? []).filter((x) => x.kind === 'select').map((x) => x.by);
        return {
          message: `CONFIG_${symbol} has no prompt, so Kconfig ignores the fragment's line: only a select or a default sets it${sel.length ? ` (selected by ${[...new Set(sel)].slice(0, 5).join(', ')})` : ''}; it ended as ${fmt(have)}`,
          fix: sel.length ? `set one of the symbols that select it instead (${[...new Set(sel)].slice(0, 5).map((x) => `CONFIG_${x}=y`).join(', ')}), and remove this line` : 'remove the line',
        };
      }
      if (prompts.every((p) => p.cond && evalExpr(p.cond, config) === 0)) {
        const c = prompts.find((p) => p.cond)!.cond!;
        return {
          message: `CONFIG_${symbol} has a prompt only if ${c}, and ${now(c)}: Kconfig ignores the fragment's line and keeps the default ${fmt(have)}`,
          fix: `make ${c} true in the same build (e.g. CONFIG_EXPERT=y), or remove the line`,
        };
      }
      // 5. An int/hex outside its range.
      if ((asked.kind === 'int' || asked.kind === 'hex') && have && 'value' in have) {
        for (const d of visible) {
          for (const r of d.ranges) {
            if (r.cond && evalExpr(r.cond, config) === 0) continue;
            const num = (x: string) => {
              const v = config.get(x);
              const t = v && 'value' in v ? v.value : x;
              return d.type === 'hex' ? hexNum(t) : Number(t);
            };
            const want = d.type === 'hex' ? hexNum(asked.value) : Number(asked.value);
            if (want < num(r.min) || want > num(r.max)) {
              const bound = (x: string) => {
                const v = config.get(x);
                return v && 'value' in v ? `${x} (${v.value})` : x;
              };
              return {
                message: `CONFIG_${symbol} has range ${bound(r.min)} ${bound(r.max)}${r.cond ? ` if ${r.cond}` : ''} (${d.file}:${d.line}): ${asked.value} is outside it, so Kconfig uses ${formatValue(have)}`,
                fix: `give a value from ${bound(r.min)} to ${bound(r.max)}`,
              };
            }
          }
        }
      }
      return undefined;
    },
    suggestFix(symbol, config) {
      const defs = defsOf(symbol);
      if (defs.length === 0) return undefined;
      if (defs.every((d) => d.prompts.length === 0)) {
        const sel = (tree.selects.get(symbol) ?? []).filter((s) => s.kind === 'select').map((s) => s.by);
        if (sel.length) return `it has no prompt: set one of the symbols that select it instead (${[...new Set(sel)].slice(0, 5).join(', ')})`;
        return 'it has no prompt: remove the line';
      }
      const unmet = defs.flatMap((d) => [...d.dependsOn, ...d.context.map((c) => c.expr)]).filter((e) => evalExpr(e, config) === 0);
      if (unmet.length) return `make its dependencies true (${unmet.join(' && ')}), or remove the line if they cannot be on this arch`;
      return undefined;
    },
  };
}

function fmt(v: KconfigValue | undefined): string {
  return v ? formatValue(v) : 'n';
}

function hexNum(t: string): number {
  return parseInt(t.replace(/^0x/i, ''), 16);
}

/** The symbols of an expression with their values here: " (X86_32=n, HIGHMEM=n)". */
function valuesIn(expr: string, config: Map<string, KconfigValue>): string {
  const syms = [...new Set(tokenize(expr).filter((t) => t.t === 'sym' && /^[A-Z0-9_]+$/.test(t.v) && !/^\d/.test(t.v)).map((t) => t.v))];
  return syms.length ? ` (${syms.slice(0, 6).map((x) => `${x}=${fmt(config.get(x))}`).join(', ')})` : '';
}

// ---- running the kernel's own Kconfig ----

/** A fragment as the user wrote it: merge_config.sh appends the file's text verbatim. */
export interface FragmentText {
  file: string;
  text: string;
}

export interface ResolveOptions {
  tree: string;
  arch: KernelArch;
  /** The base config's text (a full .config); the .config `make <arch defconfig>` writes when absent. */
  baseConfig?: { text: string; file: string };
  fragments: FragmentText[];
  /** Where the built kconfig tools are kept between runs. */
  cacheDir?: string;
}

export interface Resolved {
  config: ParsedFragment;
  /** The resolved .config, byte for byte as the kernel's conf wrote it. */
  text: string;
  /** What conf said about the merged file (`.config:N:warning: ...`), line numbers of the merged file. */
  warnings: string[];
  /** What was run, for messages and the report. */
  steps: string[];
}

/** Where built `conf` binaries are cached (one per tree and arch). */
export function defaultCacheDir(): string {
  return process.env.KDUMP_LAYER_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'kdump-layer');
}

function runSync(cmd: string, args: string[], what: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
  checkRun(cmd, args, what, r.error, r.status, `${r.stderr ?? ''}${r.stdout ?? ''}`);
}

function checkRun(cmd: string, args: string[], what: string, error: Error | undefined, status: number | null, output: string): void {
  if (error) {
    throw new UserError(`could not run ${cmd} for ${what}: ${error.message}`, { hint: 'the --kernel-source mode needs make, gcc, flex and bison' });
  }
  if (status !== 0) {
    const tail = output.trim().split('\n').slice(-8).join('\n  ');
    throw new UserError(`${what} failed (${path.basename(cmd)} ${args.join(' ')}):\n  ${tail}`, {
      hint: 'check that --kernel-source is a complete, unbuilt Linux tree and that make, gcc, flex and bison are installed',
    });
  }
}

export interface BuiltKconfig {
  /** The output directory conf was built in (one per tree and arch). */
  objDir: string;
  /** The tree's scripts/kconfig/conf, built outside the tree. */
  conf: string;
  /** The full .config `make <arch defconfig>` wrote: the base the kernel flow merges into. */
  defconfig: string;
  /** The toolchain found when this run built conf (asked again by runConf otherwise). */
  tools?: Toolchain;
}

/**
 * Runs `make O=<cache> ARCH=<arch> <arch defconfig>` once per tree and arch (the tree itself is
 * never written): that builds the tree's scripts/kconfig/conf and writes the full .config the
 * kernel flow starts from. Both are kept in the cache.
 */
export function buildConf(treeAbs: string, arch: KernelArch, cacheDir?: string): BuiltKconfig {
  const { objDir, conf, defconfig, make } = confPaths(treeAbs, arch, cacheDir);
  if (fs.existsSync(conf) && fs.existsSync(defconfig)) return { objDir, conf, defconfig };
  fs.mkdirSync(objDir, { recursive: true });
  let tools: Toolchain | undefined;
  withLock(path.join(objDir, '.lock'), () => {
    if (fs.existsSync(conf) && fs.existsSync(defconfig)) return;
    tools = toolchain(objDir);
    runSync('make', [...make.args, `CC=${tools.probes.cc}`], make.what, { env: tools.probes.env });
    keepDefconfig(objDir, defconfig);
  });
  return { objDir, conf, defconfig, tools };
}

/** conf and the defconfig's .config when a run has built them for this tree and arch. */
export function builtConf(treeAbs: string, arch: KernelArch, cacheDir?: string): BuiltKconfig | undefined {
  const { objDir, conf, defconfig } = confPaths(treeAbs, arch, cacheDir);
  return fs.existsSync(conf) && fs.existsSync(defconfig) ? { objDir, conf, defconfig } : undefined;
}

/** buildConf without blocking: the caller reads the Kconfig files while make builds conf. */
export async function buildConfAsync(treeAbs: string, arch: KernelArch, cacheDir?: string): Promise<BuiltKconfig> {
  const { objDir, conf, defconfig, make } = confPaths(treeAbs, arch, cacheDir);
  if (fs.existsSync(conf) && fs.existsSync(defconfig)) return { objDir, conf, defconfig };
  fs.mkdirSync(objDir, { recursive: true });
  const lockDir = path.join(objDir, '.lock');
  // Uncontended, make starts before this function first yields, so the caller's work overlaps it.
  if (!tryLock(lockDir, Date.now() + LOCK_STALE_MS)) await lockAsync(lockDir);
  let tools: Toolchain | undefined;
  try {
    if (!(fs.existsSync(conf) && fs.existsSync(defconfig))) {
      tools = toolchain(objDir);
      await runAsync('make', [...make.args, `CC=${tools.probes.cc}`], make.what, tools.probes.env);
      keepDefconfig(objDir, defconfig);
    }
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
  return { objDir, conf, defconfig, tools };
}

function confPaths(treeAbs: string, arch: KernelArch, cacheDir?: string) {
  const kb = KBUILD_ARCH[arch];
  const key = crypto.createHash('sha256').update(`${treeAbs}\0${kb.arch}\0${kb.defconfig}\0${statKey(treeAbs)}`).digest('hex').slice(0, 16);
  const objDir = path.join(path.resolve(cacheDir ?? defaultCacheDir()), `kconfig-${key}`);
  return {
    objDir, conf: path.join(objDir, 'scripts/kconfig/conf'), defconfig: path.join(objDir, 'defconfig.config'),
    make: { args: ['-s', '-C', treeAbs, `O=${objDir}`, `ARCH=${kb.arch}`, kb.defconfig], what: `make ${kb.defconfig} (builds the kernel's kconfig tool for ${arch})` },
  };
}

function keepDefconfig(objDir: string, defconfig: string): void {
  writeAtomic(defconfig, fs.readFileSync(path.join(objDir, '.config'), 'utf8'), 0o644);
}

function runAsync(cmd: string, args: string[], what: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => {
      try {
        checkRun(cmd, args, what, e, null, output);
      } catch (err) {
        reject(err);
      }
    });
    child.on('close', (code) => {
      try {
        checkRun(cmd, args, what, undefined, code, output);
        resolve();
      } catch (err) {
        reject(err);
      }
    });
  });
}

interface Toolchain {
  cross: string;
  cc: string;
  versionText: string;
  probes: ProbeCache;
}

/**
 * The C compiler the kernel's Makefile would use ($CROSS_COMPILE gcc unless $CC names one), its
 * first --version line (CC_VERSION_TEXT), and the remembered Kconfig probes for it in objDir.
 */
function toolchain(objDir: string): Toolchain {
  const cross = process.env.CROSS_COMPILE ?? '';
  const cc = process.env.CC ?? `${cross}gcc`;
  const words = cc.split(' ');
  const ccVersion = spawnSync(words[0], [...words.slice(1), '--version'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (ccVersion.error) {
    // What the Kconfig files would say ("C compiler ... not found"), before conf reads them
    // through the probe wrapper, which does exist.
    throw new UserError(`C compiler '${cc}' not found (${ccVersion.error.message})`, {
      hint: `the --kernel-source mode needs make, gcc, flex and bison; ${process.env.CC !== undefined ? 'check $CC' : process.env.CROSS_COMPILE ? 'check $CROSS_COMPILE' : 'install gcc'}`,
    });
  }
  const versionText = (ccVersion.stdout ?? '').split('\n')[0] ?? '';
  return { cross, cc, versionText, probes: probeCache(objDir, cc, versionText) };
}

/**
 * The environment the kernel's top Makefile gives conf; Kconfig files read these as $(VAR).
 * $(CC) is the probe wrapper (see probe-cache.ts), which runs the compiler itself.
 */
export function confEnv(treeAbs: string, arch: KernelArch, version: string, built: BuiltKconfig): NodeJS.ProcessEnv {
  const kb = KBUILD_ARCH[arch];
  const { cross, versionText, probes } = built.tools ?? toolchain(built.objDir);
  const env: NodeJS.ProcessEnv = {
    srctree: treeAbs, objtree: '.', ARCH: kb.arch, SRCARCH: kb.srcarch, HEADER_ARCH: kb.srcarch, KERNELVERSION: version,
    CC: probes.cc, LD: process.env.LD ?? `${cross}ld`, NM: `${cross}nm`, OBJCOPY: `${cross}objcopy`, HOSTCC: 'gcc', HOSTCXX: 'g++',
    CC_VERSION_TEXT: versionText, CLANG_FLAGS: '', USERCFLAGS: '', USERLDFLAGS: '',
    RUSTC: 'rustc', BINDGEN: 'bindgen', PAHOLE: 'pahole', CROSS_COMPILE: cross, CROSS_COMPILE_COMPAT: '',
    ...probes.env,
  };
  return env;
}

/** The arch's defconfig as shipped in the tree (the minimal text `make defconfig` starts from). */
export function treeDefconfig(treeAbs: string, arch: KernelArch): { text: string; file: string } {
  const kb = KBUILD_ARCH[arch];
  const rel = `arch/${kb.srcarch}/configs/${kb.defconfig}`;
  try {
    return { text: fs.readFileSync(path.join(treeAbs, rel), 'utf8'), file: rel };
  } catch {
    throw new UserError(`--kernel-source: ${rel} not found`, { hint: 'give the base config with --config' });
  }
}

/** KERNELVERSION as the top Makefile builds it: VERSION.PATCHLEVEL.SUBLEVEL plus EXTRAVERSION. */
export function kernelReleaseVersion(root: string): string {
  const base = kernelTreeVersion(root);
  let extra = '';
  try {
    extra = /^EXTRAVERSION\s*=[ \t]*(\S*)/m.exec(fs.readFileSync(path.join(root, 'Makefile'), 'utf8').slice(0, 4000))?.[1] ?? '';
  } catch { /* kernelTreeVersion reported it */ }
  return `${base}${extra}`;
}

/** Where conf looks for auto.conf, relative to its working directory (its default). */
const AUTOCONF = 'include/config/auto.conf';

/** conf, run on a config file in a directory outside the tree; resolves with its output. */
export function runConf(treeAbs: string, arch: KernelArch, built: BuiltKconfig, work: string, args: string[]): Promise<string> {
  const conf = built.conf;
  const env = { ...process.env, ...confEnv(treeAbs, arch, kernelReleaseVersion(treeAbs), built), KCONFIG_CONFIG: '.config', KCONFIG_AUTOCONFIG: AUTOCONF };
  return new Promise<string>((resolve, reject) => {
    const child = spawn(conf, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => reject(e));
    child.on('close', (code) => {
      try {
        checkRun(conf, args, `olddefconfig for ${arch}`, undefined, code, output);
        resolve(output);
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Resolves the fragments with the kernel's own Kconfig, exactly as `make <arch defconfig>`,
 * `scripts/kconfig/merge_config.sh -m` and `make olddefconfig` do: the base (given, else the
 * full .config the arch defconfig gives) merged with the fragments' text, then one
 * `conf --olddefconfig` pass in a temporary directory outside the tree. Resolves
 * asynchronously so the caller can read the Kconfig files meanwhile.
 */
export async function resolveWithKernel(opts: ResolveOptions): Promise<Resolved> {
  const treeAbs = path.resolve(opts.tree);
  // Built already: conf starts before this function first yields (the caller reads Kconfig meanwhile).
  const built = builtConf(treeAbs, opts.arch, opts.cacheDir) ?? await buildConfAsync(treeAbs, opts.arch, opts.cacheDir);
  const base = opts.baseConfig ?? { text: fs.readFileSync(built.defconfig, 'utf8'), file: `make ${KBUILD_ARCH[opts.arch].defconfig}` };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-kconfig-'));
  try {
    fs.writeFileSync(path.join(work, '.config'), mergeConfig(base.text, opts.fragments));
    // After writing .config, conf writes auto.conf, autoconf.h and one file per symbol under
    // include/config (some 1 600) for the build, unless auto.conf exists already (as it does in
    // a reused O= directory). Nothing here reads them: an empty auto.conf saves writing them.
    fs.mkdirSync(path.join(work, 'include/config'), { recursive: true });
    fs.writeFileSync(path.join(work, AUTOCONF), '');
    const output = await runConf(treeAbs, opts.arch, built, work, ['-s', '--olddefconfig', 'Kconfig']);
    const text = fs.readFileSync(path.join(work, '.config'), 'utf8');
    return {
      config: parseFragment(text, `.config (olddefconfig, ${opts.arch})`),
      text,
      warnings: output.split('\n').filter((l) => /:warning:/.test(l)),
      steps: [`base: ${base.file}`, `merged like merge_config.sh -m: ${opts.fragments.map((f) => f.file).join(', ') || 'no fragments'}`, 'scripts/kconfig/conf --olddefconfig Kconfig'],
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function statKey(treeAbs: string): string {
  try {
    const st = fs.statSync(path.join(treeAbs, 'Makefile'));
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return '';
  }
}

/**
 * merge_config.sh's merge, to the byte: for each fragment, every symbol it names on a
 * `CONFIG_X=...` line or an exact `# CONFIG_X is not set` line has every line containing
 * `CONFIG_X=` or `CONFIG_X ` deleted from the file so far (when the file holds the word
 * CONFIG_X at all) — even when the fragment's value is then rejected by Kconfig; then a blank
 * line and the fragment's text, verbatim, are appended.
 */
export function mergeConfig(base: string, fragments: { text: string }[]): string {
  let lines = splitLines(base);
  for (const f of fragments) {
    const fl = splitLines(f.text);
    const names: string[] = [];
    for (const l of fl) {
      const m = /^(CONFIG_[a-zA-Z0-9_]*)=/.exec(l) ?? /^# (CONFIG_[a-zA-Z0-9_]*) is not set$/.exec(l);
      if (m) names.push(m[1]);
    }
    for (const name of names) {
      const word = new RegExp(`(^|[^A-Za-z0-9_])${name}($|[^A-Za-z0-9_])`);
      if (!lines.some((l) => word.test(l))) continue;
      const del = new RegExp(`${name}[ =]`);
      lines = lines.filter((l) => !del.test(l));
    }
    lines.push('', ...fl);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Lines as sed and cat see them: a final line without a newline is still a line. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const LOCK_STALE_MS = 10 * 60 * 1000;

/** One try at the lock (mkdir is atomic); a lock older than LOCK_STALE_MS is left over and removed. */
function tryLock(lockDir: string, deadline: number): boolean {
  try {
    fs.mkdirSync(lockDir);
    return true;
  } catch {
    try {
      const age = Date.now() - fs.statSync(lockDir).mtimeMs;
      if (age > LOCK_STALE_MS) fs.rmSync(lockDir, { recursive: true, force: true });
    } catch { /* gone meanwhile */ }
    if (Date.now() > deadline) throw new UserError(`timed out waiting for ${lockDir}`, { hint: 'remove it if no other kdump-layer runs' });
    return false;
  }
}

/** A simple cross-process lock, so parallel runs do not share the obj dir at once. */
function withLock(lockDir: string, fn: () => void): void {
  const deadline = Date.now() + LOCK_STALE_MS;
  while (!tryLock(lockDir, deadline)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  try {
    fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

async function lockAsync(lockDir: string): Promise<void> {
  const deadline = Date.now() + LOCK_STALE_MS;
  while (!tryLock(lockDir, deadline)) await new Promise((r) => setTimeout(r, 100));
}
