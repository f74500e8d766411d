/**
 * Benchmark of `kdump-layer validate`, whole-process wall time (what a CI step pays):
 *  1. a full kernel-written .config (Debian's own 6.1 amd64 config, ~10 000 lines) — target ≤ 0.3 s;
 *  2. --kernel-source on linux-source-6.1 beside the kernel's own flow on the same tree
 *     (make defconfig + merge_config.sh + make olddefconfig) — target ≤ 0.5× of it.
 * Prints the figures; it asserts nothing (timings belong here, not in tests).
 * Run: npm run bench:validate [-- --runs N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { debianAmd64Config, linuxSource61 } from '../test/validate/helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repoRoot, 'dist/src/cli.js');
const seed = path.join(repoRoot, 'test/fixtures/kconfig/seed.cfg');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;

function time(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; okCodes?: number[] } = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
  const t = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error || !(opts.okCodes ?? [0]).includes(r.status ?? -1)) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  return t;
}

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

const fmt = (x: number) => `${x.toFixed(3)} s`;
function row(label: string, xs: number[]): { median: number } {
  const s = stats(xs);
  console.log(`${label.padEnd(62)} median ${fmt(s.median)}  min ${fmt(s.min)}  max ${fmt(s.max)}  (${xs.length} runs)`);
  return s;
}

console.log(`kdump-layer validate benchmark — node ${process.version}, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('');

// 1. A full .config.
const config = debianAmd64Config();
const lines = fs.readFileSync(config, 'utf8').split('\n').length;
console.log(`1) full .config: Debian ${path.basename(config)} (${lines} lines)`);
const floor = row('   node, empty script (process floor)', Array.from({ length: RUNS }, () => time(process.execPath, ['-e', '0'])));
row('   kdump-layer --version (CLI start-up)', Array.from({ length: RUNS }, () => time(process.execPath, [cli, '--version'])));
const full = row('   kdump-layer validate <.config>', Array.from({ length: RUNS }, () => time(process.execPath, [cli, 'validate', config])));
row('   kdump-layer validate <.config> --format json', Array.from({ length: RUNS }, () => time(process.execPath, [cli, 'validate', config, '--format', 'json'])));
console.log(`   target ≤ 0.300 s: ${full.median <= 0.3 ? 'met' : 'NOT met'} (median ${fmt(full.median)}; node alone ${fmt(floor.median)})`);
console.log('');

// 2. --kernel-source beside the kernel's own flow.
const tree = linuxSource61();
const heavyRuns = Math.max(3, Math.min(5, RUNS));
console.log(`2) --kernel-source ${path.relative(repoRoot, tree)} (x86_64, seed fragment)`);
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-cache-'));
const env = { KDUMP_LAYER_CACHE: cache };
const cold = time(process.execPath, [cli, 'validate', seed, '--arch', 'x86_64', '--kernel-source', tree], { env, okCodes: [1] });
console.log(`   kdump-layer, first run (builds conf into an empty cache)      ${fmt(cold)}`);
const ours = row('   kdump-layer validate --kernel-source (conf cached)', Array.from({ length: heavyRuns }, () =>
  time(process.execPath, [cli, 'validate', seed, '--arch', 'x86_64', '--kernel-source', tree], { env, okCodes: [1] })));

function kernelFlow(out: string): number {
  const t0 = process.hrtime.bigint();
  const make = (target: string) => time('make', ['-s', '-C', tree, `O=${out}`, 'ARCH=x86_64', target]);
  make('x86_64_defconfig');
  time(path.join(tree, 'scripts/kconfig/merge_config.sh'), ['-m', '-O', out, path.join(out, '.config'), seed]);
  make('olddefconfig');
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
const fresh = row('   kernel: defconfig + merge_config.sh + olddefconfig, fresh O=', Array.from({ length: heavyRuns }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-o-'));
  try {
    return kernelFlow(out);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}));
const warmDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-o-'));
kernelFlow(warmDir);
const warm = row('   kernel: the same in a reused O= (conf already built)', Array.from({ length: heavyRuns }, () => kernelFlow(warmDir)));
fs.rmSync(warmDir, { recursive: true, force: true });
fs.rmSync(cache, { recursive: true, force: true });
console.log(`   ratio, ours (cached) / kernel fresh O=: ${(ours.median / fresh.median).toFixed(2)}×; / kernel reused O=: ${(ours.median / warm.median).toFixed(2)}×  (target ≤ 0.5×: ${ours.median / warm.median <= 0.5 ? 'met' : ours.median / fresh.median <= 0.5 ? 'met against a fresh O= only' : 'NOT met'})`);
console.log(`   ratio, ours first run / kernel fresh O=: ${(cold / fresh.median).toFixed(2)}×`);
