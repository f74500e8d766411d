import fs from 'node:fs';
import path from 'node:path';
import type Handlebars from 'handlebars';
import { createRequire } from 'node:module';
import { PACKAGE_ROOT, TEMPLATES_DIR } from '../paths.js';
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

const require = createRequire(import.meta.url);
type TemplateSpec = Parameters<typeof Handlebars.template>[0];
let precompiled: Record<string, TemplateSpec> | undefined;

/** Templates precompiled at build time (dist/templates.cjs): loading them is far cheaper than compiling. */
function precompiledTemplates(): Record<string, TemplateSpec> {
  precompiled ??= require(path.join(PACKAGE_ROOT, 'dist/templates.cjs')) as Record<string, TemplateSpec>;
  return precompiled;
}

function makeRenderer(release: YoctoRelease) {
  // Only the runtime: templates were compiled by the build.
  const hb = (require('handlebars/runtime') as { default: typeof Handlebars }).default.create();
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
        const spec = precompiledTemplates()[rel];
        if (!spec) throw new Error(`template ${rel} is not in dist/templates.cjs: run \`npm run build\``);
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
