import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';

/** The repository root, found from the compiled test file (dist/test/helpers/cli.js). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The CLI as the package ships it: the bundle's bin (dist/bin), which the build made. */
export const cliPath = path.join(repoRoot, 'dist/bin/kdump-layer.js');

// CLI runs keep their V8 code cache (see src/bin/kdump-layer.cts) in a directory of this test
// run, not in the user's cache directory, and every spawned run inherits it.
const codeCache = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-test-cache-'));
process.env.XDG_CACHE_HOME = codeCache;
process.on('exit', () => fs.rmSync(codeCache, { recursive: true, force: true }));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `kdump-layer` binary as a user would, in `cwd`. */
export function runCli(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? repoRoot,
    input: opts.input,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix = 'kdump-layer-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
