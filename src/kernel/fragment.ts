/**
 * Kconfig fragment and .config lines: one printer, one parser. The parser follows what the
 * kernel's own reader (scripts/kconfig/confdata.c, conf_read_simple) does with each line, so
 * every line it flags is one Kconfig would silently drop or misread.
 */

export type KconfigValue =
  | { kind: 'y' | 'm' | 'n' }
  | { kind: 'string'; value: string }
  | { kind: 'int' | 'hex'; value: string };

export interface FragmentEntry {
  /** Symbol name without the CONFIG_ prefix. */
  symbol: string;
  value: KconfigValue;
  /** Why this line is there, one line; printed as a `# ...` line above the entry. */
  comment?: string;
}

/** An entry as read from a file, with where it was read. */
export interface ParsedEntry extends FragmentEntry {
  file: string;
  line: number;
  raw: string;
  /** The text after '=' as Kconfig sees it (CR stripped); absent on `is not set` lines. */
  rawValue?: string;
}

export type SyntaxCode =
  | 'malformed'
  | 'not-set-variant'
  | 'commented-assignment'
  | 'bad-quoting'
  | 'bad-value'
  | 'empty-value'
  | 'unquoted-string'
  | 'trailing-text'
  | 'missing-prefix'
  | 'whitespace'
  | 'two-settings'
  | 'first-letter'
  | 'byte-order-mark'
  | 'crlf';

/** A line Kconfig would drop or misread. */
export interface SyntaxProblem {
  file: string;
  line: number;
  severity: 'error' | 'warning' | 'info';
  code: SyntaxCode;
  symbol?: string;
  raw: string;
  message: string;
  fix: string;
}

export interface ConfigHeader {
  /** The arch as the header names it (x86, x86_64, arm64, arm, powerpc, riscv, i386, …). */
  arch: string;
  version: string;
  line: number;
}

export interface ParsedFragment {
  file: string;
  entries: ParsedEntry[];
  problems: SyntaxProblem[];
  /** The `# Linux/<arch> <version> Kernel Configuration` line of a kernel-written .config. */
  header?: ConfigHeader;
  /** True when the file was written by the kernel's Kconfig (a full .config), not by hand. */
  fullConfig: boolean;
}

const SYMBOL = /^[A-Za-z0-9_]+$/;

export function formatValue(value: KconfigValue): string {
  switch (value.kind) {
    case 'y':
    case 'm':
    case 'n':
      return value.kind;
    case 'string':
      return `"${value.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    case 'int':
    case 'hex':
      return value.value;
  }
}

/** The one line Kconfig writes for a symbol and value. */
export function formatEntryLine(symbol: string, value: KconfigValue): string {
  return value.kind === 'n' ? `# CONFIG_${symbol} is not set` : `CONFIG_${symbol}=${formatValue(value)}`;
}

/** A hex value as Kconfig reads it: the 0x is optional. */
export function hexValue(text: string): bigint | undefined {
  const m = /^(?:0[xX])?([0-9a-fA-F]+)$/.exec(text);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/** Same value as Kconfig sees it; digits given for a hex symbol are hex digits (`1` is 0x1). */
export function valuesEqual(a: KconfigValue, b: KconfigValue): boolean {
  if ((a.kind === 'hex' && (b.kind === 'hex' || b.kind === 'int')) || (b.kind === 'hex' && a.kind === 'int')) {
    const x = hexValue((a as { value: string }).value);
    const y = hexValue((b as { value: string }).value);
    return x !== undefined && x === y;
  }
  if (a.kind !== b.kind) return false;
  if ('value' in a && 'value' in b) return a.value === b.value;
  return true;
}

/**
 * Prints a fragment: `CONFIG_X=y`, `# CONFIG_X is not set`, `CONFIG_S="quoted"`, each entry
 * preceded by its `# why` line. Deterministic: entries keep their order. Throws (a programming
 * error, not a user one) on entries that cannot be written so they read back the same.
 */
export function printFragment(entries: FragmentEntry[], opts: { header?: string[] } = {}): string {
  const out: string[] = [];
  for (const h of opts.header ?? []) {
    assertComment(h, 'header');
    out.push(h === '' ? '#' : `# ${h}`);
  }
  if (out.length > 0 && entries.length > 0) out.push('');
  entries.forEach((e, i) => {
    assertEntry(e);
    if (e.comment !== undefined && e.comment !== '') {
      if (i > 0) out.push('');
      out.push(`# ${e.comment}`);
    }
    out.push(formatEntryLine(e.symbol, e.value));
  });
  return out.length ? `${out.join('\n')}\n` : '';
}

function assertComment(c: string, what: string): void {
  if (/[\r\n]/.test(c)) throw new Error(`fragment ${what} must be one line: ${JSON.stringify(c)}`);
  if (c !== c.trim()) throw new Error(`fragment ${what} must not start or end with whitespace: ${JSON.stringify(c)}`);
  if (/^CONFIG_/.test(c)) throw new Error(`fragment ${what} would read as a setting: ${JSON.stringify(c)}`);
}

function assertEntry(e: FragmentEntry): void {
  if (!SYMBOL.test(e.symbol)) throw new Error(`not a Kconfig symbol name: ${JSON.stringify(e.symbol)}`);
  if (e.symbol.startsWith('CONFIG_')) throw new Error(`symbol must be given without CONFIG_: ${e.symbol}`);
  if (e.comment !== undefined && e.comment !== '') assertComment(e.comment, 'comment');
  const v = e.value;
  if (v.kind === 'string' && /[\r\n]/.test(v.value)) throw new Error(`string value of ${e.symbol} holds a line break`);
  if (v.kind === 'int' && !/^-?\d+$/.test(v.value)) throw new Error(`int value of ${e.symbol} is not decimal: ${v.value}`);
  if (v.kind === 'hex' && !/^0x[0-9a-fA-F]+$/.test(v.value)) throw new Error(`hex value of ${e.symbol} needs 0x: ${v.value}`);
}

const HEADER = /^# Linux\/(\S+) (\S+) Kernel Configuration\s*$/;
const ASSIGNMENT = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const NOT_SET_EXACT = /^# CONFIG_([A-Za-z0-9_]+) is not set$/;
/** A comment line without this (in any case) cannot look like a setting. */
const NAMES_CONFIG = /config_/i;

/** A comment line's text, kept for the setting below it (none for an empty comment). */
function commentText(raw: string): string | undefined {
  const text = raw.replace(/^#\s?/, '').trimEnd();
  return text === '' ? undefined : text;
}

/**
 * The results for y, m and n, shared by every line that has one: a full .config has thousands,
 * and two new objects per line, copied by every young-generation collection during the read,
 * cost validate of a 10 000-line .config about 10 ms of CPU. Frozen: a value is never modified.
 */
const VALUE_Y: { value: KconfigValue } = Object.freeze({ value: Object.freeze({ kind: 'y' as const }) });
const VALUE_M: { value: KconfigValue } = Object.freeze({ value: Object.freeze({ kind: 'm' as const }) });
const VALUE_N: { value: KconfigValue } = Object.freeze({ value: Object.freeze({ kind: 'n' as const }) });

/** From this version conf_read_simple() wants `# CONFIG_X is not set` exactly (strcmp, was a prefix match). */
const EXACT_NOT_SET_FROM = { major: 6, minor: 8 };

/**
 * Parses a fragment or a full .config. Never throws on content: every line Kconfig would not
 * read as meant becomes a SyntaxProblem naming file:line, what is wrong and the fix. Where the
 * kernel's reader changed, `version` picks its behaviour (unknown: the newer one).
 */
export function parseFragment(text: string, file: string, version?: { major: number; minor: number }): ParsedFragment {
  const entries: ParsedEntry[] = [];
  const problems: SyntaxProblem[] = [];
  let header: ConfigHeader | undefined;
  let fullConfig = false;
  let pendingComment: string | undefined;
  let sawCrlf = false;
  const exactNotSet = !version || version.major > EXACT_NOT_SET_FROM.major
    || (version.major === EXACT_NOT_SET_FROM.major && version.minor >= EXACT_NOT_SET_FROM.minor);
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  // One `problem` for the whole file (not one closure per line): it reports the current line.
  let lineNo = 0;
  let raw = '';
  const problem = (severity: 'error' | 'warning' | 'info', code: SyntaxCode, message: string, fix: string, symbol?: string) =>
    problems.push({ file, line: lineNo, severity, code, symbol, raw, message, fix });
  // Any line, as Kconfig reads it (the loop below takes the common lines itself).
  const anyLine = (): void => {
    if (raw.endsWith('\r')) {
      // conf strips a CR before the LF: harmless, but said once so nobody is surprised.
      raw = raw.slice(0, -1);
      if (!sawCrlf) {
        sawCrlf = true;
        problems.push({
          file, line: lineNo, severity: 'info', code: 'crlf', raw,
          message: 'DOS line endings (CR LF): Kconfig strips the CR, so the values read as written',
          fix: 'convert the file to Unix line endings (dos2unix) to keep diffs clean',
        });
      }
    }

    if (raw.trim() === '') {
      pendingComment = undefined;
      return;
    }
    if (lineNo === 1 && raw.startsWith('\uFEFF')) {
      const rest = raw.slice(1);
      const sym = /^(?:# )?CONFIG_([A-Za-z0-9_]+)/.exec(rest)?.[1];
      if (sym) {
        problem('error', 'byte-order-mark', `the file starts with a byte order mark (U+FEFF): Kconfig does not read this first line ("unexpected data"), so CONFIG_${sym} is not set by it`,
          'save the file as UTF-8 without BOM', sym);
        return;
      }
      raw = rest;
    }
    if (raw.startsWith('#')) {
      if (lineNo <= 5) {
        const h = HEADER.exec(raw);
        if (h) {
          header = { arch: h[1], version: h[2], line: lineNo };
          fullConfig = true;
          pendingComment = undefined;
          return;
        }
        if (/^# Automatically generated file; DO NOT EDIT/.test(raw)) fullConfig = true;
      }
      let m = /^# CONFIG_([A-Za-z0-9_]+) is not set(.*)$/.exec(raw);
      if (m) {
        if (m[2] !== '') {
          if (exactNotSet) {
            problem('error', 'trailing-text', `text after "is not set": '${m[2]}': from Linux 6.8 Kconfig wants the line exactly, so it ignores this one and CONFIG_${m[1]} is not turned off`,
              `write '# CONFIG_${m[1]} is not set' alone on the line`, m[1]);
            pendingComment = undefined;
            return;
          }
          problem('info', 'trailing-text', `text after "is not set": '${m[2]}' (this kernel ignores it; Linux 6.8 and later ignore the whole line)`,
            `write '# CONFIG_${m[1]} is not set' alone on the line`, m[1]);
        }
        entries.push({ symbol: m[1], value: VALUE_N.value, comment: pendingComment, file, line: lineNo, raw });
        pendingComment = undefined;
        return;
      }
      m = /^#\s*CONFIG_([A-Za-z0-9_]+)\s+is\s+not\s+set/i.exec(raw);
      if (m) {
        problem('error', 'not-set-variant',
          `Kconfig reads this as a plain comment, so CONFIG_${m[1]} is not turned off: it needs exactly '# CONFIG_<name> is not set'`,
          `write '# CONFIG_${m[1]} is not set'`, m[1]);
        pendingComment = undefined;
        return;
      }
      m = /^#\s*CONFIG_([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(raw);
      if (m) {
        const fix = m[2].trim() === 'n'
          ? `to turn it off write '# CONFIG_${m[1]} is not set'`
          : `remove the '#' to set it, or write '# CONFIG_${m[1]} is not set' to turn it off`;
        problem('warning', 'commented-assignment', `commented-out setting of CONFIG_${m[1]}: Kconfig ignores it (and merge_config.sh keeps any earlier value)`, fix, m[1]);
        pendingComment = undefined;
        return;
      }
      m = /^#\s*CONFIG_([A-Za-z0-9_]+)\b/.exec(raw);
      if (m) {
        problem('error', 'not-set-variant',
          `looks like a setting of CONFIG_${m[1]} but Kconfig reads it as a comment`,
          `write '# CONFIG_${m[1]} is not set' to turn it off, or 'CONFIG_${m[1]}=y' to turn it on`, m[1]);
        pendingComment = undefined;
        return;
      }
      pendingComment = commentText(raw);
      return;
    }

    const comment = pendingComment;
    pendingComment = undefined;
    const m = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(raw);
    if (!m) {
      let s = /^CONFIG_([A-Za-z0-9_]+)(\s+)=\s*(.*)$/.exec(raw);
      if (s) {
        problem('error', 'whitespace',
          `space before '=': Kconfig looks up a symbol named '${s[1]}${s[2]}', finds none and ignores the line (merge_config.sh keeps any earlier value of CONFIG_${s[1]})`,
          `write 'CONFIG_${s[1]}=${s[3].trim()}' with no spaces`, s[1]);
        return;
      }
      s = /^\s+(#\s*)?CONFIG_([A-Za-z0-9_]+)\s*(=\s*(.*)|is not set.*)$/.exec(raw);
      if (s) {
        problem('error', 'whitespace',
          `leading whitespace: Kconfig reads only lines that start with 'CONFIG_' or '# CONFIG_' and ignores this one ("unexpected data")`,
          s[1] !== undefined ? `write '# CONFIG_${s[2]} is not set' at the start of the line` : `write 'CONFIG_${s[2]}=${(s[4] ?? '').trim()}' at the start of the line`, s[2]);
        return;
      }
      s = /^\s*CONFIG_([A-Za-z0-9_]+)\s+is\s+not\s+set/i.exec(raw);
      if (s) {
        problem('error', 'not-set-variant', `'is not set' needs the leading '# ': Kconfig ignores this line`,
          `write '# CONFIG_${s[1]} is not set'`, s[1]);
        return;
      }
      s = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(raw);
      if (s) {
        const name = s[1].replace(/^config_/i, '');
        problem('error', 'missing-prefix', `'${s[1]}' has no CONFIG_ prefix: Kconfig only reads CONFIG_<NAME>=value lines ("unexpected data")`,
          `write 'CONFIG_${name.toUpperCase()}=${s[2].trim()}'`);
        return;
      }
      problem('error', 'malformed', 'not a Kconfig line: expected CONFIG_<NAME>=<value>, "# CONFIG_<NAME> is not set" or a # comment (Kconfig ignores it)',
        'fix or remove the line; start comments with #');
      return;
    }
    const symbol = m[1];
    const parsed = parseValue(m[2]);
    if ('problem' in parsed && parsed.problem) {
      problem(parsed.severity, parsed.code, parsed.problem.replace(/\$NAME/g, symbol), parsed.fix.replace(/\$NAME/g, symbol), symbol);
    }
    if (parsed.value) {
      entries.push({ symbol, value: parsed.value, comment, file, line: lineNo, raw, rawValue: m[2] });
    }
  };

  // The lines a kernel-written .config is made of, read here without the checks above: a
  // setting with a plain value, '# CONFIG_X is not set' alone, a blank line, a comment that
  // names no symbol. Their outcome is the one anyLine gives; every other line goes there.
  // (A small loop: V8 optimizes it quickly, where the whole reader took it 12 ms of compiling.)
  for (let i = 0; i < lines.length; i++) {
    lineNo = i + 1;
    raw = lines[i];
    if (raw === '') {
      pendingComment = undefined;
      continue;
    }
    if (lineNo > 5 && raw.charCodeAt(raw.length - 1) !== 13) {
      const c = raw.charCodeAt(0);
      if (c === 67 /* C */) {
        const m = ASSIGNMENT.exec(raw);
        if (m) {
          const parsed = parseValue(m[2]);
          if (parsed.value && !('problem' in parsed && parsed.problem)) {
            entries.push({ symbol: m[1], value: parsed.value, comment: pendingComment, file, line: lineNo, raw, rawValue: m[2] });
            pendingComment = undefined;
            continue;
          }
        }
      } else if (c === 35 /* # */) {
        const m = NOT_SET_EXACT.exec(raw);
        if (m) {
          entries.push({ symbol: m[1], value: VALUE_N.value, comment: pendingComment, file, line: lineNo, raw });
          pendingComment = undefined;
          continue;
        }
        if (!NAMES_CONFIG.test(raw)) {
          pendingComment = commentText(raw);
          continue;
        }
      }
    }
    anyLine();
  }
  return { file, entries, problems, header, fullConfig };
}

type ValueResult = { value?: KconfigValue; problem?: string; fix: string; severity: 'error' | 'warning' | 'info'; code: SyntaxCode } | { value: KconfigValue };

/**
 * Reads the text after '=' the way confdata.c does, before the symbol's type is known: a
 * bool/tristate value is its first letter, a string runs to the first unescaped double quote, an
 * int or hex value must be the whole text. Lines Kconfig reads whatever the type get a value;
 * the symbol's type (checkType) decides the rest.
 */
export function parseValue(text: string): ValueResult {
  if (text === 'y') return VALUE_Y;
  if (text === 'm') return VALUE_M;
  if (text === 'n') return VALUE_N;
  if (text === '') {
    return {
      problem: "empty value: Kconfig rejects it (\"symbol value '' invalid\") and CONFIG_$NAME keeps its default", severity: 'error', code: 'empty-value',
      fix: `write CONFIG_$NAME="" for an empty string, or '# CONFIG_$NAME is not set' to turn it off`,
    };
  }
  if (/^\s/.test(text)) {
    return {
      problem: `space after '=': Kconfig reads the value '${text}' and rejects it, so CONFIG_$NAME keeps its default`, severity: 'error', code: 'whitespace',
      fix: `write CONFIG_$NAME=${text.trim()}`,
    };
  }
  if (text.startsWith('"')) {
    // conf_set_sym_val: a backslash drops itself and keeps the next character; the first bare quote ends the string.
    let out = '';
    let i = 1;
    let closed = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\\') {
        if (i + 1 < text.length) out += text[++i];
        continue;
      }
      if (c === '"') {
        closed = true;
        break;
      }
      out += c;
    }
    if (!closed) {
      return {
        problem: 'string has no closing quote: Kconfig rejects the value ("invalid string found") and CONFIG_$NAME keeps its default',
        severity: 'error', code: 'bad-quoting', fix: 'close the string with " and escape inner quotes as \\"',
      };
    }
    const rest = text.slice(i + 1);
    const value: KconfigValue = { kind: 'string', value: out };
    if (rest === '') return { value };
    if (/^\s*(#.*)?$/.test(rest)) {
      return { value, problem: `text after the closing quote: '${rest.trim()}' (Kconfig ignores it)`, severity: 'info', code: 'trailing-text',
        fix: 'put comments on their own line above the setting' };
    }
    return {
      value, problem: `Kconfig ends the string at the second quote: the value is "${out}" and '${rest}' is ignored (an unescaped quote inside the string?)`,
      severity: 'warning', code: 'bad-quoting', fix: 'escape quotes inside the string as \\" and backslashes as \\\\',
    };
  }
  if (text.startsWith("'")) {
    return { problem: 'single quotes are not Kconfig quoting: Kconfig ignores this line for a string symbol and rejects it for any other type',
      severity: 'error', code: 'bad-quoting', fix: `use double quotes: CONFIG_$NAME="${text.replace(/^'|'$/g, '')}"` };
  }
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return { value: { kind: 'hex', value: text } };
  if (/^-?\d+$/.test(text)) return { value: { kind: 'int', value: text } };
  const first = text[0];
  if (first === 'y' || first === 'm' || first === 'n') {
    const value: KconfigValue = { kind: first };
    const other = /\bCONFIG_([A-Za-z0-9_]+)\s*=/.exec(text) ?? /#\s*CONFIG_([A-Za-z0-9_]+)\s+is not set/.exec(text);
    if (other) {
      return { value, severity: 'error', code: 'two-settings',
        problem: `two settings on one line: Kconfig reads CONFIG_$NAME=${first} (the first letter) and ignores '${text.slice(1).trim()}', so CONFIG_${other[1]} is not set by it`,
        fix: `put each setting on its own line: CONFIG_$NAME=${first}, then ${text.slice(text.indexOf(other[0].trim().startsWith('#') ? '#' : 'CONFIG_')).trim()}` };
    }
    if (/^[a-z]+$/.test(text) && ['yes', 'no', 'module'].includes(text)) {
      return { value, severity: 'info', code: 'first-letter',
        problem: `Kconfig reads a bool/tristate value by its first letter: '${text}' is ${first}`, fix: first === 'n' ? `write '# CONFIG_$NAME is not set'` : `write CONFIG_$NAME=${first}` };
    }
    if (/^[ymn](\s+(#.*)?|\s*#.*)$/.test(text)) {
      return { value, severity: 'info', code: 'trailing-text',
        problem: `text after the value: '${text.slice(1).trim()}' (Kconfig reads a bool/tristate value by its first letter and ignores the rest)`,
        fix: `write CONFIG_$NAME=${first} and put comments on their own line above` };
    }
    return { value, severity: 'warning', code: 'unquoted-string',
      problem: `unquoted '${text}': Kconfig reads it as ${first} (its first letter) if CONFIG_$NAME is a bool or tristate, and ignores the line if it is a string (strings need double quotes)`,
      fix: `write CONFIG_$NAME="${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}" for a string, or CONFIG_$NAME=${first}` };
  }
  const trailing = /^(0[xX][0-9a-fA-F]+|-?\d+)(\s.*|#.*)$/.exec(text);
  if (trailing) {
    return { severity: 'error', code: 'trailing-text',
      problem: `text after the number: '${trailing[2].trim()}': Kconfig rejects an int or hex value with anything after it ("symbol value '${text}' invalid"), so CONFIG_$NAME keeps its default`,
      fix: `write CONFIG_$NAME=${trailing[1]} and put comments on their own line above` };
  }
  if (/^[0-9a-fA-F]+$/.test(text)) {
    // Digits with a-f: a hex symbol reads it as 0x<text>; any other type rejects or ignores it.
    return { value: { kind: 'hex', value: text }, severity: 'info', code: 'bad-value',
      problem: `'${text}' has no 0x: Kconfig reads it as 0x${text} for a hex symbol (and rejects it for any other type)`, fix: `write CONFIG_$NAME=0x${text}` };
  }
  if (/^[YMN]$/.test(text)) {
    return { problem: `'${text}' is upper case: Kconfig reads only y, m or n (lower case) and rejects it ("symbol value '${text}' invalid"), so CONFIG_$NAME keeps its default`,
      severity: 'error', code: 'bad-value', fix: `write CONFIG_$NAME=${text.toLowerCase()}` };
  }
  const word = text.trim().toLowerCase();
  const asBool: Record<string, string> = { true: 'y', on: 'y', false: 'n', off: 'n', yes: 'y', no: 'n', module: 'm' };
  if (word in asBool) {
    const want = asBool[word];
    return { problem: `'${text}' is not a Kconfig value: a bool/tristate is read by its first letter (y, m or n), so Kconfig rejects it ("symbol value '${text}' invalid") and CONFIG_$NAME keeps its default`,
      severity: 'error', code: 'bad-value', fix: want === 'n' ? `write '# CONFIG_$NAME is not set'` : `write CONFIG_$NAME=${want}` };
  }
  return { problem: `unquoted text '${text}': Kconfig ignores the line if CONFIG_$NAME is a string (strings need double quotes) and rejects it for any other type`,
    severity: 'error', code: 'unquoted-string',
    fix: `write CONFIG_$NAME="${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` };
}

/**
 * What confdata.c's conf_set_sym_val() makes of the text after '=' for a symbol of this type:
 * the value Kconfig takes, or why it takes none (`warning` is conf's own message, absent when
 * it drops the line silently).
 */
export function confRead(type: 'bool' | 'tristate' | 'string' | 'int' | 'hex', p: string, symbol: string):
  { value: KconfigValue } | { rejected: true; warning?: string } {
  const invalid = { rejected: true as const, warning: `symbol value '${p}' invalid for ${symbol}` };
  switch (type) {
    case 'tristate':
    case 'bool':
      if (type === 'tristate' && p[0] === 'm') return { value: { kind: 'm' } };
      if (p[0] === 'y') return { value: { kind: 'y' } };
      if (p[0] === 'n') return { value: { kind: 'n' } };
      return invalid;
    case 'string': {
      if (p[0] !== '"') return { rejected: true };
      let out = '';
      for (let i = 1; i < p.length; i++) {
        if (p[i] === '\\') {
          if (i + 1 < p.length) out += p[++i];
          continue;
        }
        if (p[i] === '"') return { value: { kind: 'string', value: out } };
        out += p[i];
      }
      return { rejected: true, warning: 'invalid string found' };
    }
    case 'int':
      return /^-?(0|[1-9][0-9]*)$/.test(p) ? { value: { kind: 'int', value: p } } : invalid;
    case 'hex':
      return /^(0[xX])?[0-9a-fA-F]+$/.test(p) ? { value: { kind: 'hex', value: p } } : invalid;
  }
}
