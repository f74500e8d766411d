import { createRequire } from 'node:module';
import { readSchema } from './schema.js';
import { resolveConfig } from './resolve.js';

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
