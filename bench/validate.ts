/**
 * Benchmark of `kdump-layer validate`, printed side by side in one run. Asserts nothing.
 *  1. a full kernel-written .config (Debian's own 6.1 amd64 config) — target ≤ 0.3 s;
 *  2. accuracy on the test corpus (test/validate/kernel-corpus.ts: the seed, yocto-kernel-cache
 *     fragments, hand-made cases; on arm64 also samples of real arm64 configs from
 *     ../shared/data/kconfig-corpus), for x86_64 and arm64, against the kernel's own flow (make defconfig +
 *     merge_config.sh -m + make olddefconfig) on each tree: precision and recall of the lines the
 *     kernel drops, for --kernel-source and for the default mode without a tree, and how many
 *     fragments without a tree are reported clean although the kernel drops a line of them;
 *  3. time of --kernel-source beside the kernel's own flow, cold against cold (empty cache /
 *     new O= directory) and warm against warm (conf built / O= reused), the seed fragment.
 * Targets: tree mode precision and recall 1.00; without a tree precision ≥ 0.99 and no fragment
 * reported clean that loses a line; tree mode ≤ 0.5× the kernel flow warm, ≤ 1.0× cold.
 * Wall time and, where GNU time is installed, CPU time (children included): on a shared,
 * loaded machine CPU time varies far less than wall time.
 * Run: npm run bench:validate [-- --runs N] [--only config|accuracy|time]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { debianAmd64Config, kconfigCache, linuxSource61 } from '../test/validate/helpers.js';
import { arm64ConfigFragments, flaggedLines, kernelCorpus, kernelFlowRun, linesKernelDrops, linuxSource612 } from '../test/validate/kernel-corpus.js';
import type { KernelArch } from '../src/kernel/arch.js';
import { runValidate } from '../src/kernel/validate.js';
import { KBUILD_ARCH, kernelTreeVersion } from '../src/kernel/kconfig.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The bundled command a user runs (npx kdump-layer), as bench/startup.ts measures it.
const cli = path.join(repoRoot, 'dist/bin/kdump-layer.js');
const seed = path.join(repoRoot, 'test/fixtures/kconfig/seed.cfg');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpuFile = path.join(os.tmpdir(), `kdump-layer-bench-cpu-${process.pid}`);

interface Sample { wall: number; cpu: number }

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; okCodes?: number[]; cwd?: string } = {}): Sample {
  const [c, a] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c, a, { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
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
const times = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

function row(label: string, samples: Sample[]): Sample {
  const w = samples.map((s) => s.wall);
  const m = { wall: median(w), cpu: median(samples.map((s) => s.cpu)) };
  console.log(`${label.padEnd(64)} wall median ${fmt(m.wall)} (min ${fmt(Math.min(...w))})  cpu median ${fmt(m.cpu)}  [${samples.length} run(s)]`);
  return m;
}

console.log(`kdump-layer validate benchmark — node ${process.version}, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('');

const onlyArg = process.argv.indexOf('--only');
/** `--only config|accuracy|time` runs one section. */
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;
if (only !== undefined && !['config', 'accuracy', 'time'].includes(only)) throw new Error(`--only ${only}: expected config, accuracy or time`);
const section = (name: string) => only === undefined || only === name;

// 1. A full .config.
if (section('config')) {
  const config = debianAmd64Config();
  console.log(`1) a full .config: Debian's ${path.basename(config)} (${fs.readFileSync(config, 'utf8').split('\n').length} lines)`);
  const floor = row('   node -e 0 (process floor)', times(RUNS, () => run(process.execPath, ['-e', '0'])));
  const full = row('   kdump-layer validate <.config>', times(RUNS, () => run(process.execPath, [cli, 'validate', config])));
  console.log(`   target ≤ 0.300 s wall: ${full.wall <= 0.3 ? 'met' : 'NOT met'} (median ${fmt(full.wall)}; node alone ${fmt(floor.wall)})`);
  console.log('');
}

// 2. Accuracy on the corpus.
if (section('accuracy')) {
  const corpus = kernelCorpus();
  const arm64Extra = arm64ConfigFragments();
  const trees: [string, string][] = [['6.1', linuxSource61()], ['6.12', linuxSource612()]];
  console.log(`2) accuracy on the test corpus: ${corpus.length} fragments (seed, yocto-kernel-cache, hand-made) on x86_64 and arm64, and on arm64 also ${arm64Extra.length} real arm64 config samples (${arm64Extra.map((f) => path.basename(f.file)).join(', ')}), against the kernel's own flow`);
  console.log(`   ${'tree'.padEnd(12)} ${'arch'.padEnd(7)} ${'mode'.padEnd(16)} ${'asking lines'.padStart(12)} ${'kernel drops'.padStart(12)} ${'flagged'.padStart(8)} ${'right'.padStart(6)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'unchecked'.padStart(9)}  clean-but-loses-a-line`);
  const score = { tree: { p: [] as number[], r: [] as number[] }, none: { p: [] as number[], r: [] as number[], cleanLosing: 0 } };
  for (const [series, tree] of trees) for (const arch of ['x86_64', 'arm64'] as KernelArch[]) {
    const version = kernelTreeVersion(tree);
    const fragments = arch === 'arm64' ? [...corpus, ...arm64Extra] : corpus;
    for (const mode of ['--kernel-source', 'no tree'] as const) {
      let asks = 0;
      let dropped = 0;
      let flagged = 0;
      let right = 0;
      let unchecked = 0;
      let cleanLosing = 0;
      for (const f of fragments) {
        const flow = kernelFlowRun(tree, arch, f.file);
        const truth = linesKernelDrops(fs.readFileSync(f.file, 'utf8'), flow.config, flow.unread);
        const report = mode === '--kernel-source'
          ? await runValidate({ files: [f.file], arch, kernelSource: tree, cacheDir: kconfigCache })
          : await runValidate({ files: [f.file], arch, kernelVersion: version });
        const got = flaggedLines(report, f.file);
        for (const line of truth.asks.keys()) {
          asks++;
          if (truth.dropped.has(line)) dropped++;
          if (got.has(line)) flagged++;
          if (got.has(line) && truth.dropped.has(line)) right++;
        }
        unchecked += report.summary.lines.unchecked;
        if (report.summary.verdict === 'pass' && truth.dropped.size > 0) cleanLosing++;
      }
      const precision = flagged ? right / flagged : 1;
      const recall = dropped ? right / dropped : 1;
      const s = mode === '--kernel-source' ? score.tree : score.none;
      s.p.push(precision);
      s.r.push(recall);
      if (mode === 'no tree') score.none.cleanLosing += cleanLosing;
      console.log(`   ${`${series} (${version})`.padEnd(12)} ${arch.padEnd(7)} ${mode.padEnd(16)} ${String(asks).padStart(12)} ${String(dropped).padStart(12)} ${String(flagged).padStart(8)} ${String(right).padStart(6)} ${precision.toFixed(3).padStart(9)} ${recall.toFixed(3).padStart(7)} ${String(unchecked).padStart(9)}  ${mode === 'no tree' ? cleanLosing : '-'}`);
    }
  }
  const minOf = (xs: number[]) => Math.min(...xs);
  console.log(`   tree mode: precision ${minOf(score.tree.p).toFixed(3)}, recall ${minOf(score.tree.r).toFixed(3)} (lowest of the trees) — target 1.00: ${minOf(score.tree.p) === 1 && minOf(score.tree.r) === 1 ? 'met' : 'NOT met'}`);
  console.log(`   without a tree: precision ${minOf(score.none.p).toFixed(3)} — target ≥ 0.99: ${minOf(score.none.p) >= 0.99 ? 'met' : 'NOT met'}; fragments reported clean that lose a line: ${score.none.cleanLosing} — target 0: ${score.none.cleanLosing === 0 ? 'met' : 'NOT met'}; recall ${minOf(score.none.r).toFixed(3)} (the rest is listed as "cannot be checked without the kernel's Kconfig")`);
  console.log('');
}

// 3. Time: --kernel-source beside the kernel's own flow, cold vs cold and warm vs warm.
if (section('time')) {
  const heavy = Math.max(3, Math.min(5, RUNS));
  const tree = linuxSource61();
  const kb = KBUILD_ARCH.x86_64;
  console.log(`3) time: --kernel-source ${path.relative(repoRoot, tree)} (x86_64, the seed fragment) beside the kernel's own flow`);
  function kernelFlowTimed(out: string): Sample {
    const make = (target: string) => run('make', ['-s', '-C', tree, `O=${out}`, `ARCH=${kb.arch}`, target]);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-merge-'));
    try {
      return sum([make(kb.defconfig), run(path.join(tree, 'scripts/kconfig/merge_config.sh'), ['-m', '-O', out, path.join(out, '.config'), seed], { cwd: work }), make('olddefconfig')]);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  const ourArgs = [cli, 'validate', seed, '--arch', 'x86_64', '--kernel-source', tree];
  const ourCold = row('   cold: kdump-layer, empty cache (builds conf, make defconfig)', times(heavy, () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-cache-'));
    try {
      return run(process.execPath, ourArgs, { env: { KDUMP_LAYER_CACHE: cache }, okCodes: [1] });
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }));
  const kernelCold = row('   cold: kernel flow, new O= (builds conf)', times(heavy, () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-o-'));
    try {
      return kernelFlowTimed(out);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }));
  const warmCache = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-cache-'));
  run(process.execPath, ourArgs, { env: { KDUMP_LAYER_CACHE: warmCache }, okCodes: [1] });
  const ourWarm = row('   warm: kdump-layer, cache filled (conf and defconfig cached)', times(heavy, () => run(process.execPath, ourArgs, { env: { KDUMP_LAYER_CACHE: warmCache }, okCodes: [1] })));
  const warmDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-o-'));
  kernelFlowTimed(warmDir);
  const kernelWarm = row('   warm: kernel flow, reused O= (conf already built)', times(heavy, () => kernelFlowTimed(warmDir)));
  const noTree = row('   kdump-layer without a tree (rule tables), for scale', times(heavy, () => run(process.execPath, [cli, 'validate', seed, '--arch', 'x86_64', '--kernel-version', '6.1'], { okCodes: [1] })));
  fs.rmSync(warmDir, { recursive: true, force: true });
  fs.rmSync(warmCache, { recursive: true, force: true });
  fs.rmSync(cpuFile, { force: true });
  const ratio = (a: number, b: number) => a / b;
  const show = (label: string, a: Sample, b: Sample, target: number) => {
    const w = ratio(a.wall, b.wall);
    const c = ratio(a.cpu, b.cpu);
    console.log(`   ${label.padEnd(30)} wall ${w.toFixed(2)}×  cpu ${Number.isNaN(c) ? 'n/a' : `${c.toFixed(2)}×`}  — target ≤ ${target.toFixed(1)}×: ${w <= target ? 'met' : 'NOT met'} (wall)${!Number.isNaN(c) ? `, ${c <= target ? 'met' : 'NOT met'} (cpu)` : ''}`);
  };
  show('cold / cold (ours / kernel):', ourCold, kernelCold, 1.0);
  show('warm / warm (ours / kernel):', ourWarm, kernelWarm, 0.5);
  console.log(`   (without a tree: ${fmt(noTree.wall)} wall)`);
}
