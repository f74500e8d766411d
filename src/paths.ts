import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (holds templates/ and schemas/), found from this compiled file. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'templates');
export const SCHEMAS_DIR = path.join(PACKAGE_ROOT, 'schemas');

/** kdump-layer's own version (not that of the project it is installed in). */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
