import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';
import { UserError } from '../errors.js';
import { INPUT_LIMITS, readInputFile } from '../input.js';
import type { UserConfig } from './types.js';
import { describeSchemaErrors, validatorFor, type SchemaProblem } from './schema.js';

/** A checked user configuration and where it came from. */
export interface LoadedConfig {
  file: string;
  config: UserConfig;
  /** Line (1-based) of the value at a dotted key path, for later semantic errors. */
  lineOf: (keyPath: string[]) => number | undefined;
}

/** The YAML parser, loaded only when a config file is read. */
const yaml = () => createRequire(import.meta.url)('yaml') as typeof import('yaml');

function lineLocator(doc: Document, lines: LineCounter) {
  const { isNode } = yaml();
  return (keyPath: (string | number)[]): number | undefined => {
    // Walk up until a node with a position is found (a missing key reports its parent's line).
    for (let n = keyPath.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(keyPath.slice(0, n), true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
      // for a map key, yaml keeps the range on the pair's key
    }
    return undefined;
  };
}

function pointerParts(pointer: string): (string | number)[] {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** Problems listed in full; a file with more gets the first ones and a count of the rest. */
export const MAX_PROBLEMS_SHOWN = 20;

/** Formats schema problems as `file:line: key: message` lines. */
export function formatProblems(file: string, problems: SchemaProblem[], lineOf: (p: (string | number)[]) => number | undefined): string {
  const lines = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => {
    const line = lineOf(pointerParts(p.pointer));
    const where = line ? `${file}:${line}` : file;
    return `${where}: ${p.keyPath || '(top level)'}: ${p.message}`;
  });
  if (problems.length > MAX_PROBLEMS_SHOWN) lines.push(`… and ${problems.length - MAX_PROBLEMS_SHOWN} more problems`);
  return lines.join('\n');
}

/** Aliases (`*name`) a configuration may use; each can expand to a copy of a whole subtree. */
export const MAX_ALIASES = 100;

/**
 * Duplicate keys and alias count, in one linear walk. yaml's own `uniqueKeys` check compares
 * every key with every other key of its map (quadratic: 40 000 `extra_config` keys took 30 s).
 */
function checkStructure(doc: Document, lines: LineCounter, file: string): void {
  const { isMap, isScalar, visit } = yaml();
  let aliases = 0;
  visit(doc, {
    Alias(_key, node) {
      aliases++;
      if (aliases > MAX_ALIASES) {
        const at = node.range ? `${file}:${lines.linePos(node.range[0]).line}` : file;
        throw new UserError(`more than ${MAX_ALIASES} YAML aliases (*name)`, {
          where: at,
          hint: 'a kdump-layer configuration needs no aliases: write the values out',
        });
      }
    },
    Map(_key, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) {
          const range = (pair.key as { range?: [number, number, number] } | null)?.range ?? map.range;
          throw new UserError('a key is a list or a mapping, not a name', {
            where: range ? `${file}:${lines.linePos(range[0]).line}` : file,
            hint: 'keys of a kdump-layer configuration are plain names such as dump or path',
          });
        }
        const key = pair.key.value;
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const range = pair.key.range;
        throw new UserError(`key '${String(key)}' is given twice in the same mapping`, {
          where: range ? `${file}:${lines.linePos(range[0]).line}` : file,
          hint: 'keep one of them',
        });
      }
    },
  });
}

/** A document nested deeper than the parser's stack. */
function tooDeep(where: string): UserError {
  return new UserError('nested too deeply to read', { where, hint: 'a kdump-layer configuration is at most four levels deep' });
}

/** The plain data of a parsed document, or a UserError for an alias that cannot be resolved. */
function toData(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (err) {
    if (err instanceof RangeError) {
      throw tooDeep(file);
    }
    if (err instanceof ReferenceError || (err instanceof Error && /alias/i.test(err.message))) {
      const what = /Excessive alias/.test(err.message)
        ? 'YAML aliases expand to too much data (an alias "bomb")'
        : /Unresolved alias/.test(err.message)
          ? `an alias refers to an anchor that is not defined before it (${err.message.replace(/^.*: /, '')})`
          : `a YAML alias cannot be used: ${err.message}`;
      throw new UserError(what, { where: file, hint: 'a kdump-layer configuration needs no aliases: write the values out' });
    }
    throw err;
  }
}

/** Parses YAML or JSON text and checks it against the config schema. Throws UserError. */
export function parseConfigText(text: string, file: string): LoadedConfig {
  const { LineCounter: Lines, parseDocument } = yaml();
  const lines = new Lines();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: true });
  } catch (err) {
    if (err instanceof RangeError) {
      throw tooDeep(file);
    }
    throw err;
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    if (/Maximum call stack/.test(e.message)) {
      throw tooDeep(pos ? `${file}:${pos.line}:${pos.col}` : file);
    }
    throw new UserError(`not valid YAML/JSON: ${e.message.split('\n')[0]}`, {
      where: pos ? `${file}:${pos.line}:${pos.col}` : file,
      hint: 'fix the syntax; `kdump-layer init` writes a commented example',
    });
  }
  checkStructure(doc, lines, file);
  const data = toData(doc, file);
  const locate = lineLocator(doc, lines);
  const validate = validatorFor('config');
  if (!validate(data)) {
    const problems = describeSchemaErrors(validate.errors, 'config');
    throw new UserError(`configuration does not match the schema:\n${formatProblems(file, problems, locate)}`, {
      where: file,
      hint: 'see `kdump-layer schema` or the configuration reference in docs/configuration.md',
    });
  }
  return {
    file,
    config: data as UserConfig,
    lineOf: (keyPath) => locate(keyPath),
  };
}

export function loadConfigFile(file: string): LoadedConfig {
  const buf = readInputFile(file, {
    what: 'config file',
    limit: INPUT_LIMITS.config,
    hint: 'give the path of a YAML or JSON file; `kdump-layer init --machine NAME` writes one',
    binary: { message: 'is a binary file, not YAML or JSON', hint: 'give the path of a YAML or JSON file' },
  });
  return parseConfigText(buf.toString('utf8'), file);
}
