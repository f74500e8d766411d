/**
 * The parsed Kconfig tree, kept on disk between runs: reading ~1 500 Kconfig files costs more
 * than the kernel's own conf run, and a tree rarely changes. The cache file is keyed by the
 * tree's path and the arch, and holds the identity (size, mtime) of every file the parse read
 * (missing ones too) and every directory a `source` glob listed; any change re-reads the tree.
 *
 * Layout: one JSON header line (identity, and per symbol its type, prompt, whether it is
 * defined, and where its record is), then one JSON record per symbol (its definitions and what
 * selects it), then the shared tables (enclosing-block contexts and choices, which many
 * definitions share, stored once). A run loads the header, and a record (and the tables) only
 * when a "why" is asked about it.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { KernelArch } from './arch.js';
import type { KernelKnowledge } from './check.js';
import { readKconfigTree, treeKnowledge, type KconfigChoice, type KconfigSelect, type KconfigSymbolDef, type KconfigTree } from './kconfig.js';
import type { SymbolType } from './rules.js';
import { writeAtomic } from '../layer/write-atomic.js';

const FORMAT = 2;

/** [type or '', has a prompt, is defined, record offset, record length] (offsets in bytes, after the header line). */
type SymbolRow = [SymbolType | '', 0 | 1, 0 | 1, number, number];

interface Header {
  format: number;
  root: string;
  arch: KernelArch;
  /** [relative path, size, mtimeMs] — size -1 for a file that did not exist. */
  files: [string, number, number][];
  /** [relative directory, mtimeMs]. */
  dirs: [string, number][];
  symbols: Record<string, SymbolRow>;
  /** Where the shared tables are in the body: [offset, length]. */
  tables: [number, number];
}

interface SymbolRecord {
  defs: KconfigSymbolDef[];
  selects: KconfigSelect[];
}

/** A definition as stored: its context and choice as indexes into the shared tables. */
type StoredDef = Omit<KconfigSymbolDef, 'context' | 'choice'> & { context: number; choice?: number };
interface StoredTables {
  contexts: KconfigSymbolDef['context'][];
  choices: KconfigChoice[];
}

/** ASCII only (\u escapes), so a text's length in characters is its length in bytes. */
function ascii(json: string): string {
  // A text whose UTF-8 form is as long as it is has nothing to escape (the quick test).
  return Buffer.byteLength(json) === json.length ? json : json.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function fileId(root: string, rel: string): [number, number] {
  try {
    const st = fs.statSync(path.join(root, rel));
    return [st.size, st.mtimeMs];
  } catch {
    return [-1, 0];
  }
}

function dirId(root: string, rel: string): number {
  try {
    return fs.statSync(path.join(root, rel)).mtimeMs;
  } catch {
    return -1;
  }
}

/** Where the parsed tree of `root` for `arch` is kept. */
export function treeCacheFile(root: string, arch: KernelArch, cacheDir: string): string {
  const key = crypto.createHash('sha256').update(`${path.resolve(root)}\0${arch}\0${FORMAT}`).digest('hex').slice(0, 16);
  return path.join(path.resolve(cacheDir), `kconfig-tree-${key}.cache`);
}

/** The cache file's text for a parsed tree. */
export function serializeTree(tree: KconfigTree, arch: KernelArch): string {
  const root = path.resolve(tree.root);
  const names = [...new Set([...tree.defs.keys(), ...tree.selects.keys()])].sort();
  const symbols: Record<string, SymbolRow> = {};
  const records: string[] = [];
  const tables: StoredTables = { contexts: [], choices: [] };
  const contextIds = new Map<KconfigSymbolDef['context'], number>();
  const choiceIds = new Map<KconfigChoice, number>();
  const intern = <T>(ids: Map<T, number>, list: T[], x: T): number => {
    let id = ids.get(x);
    if (id === undefined) {
      id = list.push(x) - 1;
      ids.set(x, id);
    }
    return id;
  };
  let off = 0;
  for (const s of names) {
    const defs = tree.defs.get(s) ?? [];
    const stored: StoredDef[] = defs.map((d) => ({
      symbol: d.symbol, file: d.file, line: d.line, type: d.type, prompts: d.prompts, dependsOn: d.dependsOn,
      context: intern(contextIds, tables.contexts, d.context), choice: d.choice ? intern(choiceIds, tables.choices, d.choice) : undefined,
      defaults: d.defaults, ranges: d.ranges,
    }));
    const rec = ascii(JSON.stringify({ defs: stored, selects: tree.selects.get(s) ?? [] }));
    const len = rec.length;
    symbols[s] = [defs.find((d) => d.type)?.type ?? '', defs.some((d) => d.prompts.length > 0) ? 1 : 0, defs.length > 0 ? 1 : 0, off, len];
    records.push(rec);
    off += len;
  }
  const header: Header = {
    format: FORMAT, root, arch,
    files: tree.inputs.files.map((f) => [f, ...fileId(root, f)]),
    dirs: tree.inputs.dirs.map((d) => [d, dirId(root, d)]),
    symbols,
    tables: [off, 0],
  };
  const tablesText = ascii(JSON.stringify(tables));
  header.tables[1] = tablesText.length;
  return `${JSON.stringify(header)}\n${records.join('')}${tablesText}`;
}

/** The cached header and body when the cache file is there and every input is unchanged. */
function loadValid(file: string, root: string, arch: KernelArch): { header: Header; body: Buffer } | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const nl = buf.indexOf(10);
  if (nl < 0) return undefined;
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 0, nl)) as Header;
  } catch {
    return undefined;
  }
  if (header.format !== FORMAT || header.root !== root || header.arch !== arch || !Array.isArray(header.files) || header.files.length === 0
    || !Array.isArray(header.tables)) return undefined;
  for (const [rel, size, mtime] of header.files) {
    const [s, m] = fileId(root, rel);
    if (s !== size || (size >= 0 && m !== mtime)) return undefined;
  }
  for (const [rel, mtime] of header.dirs) if (dirId(root, rel) !== mtime) return undefined;
  return { header, body: buf.subarray(nl + 1) };
}

/**
 * KernelKnowledge for a tree, from the cache when its Kconfig files are unchanged, else from a
 * fresh parse (which is then cached). A cache that cannot be written only costs the next run time.
 */
export function cachedTreeKnowledge(root: string, arch: KernelArch, cacheDir: string): KernelKnowledge & { fromCache: boolean } {
  const abs = path.resolve(root);
  const file = treeCacheFile(abs, arch, cacheDir);
  const hit = loadValid(file, abs, arch);
  if (!hit) {
    const tree = readKconfigTree(abs, arch);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeAtomic(file, serializeTree(tree, arch), 0o644);
    } catch { /* best effort: the next run parses again */ }
    return { ...treeKnowledge(tree), fromCache: false };
  }
  const { header, body } = hit;
  let tables: StoredTables | undefined;
  let fresh: KconfigTree | undefined;
  const records = new Map<string, SymbolRecord | undefined>();
  const record = (s: string): SymbolRecord | undefined => {
    if (records.has(s)) return records.get(s);
    const row = Object.hasOwn(header.symbols, s) ? header.symbols[s] : undefined;
    let rec: SymbolRecord | undefined;
    if (row) {
      try {
        tables ??= JSON.parse(body.toString('utf8', header.tables[0], header.tables[0] + header.tables[1])) as StoredTables;
        const stored = JSON.parse(body.toString('utf8', row[3], row[3] + row[4])) as { defs: StoredDef[]; selects: KconfigSelect[] };
        const t = tables;
        rec = {
          defs: stored.defs.map((d) => ({ ...d, context: t.contexts[d.context], choice: d.choice === undefined ? undefined : t.choices[d.choice] })),
          selects: stored.selects,
        };
      } catch {
        // A damaged body: read the tree itself.
        fresh ??= readKconfigTree(abs, arch);
        rec = { defs: fresh.defs.get(s) ?? [], selects: fresh.selects.get(s) ?? [] };
      }
    }
    records.set(s, rec);
    return rec;
  };
  const row = (s: string) => (Object.hasOwn(header.symbols, s) ? header.symbols[s] : undefined);
  const why = treeKnowledge({
    defs: { get: (s) => record(s)?.defs },
    selects: { get: (s) => { const x = record(s)?.selects; return x && x.length ? x : undefined; } },
  });
  return {
    ...why,
    hasSymbol: (s) => row(s)?.[2] === 1,
    symbolType: (s) => row(s)?.[0] || undefined,
    hasPrompt: (s) => row(s)?.[1] === 1,
    fromCache: true,
  };
}
