/**
 * Benchmark of the on-device runtime (prints a table; not a test).
 *
 * One QEMU/TCG guest run: boot the real Debian kernel, load the capture kernel with the
 * runtime, crash it, and in the capture kernel run side by side, on the same /proc/vmcore:
 *   (a) raw copy: makedumpfile -d 31, no compression (the floor)
 *   (b) the seed pipeline: makedumpfile -c -d 31, then tar czf with os-release
 *   (c) OpenSwitch's shipped way: ELF makedumpfile -E -d 31, tar.gz deferred to next boot
 *   and the runtime's own `ops-kdump save` with several configurations.
 * Downtime = crash -> capture kernel up (measured on the host from console timestamps)
 *          + the variant's work in the capture kernel (measured in the guest).
 * Work deferred to the next boot is timed separately and does not count as downtime.
 *
 *   node dist/bench/runtime.js [--rounds 3] the side-by-side table
 *   node dist/bench/runtime.js --crashkernel 128,112,96,88,80
 *                                           the smallest crashkernel that still captures
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  buildInitramfs, e2eDir, ensureKernel, Guest, makeDisk, runMarker, scenario,
} from '../test/e2e/harness.js';

interface Variant {
  key: string;
  label: string;
  /** Shell run in the capture kernel; its duration is the variant's capture-kernel work. */
  capture: string;
  /** Shell run afterwards for work the variant defers to the next boot. */
  deferred?: string;
  /** File (under /data/bench/<key>) whose size is the final archive size; a glob. */
  result: string;
}

const collectorOpts = '--message-level 1 -d 31';

function runtimeConf(key: string, lines: string): string {
  return `path /data/bench/${key}\n${lines}\narchive_files /etc/os-release\nkeep 3\nmin_free_mb 64\nfailure_action none\nfinal_action none\n`;
}

const RUNTIME_CONFS: Record<string, string> = {
  'rt-seed': `core_collector makedumpfile -c ${collectorOpts}\narchive tar.gz\narchive_stage capture`,
  'rt-lzo-gz': `core_collector makedumpfile -l ${collectorOpts}\narchive tar.gz\narchive_stage capture`,
  'rt-lzo-boot': `core_collector makedumpfile -l ${collectorOpts}\narchive tar.gz\narchive_stage boot`,
  'rt-raw-boot': `core_collector makedumpfile ${collectorOpts}\narchive tar.gz\narchive_stage boot`,
  'rt-lzo-boot-zlib': `core_collector makedumpfile -l ${collectorOpts}\narchive tar.gz\narchive_stage boot\nrecompress makedumpfile -c ${collectorOpts}`,
};

const VARIANTS: Variant[] = [
  {
    key: 'a-raw',
    label: '(a) raw makedumpfile -d 31 (floor)',
    capture: `makedumpfile ${collectorOpts} /proc/vmcore $D/vmcore >/dev/null 2>&1; sync`,
    result: 'vmcore',
  },
  {
    key: 'b-seed',
    label: '(b) seed: makedumpfile -c -d 31 + tar czf',
    capture: `makedumpfile -c ${collectorOpts} /proc/vmcore $D/vmcore >/dev/null 2>&1; cp /etc/os-release $D/; (cd $D && tar czf vmcore.tar.gz vmcore os-release && rm vmcore); sync`,
    result: 'vmcore.tar.gz',
  },
  {
    key: 'c-openswitch',
    label: '(c) OpenSwitch: ELF -E -d 31, tar.gz at next boot',
    capture: `makedumpfile -E ${collectorOpts} /proc/vmcore $D/vmcore-incomplete >/dev/null 2>&1; mv $D/vmcore-incomplete $D/vmcore; sync`,
    deferred: `cp /etc/os-release $D/; (cd $D && tar czf vmcore.tar.gz vmcore os-release && rm vmcore); sync`,
    result: 'vmcore.tar.gz',
  },
  ...Object.keys(RUNTIME_CONFS).map((k) => ({
    key: k,
    label: `ops-kdump: ${RUNTIME_CONFS[k].split('\n').map((l) => l.replace(/^core_collector /, '').replace(` ${collectorOpts}`, ' -d 31').replace(/^archive_stage /, 'stage ')).join(', ')}`,
    capture: `KDUMP_CONF=/data/bench-conf/${k}.conf ops-kdump save >/dev/null 2>&1`,
    deferred: `KDUMP_CONF=/data/bench-conf/${k}.conf ops-kdump archive >/dev/null 2>&1; sync`,
    result: 'kdump-*',
  })),
];

/**
 * The capture-kernel script: `rounds` rounds of every variant, interleaved so that drift in
 * the emulator's speed hits all of them alike; outputs of all but the last round are removed
 * (disk space). Deferred work and sizes come from the last round.
 */
function benchCaptureScript(rounds: number): string {
  const lines = ['mkdir -p /data/bench', 'cs() { read -r u _ </proc/uptime; echo "$u"; }'];
  for (let r = 1; r <= rounds; r++) {
    for (const v of VARIANTS) {
      lines.push(`D=/data/bench/${v.key}; rm -rf $D; mkdir -p $D; sync; echo 3 > /proc/sys/vm/drop_caches`);
      lines.push(`t0=$(cs); ${v.capture}; t1=$(cs); echo "KDL-BENCH-CAPTURE ${v.key} $t0 $t1"`);
    }
  }
  for (const v of VARIANTS) {
    if (!v.deferred) continue;
    lines.push(`D=/data/bench/${v.key}`);
    lines.push(`t0=$(cs); ${v.deferred}; t1=$(cs); echo "KDL-BENCH-DEFERRED ${v.key} $t0 $t1"`);
  }
  for (const v of VARIANTS) {
    lines.push(`for f in /data/bench/${v.key}/${v.result}; do [ -f "$f" ] && echo "KDL-BENCH-SIZE ${v.key} $(ls -ln "$f" | awk '{print $5}') $f"; done`);
  }
  lines.push('echo KDL-BENCH-DONE', 'sync', 'poweroff -f');
  return lines.join('\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function sideBySide(rounds: number): Promise<void> {
  const kernel = ensureKernel();
  const initramfs = buildInitramfs(kernel);
  const disk = path.join(e2eDir, 'bench-disk.img');
  const extra: Record<string, string> = {};
  for (const [k, c] of Object.entries(RUNTIME_CONFS)) extra[`bench-conf/${k}.conf`] = runtimeConf(k, c);
  makeDisk(disk, {
    kernel, initramfs, sizeMiB: 2048, extra,
    kdumpConf: 'path /data/core\nfinal_action none\nfailure_action none\n',
    scenario: scenario(runMarker(), benchCaptureScript(rounds)),
  });
  const g = new Guest({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/bench.log') });
  try {
    await g.waitFor(/KDL-BENCH-DONE/, 40 * 60_000, 'benchmark end');
  } finally {
    await g.kill();
  }
  const tCrash = g.timeOf(/sysrq: Trigger a crash/);
  const tUp = g.timeOf(/^KDL-CAPTURE-UP/);
  if (tCrash === undefined || tUp === undefined) throw new Error('crash or capture markers missing');
  const captureUp = (tUp - tCrash) / 1000;
  const times = new Map<string, number[]>();
  const deferred = new Map<string, number>();
  const sizes = new Map<string, number>();
  for (const line of g.output.split('\n')) {
    const m = /^KDL-BENCH-(CAPTURE|DEFERRED|SIZE) (\S+) (\S+) (\S+)/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'SIZE') sizes.set(m[2], Number(m[3]));
    else if (m[1] === 'CAPTURE') times.set(m[2], [...(times.get(m[2]) ?? []), Number(m[4]) - Number(m[3])]);
    else deferred.set(m[2], Number(m[4]) - Number(m[3]));
  }
  const work = (k: string): number => median(times.get(k) ?? []);
  const floor = captureUp + work('a-raw');
  const seedSize = sizes.get('b-seed') ?? NaN;
  const mib = (b: number): string => (b / 1048576).toFixed(1);
  console.log(`kernel ${kernel.release}, QEMU TCG, 1 CPU, 1024 MiB guest, crashkernel=128M`);
  console.log(`crash -> capture kernel running: ${captureUp.toFixed(1)} s (common to all rows); capture-kernel work: median of ${rounds} rounds`);
  for (const v of VARIANTS) console.log(`  ${v.key}: ${(times.get(v.key) ?? []).map((x) => x.toFixed(2)).join(' ')} s`);
  console.log('');
  console.log('| pipeline | capture-kernel work (s) | downtime (s) | vs (a) | next-boot work (s) | final archive (MiB) | vs (b) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const v of VARIANTS) {
    const w = work(v.key);
    const down = captureUp + w;
    const size = sizes.get(v.key) ?? NaN;
    const d = deferred.get(v.key);
    console.log(`| ${v.label} | ${w.toFixed(1)} | ${down.toFixed(1)} | ${(down / floor).toFixed(2)}x | ${d === undefined ? '-' : d.toFixed(1)} | ${mib(size)} | ${(size / seedSize).toFixed(2)}x |`);
  }
}

async function crashkernelSearch(sizes: string[]): Promise<void> {
  const kernel = ensureKernel();
  const initramfs = buildInitramfs(kernel);
  console.log(`initramfs (capture environment) ${(initramfs.bytes / 1048576).toFixed(1)} MiB compressed`);
  console.log('| crashkernel | load | capture kernel boots | dump saved |');
  console.log('|---|---|---|---|');
  for (const size of sizes) {
    const disk = path.join(e2eDir, `ck-${size}.img`);
    makeDisk(disk, {
      kernel, initramfs,
      kdumpConf: `path /data/core\ncore_collector makedumpfile -l ${collectorOpts}\narchive tar.gz\narchive_stage boot\nfinal_action reboot\nfailure_action reboot\n`,
      scenario: scenario(runMarker()),
    });
    const g = new Guest({ kernel, initramfs, disk, crashkernel: `${size}M`, logFile: path.join(e2eDir, `logs/ck-${size}.log`) });
    try {
      await g.waitExit(8 * 60_000);
    } catch {
      /* reported below */
    } finally {
      await g.kill();
    }
    fs.rmSync(disk, { force: true });
    const loaded = /KDL-LOAD-RC=0/.test(g.output);
    const up = /KDL-CAPTURE-UP/.test(g.output);
    const saved = /ops-kdump: dump saved/.test(g.output);
    console.log(`| ${size}M | ${loaded ? 'ok' : 'FAILED'} | ${up ? 'ok' : 'no'} | ${saved ? 'ok' : 'no'} |`);
  }
}

const i = process.argv.indexOf('--crashkernel');
if (i >= 0) {
  await crashkernelSearch((process.argv[i + 1] ?? '128,112,96,88,80,72').split(','));
} else {
  const r = process.argv.indexOf('--rounds');
  await sideBySide(r >= 0 ? Number(process.argv[r + 1]) : 3);
}
