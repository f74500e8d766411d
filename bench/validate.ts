/**
 * Benchmark of `kdump-layer validate`, whole process (what a CI step pays):
 *  1. a full kernel-written .config (Debian's own 6.1 amd64 config, ~10 000 lines) — target ≤ 0.3 s;
 *  2. --kernel-source on linux-source-6.1 beside the kernel's own flow on the same tree
 *     (make defconfig + merge_config.sh + make olddefconfig) — target ≤ 0.5× of it.
 * Prints wall time and, where GNU time is installed, CPU time (user + sys, children included),
 * which varies far less than wall time on a shared, loaded machine. Asserts nothing.
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
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpuFile = path.join(os.tmpdir(), `kdump-layer-bench-cpu-${process.pid}`);

interface Sample { wall: number; cpu: number }

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; okCodes?: number[] } = {}): Sample {
  const [c, a] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c, a, { encoding: 'utf8', env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error || !(opts.okCodes ?? [0]).includes(r.status ?? -1)) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  const cpu = GNU_TIME ? fs.readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number).reduce((x, y) => x + y, 0) : NaN;
  return { wall, cpu };
}

const sum = (xs: Sample[]): Sample => xs.reduce((a, b) => ({ wall: a.wall + b.wall, cpu: a.cpu + b.cpu }), { wall: 0, cpu: 0 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => (Number.isNaN(x) ? '  n/a  ' : `${x.toFixed(3)} s`);

function row(label: string, samples: Sample[]): Sample {
  const w = samples.map((s) => s.wall);
  const m = { wall: median(w), cpu: median(samples.map((s) => s.cpu)) };
  console.log(`${label.padEnd(60)} wall median ${fmt(m.wall)} (min ${fmt(Math.min(...w))})  cpu median ${fmt(m.cpu)}  [${samples.length} runs]`);
  return m;
}

const times = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

console.log(`kdump-layer validate benchmark — node ${process.version}, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('');

// 1. A full .config.
const config = debianAmd64Config();
const lines = fs.readFileSync(config, 'utf8').split('\n').length;
console.log(`1) a full .config: Debian's ${path.basename(config)} (${lines} lines)`);
const floor = row('   node -e 0 (process floor)', times(RUNS, () => run(process.execPath, ['-e', '0'])));
const startup = row('   kdump-layer --version (CLI start-up: node + yargs)', times(RUNS, () => run(process.execPath, [cli, '--version'])));
const full = row('   kdump-layer validate <.config>', times(RUNS, () => run(process.execPath, [cli, 'validate', config])));
row('   kdump-layer validate <.config> --format json', times(RUNS, () => run(process.execPath, [cli, 'validate', config, '--format', 'json'])));
console.log(`   target ≤ 0.300 s wall: ${full.wall <= 0.3 ? 'met' : 'NOT met'} (median ${fmt(full.wall)}; of which start-up ${fmt(startup.wall)}, node alone ${fmt(floor.wall)})`);
console.log('');

// 2. --kernel-source beside the kernel's own flow.
const tree = linuxSource61();
const heavy = Math.max(3, Math.min(5, RUNS));
console.log(`2) --kernel-source ${path.relative(repoRoot, tree)} (x86_64, the seed fragment)`);
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-cache-'));
const env = { KDUMP_LAYER_CACHE: cache };
const ourArgs = [cli, 'validate', seed, '--arch', 'x86_64', '--kernel-source', tree];
const cold = row('   kdump-layer, first run (builds conf into an empty cache)', [run(process.execPath, ourArgs, { env, okCodes: [1] })]);
const ours = row('   kdump-layer validate --kernel-source (conf cached)', times(heavy, () => run(process.execPath, ourArgs, { env, okCodes: [1] })));

function kernelFlow(out: string): Sample {
  const make = (target: string) => run('make', ['-s', '-C', tree, `O=${out}`, 'ARCH=x86_64', target]);
  return sum([make('x86_64_defconfig'), run(path.join(tree, 'scripts/kconfig/merge_config.sh'), ['-m', '-O', out, path.join(out, '.config'), seed]), make('olddefconfig')]);
}
const fresh = row('   kernel: defconfig + merge_config.sh + olddefconfig, new O=', times(heavy, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-o-'));
  try {
    return kernelFlow(out);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}));
const warmDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-o-'));
kernelFlow(warmDir);
const warm = row('   kernel: the same in a reused O= (conf already built)', times(heavy, () => kernelFlow(warmDir)));
fs.rmSync(warmDir, { recursive: true, force: true });
fs.rmSync(cache, { recursive: true, force: true });
fs.rmSync(cpuFile, { force: true });
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
console.log(`   ours (conf cached) / kernel new O=:    wall ${ratio(ours.wall, fresh.wall)}  cpu ${ratio(ours.cpu, fresh.cpu)}`);
console.log(`   ours (conf cached) / kernel reused O=: wall ${ratio(ours.wall, warm.wall)}  cpu ${ratio(ours.cpu, warm.cpu)}`);
console.log(`   ours first run / kernel new O=:        wall ${ratio(cold.wall, fresh.wall)}  cpu ${ratio(cold.cpu, fresh.cpu)}`);
console.log('   target ≤ 0.5× of the kernel\'s own flow');
