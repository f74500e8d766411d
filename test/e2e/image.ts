/**
 * A root file system from Debian packages standing in for a Yocto image built with the
 * layer: systemd (or SysV init), udev, kexec-tools, makedumpfile, busybox, and the layer's
 * own files installed the way the generated recipe installs them (see recipe.ts). It boots
 * with Debian's kernel and a small busybox initramfs that mounts root= and switches root,
 * which is what the layer's bundled core-image-minimal-initramfs does; the capture kernel
 * boots the same kernel and initramfs into the same root file system.
 *
 * The one difference from a Yocto image: Debian's kernel cannot carry a bundled initramfs
 * (that needs a kernel build), so /etc/sysconfig/kdump gets KDUMP_INITRD set to the
 * stand-in initramfs; every other line stays as the layer generated it.
 *
 * Cached under .cache/rootfs: the debootstrapped base keyed by its package list, each
 * image keyed by the base, the layer's content and this file's set-up.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cliPath } from '../helpers/cli.js';
import { cacheDir, copyWithParents, moduleLoadOrder, sh, sharedLibraries, type Initramfs, type Kernel } from './harness.js';
import { applyInstall, recipeInstall, type InitSystem } from './recipe.js';

export const rootfsDir = path.join(cacheDir, 'rootfs');

/** Debian packages of the base tree; both init systems are in it, the image picks one. */
export const BASE_PACKAGES = [
  'systemd', 'udev', 'sysvinit-core', 'kexec-tools', 'makedumpfile', 'busybox', 'kmod', 'procps',
];
const SUITE = 'bookworm';

/**
 * Modules of the images: the disk and file system, and the board's watchdog driver, which
 * the initramfs loads as core-image-minimal-initramfs's udev coldplug does (the driver
 * takes over a watchdog still running from the crashed kernel early in the capture boot).
 */
const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk', 'crc32c_generic', 'ext4', 'i6300esb'];
const ROOTFS_MODULES = INITRAMFS_MODULES;

function hashOf(parts: (string | Buffer)[]): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

function hashTree(dir: string): string {
  const parts: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else parts.push(path.relative(dir, p), (fs.statSync(p).mode & 0o7777).toString(8), fs.readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return hashOf(parts);
}

/** The debootstrapped base tree as a tarball (mmdebstrap), built once per package list. */
export function ensureBase(): string {
  const key = hashOf([SUITE, 'minbase', ...BASE_PACKAGES]);
  const out = path.join(rootfsDir, `base-${key}.tar`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(rootfsDir, { recursive: true });
  const r = spawnSync('mmdebstrap', [
    '--variant=minbase', '--quiet', '--format=tar',
    `--include=${BASE_PACKAGES.join(',')}`,
    // Debian's kexec-tools would otherwise arm kexec-on-reboot in the image.
    '--essential-hook=echo "kexec-tools kexec-tools/load_kexec boolean false" | chroot "$1" debconf-set-selections',
    SUITE, `${out}.tmp`,
  ], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`mmdebstrap failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  fs.renameSync(`${out}.tmp`, out);
  return out;
}

/** The stand-in for core-image-minimal-initramfs: mount root=, switch to its init. */
export function standinInit(kernel: Kernel, modules: string[]): string {
  const ins = modules.map((m) => `insmod /lib/modules/${kernel.release}/${m} 2>/dev/null`).join('\n');
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /newroot
/bin/busybox --install -s 2>/dev/null
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
${ins}
root=""; init=/sbin/init; mode=ro
for a in $(cat /proc/cmdline); do
  case "$a" in
  root=*) root=\${a#root=} ;;
  init=*) init=\${a#init=} ;;
  rw) mode=rw ;;
  ro) mode=ro ;;
  esac
done
i=0
while [ ! -b "$root" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if ! mount -t ext4 -o "$mode" "$root" /newroot; then
  echo "initramfs: cannot mount root=$root"; sleep 5; poweroff -f
fi
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot "$init"
`;
}

export function buildStandinInitramfs(kernel: Kernel): Initramfs {
  const modules = moduleLoadOrder(kernel, INITRAMFS_MODULES);
  const init = standinInit(kernel, modules);
  const libs = sharedLibraries(['/bin/busybox']);
  const key = hashOf([init, fs.readFileSync('/bin/busybox'), kernel.release, ...libs]);
  const out = path.join(rootfsDir, `standin-initramfs-${key}.cpio.gz`);
  if (fs.existsSync(out)) return { path: out, bytes: fs.statSync(out).size };
  const staging = fs.mkdtempSync(path.join(cacheDir, 'standin-staging-'));
  try {
    fs.chmodSync(staging, 0o755);
    copyWithParents('/bin/busybox', staging);
    // busybox-static has none; a dynamically linked busybox brings its C library.
    for (const lib of libs) copyWithParents(lib, staging);
    for (const m of modules) {
      const d = path.join(staging, 'lib/modules', kernel.release, m);
      fs.mkdirSync(path.dirname(d), { recursive: true });
      fs.copyFileSync(path.join(kernel.root, 'lib/modules', kernel.release, m), d);
    }
    fs.writeFileSync(path.join(staging, 'init'), init, { mode: 0o755 });
    fs.mkdirSync(rootfsDir, { recursive: true });
    sh('sh', ['-c', `find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9n > '${out}.tmp'`], { cwd: staging });
    fs.renameSync(`${out}.tmp`, out);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { path: out, bytes: fs.statSync(out).size };
}

/** Where the stand-in initramfs sits in the image (the capture kernel loads it from there). */
export const STANDIN_IN_IMAGE = '/boot/initramfs-ops-kdump.cpio.gz';

/**
 * The test driver, not part of the layer: run once a normal boot is up (a systemd unit
 * ordered after the layer's units, or the last rc2.d script). kdl.step= on the kernel
 * command line says what to do:
 *   crash    print `ops-kdump status -m`, write a unique marker to the kernel log, crash
 *   inspect  wait for the archive, print `ops-kdump list -m` and `status -m`; then with
 *            kdl.then=ACTION fill the dump file system to a few MiB, set failure_action
 *            ACTION, write a marker and crash (a save that fails for lack of space);
 *            without kdl.then power off.
 */
export const DRIVER = `#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
step=""; then_action=""
for a in $(cat /proc/cmdline); do
  case "$a" in
  kdl.step=*) step=\${a#kdl.step=} ;;
  kdl.then=*) then_action=\${a#kdl.then=} ;;
  esac
done
say() { printf '%s\\n' "$*" >/dev/console; }
crash() {
  m="KDL-MARK-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \\n')"
  say "KDL-MARKER=$m"
  echo "$m" >/dev/kmsg
  sync
  say "KDL-CRASHING"
  echo c >/proc/sysrq-trigger
}
say "KDL-DRIVER step=$step init=$(cat /proc/1/comm)"
ops-kdump status -m 2>&1 | sed 's/^/KDL-STATUS /' >/dev/console
if [ -e /sys/class/watchdog/watchdog0/state ]; then
  say "KDL-WATCHDOG $(cat /sys/class/watchdog/watchdog0/state) $(cat /sys/class/watchdog/watchdog0/timeout)"
fi
if [ -d /run/systemd/system ]; then
  for u in ops-kdump-load.service ops-kdump-archive.service; do
    say "KDL-UNIT $u $(systemctl is-active $u) $(systemctl show -p Result --value $u)"
  done
fi
case "$step" in
crash) crash ;;
inspect)
  dir=$(sed -n 's/^path[[:space:]]\\{1,\\}//p' /etc/kdump.conf)
  # Until the boot's archive run has ended (its lock is gone): after the archive is named
  # it still removes the directory it was made from, which frees space.
  i=0
  while { [ -n "$(ops-kdump list -m | awk -F '\\t' '$2 == "pending"')" ] || [ -L "$dir/.ops-kdump-state/archive.lock" ]; } && [ $i -lt 600 ]; do sleep 1; i=$((i + 1)); done
  ops-kdump list -m 2>&1 | sed 's/^/KDL-LIST /' >/dev/console
  say "KDL-INSPECTED"
  if [ -n "$then_action" ]; then
    sed -i -e '/^failure_action /d' -e '/^min_free_mb /d' /etc/kdump.conf
    printf 'failure_action %s\\nmin_free_mb 1\\n' "$then_action" >>/etc/kdump.conf
    avail=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
    fallocate -l $(((avail - 4096) * 1024)) "$dir/../kdl-filler"
    sync
    say "KDL-FILLED $(df -Pk "$dir" | awk 'NR == 2 { print $4 }') KiB free"
    crash
  fi
  sync
  poweroff -f
  ;;
esac
`;

const DRIVER_UNIT = `[Unit]
Description=Test driver (not part of the layer)
After=ops-kdump-load.service ops-kdump-archive.service multi-user.target
ConditionPathExists=!/proc/vmcore

[Service]
Type=oneshot
ExecStart=/usr/lib/kdl/driver
StandardOutput=journal+console

[Install]
WantedBy=default.target
`;

/**
 * Prints, from inside the capture boot, every unit that is active or queued: run by a
 * drop-in ahead of the layer's save (test only). Anything a normal boot starts shows here.
 */
const CAPTURE_PROBE = `#!/bin/sh
{
  echo "KDL-CAPTURE-PROBE begin"
  # Once udev has loaded a watchdog driver: is the watchdog running, and with what timeout?
  (
    i=0
    while [ ! -e /sys/class/watchdog/watchdog0/state ] && [ $i -lt 900 ]; do sleep 1; i=$((i + 1)); done
    sleep 5
    [ -e /sys/class/watchdog/watchdog0/state ] &&
      echo "KDL-WATCHDOG $(cat /sys/class/watchdog/watchdog0/state) $(cat /sys/class/watchdog/watchdog0/timeout)" >/dev/console
  ) &
  systemctl list-units --no-legend --plain --all --state=active,activating,reloading | awk '{ print "KDL-ACTIVE " $1 }'
  systemctl list-jobs --no-legend | awk '{ print "KDL-JOB " $2 " " $3 }'
  echo "KDL-CAPTURE-PROBE end"
} >/dev/console 2>&1
exit 0
`;

/**
 * Benchmark instruments (not part of the layer, idle unless asked for on the command line).
 * QUICK_INIT is a stand-in system for measuring the capture environment alone: booted as
 * init=, it runs `ops-kdump load` as the boot would and crashes; in the capture kernel
 * (which inherits init=) it hands over to the image's real init. MEMTRACE prints the
 * capture kernel's peak memory in use (MemTotal - MemAvailable) when kdl.memtrace is set.
 */
const QUICK_INIT = `#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
if [ -e /proc/vmcore ]; then umount /proc; exec /sbin/init; fi
mount -t sysfs sysfs /sys
mkdir -p /run && mount -t tmpfs tmpfs /run
ops-kdump load >/dev/console 2>&1
echo "KDL-LOAD-RC=$?" >/dev/console
m="KDL-MARK-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \\n')"
echo "$m" >/dev/kmsg
sync
echo "KDL-CRASHING" >/dev/console
echo c >/proc/sysrq-trigger
`;

export const MEMTRACE = `#!/bin/sh
grep -qw kdl.memtrace /proc/cmdline || exit 0
peak=0
while :; do
  used=$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { print t - a }' /proc/meminfo)
  if [ "$used" -gt "$peak" ]; then peak=$used; echo "KDL-MEM-PEAK $peak" >/dev/console; fi
  sleep 0.5
done
`;

const MEMTRACE_UNIT = `[Unit]
Description=Peak memory trace for the benchmark (not part of the layer)
DefaultDependencies=no
ConditionKernelCommandLine=kdl.memtrace

[Service]
ExecStart=/usr/lib/kdl/memtrace

[Install]
WantedBy=sysinit.target
`;

export interface Image {
  path: string;
  init: InitSystem;
  /** crashkernel= the layer puts on the kernel command line (KDUMP_CRASHKERNEL). */
  crashkernel: string;
  /** What the recipe installed (for the test to show). */
  installed: string[];
}

/** KDUMP_CRASHKERNEL from the generated layer's conf/kdump.inc. */
export function layerCrashkernel(layerDir: string): string {
  const m = /^KDUMP_CRASHKERNEL \?= "([^"]+)"/m.exec(fs.readFileSync(path.join(layerDir, 'conf/kdump.inc'), 'utf8'));
  if (!m) throw new Error(`${layerDir}/conf/kdump.inc: no KDUMP_CRASHKERNEL`);
  return m[1];
}

/**
 * Generates the layer with the built CLI into a fresh directory under .cache (the tree the
 * image is made from); the caller removes it.
 */
export function generateLayer(machine = 'as5712'): string {
  fs.mkdirSync(rootfsDir, { recursive: true });
  const dir = path.join(fs.mkdtempSync(path.join(rootfsDir, `layer-${machine}-`)), 'meta-ops-kdump');
  sh(process.execPath, [cliPath, 'generate', '--machine', machine, '--out', dir]);
  return dir;
}

/**
 * The image for one init system: base tree + layer (per the recipe) + kernel, stand-in
 * initramfs and the few modules + test driver, as an ext4 file system image.
 */
export function buildImage(kernel: Kernel, init: InitSystem, layerDir: string): Image {
  const base = ensureBase();
  const initramfs = buildStandinInitramfs(kernel);
  const inst = recipeInstall(layerDir, init);
  const modules = moduleLoadOrder(kernel, ROOTFS_MODULES);
  const key = hashOf([
    path.basename(base), init, hashTree(layerDir), fs.readFileSync(initramfs.path), kernel.release,
    DRIVER, DRIVER_UNIT, CAPTURE_PROBE, QUICK_INIT, MEMTRACE, MEMTRACE_UNIT, fs.readFileSync(new URL(import.meta.url)), ...modules,
  ]);
  const out = path.join(rootfsDir, `${init}-${key}.img`);
  const installed = [
    ...inst.dirs.map((d) => `${d.path}/ ${d.mode.toString(8).padStart(4, '0')}`),
    ...inst.files.map((f) => `${f.dest} ${f.mode.toString(8).padStart(4, '0')}`),
    ...inst.enable.map((u) => `enable ${u}`),
    ...inst.rcLinks.map((l) => `${l.link} -> ${l.target}`),
  ];
  const crashkernel = layerCrashkernel(layerDir);
  if (fs.existsSync(out)) return { path: out, init, crashkernel, installed };

  const staging = fs.mkdtempSync(path.join(rootfsDir, `staging-${init}-`));
  try {
    sh('tar', ['-xpf', base, '-C', staging, '--numeric-owner']);
    const r = (p: string): string => path.join(staging, p);
    if (init === 'systemd') {
      // What systemd-sysv does: systemd is /sbin/init and owns halt/reboot/poweroff.
      for (const [n, t] of [['init', '/lib/systemd/systemd'], ['halt', '/bin/systemctl'], ['reboot', '/bin/systemctl'],
        ['poweroff', '/bin/systemctl'], ['shutdown', '/bin/systemctl'], ['telinit', '/bin/systemctl'], ['runlevel', '/bin/systemctl']] as const) {
        fs.rmSync(r(`usr/sbin/${n}`), { force: true });
        fs.symlinkSync(t, r(`usr/sbin/${n}`));
      }
    } else {
      // OE-Core's sysvinit rc runs the rc links one after another, in name order; Debian's
      // does so too once insserv's dependency files are gone.
      for (const f of ['.depend.boot', '.depend.start', '.depend.stop']) fs.rmSync(r(`etc/init.d/${f}`), { force: true });
    }
    applyInstall(staging, inst);
    // The one stand-in difference: the capture kernel's initramfs is a file, not bundled.
    const sysconfig = r('etc/sysconfig/kdump');
    const sc = fs.readFileSync(sysconfig, 'utf8');
    if (!/^KDUMP_INITRD=""$/m.test(sc)) throw new Error(`${sysconfig}: expected KDUMP_INITRD="" from the layer`);
    fs.writeFileSync(sysconfig, sc.replace(/^KDUMP_INITRD=""$/m, `KDUMP_INITRD="${STANDIN_IN_IMAGE}"`));
    fs.copyFileSync(initramfs.path, r(STANDIN_IN_IMAGE));
    // The kernel package as OE-Core installs it: /boot/<image>-<version>.
    const img = /^KDUMP_IMG="([^"]+)"/m.exec(sc)?.[1] ?? 'bzImage';
    fs.copyFileSync(kernel.vmlinuz, r(`boot/${img}-${kernel.release}`));
    for (const m of modules) {
      const d = r(path.join('lib/modules', kernel.release, m));
      fs.mkdirSync(path.dirname(d), { recursive: true });
      fs.copyFileSync(path.join(kernel.root, 'lib/modules', kernel.release, m), d);
    }
    for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
      const s = path.join(kernel.root, 'lib/modules', kernel.release, f);
      if (fs.existsSync(s)) fs.copyFileSync(s, r(path.join('lib/modules', kernel.release, f)));
    }
    // The image's own depmod (kmod): udev loads drivers by modalias, from modules.alias.
    sh('chroot', [staging, 'depmod', '-a', kernel.release]);
    fs.writeFileSync(r('etc/fstab'), '/dev/vda / ext4 rw 0 0\n');
    fs.writeFileSync(r('etc/hostname'), 'ops-kdump-test\n');
    // Test driver (not part of the layer).
    fs.mkdirSync(r('usr/lib/kdl'), { recursive: true });
    fs.writeFileSync(r('usr/lib/kdl/driver'), DRIVER, { mode: 0o755 });
    fs.writeFileSync(r('usr/lib/kdl/quick'), QUICK_INIT, { mode: 0o755 });
    fs.writeFileSync(r('usr/lib/kdl/memtrace'), MEMTRACE, { mode: 0o755 });
    if (init === 'systemd') {
      fs.writeFileSync(r('etc/systemd/system/kdl-driver.service'), DRIVER_UNIT);
      fs.writeFileSync(r('etc/systemd/system/kdl-memtrace.service'), MEMTRACE_UNIT);
      sh('systemctl', [`--root=${staging}`, 'enable', 'kdl-driver.service', 'kdl-memtrace.service']);
      fs.writeFileSync(r('usr/lib/kdl/capture-probe'), CAPTURE_PROBE, { mode: 0o755 });
      fs.mkdirSync(r('etc/systemd/system/ops-kdump-capture.service.d'), { recursive: true });
      fs.writeFileSync(r('etc/systemd/system/ops-kdump-capture.service.d/kdl-probe.conf'), '[Service]\nExecStartPre=-/usr/lib/kdl/capture-probe\n');
      // The hardware watchdog as a switch runs it: systemd feeds it (a no-op without one).
      fs.mkdirSync(r('etc/systemd/system.conf.d'), { recursive: true });
      fs.writeFileSync(r('etc/systemd/system.conf.d/watchdog.conf'), '[Manager]\nRuntimeWatchdogSec=90s\n');
    } else {
      fs.writeFileSync(r('etc/init.d/kdl-driver'), `#!/bin/sh\n[ "$1" = start ] || exit 0\n[ -e /proc/vmcore ] && exit 0\nexec /usr/lib/kdl/driver\n`, { mode: 0o755 });
      fs.symlinkSync('../init.d/kdl-driver', r('etc/rc2.d/S99kdl-driver'));
    }
    const tmp = `${out}.tmp-${process.pid}`;
    sh('truncate', ['-s', '1536M', tmp]);
    sh('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-d', staging, tmp]);
    fs.renameSync(tmp, out);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { path: out, init, crashkernel, installed };
}

/** A scenario's own copy of an image (sparse). */
export function copyImage(image: Image, dest: string): string {
  fs.rmSync(dest, { force: true });
  sh('cp', ['--sparse=always', image.path, dest]);
  return dest;
}
