// Benchmark: start-up of the installed CLI (the bundle in dist/bin, the package's bin) beside
// `node -e 0`, whole process, interleaved in one run: median wall time, median CPU time
// (user + system) and peak RSS of each. Target: CPU ≤ 1.5× `node -e 0` for generate, validate
// of a real .config, machines and --help; peak RSS of validate on a ~10 000-line .config ≤ 80 MB.
// The CLI keeps V8's compiled code in the user's cache directory: the cases run with that cache
// made (by one run of each before measuring), as every run after a user's first does; one line
// shows a first run (an empty cache directory each time, which that run then fills).
// Every case runs without NODE_EXTRA_CA_CERTS and NODE_OPTIONS: with a CA bundle named there,
// every node process parses all of its certificates as it starts (80 ms of CPU for a distribution's
// bundle), which would count as "node's own start-up" and hide kdump-layer's part. When the
// caller's environment has them, one more line shows `node -e 0` with them, for comparison.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'dist/bin/kdump-layer.js');
const corpus = path.join(root, '../shared/data/kconfig-corpus/distros');
const runs = Number(process.env.BENCH_RUNS ?? 15);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-startup-'));
// Each process reports its own resource usage on fd 3 as it exits (the same preload for every case).
const preload = path.join(work, 'rusage.cjs');
const cacheHome = path.join(work, 'cache');
fs.writeFileSync(preload, "process.on('exit', () => { const u = process.resourceUsage(); require('fs').writeSync(3, JSON.stringify({ cpu: (u.userCPUTime + u.systemCPUTime) / 1000, rss: u.maxRSS / 1024 })); });\n");

/** The real .config of about 10 000 lines: the corpus file nearest that size. */
function tenThousandLineConfig(): { file: string; lines: number } {
  const all = fs.readdirSync(corpus).filter((f) => f.endsWith('.config')).map((f) => {
    const file = path.join(corpus, f);
    return { file, lines: fs.readFileSync(file, 'utf8').split('\n').length };
  });
  return all.sort((a, b) => Math.abs(a.lines - 10000) - Math.abs(b.lines - 10000))[0];
}

/** The environment of every case: the caller's, without what makes each node start do more. */
const STARTUP_VARS = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];
const callerSet = STARTUP_VARS.filter((v) => process.env[v]);
const baseEnv: NodeJS.ProcessEnv = { ...process.env };
for (const v of STARTUP_VARS) delete baseEnv[v];

interface Sample { wall: number; cpu: number; rss: number }
function once(args: string[], okCodes = [0], cold = false, env0: NodeJS.ProcessEnv = baseEnv): Sample {
  const xdg = cold ? fs.mkdtempSync(path.join(work, 'cold-')) : cacheHome;
  const env = { ...env0, XDG_CACHE_HOME: xdg };
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', preload, ...args], { cwd: work, env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (cold) fs.rmSync(xdg, { recursive: true, force: true });
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const u = JSON.parse(String(r.output[3])) as { cpu: number; rss: number };
  return { wall, cpu: u.cpu, rss: u.rss };
}

const config = tenThousandLineConfig();
const cases: [string, string[], number[], boolean?, NodeJS.ProcessEnv?][] = [
  ['node -e 0 (floor)', ['-e', '0'], [0]],
  ['generate --machine as5712', [bin, 'generate', '--machine', 'as5712', '--out', 'layer'], [0]],
  ['  same, first run (empty code cache)', [bin, 'generate', '--machine', 'as5712', '--out', 'layer3'], [0], true],
  ['  same, unbundled (dist/src/cli.js, for comparison)', [path.join(root, 'dist/src/cli.js'), 'generate', '--machine', 'as5712', '--out', 'layer2'], [0]],
  ['  same, the layer already up to date', [bin, 'generate', '--machine', 'as5712', '--out', 'kept'], [0]],
  [`validate ${path.basename(config.file)} (${config.lines} lines)`, [bin, 'validate', config.file], [0, 1]],
  ['machines', [bin, 'machines'], [0]],
  ['--help', [bin, '--help'], [0]],
  ...(callerSet.length ? [[`node -e 0 with the caller's ${callerSet.join(' and ')}`, ['-e', '0'], [0], false, process.env] as [string, string[], number[], boolean, NodeJS.ProcessEnv]] : []),
];
const loadBefore = os.loadavg()[0];
// Warm the disk cache, and make the code cache as a user's first run of each command does.
for (const [, args, ok, , env] of cases) once(args, ok, false, env);
const samples = new Map<string, Sample[]>(cases.map(([n]) => [n, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, args, ok, cold, env] of cases) {
    for (const d of ['layer', 'layer2', 'layer3']) fs.rmSync(path.join(work, d), { recursive: true, force: true });
    samples.get(name)!.push(once(args, ok, cold, env));
  }
}
fs.rmSync(work, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const floor = samples.get(cases[0][0])!;
const floorCpu = median(floor.map((s) => s.cpu));
const floorWall = median(floor.map((s) => s.wall));
console.log(`kdump-layer start-up benchmark (dist/bin, warm code cache): median of ${runs} interleaved runs, ${os.cpus().length} CPUs, load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after, node ${process.version}`);
console.log(`every case runs without ${STARTUP_VARS.join(' and ')}${callerSet.length ? ` (set here: ${callerSet.join(', ')}; see the last line)` : ''}`);
// Each round's own CPU ratio (the case's run over the node -e 0 run of the same round): their
// middle half shows how far one round's figure moves on this machine.
const quartiles = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return [v[Math.floor((v.length - 1) / 4)], v[Math.ceil((3 * (v.length - 1)) / 4)]];
};
console.log(`${'case'.padEnd(48)} ${'wall ms'.padStart(8)} ${'x'.padStart(5)} ${'cpu ms'.padStart(7)} ${'x'.padStart(5)} ${'x per round (middle half)'.padStart(26)} ${'peak RSS'.padStart(9)}  target`);
for (const [name] of cases) {
  const s = samples.get(name)!;
  const cpu = median(s.map((x) => x.cpu));
  const wall = median(s.map((x) => x.wall));
  const rss = Math.max(...s.map((x) => x.rss));
  const targets: string[] = [];
  if (!name.startsWith(' ') && !name.startsWith('node')) targets.push(`cpu <= 1.5x: ${cpu / floorCpu <= 1.5 ? 'met' : 'NOT met'}`);
  if (name.startsWith('validate')) targets.push(`RSS <= 80 MB: ${rss <= 80 ? 'met' : 'NOT met'}`);
  const [q1, q3] = quartiles(s.map((x, i) => x.cpu / floor[i].cpu));
  console.log(`${name.padEnd(48)} ${wall.toFixed(0).padStart(8)} ${(wall / floorWall).toFixed(2).padStart(5)} ${cpu.toFixed(0).padStart(7)} ${(cpu / floorCpu).toFixed(2).padStart(5)} ${`${q1.toFixed(2)}–${q3.toFixed(2)}`.padStart(26)} ${`${rss.toFixed(0)} MB`.padStart(9)}  ${targets.join(', ')}`);
}
