// Build step: bundles the CLI into dist/bin/ (one entry file; chunks for the parts only some
// commands load), so a run reads a few files instead of some hundreds. The package's bin.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
fs.rmSync(path.join(root, 'dist/bin'), { recursive: true, force: true }); // no chunks of an earlier build
await build({
  absWorkingDir: root,
  entryPoints: { 'kdump-layer': 'src/cli.ts' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  legalComments: 'inline',
  // CommonJS packages bundled into ESM call require(); give them Node's.
  banner: { js: "import { createRequire as __kdlRequire } from 'node:module'; const require = __kdlRequire(import.meta.url);" },
  logLevel: 'warning',
});
