/**
 * Real crash dumps for the `analyze` tests and benchmark: the Debian kernel the harness boots
 * is crashed under QEMU in two ways — `echo c > /proc/sysrq-trigger` (twice, two boots) and a
 * NULL dereference in a small out-of-tree module built against Debian's linux-headers for
 * exactly that kernel — and each crash is saved by the runtime as a .tar.gz archive. The
 * matching vmlinux with debug info comes from Debian's linux-image-<release>-dbg package
 * (only the vmlinux is extracted). Everything is cached under .cache/analyze/; the dumps are
 * made again whenever the kernel, the initramfs (runtime included) or the module change.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  buildInitramfs, cacheDir, ensureKernel, extractFromDisk, Guest, makeDisk, opsKdumpPath, runMarker, scenario, sh,
  type Initramfs, type Kernel,
} from './harness.js';

export const analyzeCache = path.join(cacheDir, 'analyze');

/** The module the oops test loads: its init calls a function that dereferences NULL. */
export const OOPS_MODULE = 'kdl_oops';
export const OOPS_FUNCTION = 'kdl_oops_deref';
const OOPS_SOURCE = `// Test module for kdump-layer analyze: oopses on load (NULL dereference).
#include <linux/module.h>
#include <linux/init.h>

static int *kdl_null_pointer;

static noinline int kdl_oops_deref(void)
{
	return *READ_ONCE(kdl_null_pointer);
}

static int __init kdl_oops_init(void)
{
	pr_info("kdl_oops: dereferencing NULL\\n");
	return kdl_oops_deref();
}

module_init(kdl_oops_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("oops on load, for crash-dump tests");
`;

/** Debian package download with one package-list refresh on failure (lists older than the mirror). */
function aptDownload(pkgs: string[], dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('apt-get', ['download', ...pkgs], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) {
    sh('apt-get', ['update', '-qq']);
    sh('apt-get', ['download', ...pkgs], { cwd: dir });
  }
}

export interface DebugVmlinux {
  path: string;
  /** Seconds spent downloading and extracting; 0 when it came from the cache. */
  downloadSeconds: number;
  extractSeconds: number;
}

/**
 * vmlinux with debug info for the harness's kernel: Debian's linux-image-<release>-dbg
 * (~860 MB) downloaded with apt-get download, only usr/lib/debug/boot/vmlinux-<release>
 * extracted, the .deb then deleted; the vmlinux stays cached.
 */
export function ensureDebugVmlinux(kernel: Kernel): DebugVmlinux {
  const dir = path.join(cacheDir, 'dbg');
  const out = path.join(dir, `vmlinux-${kernel.release}`);
  if (fs.existsSync(out)) return { path: out, downloadSeconds: 0, extractSeconds: 0 };
  const pkg = `linux-image-${kernel.release}-dbg`;
  const t0 = Date.now();
  let deb = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb')) : undefined;
  if (!deb) {
    aptDownload([pkg], dir);
    deb = fs.readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb in ${dir}`);
  }
  const t1 = Date.now();
  const member = `./usr/lib/debug/boot/vmlinux-${kernel.release}`;
  const staging = fs.mkdtempSync(path.join(dir, 'x-'));
  try {
    sh('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "$3"', 'sh', path.join(dir, deb), staging, member]);
    fs.renameSync(path.join(staging, member), out);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  fs.rmSync(path.join(dir, deb), { force: true });
  return { path: out, downloadSeconds: (t1 - t0) / 1000, extractSeconds: (Date.now() - t1) / 1000 };
}

/**
 * Debian's linux-headers for exactly this kernel (the -amd64 package, its -common package and
 * linux-kbuild), extracted to .cache/headers/<release>; returns the kbuild directory.
 */
export function ensureHeaders(kernel: Kernel): string {
  const root = path.join(cacheDir, 'headers', kernel.release);
  const kbuild = path.join(root, 'usr/src', `linux-headers-${kernel.release}`);
  if (fs.existsSync(path.join(kbuild, '.kdl-ready'))) return kbuild;
  const pkg = `linux-headers-${kernel.release}`;
  const deps = sh('apt-cache', ['depends', pkg]);
  const wanted = [pkg, ...[...deps.matchAll(/Depends:\s*(linux-(?:headers-\S+-common|kbuild-\S+))/g)].map((m) => m[1])];
  const debs = path.join(cacheDir, 'headers', 'debs');
  fs.rmSync(debs, { recursive: true, force: true });
  aptDownload(wanted, debs);
  fs.rmSync(root, { recursive: true, force: true });
  for (const d of fs.readdirSync(debs).filter((f) => f.endsWith('.deb'))) sh('dpkg-deb', ['-x', path.join(debs, d), root]);
  fs.rmSync(debs, { recursive: true, force: true });
  // The -amd64 Makefile includes the -common one by its installed (absolute) path.
  const mk = path.join(kbuild, 'Makefile');
  fs.writeFileSync(mk, fs.readFileSync(mk, 'utf8').replace(/^include \/usr\/src\//m, `include ${root}/usr/src/`));
  fs.writeFileSync(path.join(kbuild, '.kdl-ready'), '');
  return kbuild;
}

/** Builds the oops module against the kernel's headers; cached by source and release. */
export function buildOopsModule(kernel: Kernel): string {
  const key = crypto.createHash('sha256').update(OOPS_SOURCE).update(kernel.release).digest('hex').slice(0, 12);
  const dir = path.join(analyzeCache, `module-${key}`);
  const ko = path.join(dir, `${OOPS_MODULE}.ko`);
  if (fs.existsSync(ko)) return ko;
  const kbuild = ensureHeaders(kernel);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${OOPS_MODULE}.c`), OOPS_SOURCE);
  fs.writeFileSync(path.join(dir, 'Kbuild'), `obj-m := ${OOPS_MODULE}.o\n`);
  sh('make', ['-s', '-C', kbuild, `M=${dir}`, 'modules']);
  if (!fs.existsSync(ko)) throw new Error(`module build left no ${ko}`);
  return ko;
}

const ANALYZE_CONF = `# written by the analyze end-to-end test
path /data/core
core_collector makedumpfile -l --message-level 1 -d 31
archive tar.gz
archive_stage capture
archive_files /etc/os-release
keep 3
failure_action reboot
final_action reboot
`;

export interface CrashDump {
  /** sysrq-a, sysrq-b or oops. */
  name: string;
  archive: string;
  marker: string;
}

export interface AnalyzeDumps {
  kernel: Kernel;
  vmlinux: DebugVmlinux;
  dumps: CrashDump[];
  /** Seconds spent crashing guests; 0 when the dumps came from the cache. */
  crashSeconds: number;
}

async function crashOnce(kernel: Kernel, initramfs: Initramfs, name: string, crashCommand: string, work: string, extra: Record<string, Buffer>): Promise<CrashDump> {
  const marker = runMarker();
  const disk = path.join(work, `${name}.img`);
  makeDisk(disk, {
    kernel, initramfs, kdumpConf: ANALYZE_CONF, scenario: scenario(marker, '', crashCommand), extra,
    osRelease: `NAME="ops-kdump test image"\nVERSION_ID="1.0"\nBUILD_ID="analyze-${name}"\nPRETTY_NAME="ops-kdump test image 1.0"\n`,
  });
  const g = new Guest({ kernel, initramfs, disk, logFile: path.join(work, `logs/${name}.log`) });
  try {
    await g.waitFor(/KDL-CRASHING/, 300_000, 'the system kernel about to crash');
    await g.waitFor(/KDL-CAPTURE-UP/, 300_000, 'capture kernel up');
    await g.waitExit(420_000);
  } finally {
    await g.kill();
  }
  if (!/ops-kdump: dump saved: kdump-/.test(g.output)) throw new Error(`${name}: no dump saved\n${g.tail()}`);
  const out = path.join(work, `${name}-core`);
  extractFromDisk(disk, '/core', out);
  const archives = fs.readdirSync(path.join(out, 'core')).filter((e) => /^kdump-.*\.tar\.gz$/.test(e));
  if (archives.length !== 1) throw new Error(`${name}: expected one archive, found ${archives.join(' ')}`);
  const dest = path.join(work, 'dumps', archives[0]);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(path.join(out, 'core', archives[0]), dest);
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(disk, { force: true });
  return { name, archive: dest, marker };
}

/**
 * The three real dumps (two sysrq crashes from two boots, one module oops), made with three
 * guests run side by side, or reused from .cache/analyze when nothing they depend on changed.
 */
export async function makeAnalyzeDumps(): Promise<AnalyzeDumps> {
  const kernel = ensureKernel();
  const ko = buildOopsModule(kernel);
  const vmlinux = ensureDebugVmlinux(kernel);
  // Keyed on what shapes the dumps (kernel, runtime, module, configuration), not on the host's
  // busybox flavour, so a dump made once is reused while iterating on the parser.
  const key = crypto.createHash('sha256').update(kernel.release).update(fs.readFileSync(opsKdumpPath)).update(fs.readFileSync(ko)).update(ANALYZE_CONF)
    .digest('hex').slice(0, 12);
  const work = path.join(analyzeCache, `dumps-${key}`);
  const manifest = path.join(work, 'manifest.json');
  if (fs.existsSync(manifest)) {
    const dumps = JSON.parse(fs.readFileSync(manifest, 'utf8')) as CrashDump[];
    if (dumps.every((d) => fs.existsSync(d.archive))) return { kernel, vmlinux, dumps, crashSeconds: 0 };
  }
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const initramfs = buildInitramfs(kernel);
  const t0 = Date.now();
  const koBytes = fs.readFileSync(ko);
  const dumps = await Promise.all([
    crashOnce(kernel, initramfs, 'sysrq-a', 'echo c > /proc/sysrq-trigger', work, {}),
    crashOnce(kernel, initramfs, 'sysrq-b', 'echo c > /proc/sysrq-trigger', work, {}),
    crashOnce(kernel, initramfs, 'oops', `insmod /data/${OOPS_MODULE}.ko`, work, { [`${OOPS_MODULE}.ko`]: koBytes }),
  ]);
  fs.writeFileSync(manifest, `${JSON.stringify(dumps, null, 2)}\n`);
  return { kernel, vmlinux, dumps, crashSeconds: (Date.now() - t0) / 1000 };
}
