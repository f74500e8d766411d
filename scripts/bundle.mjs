// Build step: bundles the CLI and what it uses from node_modules (yargs, the Handlebars runtime,
// the precompiled templates) into one CommonJS file, dist/bin/cli.cjs, and writes the package's
// bin, dist/bin/kdump-layer.js, which runs that file through V8's code cache
// (src/bin/kdump-layer.cts). Code only some commands need is evaluated only when they run.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'dist/bin');
fs.rmSync(out, { recursive: true, force: true }); // nothing of an earlier build

/**
 * yargs' platform shim imports cliui and string-width at its top, and both build Unicode
 * tables when they load (Intl.Segmenter, \p{RGI_Emoji} regular expressions): some 40 ms of
 * CPU in every run, though only help and usage text use them. Here the shim gets them through
 * functions that load them on first call. The build fails if the shim no longer has the
 * imports this expects, rather than silently start slower.
 */
const lazyTextLayout = {
  name: 'lazy-text-layout',
  setup(b) {
    const lazy = { cliui: 'cliui', 'string-width': 'stringWidth' };
    b.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      let contents = await fs.promises.readFile(args.path, 'utf8');
      for (const [pkg, name] of Object.entries(lazy)) {
        const re = new RegExp(`^import ${name} from '${pkg}';?$`, 'm');
        if (!re.test(contents)) throw new Error(`${args.path}: no \`import ${name} from '${pkg}'\` to make lazy; update scripts/bundle.mjs`);
        contents = contents.replace(re, `import ${name} from 'lazy:${pkg}';`);
      }
      // yargsTrims' edit of this same file (esbuild runs one loader per file).
      if (!assertImport.test(contents)) throw new Error(`${args.path}: no import of notStrictEqual and strictEqual from 'assert' to replace; update scripts/bundle.mjs`);
      contents = contents.replace(assertImport, assertFunctions);
      return { contents, loader: 'js', resolveDir: path.dirname(args.path) };
    });
    b.onResolve({ filter: /^lazy:/ }, (args) => ({ path: args.path.slice('lazy:'.length), namespace: 'lazy', pluginData: { resolveDir: args.resolveDir } }));
    // require() of an ES module makes esbuild evaluate it when first required, not at start.
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
      contents: `export default function (...args) { return require(${JSON.stringify(args.path)}).default(...args); }\n`,
      loader: 'js',
      resolveDir: args.pluginData.resolveDir,
    }));
  },
};

/**
 * Two more edits of yargs, both of work our CLI never needs:
 * - its platform shim imports Node's assert module (a few ms to load) for two equality checks
 *   on yargs' own internal state; here they are two small functions that throw the same way;
 * - the yargs() factory guesses a version by searching from the working directory upwards for
 *   a package.json (a readdir of every directory on the way), though src/cli.ts then gives the
 *   version itself. The guess is skipped.
 * The build fails if either is no longer where this expects it. The shim is loaded by
 * lazyTextLayout above, which applies the assert edit too (esbuild runs one loader per file).
 */
const yargsTrims = {
  name: 'yargs-trims',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]yargs-factory\.js$/ }, async (args) => {
      const contents = await fs.promises.readFile(args.path, 'utf8');
      const re = /^(\s*yargs\.help\(\);\n)\s*yargs\.version\(\);\n/m;
      if (!re.test(contents)) throw new Error(`${args.path}: no \`yargs.version();\` after \`yargs.help();\` in the factory; update scripts/bundle.mjs`);
      return { contents: contents.replace(re, '$1'), loader: 'js' };
    });
  },
};
const assertImport = /^import \{ notStrictEqual, strictEqual \} from 'assert';?$/m;
const assertFunctions = [
  'function strictEqual(actual, expected, message) {',
  '  if (!Object.is(actual, expected)) throw new Error(message ?? `expected ${String(expected)}, got ${String(actual)}`);',
  '}',
  'function notStrictEqual(actual, expected, message) {',
  '  if (Object.is(actual, expected)) throw new Error(message ?? `expected a value other than ${String(expected)}`);',
  '}',
].join('\n');

/**
 * string-width builds an Intl.Segmenter and Unicode-property regular expressions at its top
 * (tens of ms), though it needs them only for text that is not plain ASCII, which it measures
 * without them. Here each is made on first use.
 */
const lazyStringWidthTables = {
  name: 'lazy-string-width-tables',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, async (args) => {
      let count = 0;
      const contents = (await fs.promises.readFile(args.path, 'utf8')).replace(/^const (\w+) = (new Intl\.Segmenter\(\)|\/.+\/[dgimsuvy]*);$/gm, (_, name, make) => {
        count++;
        return `const ${name} = lazyObject(() => ${make});`;
      });
      if (count === 0) throw new Error(`${args.path}: no top-level regular expression or Intl.Segmenter to make lazy; update scripts/bundle.mjs`);
      // The object made on first use stands in for it: its methods, Symbol.match and Symbol.search included.
      const helper = 'function lazyObject(make) { let o; const get = () => (o ??= make()); return new Proxy({}, { get: (_, key) => { const v = get()[key]; return typeof v === "function" ? v.bind(get()) : v; } }); }\n';
      return { contents: helper + contents, loader: 'js' };
    });
  },
};

/**
 * In a CommonJS bundle esbuild gives every default import of a Node built-in in the sources
 * (`import fs from 'node:fs'`) a copy of the module's properties: some fifty copies, a hundred
 * properties each for fs, made at start. Here the sources' default imports of these built-ins
 * share one module that hands out the built-in itself. (A named import of one of them in src/
 * fails the build: "No matching export".)
 */
const srcDir = path.join(root, 'src') + path.sep;
const builtinDefaults = {
  name: 'builtin-defaults',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|path|os|crypto|zlib|vm)$/ }, (args) =>
      args.importer.startsWith(srcDir) && args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `export default require(${JSON.stringify(args.path)});\n`, loader: 'js' }));
  },
};

await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: out,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  legalComments: 'inline',
  // The sources are ES modules; in the bundle import.meta is the bundle's own (url, and the
  // resolve() yargs uses for a configuration's `extends`).
  define: { 'import.meta': '__kdlImportMeta' },
  banner: {
    js: "const __kdlImportMeta = { url: require('node:url').pathToFileURL(__filename).href, resolve: (s) => require('node:url').pathToFileURL(require.resolve(s)).href };",
  },
  // cliui and wrap-ansi ask for string-width 7, which segments even plain ASCII text into
  // graphemes (an Intl.Segmenter, tens of ms for a help page); yargs' own string-width 8 measures
  // the same widths and skips the segmenter for ASCII. One copy serves all three.
  alias: { 'string-width': 'string-width' },
  plugins: [lazyTextLayout, lazyStringWidthTables, builtinDefaults, yargsTrims],
  // Minified, a run reads, hashes and deserializes less (about a tenth of validate's start-up).
  // The source map beside it maps stack traces back to src/ when KDUMP_LAYER_DEBUG is set.
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  // Non-ASCII characters are escaped (esbuild's default, checked below): the bin reads the
  // bundle as Latin-1, which is quicker than decoding UTF-8.
  charset: 'ascii',
  logLevel: 'warning',
});
// The bin runs cli.cjs inside a function wrapper: no hashbang line there; the source map's
// line numbers count from the line after it.
const cliFile = path.join(out, 'cli.cjs');
const cli = fs.readFileSync(cliFile, 'utf8').replace(/^#!.*\n/, '\n');
if (/[^\x00-\x7f]/.test(cli)) throw new Error(`${cliFile}: not ASCII; the bin reads it as Latin-1`);
fs.writeFileSync(cliFile, cli);
const buildId = crypto.createHash('sha256').update(cli).digest('hex').slice(0, 16);

await build({
  absWorkingDir: root,
  entryPoints: { 'kdump-layer': 'src/bin/kdump-layer.cts' },
  outdir: out,
  bundle: false,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  define: { KDUMP_LAYER_BUILD_ID: JSON.stringify(buildId) },
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
fs.chmodSync(path.join(out, 'kdump-layer.js'), 0o755);
// The package is "type": "module"; the files here are CommonJS, which Node starts faster.
fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
