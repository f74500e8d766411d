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
  | 'crlf';

/** A line Kconfig would drop or misread. */
export interface SyntaxProblem {
  file: string;
  line: number;
  severity: 'error' | 'warning';
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

export function valuesEqual(a: KconfigValue, b: KconfigValue): boolean {
  if (a.kind !== b.kind) return false;
  if ('value' in a && 'value' in b) {
    if (a.kind === 'hex') return BigInt(a.value) === BigInt(b.value);
    return a.value === b.value;
  }
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

/**
 * Parses a fragment or a full .config. Never throws on content: every line Kconfig would not
 * read as meant becomes a SyntaxProblem naming file:line, what is wrong and the fix.
 */
export function parseFragment(text: string, file: string): ParsedFragment {
  const entries: ParsedEntry[] = [];
  const problems: SyntaxProblem[] = [];
  let header: ConfigHeader | undefined;
  let fullConfig = false;
  let pendingComment: string | undefined;
  let sawCrlf = false;
  // A UTF-8 byte order mark (some Windows editors write one) is not part of the first line.
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let raw = lines[i];
    if (raw.endsWith('\r')) {
      raw = raw.slice(0, -1);
      if (!sawCrlf) {
        sawCrlf = true;
        problems.push({
          file, line: lineNo, severity: 'warning', code: 'crlf', raw,
          message: 'DOS line endings (CR LF): Kconfig keeps the CR in string, int and hex values, which makes them invalid',
          fix: 'convert the file to Unix line endings (dos2unix)',
        });
      }
    }
    const problem = (severity: 'error' | 'warning', code: SyntaxCode, message: string, fix: string, symbol?: string) =>
      problems.push({ file, line: lineNo, severity, code, symbol, raw, message, fix });

    if (raw.trim() === '') {
      pendingComment = undefined;
      continue;
    }
    if (raw.startsWith('#')) {
      if (lineNo <= 5) {
        const h = HEADER.exec(raw);
        if (h) {
          header = { arch: h[1], version: h[2], line: lineNo };
          fullConfig = true;
          pendingComment = undefined;
          continue;
        }
        if (/^# Automatically generated file; DO NOT EDIT/.test(raw)) fullConfig = true;
      }
      let m = /^# CONFIG_([A-Za-z0-9_]+) is not set(.*)$/.exec(raw);
      if (m) {
        if (m[2].trim() !== '') {
          problem('warning', 'trailing-text', `text after "is not set": '${m[2].trim()}' (Kconfig ignores it)`,
            `write '# CONFIG_${m[1]} is not set' alone on the line`, m[1]);
        }
        entries.push({ symbol: m[1], value: { kind: 'n' }, comment: pendingComment, file, line: lineNo, raw });
        pendingComment = undefined;
        continue;
      }
      m = /^#\s*CONFIG_([A-Za-z0-9_]+)\s+is\s+not\s+set/i.exec(raw);
      if (m) {
        problem('error', 'not-set-variant',
          `Kconfig reads this as a plain comment, so CONFIG_${m[1]} is not turned off: it needs exactly '# CONFIG_<name> is not set'`,
          `write '# CONFIG_${m[1]} is not set'`, m[1]);
        pendingComment = undefined;
        continue;
      }
      m = /^#\s*CONFIG_([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(raw);
      if (m) {
        const fix = m[2].trim() === 'n'
          ? `to turn it off write '# CONFIG_${m[1]} is not set'`
          : `remove the '#' to set it, or write '# CONFIG_${m[1]} is not set' to turn it off`;
        problem('warning', 'commented-assignment', `commented-out setting of CONFIG_${m[1]}: Kconfig ignores it`, fix, m[1]);
        pendingComment = undefined;
        continue;
      }
      m = /^#\s*CONFIG_([A-Za-z0-9_]+)\b/.exec(raw);
      if (m) {
        problem('error', 'not-set-variant',
          `looks like a setting of CONFIG_${m[1]} but Kconfig reads it as a comment`,
          `write '# CONFIG_${m[1]} is not set' to turn it off, or 'CONFIG_${m[1]}=y' to turn it on`, m[1]);
        pendingComment = undefined;
        continue;
      }
      const text = raw.replace(/^#\s?/, '').trimEnd();
      pendingComment = text === '' ? undefined : text;
      continue;
    }

    const comment = pendingComment;
    pendingComment = undefined;
    let m = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(raw);
    if (!m) {
      let s = /^\s*CONFIG_([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(raw);
      if (s) {
        problem('error', 'whitespace',
          `whitespace around the name or '=': Kconfig looks up a symbol named 'CONFIG_${s[1]} ' and drops the line`,
          `write 'CONFIG_${s[1]}=${s[2].trim()}' with no spaces`, s[1]);
        continue;
      }
      s = /^\s*CONFIG_([A-Za-z0-9_]+)\s+is\s+not\s+set/i.exec(raw);
      if (s) {
        problem('error', 'not-set-variant', `'is not set' needs the leading '# ': Kconfig drops this line`,
          `write '# CONFIG_${s[1]} is not set'`, s[1]);
        continue;
      }
      s = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(raw);
      if (s) {
        const name = s[1].replace(/^config_/i, '');
        problem('error', 'missing-prefix', `'${s[1]}' has no CONFIG_ prefix: Kconfig only reads CONFIG_<NAME>=value lines`,
          `write 'CONFIG_${name.toUpperCase()}=${s[2].trim()}'`);
        continue;
      }
      problem('error', 'malformed', 'not a Kconfig line: expected CONFIG_<NAME>=<value>, "# CONFIG_<NAME> is not set" or a # comment',
        'fix or remove the line; start comments with #');
      continue;
    }
    const symbol = m[1];
    const parsed = parseValue(m[2]);
    if ('problem' in parsed) {
      problem(parsed.severity, parsed.code, parsed.problem, parsed.fix.replace(/\$NAME/g, symbol), symbol);
      if (parsed.severity === 'error') continue;
    }
    if ('value' in parsed && parsed.value) {
      entries.push({ symbol, value: parsed.value, comment, file, line: lineNo, raw });
    }
  }
  return { file, entries, problems, header, fullConfig };
}

type ValueResult =
  | { value: KconfigValue }
  | { value?: KconfigValue; problem: string; fix: string; severity: 'error' | 'warning'; code: SyntaxCode };

/** Reads the text after '=' the way confdata.c does, flagging what it would drop or misread. */
export function parseValue(text: string): ValueResult {
  if (text === 'y' || text === 'm' || text === 'n') return { value: { kind: text } };
  if (text === '') {
    return {
      problem: 'empty value: Kconfig rejects it and keeps the default', severity: 'error', code: 'empty-value',
      fix: `write CONFIG_$NAME="" for an empty string, or '# CONFIG_$NAME is not set' to turn it off`,
    };
  }
  if (text.startsWith('"')) {
    let out = '';
    let i = 1;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\\') {
        if (i + 1 >= text.length) break;
        out += text[++i];
        continue;
      }
      if (c === '"') break;
      out += c;
    }
    if (i >= text.length) {
      return {
        problem: 'string has no closing quote: Kconfig rejects the value ("invalid string found")',
        severity: 'error', code: 'bad-quoting', fix: 'close the string with " and escape inner quotes as \\"',
      };
    }
    const rest = text.slice(i + 1);
    const value: KconfigValue = { kind: 'string', value: out };
    if (rest === '') return { value };
    if (/^\s*(#.*)?$/.test(rest)) {
      return { value, problem: `text after the closing quote: '${rest.trim()}'`, severity: 'warning', code: 'trailing-text',
        fix: 'put comments on their own line above the setting' };
    }
    return {
      problem: `text after the closing quote: '${rest}' (an unescaped quote inside the string?)`, severity: 'error',
      code: 'bad-quoting', fix: 'escape quotes inside the string as \\" and backslashes as \\\\',
    };
  }
  if (text.startsWith("'")) {
    return { problem: 'single quotes are not Kconfig quoting: the quotes become part of the value', severity: 'error',
      code: 'bad-quoting', fix: `use double quotes: CONFIG_$NAME="${text.replace(/^'|'$/g, '')}"` };
  }
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return { value: { kind: 'hex', value: text } };
  if (/^-?\d+$/.test(text)) return { value: { kind: 'int', value: text } };
  const trailing = /^(y|m|n|0[xX][0-9a-fA-F]+|-?\d+)(\s+(#.*)?|\s*#.*)$/.exec(text);
  if (trailing) {
    const head = parseValue(trailing[1]);
    return { value: 'value' in head ? head.value : undefined, severity: 'warning', code: 'trailing-text',
      problem: `text after the value: '${trailing[2].trim()}' (Kconfig reads bool/tristate values by their first letter only, and rejects int/hex values with trailing text)`,
      fix: `write CONFIG_$NAME=${trailing[1]} and put comments on their own line above` };
  }
  const word = text.trim().toLowerCase();
  const asBool: Record<string, string> = { yes: 'y', true: 'y', on: 'y', no: 'n', false: 'n', off: 'n', module: 'm' };
  if (word in asBool) {
    const want = asBool[word];
    const fix = want === 'n' ? `write '# CONFIG_$NAME is not set'` : `write CONFIG_$NAME=${want}`;
    return { problem: `'${text}' is not a Kconfig value (bool/tristate take y, m or n)`, severity: 'error', code: 'bad-value', fix };
  }
  if (/^[YMN]$/.test(text)) {
    return { problem: `'${text}' is upper case: Kconfig takes y, m or n in lower case`, severity: 'error', code: 'bad-value',
      fix: `write CONFIG_$NAME=${text.toLowerCase()}` };
  }
  if (/^[0-9a-fA-F]+$/.test(text) && /[a-fA-F]/.test(text)) {
    return { problem: `'${text}' looks like a hex number without 0x`, severity: 'error', code: 'bad-value',
      fix: `write CONFIG_$NAME=0x${text}` };
  }
  return { problem: `unquoted text '${text}': string values must be in double quotes`, severity: 'error', code: 'unquoted-string',
    fix: `write CONFIG_$NAME="${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` };
}
