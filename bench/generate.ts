// Benchmark: whole-process time of `kdump-layer generate --machine as5712` beside `node -e 0`
// on the same machine, in one run (median of N runs each, interleaved). Prints figures only.
// Runs the package's bin (dist/bin/kdump-layer.js), as `npx kdump-layer` does, with its code
// cache made by a first run, as every run after a user's first has it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/bin/kdump-layer.js');
const runs = Number(process.env.BENCH_RUNS ?? 15);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-bench-'));
const env = { ...process.env, KDUMP_LAYER_CACHE: path.join(work, 'cache') };

function timeOnce(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: work, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cases: [string, string[]][] = [
  ['node -e 0 (floor)', ['-e', '0']],
  ['generate --machine as5712 (fresh dir)', [cli, 'generate', '--machine', 'as5712', '--out', 'fresh', '--force']],
  ['generate --machine as5712 (unchanged)', [cli, 'generate', '--machine', 'as5712', '--out', 'same']],
  ['generate --machine as5712 --check', [cli, 'generate', '--machine', 'as5712', '--out', 'same', '--check']],
];
timeOnce(cases[2][1]); // create "same" first; also warms the disk cache and makes the code cache (one file for generate)
const samples = new Map<string, number[]>(cases.map(([n]) => [n, []]));
for (let i = 0; i < runs; i++) {
  fs.rmSync(path.join(work, 'fresh'), { recursive: true, force: true });
  for (const [name, args] of cases) samples.get(name)!.push(timeOnce(args));
}
fs.rmSync(work, { recursive: true, force: true });

const floor = median(samples.get(cases[0][0])!);
console.log(`kdump-layer generate benchmark: median of ${runs} runs, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}, node ${process.version}`);
console.log(`${'case'.padEnd(42)} ${'median ms'.padStart(10)} ${'vs floor'.padStart(9)}  target`);
for (const [name] of cases) {
  const m = median(samples.get(name)!);
  const target = name.startsWith('generate') ? (m <= 300 ? '<= 300 ms: met' : '<= 300 ms: NOT met') : '';
  console.log(`${name.padEnd(42)} ${m.toFixed(0).padStart(10)} ${(m / floor).toFixed(1).padStart(8)}x  ${target}`);
}
