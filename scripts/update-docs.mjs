// Rewrites the generated parts of the documentation: the configuration reference (docs/configuration.md,
// from the schema) and the kdump rule table (docs/validate.md, from the rule data).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { withConfigReference } = await import(path.join(root, 'dist/src/docs/config-reference.js'));
const { updateValidateDoc } = await import(path.join(root, 'dist/src/kernel/rule-table.js'));
const configDoc = path.join(root, 'docs/configuration.md');
const next = withConfigReference(fs.readFileSync(configDoc, 'utf8'));
fs.writeFileSync(`${configDoc}.tmp`, next);
fs.renameSync(`${configDoc}.tmp`, configDoc);
updateValidateDoc(path.join(root, 'docs/validate.md'));
