import fs from 'node:fs';
import path from 'node:path';
import type HandlebarsFull from 'handlebars';
import HandlebarsRuntime from 'handlebars/runtime.js';
// Built from templates/ by scripts/precompile-templates.mjs (dist/templates.js, bundled into the CLI).
import precompiled from '#templates';
import { TEMPLATES_DIR } from '../paths.js';
import { override, type YoctoRelease } from '../yocto/releases.js';

const renderers = new Map<string, ReturnType<typeof makeRenderer>>();

/** A Handlebars environment whose helpers know the target Yocto release's syntax (one per release). */
export function createRenderer(release: YoctoRelease) {
  let r = renderers.get(release.name);
  if (!r) {
    r = makeRenderer(release);
    renderers.set(release.name, r);
  }
  return r;
}

function makeRenderer(release: YoctoRelease) {
  // Only the runtime: templates were compiled by the build.
  const hb = (HandlebarsRuntime as unknown as typeof HandlebarsFull).create(); // its own types are empty
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
        const spec = precompiled[rel];
        if (!spec) throw new Error(`template ${rel} is not in dist/templates.js: run \`npm run build\``);
        tpl = hb.template(spec);
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
