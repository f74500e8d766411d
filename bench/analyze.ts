/**
 * Benchmark of `kdump-layer analyze`, whole process, on real dumps of Debian's 6.1 kernel
 * crashed under QEMU in a 1 GiB guest (made by the analyze tests' set-up, cached in .cache/):
 *  1. analyze of one dump beside crash(8) run by hand with the same command script on the same
 *     vmcore and vmlinux — target ≤ 1.2× crash alone;
 *  2. --info on a 1 GiB-guest dump (bare vmcore and the archive) — target ≤ 0.5 s;
 *  3. finding the vmlinux in a generated build tree of 200 000 files shaped like a TMPDIR — ≤ 1 s.
 * Prints wall time and, with GNU time, CPU time (user + sys, children included), which varies far
 * less than wall time on a shared, loaded machine. Asserts nothing.
 * Run: npm run bench:analyze [-- --runs N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeAnalyzeDumps } from '../test/e2e/analyze-dumps.js';
import { makeFakeTmpdir, makeFakeVmlinux, stripCopy } from '../test/helpers/vmlinux.js';
import { crashArgs, crashScript } from '../src/analyze/crash.js';
import { buildDirCandidates, chooseVmlinux, readVmlinuxIdentity } from '../src/dump/vmlinux.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repoRoot, 'dist/src/cli.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpuFile = path.join(os.tmpdir(), `kdump-layer-bench-cpu-${process.pid}`);

interface Sample { wall: number; cpu: number }

function run(cmd: string, args: string[]): Sample {
  const [c, a] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c, a, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const cpu = GNU_TIME ? fs.readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number).reduce((x, y) => x + y, 0) : NaN;
  return { wall, cpu };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => (Number.isNaN(x) ? '  n/a  ' : `${x.toFixed(3)} s`);
function row(label: string, samples: Sample[]): Sample {
  const m = { wall: median(samples.map((s) => s.wall)), cpu: median(samples.map((s) => s.cpu)) };
  console.log(`${label.padEnd(64)} wall median ${fmt(m.wall)} (min ${fmt(Math.min(...samples.map((s) => s.wall)))})  cpu median ${fmt(m.cpu)}  [${samples.length} runs]`);
  return m;
}
const times = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

console.log(`kdump-layer analyze benchmark — node ${process.version}, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const d = await makeAnalyzeDumps();
const dump = d.dumps[0];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-analyze-'));
try {
  spawnSync('tar', ['-xzf', dump.archive, '-C', work]);
  const vmcore = path.join(work, path.basename(dump.archive, '.tar.gz'), 'vmcore');
  const script = path.join(work, 'commands.crash');
  fs.writeFileSync(script, crashScript());
  console.log(`dump: ${path.basename(dump.archive)} (${(fs.statSync(dump.archive).size / 1048576).toFixed(1)} MiB archive, vmcore ${(fs.statSync(vmcore).size / 1048576).toFixed(1)} MiB, 1 GiB guest); vmlinux ${(fs.statSync(d.vmlinux.path).size / 1048576).toFixed(0)} MiB`);
  console.log('');

  console.log('1) analyze of one dump, whole process, beside crash(8) by hand with the same script');
  const crashAlone = row('   crash -s -i <script> vmlinux vmcore (by hand)', times(RUNS, () => run('crash', crashArgs(d.vmlinux.path, vmcore, script))));
  const onVmcore = row('   kdump-layer analyze vmcore --vmlinux … --format json', times(RUNS, () => run(process.execPath, [cli, 'analyze', vmcore, '--vmlinux', d.vmlinux.path, '--format', 'json'])));
  const onArchive = row('   kdump-layer analyze <archive>.tar.gz --vmlinux … (unpack included)', times(RUNS, () => run(process.execPath, [cli, 'analyze', dump.archive, '--vmlinux', d.vmlinux.path])));
  console.log(`   ratio analyze/crash: vmcore ${(onVmcore.wall / crashAlone.wall).toFixed(2)}× wall, ${(onVmcore.cpu / crashAlone.cpu).toFixed(2)}× cpu; archive ${(onArchive.wall / crashAlone.wall).toFixed(2)}× wall, ${(onArchive.cpu / crashAlone.cpu).toFixed(2)}× cpu  (target ≤ 1.2×)`);
  console.log('');

  console.log('2) --info on a 1 GiB-guest dump (target ≤ 0.5 s)');
  row('   node -e 0 (process floor)', times(RUNS * 3, () => run(process.execPath, ['-e', '0'])));
  row('   kdump-layer analyze vmcore --info', times(RUNS * 3, () => run(process.execPath, [cli, 'analyze', vmcore, '--info'])));
  row('   kdump-layer analyze <archive>.tar.gz --info (gunzip + tar check)', times(RUNS * 3, () => run(process.execPath, [cli, 'analyze', dump.archive, '--info'])));
  console.log('');

  console.log('3) finding the vmlinux in a build tree of 200 000 files (target ≤ 1 s)');
  const treeRoot = path.join(repoRoot, '.cache/bench-build-tree');
  const release = '6.1.0-99-bench';
  const marker = path.join(treeRoot, '.complete');
  if (!fs.existsSync(marker)) {
    fs.rmSync(treeRoot, { recursive: true, force: true });
    const good = makeFakeVmlinux(path.join(treeRoot, 'src/vmlinux'), { release });
    const stripped = stripCopy(good, path.join(treeRoot, 'src/vmlinux.stripped'));
    const t0 = Date.now();
    const { files } = makeFakeTmpdir(path.join(treeRoot, 'build'), 200_000, { vmlinux: good, release, stripped });
    fs.writeFileSync(marker, String(files));
    console.log(`   (generated ${files} files in ${((Date.now() - t0) / 1000).toFixed(0)} s; kept in .cache/bench-build-tree)`);
  }
  const good = readVmlinuxIdentity(path.join(treeRoot, 'src/vmlinux'));
  const dumpId = { file: 'vmcore', bytes: 0, format: 'kdump' as const, release, buildId: good.buildId, vmcoreinfo: {} };
  const samples: Sample[] = [];
  let found = '';
  for (let i = 0; i < RUNS * 3; i++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const choice = chooseVmlinux(dumpId, buildDirCandidates(path.join(treeRoot, 'build'), release));
    const cpu = process.cpuUsage(c0);
    samples.push({ wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (cpu.user + cpu.system) / 1e6 });
    found = choice.chosen ? path.relative(treeRoot, choice.chosen.file) : 'none';
  }
  row(`   lookup in ${fs.readFileSync(marker, 'utf8')} files (in-process; found ${found})`, samples);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
