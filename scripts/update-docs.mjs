// Rewrites the generated parts of README.md (the configuration reference and the kdump rule table) from the schema.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { withConfigReference } = await import(path.join(root, 'dist/src/docs/config-reference.js'));
const { updateValidateDoc } = await import(path.join(root, 'dist/src/kernel/rule-table.js'));
const readme = path.join(root, 'README.md');
const next = withConfigReference(fs.readFileSync(readme, 'utf8'));
fs.writeFileSync(`${readme}.tmp`, next);
fs.renameSync(`${readme}.tmp`, readme);
updateValidateDoc(readme);
