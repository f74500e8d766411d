// Writes src/kernel/arch-symbols.ts from the Kconfig files of Debian's linux-source-6.1 and
// linux-source-6.12 (unpacked under .cache/ by the test helpers). Run after `npm run build`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { renderArchSymbols } = await import(path.join(root, 'dist/test/validate/arch-symbols-gen.js'));
const { linuxSource61 } = await import(path.join(root, 'dist/test/validate/helpers.js'));
const { linuxSource612 } = await import(path.join(root, 'dist/test/validate/kernel-corpus.js'));
const out = path.join(root, 'src/kernel/arch-symbols.ts');
fs.writeFileSync(`${out}.tmp`, renderArchSymbols([linuxSource61(), linuxSource612()]));
fs.renameSync(`${out}.tmp`, out);
