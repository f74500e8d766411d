// The package's bin (built into dist/bin/kdump-layer.js, CommonJS): runs the bundled CLI
// (dist/bin/cli.cjs) through V8's code cache. A run then reads the compiled bundle back
// instead of parsing and compiling its ~480 kB (minified) again, which was most of a command's start-up.
// Node 22 does this itself (module.enableCompileCache); Node 20 does not.
//
// The cache lives in kdump-layer's cache directory, where `validate --kernel-source` keeps its
// built Kconfig tools too: $KDUMP_LAYER_CACHE, else $XDG_CACHE_HOME/kdump-layer, else
// ~/.cache/kdump-layer; one file per command, named by the bundle's build id, the Node version
// and the CPU architecture. A file starts with the CRC-32 of the rest, checked before V8 sees it (V8
// checks its version and flags but, in release builds, not the data: damaged data could crash
// it). V8 refuses data made by another V8 or other flags; a refused, damaged or missing file is
// written again after the run. A cache that cannot be read or written only costs the time it
// would have saved: it never changes the output or the exit status.
// require(), not import: the built file then uses the modules as they are, where an import
// would copy every property of each into a new object first.
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import zlib = require('node:zlib');
import nodeModule = require('node:module');

/** A hash of the bundle's text, set by scripts/bundle.mjs. */
declare const KDUMP_LAYER_BUILD_ID: string;

const COMMANDS = new Set(['generate', 'validate', 'machines', 'init', 'schema', 'analyze', 'pull']);
const STALE_MS = 30 * 24 * 3600 * 1000;

function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.KDUMP_LAYER_CACHE) return path.resolve(env.KDUMP_LAYER_CACHE);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'kdump-layer');
  const home = env.HOME || env.USERPROFILE;
  return home && path.isAbsolute(home) ? path.join(home, '.cache', 'kdump-layer') : undefined;
}

/** Writes the code V8 compiled during this run; any failure leaves things as they were. */
function writeCache(dir: string, file: string, script: vm.Script): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const data = script.createCachedData();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(zlib.crc32(data));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, Buffer.concat([head, data]), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    return;
  }
  // Cache files of earlier versions (or Node versions) not written for a month go.
  try {
    const now = Date.now();
    for (const name of fs.readdirSync(dir)) {
      if (!/-node[^/]*\.v8cache(\.\d+\.tmp)?$/.test(name)) continue; // only this file's own
      const p = path.join(dir, name);
      if (now - fs.statSync(p).mtimeMs > STALE_MS) fs.unlinkSync(p);
    }
  } catch {
    // pruning is best effort
  }
}

const bundle = path.join(__dirname, 'cli.cjs');

/** Runs the bundle through the code cache. */
function runCached(): void {
  // The bundle is ASCII (the build checks it): Latin-1 reads it as it is, quicker than UTF-8.
  const source = fs.readFileSync(bundle, 'latin1');
  const dir = cacheDir(process.env);
  const command = COMMANDS.has(process.argv[2]) ? process.argv[2] : 'cli';
  const file = dir && path.join(dir, `${KDUMP_LAYER_BUILD_ID}-node${process.version}-${process.arch}-${command}.v8cache`);
  let cachedData: Buffer | undefined;
  if (file) {
    try {
      const data = fs.readFileSync(file);
      if (data.length > 4 && data.readUInt32BE(0) === zlib.crc32(data.subarray(4))) cachedData = data.subarray(4);
    } catch {
      // no cache yet
    }
  }
  // Node's own CommonJS wrapper, so the bundle runs exactly as if require()d.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
  if (dir && file && (!cachedData || script.cachedDataRejected)) process.once('exit', () => writeCache(dir, file, script));
  const bundleModule = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void).call(bundleModule.exports, bundleModule.exports, nodeModule.createRequire(bundle), bundleModule, bundle, __dirname);
}

if (process.env.KDUMP_LAYER_DEBUG) {
  // Stack traces through the source map (cli.cjs.map), so they name src/ files and lines.
  process.setSourceMapsEnabled(true);
  require(bundle);
} else {
  runCached();
}
