import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { SCHEMAS_DIR } from '../paths.js';
import { didYouMean } from '../suggest.js';

/** Schema file names in schemas/, by what they describe. */
export const SCHEMA_FILES = {
  config: 'config.schema.json',
  machine: 'machine.schema.json',
} as const;

export function readSchema(name: keyof typeof SCHEMA_FILES): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, SCHEMA_FILES[name]), 'utf8'));
}

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

/** A compiled validator for one of the project's schemas (compiled once per process). */
export function validatorFor(name: keyof typeof SCHEMA_FILES): ValidateFunction {
  const hit = compiled.get(name);
  if (hit) return hit;
  if (!ajv) {
    // Loaded on first use: `generate --machine` without a config file never needs it.
    const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    const instance = new AjvClass({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    instance.addSchema(readSchema('config'));
    instance.addSchema(readSchema('machine'));
    ajv = instance;
  }
  const fn = ajv.getSchema(readSchema(name).$id as string);
  if (!fn) throw new Error(`schema ${name} did not compile`);
  compiled.set(name, fn);
  return fn;
}

/** One schema violation, said the way a user reads it. */
export interface SchemaProblem {
  /** Dotted key path, e.g. `dump.format` (empty for the top level). */
  keyPath: string;
  /** JSON pointer of the offending value, for locating its line. */
  pointer: string;
  message: string;
}

function pointerToKeyPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
}

/** The keys a schema allows where an `additionalProperties: false` error was found. */
function allowedKeys(schemaPath: string, root: Record<string, unknown>): string[] {
  let node: unknown = root;
  for (const part of schemaPath.replace(/^#\//, '').split('/').slice(0, -1)) {
    if (!node || typeof node !== 'object') return [];
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  const props = (node as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props).filter((k) => k !== '$schema') : [];
}

/**
 * Turns ajv's errors into one message per problem: what is wrong and what is allowed.
 * `schemaName` names the schema the errors came from, for "did you mean" on unknown keys.
 */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined, schemaName: keyof typeof SCHEMA_FILES = 'config'): SchemaProblem[] {
  let root: Record<string, unknown> | undefined;
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  // Alternatives (anyOf) fail one error each. A value of one allowed type that is out of range
  // is said by its range alone; a value of no allowed type by one line naming the types.
  const anyOfTypes = new Map<string, string[]>();
  const anyOfOther = new Set<string>();
  for (const e of errors ?? []) {
    if (!e.schemaPath.includes('/anyOf/')) continue;
    if (e.keyword === 'type') anyOfTypes.set(e.instancePath, [...(anyOfTypes.get(e.instancePath) ?? []), String((e.params as { type: string }).type)]);
    else if (e.keyword !== 'anyOf') anyOfOther.add(e.instancePath);
  }
  for (const e of errors ?? []) {
    if (e.keyword === 'type' && e.schemaPath.includes('/anyOf/')) {
      if (anyOfOther.has(e.instancePath)) continue;
      const types = anyOfTypes.get(e.instancePath) ?? [];
      e.params = { type: types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}` : types[0] };
    }
    let pointer = e.instancePath;
    let message: string;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        pointer = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        root ??= readSchema(schemaName);
        const known = allowedKeys(e.schemaPath, root);
        const near = didYouMean(key, known);
        message = near ? `unknown key (did you mean '${near}'?)` : known.length ? `unknown key (known here: ${known.join(', ')})` : 'unknown key';
        break;
      }
      case 'enum':
        message = `must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'pattern':
        message = `has a form that is not allowed (must match ${(e.params as { pattern: string }).pattern})`;
        break;
      case 'type':
        message = `must be ${(e.params as { type: string }).type}`;
        break;
      case 'required':
        message = `is missing the required key '${(e.params as { missingProperty: string }).missingProperty}'`;
        break;
      case 'false schema':
        message = 'is not allowed here';
        break;
      case 'anyOf':
      case 'allOf':
      case 'if':
        continue; // the specific errors beside it say more
      default:
        message = e.message ?? 'is not valid';
    }
    const keyPath = pointerToKeyPath(pointer);
    const id = `${keyPath}\u0000${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ keyPath, pointer, message });
  }
  return out;
}
