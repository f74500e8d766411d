import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { TEMPLATES_DIR } from '../paths.js';
import { override, type YoctoRelease } from '../yocto/releases.js';

/** A Handlebars environment whose helpers know the target Yocto release's syntax. */
export function createRenderer(release: YoctoRelease) {
  const hb = Handlebars.create();
  // {{ov "RDEPENDS" "${PN}"}} -> RDEPENDS:${PN} (or RDEPENDS_${PN} before honister)
  hb.registerHelper('ov', (variable: string, ...rest: unknown[]) => {
    const overrides = rest.slice(0, -1).map(String); // the last argument is Handlebars' options
    return override(release, variable, ...overrides);
  });
  const cache = new Map<string, HandlebarsTemplateDelegate>();
  return {
    /** Renders templates/<rel> with `context`; the output always ends with one newline. */
    render(rel: string, context: object): string {
      let tpl = cache.get(rel);
      if (!tpl) {
        const src = fs.readFileSync(path.join(TEMPLATES_DIR, rel), 'utf8');
        tpl = hb.compile(src, { noEscape: true, strict: true });
        cache.set(rel, tpl);
      }
      return `${tpl(context).replace(/\n{3,}/g, '\n\n').replace(/\s*$/, '')}\n`;
    },
  };
}

/** A file copied into the layer unchanged (the runtime, license text). */
export function readVerbatim(rel: string): string {
  return fs.readFileSync(path.join(TEMPLATES_DIR, rel), 'utf8');
}

/** Lists templates/<dir> (sorted, files only); empty when the directory is absent. */
export function listTemplateDir(dir: string): string[] {
  const abs = path.join(TEMPLATES_DIR, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => d.name)
    .sort();
}
