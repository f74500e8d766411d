import { readSchema } from '../config/schema.js';

type Node = {
  description?: string;
  type?: string;
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, Node>;
  items?: Node;
  $ref?: string;
  minimum?: number;
  maximum?: number;
  examples?: unknown[];
};

/** The configuration reference (a Markdown table) generated from schemas/config.schema.json. */
export function configReference(): string {
  const schema = readSchema('config') as Node & { definitions: Record<string, Node> };
  const deref = (n: Node): Node => (n.$ref ? { ...schema.definitions[n.$ref.replace('#/definitions/', '')], ...n, $ref: undefined } : n);
  const rows: string[] = ['| key | type / allowed values | default | meaning |', '|---|---|---|---|'];
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const walk = (props: Record<string, Node>, prefix: string) => {
    for (const [key, raw] of Object.entries(props)) {
      if (key === '$schema') continue;
      const n = deref(raw);
      const name = `${prefix}${key}`;
      let type = n.enum ? n.enum.map((v) => `\`${v}\``).join(', ') : n.type === 'array' ? `list of ${deref(n.items ?? {}).type ?? 'values'}` : (n.type ?? 'value');
      if (n.minimum !== undefined || n.maximum !== undefined) type += ` (${n.minimum ?? ''}–${n.maximum ?? ''})`;
      const def = n.default !== undefined ? `\`${JSON.stringify(n.default)}\`` : n.examples ? `e.g. \`${JSON.stringify(n.examples[0])}\`` : '';
      rows.push(`| \`${name}\` | ${cell(type)} | ${cell(def)} | ${cell(n.description ?? '')} |`);
      if (n.properties) walk(n.properties, `${name}.`);
    }
  };
  walk(schema.properties ?? {}, '');
  return `${rows.join('\n')}\n`;
}

export const REFERENCE_START = '<!-- config-reference:start (generated from schemas/config.schema.json by `npm run docs`) -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** docs/configuration.md text with the reference section replaced by the current one. */
export function withConfigReference(readme: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error('docs/configuration.md has no config reference markers');
  return `${readme.slice(0, start + REFERENCE_START.length)}\n${configReference()}${readme.slice(end)}`;
}
