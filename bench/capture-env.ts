/**
 * Benchmark of the two capture environments (prints tables; not a test).
 *
 *   busybox   the runtime run from a busybox initramfs (test/e2e/harness.ts), no root switch
 *   systemd   the layer's path: the capture kernel's initramfs mounts the root file system
 *             and systemd boots ops-kdump-capture.target (test/e2e/image.ts)
 *   sysvinit  the same with SysV init: rcS, then the init script's save at S41 (--sweep only)
 *
 *   node dist/bench/capture-env.js             side by side, one run each, same crashkernel:
 *                                              crash -> capture done -> back in the normal
 *                                              system, and peak memory in the capture kernel
 *   node dist/bench/capture-env.js --sweep [ENV:SIZES...] [--mem 1024,4096]
 *                                              smallest crashkernel= that still saves a dump,
 *                                              per environment, on 1 GiB and 4 GiB guests
 *                                              (e.g. busybox:96,88 systemd:128,112,96)
 *
 * Both environments save with the layer's generated kdump.conf (lzo, -d 31, tar.gz at the
 * next boot). "Back in the normal system" is the same for both (the systemd image booting
 * to multi-user with the capture kernel loaded), measured once and added to each.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  buildInitramfs, e2eDir, ensureKernel, Guest, makeDisk, runMarker, scenario, type Kernel,
} from '../test/e2e/harness.js';
import { buildImage, buildStandinInitramfs, copyImage, generateLayer, MEMTRACE, type Image } from '../test/e2e/image.js';

type Env = 'busybox' | 'systemd' | 'sysvinit';

interface Run {
  env: Env;
  memMiB: number;
  crashkernel: string;
  loaded: boolean;
  saved: boolean;
  /** Crash -> capture kernel done (its reboot), seconds (host clock). */
  captureS?: number;
  peakKiB?: number;
  tail: string;
}

let kernel: Kernel;
let layer: string;
let image: Image;
let sysvImage: Image | undefined;

function layerConf(dumpPath: string): string {
  const conf = fs.readFileSync(path.join(layer, 'recipes-kdump/ops-kdump/files/kdump.conf'), 'utf8');
  return conf.replace(/^path .*$/m, `path ${dumpPath}`);
}

function finish(env: Env, memMiB: number, crashkernel: string, g: Guest): Run {
  const tCrash = g.timeOf(/sysrq: Trigger a crash/);
  const tDone = g.timeOf(/reboot: Restarting system/);
  const peaks = [...g.output.matchAll(/KDL-MEM-PEAK (\d+)/g)].map((m) => Number(m[1]));
  const saved = /ops-kdump: dump saved/.test(g.output);
  return {
    env, memMiB, crashkernel,
    loaded: /KDL-LOAD-RC=0/.test(g.output) || /ops-kdump: capture kernel loaded/.test(g.output),
    saved,
    captureS: saved && tCrash !== undefined && tDone !== undefined ? (tDone - tCrash) / 1000 : undefined,
    peakKiB: peaks.length ? Math.max(...peaks) : undefined,
    tail: g.tail(15),
  };
}

async function runBusybox(memMiB: number, crashkernel: string, timeoutMs: number): Promise<Run> {
  const initramfs = buildInitramfs(kernel);
  const disk = path.join(e2eDir, `bench-env-busybox-${memMiB}-${process.pid}.img`);
  const sampler = `(${MEMTRACE.replace(/^#!.*\n/, '').replace('grep -qw kdl.memtrace /proc/cmdline || exit 0', ':')}) &`;
  makeDisk(disk, { kernel, initramfs, kdumpConf: layerConf('/data/core'), scenario: scenario(runMarker(), sampler) });
  const g = new Guest({
    kernel, initramfs, disk, memMiB, crashkernel,
    logFile: path.join(e2eDir, `logs/bench-env-busybox-${memMiB}-${crashkernel}.log`),
  });
  return runToEnd(g, disk, timeoutMs, 'busybox', memMiB, crashkernel);
}

/** Runs a guest until it ends (a run that does not finish is a failed size), drops its disk. */
async function runToEnd(g: Guest, disk: string, timeoutMs: number, env: Env, memMiB: number, crashkernel: string): Promise<Run> {
  try {
    await g.waitExit(timeoutMs);
  } catch {
    /* a run that does not finish is a failed size */
  } finally {
    await g.kill();
  }
  fs.rmSync(disk, { force: true });
  return finish(env, memMiB, crashkernel, g);
}

async function runSystemd(memMiB: number, crashkernel: string, timeoutMs: number, env: Env = 'systemd'): Promise<Run> {
  const initramfs = buildStandinInitramfs(kernel);
  if (env === 'sysvinit') sysvImage ??= buildImage(kernel, 'sysvinit', layer);
  const disk = copyImage(env === 'sysvinit' ? sysvImage! : image, path.join(e2eDir, `bench-env-${env}-${memMiB}-${process.pid}.img`));
  // The system side is a stand-in (init=/usr/lib/kdl/quick loads and crashes at once); the
  // capture kernel inherits init= and hands over to systemd: the layer's capture path.
  const g = new Guest({
    kernel, initramfs, disk, memMiB, crashkernel,
    extraAppend: 'root=/dev/vda rw init=/usr/lib/kdl/quick kdl.memtrace',
    logFile: path.join(e2eDir, `logs/bench-env-${env}-${memMiB}-${crashkernel}.log`),
  });
  return runToEnd(g, disk, timeoutMs, env, memMiB, crashkernel);
}

/** Normal boot of the systemd image to its test driver (after ops-kdump-load), seconds. */
async function normalBoot(): Promise<number> {
  const initramfs = buildStandinInitramfs(kernel);
  const disk = copyImage(image, path.join(e2eDir, 'bench-env-normal.img'));
  const g = new Guest({
    kernel, initramfs, disk, crashkernel: image.crashkernel,
    extraAppend: 'root=/dev/vda rw kdl.step=up',
    logFile: path.join(e2eDir, 'logs/bench-env-normal.log'),
  });
  try {
    await g.waitFor(/KDL-UNIT ops-kdump-load.service active/, 20 * 60_000, 'normal boot');
  } finally {
    await g.kill();
  }
  fs.rmSync(disk, { force: true });
  const t = g.timeOf(/KDL-DRIVER/);
  if (t === undefined) throw new Error('no driver line');
  return t / 1000;
}

const run = (env: Env, mem: number, ck: string, timeoutMs: number): Promise<Run> =>
  env === 'busybox' ? runBusybox(mem, ck, timeoutMs) : runSystemd(mem, ck, timeoutMs, env);

async function sideBySide(): Promise<void> {
  const ck = image.crashkernel;
  const normal = await normalBoot();
  const rows: Run[] = [];
  for (const env of ['busybox', 'systemd'] as Env[]) rows.push(await run(env, 1024, ck, 20 * 60_000));
  console.log(`kernel ${kernel.release}, QEMU TCG, 1 CPU, 1024 MiB guest, crashkernel=${ck}, layer kdump.conf (lzo -d 31, tar.gz at next boot)`);
  console.log(`normal boot of the systemd image to ops-kdump-load done: ${normal.toFixed(1)} s (added to both)`);
  console.log('');
  console.log('| capture environment | crash -> capture done (s) | + normal boot = downtime (s) | vs busybox | peak memory in capture kernel (MiB) |');
  console.log('|---|---:|---:|---:|---:|');
  const base = rows[0].captureS !== undefined ? rows[0].captureS + normal : NaN;
  for (const r of rows) {
    if (r.captureS === undefined) {
      console.log(`| ${r.env} | FAILED | - | - | - |`);
      console.error(r.tail);
      continue;
    }
    const down = r.captureS + normal;
    console.log(`| ${r.env} | ${r.captureS.toFixed(1)} | ${down.toFixed(1)} | ${(down / base).toFixed(2)}x | ${r.peakKiB === undefined ? '?' : (r.peakKiB / 1024).toFixed(0)} |`);
  }
}

/**
 * Per environment and guest size: try sizes downward from the first while they save; if the
 * first fails, upward until one saves. Prints every try and the smallest that saved.
 */
async function sweep(): Promise<void> {
  const plan: Record<Env, number[]> = { busybox: [96, 88, 80, 64], systemd: [128, 112, 96, 80], sysvinit: [128, 112, 96, 80] };
  // --sweep busybox:96,88 systemd:128,112 narrows the sizes tried (first = start).
  for (const a of process.argv.slice(process.argv.indexOf('--sweep') + 1)) {
    const m = /^(busybox|systemd|sysvinit):([\d,]+)$/.exec(a);
    if (m) plan[m[1] as Env] = m[2].split(',').map(Number);
  }
  const mems = process.argv.includes('--mem') ? process.argv[process.argv.indexOf('--mem') + 1].split(',').map(Number) : [1024, 4096];
  const up: Record<Env, number[]> = { busybox: [112, 128, 160], systemd: [160, 192, 256], sysvinit: [160, 192, 256] };
  console.log('| environment | guest RAM | crashkernel | loaded | dump saved | crash -> done (s) | peak used (MiB) |');
  console.log('|---|---:|---:|---|---|---:|---:|');
  const smallest: string[] = [];
  const envs = (['busybox', 'systemd', 'sysvinit'] as Env[]).filter((e) => process.argv.some((a) => a.startsWith(`${e}:`)));
  for (const env of envs.length ? envs : (['busybox', 'systemd'] as Env[])) {
    for (const mem of mems) {
      let best: number | undefined;
      const show = (r: Run, size: number): void => {
        console.log(`| ${env} | ${mem / 1024} GiB | ${size}M | ${r.loaded ? 'yes' : 'no'} | ${r.saved ? 'yes' : 'no'} | ${r.captureS?.toFixed(1) ?? '-'} | ${r.peakKiB === undefined ? '-' : (r.peakKiB / 1024).toFixed(0)} |`);
      };
      for (const size of plan[env]) {
        const r = await run(env, mem, `${size}M`, 15 * 60_000);
        show(r, size);
        if (!r.saved) break;
        best = size;
      }
      if (best === undefined) {
        for (const size of up[env]) {
          const r = await run(env, mem, `${size}M`, 12 * 60_000);
          show(r, size);
          if (r.saved) {
            best = size;
            break;
          }
        }
      }
      smallest.push(`${env} ${mem / 1024} GiB: ${best === undefined ? 'none tried worked' : `${best}M`}`);
    }
  }
  console.log('');
  console.log('smallest crashkernel= that saved a dump:');
  for (const s of smallest) console.log(`  ${s}`);
}

kernel = ensureKernel();
layer = generateLayer('as5712');
image = buildImage(kernel, 'systemd', layer);
if (process.argv.includes('--sweep')) await sweep();
else await sideBySide();
fs.rmSync(path.dirname(layer), { recursive: true, force: true });
