import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Command } from './types.js';
import { readSchema } from '../config/schema.js';
import { resolveConfig } from '../config/resolve.js';
import { writeAtomic } from '../layer/write-atomic.js';
import { EXIT_OK, UserError } from '../errors.js';

type SchemaNode = { description?: string; properties?: Record<string, SchemaNode>; $ref?: string };

/**
 * A commented YAML configuration: every key of the schema with its description as a comment
 * and the value the machine resolves to, so the file documents itself.
 */
export function starterConfig(machine: string): string {
  const { stringify } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const { config } = resolveConfig({ machine });
  const schema = readSchema('config') as SchemaNode;
  const values: Record<string, unknown> = { ...config, machine };
  const lines: string[] = [
    `# kdump-layer configuration for ${machine}.`,
    `# Generate the layer with: kdump-layer generate --config <this file>`,
    '# Every key is optional; a key left out takes the machine profile\'s value, then the default.',
    '',
  ];
  const emit = (props: Record<string, SchemaNode>, obj: Record<string, unknown>, indent: string) => {
    for (const [key, node] of Object.entries(props)) {
      if (key === '$schema' || !(key in obj)) continue;
      const value = obj[key];
      if (node.description) for (const l of wrap(node.description, 88 - indent.length)) lines.push(`${indent}# ${l}`);
      if (node.properties && value && typeof value === 'object' && !Array.isArray(value)) {
        lines.push(`${indent}${key}:`);
        emit(node.properties, value as Record<string, unknown>, `${indent}  `);
      } else {
        const text = stringify({ [key]: value }, { lineWidth: 0 }).trimEnd();
        for (const l of text.split('\n')) lines.push(`${indent}${l}`);
      }
      if (indent === '') lines.push('');
    }
  };
  emit(schema.properties ?? {}, values, '');
  return `${lines.join('\n').trimEnd()}\n`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

export const init: Command = {
  command: 'init',
  describe: 'Write a commented starter configuration file for a machine',
  builder: (y) =>
    y
      .option('machine', { alias: 'm', type: 'string', demandOption: true, describe: 'Built-in machine profile to start from' })
      .option('out', { alias: 'o', type: 'string', default: 'kdump-layer.yml', describe: 'File to write (- for standard output)' })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing file' })
      .example('$0 init --machine as5712', 'write kdump-layer.yml to edit'),
  run: async (args) => {
    const text = starterConfig(args.machine as string);
    const out = args.out as string;
    if (out === '-') {
      process.stdout.write(text);
      return EXIT_OK;
    }
    if (fs.existsSync(out) && !args.force) {
      throw new UserError('file exists; not overwritten', { where: out, hint: 'choose another --out, or add --force' });
    }
    writeAtomic(out, text, 0o644);
    process.stdout.write(`wrote ${out}; generate with: kdump-layer generate --config ${out}\n`);
    return EXIT_OK;
  },
};
