// Build step: precompiles templates/**/*.hbs into dist/templates.js (an ES module, imported as
// `#templates`), so `generate` loads ready template functions (Handlebars' runtime) instead of
// compiling them on every run; the bundle (scripts/bundle.mjs) carries them.
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const templates = path.join(root, 'templates');
const found = [];
const walk = (rel) => {
  for (const e of fs.readdirSync(path.join(templates, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) walk(p);
    else if (p.endsWith('.hbs')) found.push(p);
  }
};
walk('');
const body = found
  .map((p) => `  ${JSON.stringify(p)}: ${Handlebars.precompile(fs.readFileSync(path.join(templates, p), 'utf8'), { noEscape: true, strict: true })}`)
  .join(',\n');
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
const out = path.join(root, 'dist/templates.js');
fs.writeFileSync(`${out}.tmp`, `// Precompiled from templates/ by scripts/precompile-templates.mjs\nexport default {\n${body}\n};\n`);
fs.renameSync(`${out}.tmp`, out);
