import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (holds templates/ and schemas/), found from this compiled file. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'templates');
export const SCHEMAS_DIR = path.join(PACKAGE_ROOT, 'schemas');
