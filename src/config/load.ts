import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';
import { UserError } from '../errors.js';
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

/** Formats schema problems as `file:line: key: message` lines. */
export function formatProblems(file: string, problems: SchemaProblem[], lineOf: (p: (string | number)[]) => number | undefined): string {
  return problems
    .map((p) => {
      const line = lineOf(pointerParts(p.pointer));
      const where = line ? `${file}:${line}` : file;
      return `${where}: ${p.keyPath || '(top level)'}: ${p.message}`;
    })
    .join('\n');
}

/** Parses YAML or JSON text and checks it against the config schema. Throws UserError. */
export function parseConfigText(text: string, file: string): LoadedConfig {
  const { LineCounter: Lines, parseDocument } = yaml();
  const lines = new Lines();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    throw new UserError(`not valid YAML/JSON: ${e.message.split('\n')[0]}`, {
      where: pos ? `${file}:${pos.line}:${pos.col}` : file,
      hint: 'fix the syntax; `kdump-layer init` writes a commented example',
    });
  }
  const data: unknown = doc.toJS() ?? {};
  const locate = lineLocator(doc, lines);
  const validate = validatorFor('config');
  if (!validate(data)) {
    const problems = describeSchemaErrors(validate.errors);
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
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'config file not found' : code === 'EISDIR' ? 'config path is a directory, not a file' : `cannot read config file (${code})`, {
      where: file,
      hint: 'give the path of a YAML or JSON file; `kdump-layer init --machine NAME` writes one',
    });
  }
  return parseConfigText(text, file);
}
