/**
 * Harness for the end-to-end runtime tests and the benchmark: a real Debian kernel booted in
 * QEMU (TCG) with an initramfs built from busybox-static, kexec-tools, makedumpfile and the
 * runtime shipped in templates/runtime, a virtio disk holding the capture kernel, the
 * configuration and the dumps, and helpers to wait for markers on the serial console.
 *
 * Downloads and built artefacts are cached under .cache/ in the repository.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/cli.js';

export const cacheDir = path.join(repoRoot, '.cache');
export const runtimeDir = path.join(repoRoot, 'templates/runtime');
export const opsKdumpPath = path.join(runtimeDir, 'ops-kdump');

/** Runs a command, throwing with its output when it fails. */
export function sh(cmd: string, args: string[], opts: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    input: opts.input,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

function requireTool(name: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${name} is not installed: run scripts/install-test-deps.sh (as root) first`);
  }
}

export interface Kernel {
  release: string;
  vmlinuz: string;
  /** Root of the extracted package (holds lib/modules/<release>). */
  root: string;
}

/**
 * The real Debian kernel: resolves linux-image-amd64 to the versioned package, downloads the
 * .deb with apt-get download and extracts it with dpkg-deb -x (never installed on the host).
 */
export function ensureKernel(): Kernel {
  requireTool('apt-get');
  const dir = path.join(cacheDir, 'kernel');
  fs.mkdirSync(dir, { recursive: true });
  const deps = sh('apt-cache', ['depends', 'linux-image-amd64']);
  const m = /Depends:\s*(linux-image-(\d[^\s]*-amd64))\b/.exec(deps);
  if (!m) throw new Error(`cannot resolve linux-image-amd64 to a kernel package:\n${deps}`);
  const pkg = m[1];
  const release = m[2];
  const root = path.join(dir, pkg);
  const vmlinuz = path.join(root, 'boot', `vmlinuz-${release}`);
  const depFile = path.join(root, 'lib/modules', release, 'modules.dep');
  if (fs.existsSync(vmlinuz) && fs.existsSync(depFile)) return { release, vmlinuz, root };
  let deb = fs.readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) {
    const dl = spawnSync('apt-get', ['download', pkg], { cwd: dir, encoding: 'utf8' });
    if (dl.status !== 0) {
      // The package lists may be older than the mirror: refresh once and retry.
      sh('apt-get', ['update', '-qq']);
      sh('apt-get', ['download', pkg], { cwd: dir });
    }
    deb = fs.readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb in ${dir}`);
  }
  fs.rmSync(root, { recursive: true, force: true });
  sh('dpkg-deb', ['-x', path.join(dir, deb), root]);
  sh('busybox', ['depmod', '-b', root, release]);
  return { release, vmlinuz, root };
}

/** Modules the guest needs for its virtio disk with ext4, in load order. */
export function moduleLoadOrder(kernel: Kernel, wanted: string[]): string[] {
  const modDir = path.join(kernel.root, 'lib/modules', kernel.release);
  const deps = new Map<string, string[]>();
  for (const line of fs.readFileSync(path.join(modDir, 'modules.dep'), 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    deps.set(line.slice(0, i), line.slice(i + 1).trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map<string, string>();
  for (const k of deps.keys()) byName.set(path.basename(k).replace(/\.ko(\.\w+)?$/, ''), k);
  const order: string[] = [];
  const visit = (rel: string): void => {
    if (order.includes(rel)) return;
    for (const d of deps.get(rel) ?? []) visit(d);
    order.push(rel);
  };
  for (const w of wanted) {
    const rel = byName.get(w);
    if (!rel) throw new Error(`module ${w} not found in ${modDir}`);
    visit(rel);
  }
  return order;
}

const GUEST_MODULES = ['virtio_pci', 'virtio_blk', 'crc32c_generic', 'ext4'];

/** Shared libraries (per ldd) of the given binaries, including the dynamic loader. */
export function sharedLibraries(binaries: string[]): string[] {
  const libs = new Set<string>();
  for (const b of binaries) {
    const out = spawnSync('ldd', [b], { encoding: 'utf8' }).stdout ?? '';
    for (const line of out.split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (m) libs.add(m[1]);
    }
  }
  return [...libs];
}

export function copyWithParents(src: string, stagingRoot: string, dest = src): void {
  const target = path.join(stagingRoot, dest);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(fs.realpathSync(src), target);
  fs.chmodSync(target, fs.statSync(fs.realpathSync(src)).mode & 0o7777);
}

/**
 * The guest's /init. The same initramfs serves as system and capture environment: it loads
 * the disk modules, mounts the data disk on /data, copies /data/etc over /etc (the test's
 * kdump.conf and sysconfig) and runs the scenario script the test put on the disk.
 */
function initScript(kernel: Kernel, modules: string[]): string {
  const ins = modules.map((m) => `insmod /lib/modules/${kernel.release}/${m}`).join('\n');
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /data /tmp /run
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
${ins}
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -e /proc/vmcore ]; then KDL_ROLE=capture; else KDL_ROLE=system; fi
export KDL_ROLE
echo "KDL-BOOTED role=$KDL_ROLE"
if ! mount -t ext4 /dev/vda /data; then
  echo "KDL-ERROR cannot mount /dev/vda"
fi
[ -d /data/etc ] && cp -a /data/etc/. /etc/
if [ -f /data/scenario.sh ]; then
  . /data/scenario.sh
fi
echo "KDL-SCENARIO-END"
sync
poweroff -f
`;
}

export interface Initramfs {
  path: string;
  bytes: number;
}

/**
 * Builds (or reuses from .cache) the guest initramfs: busybox-static, kexec, makedumpfile and
 * vmcore-dmesg with their libraries, the disk modules, and the runtime copied unchanged from
 * templates/runtime.
 */
export function buildInitramfs(kernel: Kernel): Initramfs {
  for (const t of ['busybox', 'kexec', 'makedumpfile', 'cpio', 'gzip', 'ldd']) requireTool(t);
  const modules = moduleLoadOrder(kernel, GUEST_MODULES);
  const bins = ['/usr/sbin/kexec', '/usr/bin/makedumpfile'];
  const vmcoreDmesg = fs.existsSync('/usr/sbin/vmcore-dmesg') ? ['/usr/sbin/vmcore-dmesg'] : [];
  const runtimeFiles = ['ops-kdump', 'sysvinit/ops-kdump'].map((f) => path.join(runtimeDir, f));
  const hash = crypto.createHash('sha256');
  hash.update(initScript(kernel, modules));
  for (const f of [...runtimeFiles, '/bin/busybox', ...bins, ...vmcoreDmesg]) hash.update(fs.readFileSync(f));
  hash.update(kernel.release);
  const libs = sharedLibraries(['/bin/busybox', ...bins, ...vmcoreDmesg]);
  hash.update(libs.join('\n'));
  const key = hash.digest('hex').slice(0, 16);
  const out = path.join(cacheDir, 'e2e', `initramfs-${key}.cpio.gz`);
  if (fs.existsSync(out)) return { path: out, bytes: fs.statSync(out).size };

  const staging = fs.mkdtempSync(path.join(cacheDir, 'e2e-staging-'));
  try {
    copyWithParents('/bin/busybox', staging);
    for (const b of [...bins, ...vmcoreDmesg]) copyWithParents(b, staging);
    // busybox too: a host with Debian's dynamic `busybox` instead of busybox-static needs its libraries.
    for (const lib of libs) copyWithParents(lib, staging);
    for (const m of modules) {
      copyWithParents(path.join(kernel.root, 'lib/modules', kernel.release, m), staging, path.join('/lib/modules', kernel.release, m));
    }
    copyWithParents(path.join(runtimeDir, 'ops-kdump'), staging, '/usr/sbin/ops-kdump');
    copyWithParents(path.join(runtimeDir, 'sysvinit/ops-kdump'), staging, '/etc/init.d/ops-kdump');
    fs.writeFileSync(path.join(staging, 'init'), initScript(kernel, modules), { mode: 0o755 });
    fs.mkdirSync(path.join(staging, 'etc/sysconfig'), { recursive: true });
    const list = sh('sh', ['-c', 'find . | LC_ALL=C sort'], { cwd: staging });
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const cpio = spawnSync('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: staging, input: list, maxBuffer: 512 * 1024 * 1024 });
    if (cpio.status !== 0) throw new Error(`cpio failed: ${cpio.stderr}`);
    const gz = spawnSync('gzip', ['-9n'], { input: cpio.stdout, maxBuffer: 512 * 1024 * 1024 });
    if (gz.status !== 0) throw new Error(`gzip failed: ${gz.stderr}`);
    fs.writeFileSync(`${out}.tmp`, gz.stdout);
    fs.renameSync(`${out}.tmp`, out);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { path: out, bytes: fs.statSync(out).size };
}

export interface DiskSpec {
  kernel: Kernel;
  initramfs: Initramfs;
  /** /etc/kdump.conf content for the guest. */
  kdumpConf: string;
  /** /etc/sysconfig/kdump content; defaults to one pointing at /data/boot. */
  sysconfig?: string;
  /** /etc/os-release content; null to leave it out. */
  osRelease?: string | null;
  /** Shell run by the guest's /init after setup (KDL_ROLE is system or capture). */
  scenario: string;
  sizeMiB?: number;
  /** Extra files to put on the disk: path inside the disk -> content. */
  extra?: Record<string, string | Buffer>;
}

export const DEFAULT_SYSCONFIG = `KDUMP_IMG="vmlinuz"
KDUMP_BOOTDIR="/data/boot"
KDUMP_KERNELVER=""
KDUMP_INITRD="initrd.img"
KDUMP_COMMANDLINE=""
KDUMP_COMMANDLINE_REMOVE="crashkernel quiet splash"
KDUMP_COMMANDLINE_APPEND="irqpoll nr_cpus=1 reset_devices"
KEXEC_ARGS=""
`;

/** Creates an ext4 disk image populated with the capture kernel, config and scenario. */
export function makeDisk(file: string, spec: DiskSpec): void {
  const staging = fs.mkdtempSync(path.join(cacheDir, 'disk-staging-'));
  try {
    fs.mkdirSync(path.join(staging, 'boot'));
    fs.copyFileSync(spec.kernel.vmlinuz, path.join(staging, 'boot', `vmlinuz-${spec.kernel.release}`));
    fs.copyFileSync(spec.initramfs.path, path.join(staging, 'boot', 'initrd.img'));
    fs.mkdirSync(path.join(staging, 'etc/sysconfig'), { recursive: true });
    fs.writeFileSync(path.join(staging, 'etc/kdump.conf'), spec.kdumpConf);
    fs.writeFileSync(path.join(staging, 'etc/sysconfig/kdump'), spec.sysconfig ?? DEFAULT_SYSCONFIG);
    if (spec.osRelease !== null) {
      fs.writeFileSync(
        path.join(staging, 'etc/os-release'),
        spec.osRelease ?? 'NAME="ops-kdump test image"\nVERSION_ID="1.0"\nBUILD_ID="e2e"\nPRETTY_NAME="ops-kdump test image 1.0"\n',
      );
    }
    fs.writeFileSync(path.join(staging, 'scenario.sh'), spec.scenario);
    for (const [p, c] of Object.entries(spec.extra ?? {})) {
      fs.mkdirSync(path.dirname(path.join(staging, p)), { recursive: true });
      fs.writeFileSync(path.join(staging, p), c);
    }
    fs.rmSync(file, { force: true });
    sh('truncate', ['-s', `${spec.sizeMiB ?? 512}M`, file]);
    sh('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-d', staging, file]);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Copies directory `inside` of an ext4 image to `dest` on the host (debugfs, no mount). */
export function extractFromDisk(image: string, inside: string, dest: string): void {
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  // Replay the journal first: a power cut leaves it dirty and debugfs reads without it.
  spawnSync('e2fsck', ['-fy', image], { encoding: 'utf8' });
  sh('debugfs', ['-R', `rdump ${inside} ${dest}`, image]);
}

/** Replaces (or creates) one file inside an ext4 image, without mounting it. */
export function writeDiskFile(image: string, inside: string, content: string): void {
  const tmp = `${image}.write-tmp`;
  fs.writeFileSync(tmp, content);
  try {
    spawnSync('debugfs', ['-w', '-R', `rm ${inside}`, image], { encoding: 'utf8' });
    sh('debugfs', ['-w', '-R', `write ${tmp} ${inside}`, image]);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Lists a directory inside an ext4 image. */
export function listDisk(image: string, inside: string): string[] {
  const out = sh('debugfs', ['-R', `ls -l ${inside}`, image]);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter((n) => n && n !== '.' && n !== '..');
}

export interface BootOptions {
  kernel: Kernel;
  initramfs: Initramfs;
  disk: string;
  memMiB?: number;
  crashkernel?: string | null;
  extraAppend?: string;
  /** Start of the guest's real-time clock (QEMU -rtc base=…), e.g. a board without a battery at 1970. */
  rtcBase?: string;
  logFile: string;
  /** Extra -drive options for the disk (e.g. throttling.bps-write=N). */
  driveOptions?: string;
  /** More QEMU arguments (devices). */
  qemuArgs?: string[];
  /** Keep the serial console's input open for send(). */
  interactive?: boolean;
}

export class Guest {
  readonly proc: ChildProcess;
  output = '';
  private readonly started = Date.now();
  private readonly log: fs.WriteStream;
  readonly exited: Promise<number | null>;
  private listeners: (() => void)[] = [];
  /** Host time (ms since boot start) at which each console line arrived. */
  readonly lineTimes: { t: number; line: string }[] = [];
  private partial = '';

  constructor(opts: BootOptions) {
    requireTool('qemu-system-x86_64');
    const append = [
      'console=ttyS0',
      'panic=5',
      'oops=panic',
      // QEMU/TCG on a loaded host can miss the kernel's early timer IRQ check and panic
      // ("IO-APIC + timer doesn't work"); the check is for broken hardware.
      'no_timer_check',
      opts.crashkernel === null ? '' : `crashkernel=${opts.crashkernel ?? '128M'}`,
      opts.extraAppend ?? '',
    ]
      .filter(Boolean)
      .join(' ');
    const args = [
      '-accel', 'tcg',
      '-m', String(opts.memMiB ?? 1024),
      '-smp', '1',
      '-nodefaults',
      '-display', 'none',
      '-serial', 'stdio',
      '-no-reboot',
      '-kernel', opts.kernel.vmlinuz,
      '-initrd', opts.initramfs.path,
      '-append', append,
      '-drive', `file=${opts.disk},format=raw,if=virtio,cache=writeback${opts.driveOptions ? `,${opts.driveOptions}` : ''}`,
      ...(opts.rtcBase ? ['-rtc', `base=${opts.rtcBase}`] : []),
      ...(opts.qemuArgs ?? []),
    ];
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    this.log = fs.createWriteStream(opts.logFile);
    this.log.write(`# qemu-system-x86_64 ${args.join(' ')}\n`);
    this.proc = spawn('qemu-system-x86_64', args, { stdio: [opts.interactive ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const onData = (b: Buffer): void => {
      const s = b.toString('latin1');
      this.output += s;
      this.log.write(s);
      this.partial += s;
      const lines = this.partial.split('\n');
      this.partial = lines.pop() ?? '';
      const t = Date.now() - this.started;
      for (const l of lines) this.lineTimes.push({ t, line: l.replace(/\r$/, '') });
      for (const f of this.listeners) f();
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code) => {
        this.log.end();
        for (const f of this.listeners) f();
        resolve(code);
      });
    });
  }

  /** Types text on the serial console (needs interactive). */
  send(text: string): void {
    this.log.write(`\n# [typed] ${JSON.stringify(text)}\n`);
    this.proc.stdin!.write(text);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Waits until the console output matches `re`; fails after timeoutMs or if QEMU exits. */
  waitFor(re: RegExp, timeoutMs: number, what = re.source): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = re.exec(this.output);
        if (m) {
          done();
          resolve(m);
          return true;
        }
        if (!this.running) {
          done();
          reject(new Error(`QEMU exited before "${what}" appeared on the console; last output:\n${this.tail()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for "${what}"; last output:\n${this.tail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((f) => f !== listener);
      };
      const listener = (): void => {
        check();
      };
      this.listeners.push(listener);
      check();
    });
  }

  /** Waits for QEMU to exit (the guest rebooted or powered off under -no-reboot). */
  async waitExit(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`QEMU still running after ${timeoutMs / 1000} s; last output:\n${this.tail()}`)), timeoutMs);
    });
    try {
      await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Host milliseconds since start at which a console line matching `re` first arrived. */
  timeOf(re: RegExp): number | undefined {
    return this.lineTimes.find((l) => re.test(l.line))?.t;
  }

  /** Power cut: kill QEMU at once. */
  async kill(): Promise<void> {
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }

  tail(n = 40): string {
    return this.output.split('\n').slice(-n).join('\n');
  }

  /** Console lines that start with `prefix`, without it (the scenarios tag what they print). */
  lines(prefix: string): string[] {
    return this.output
      .split('\n')
      .map((l) => l.replace(/\r$/, ''))
      .filter((l) => l.startsWith(prefix))
      .map((l) => l.slice(prefix.length));
  }
}

/**
 * Boots, lets the scenario crash the system and the capture kernel run to its end (its final
 * action ends QEMU), within bounded waits; returns the guest with its console output.
 */
export async function crashToEnd(opts: BootOptions, timeoutMs = 300_000): Promise<Guest> {
  const g = new Guest(opts);
  try {
    await g.waitFor(/KDL-CAPTURE-UP/, timeoutMs, 'capture kernel up');
    await g.waitExit(timeoutMs);
  } finally {
    await g.kill();
  }
  return g;
}

/** A unique marker for one test run, written to the crashed kernel's log. */
export function runMarker(): string {
  return `KDL-MARK-${crypto.randomBytes(6).toString('hex')}`;
}

/**
 * The guest scenario. Booted with kdl.mode=crash (the default): in the system kernel write
 * the run marker to the kernel log, run the runtime's SysV init script (`ops-kdump load`),
 * show status and crash the kernel; in the capture kernel the same init script runs
 * `ops-kdump save`. Booted with kdl.mode=inspect: run the init script (load), then print
 * `ops-kdump list -m` and `status -m` and power off. Booted with kdl.mode=archive-cut
 * kdl.pause=POINT: run the next boot's `ops-kdump archive` in the foreground, held at POINT
 * (for a power cut there).
 */
export function scenario(marker: string, captureExtra = '', crashCommand = 'echo c > /proc/sysrq-trigger'): string {
  return `
case " $(cat /proc/cmdline) " in
*" kdl.mode=inspect "*) KDL_MODE=inspect ;;
*" kdl.mode=archive-cut "*) KDL_MODE=archive-cut ;;
*) KDL_MODE=crash ;;
esac
if [ "$KDL_MODE" = archive-cut ]; then
  # The next boot's archiving, run in the foreground (the init script runs it in the
  # background, silenced), held at the point named by kdl.pause= until the power is cut.
  for a in $(cat /proc/cmdline); do case "$a" in kdl.pause=*) KDUMP_TEST_PAUSE=\${a#kdl.pause=} ;; esac; done
  export KDUMP_TEST_PAUSE
  ops-kdump archive
  echo "KDL-ARCHIVE-ENDED"
elif [ "$KDL_MODE" = inspect ]; then
  /etc/init.d/ops-kdump start; echo "KDL-LOAD-RC=$?"
  # The init script archives deferred dumps and records cut ones in the background: wait
  # for it (bounded).
  i=0
  while [ -n "$(ops-kdump list -m | awk -F '\t' '$2 == "pending" || $2 == "incomplete"')" ] && [ $i -lt 600 ]; do sleep 1; i=$((i + 1)); done
  sleep 1
  ops-kdump list -m | sed 's/^/KDL-LIST /'
  ops-kdump status -m | sed 's/^/KDL-STATUS /'
  ops-kdump test | sed 's/^/KDL-TEST /'
  ls -lnR /data/core | sed 's/^/KDL-MODES /'
  echo "KDL-INSPECTED"
elif [ "$KDL_ROLE" = system ]; then
  echo "${marker}" > /dev/kmsg
  /etc/init.d/ops-kdump start; echo "KDL-LOAD-RC=$?"
  ops-kdump status -m | sed 's/^/KDL-STATUS /'
  echo "KDL-CRASHING"
  ${crashCommand}
else
  echo "KDL-CAPTURE-UP"
  ${captureExtra}
  /etc/init.d/ops-kdump start; echo "KDL-SAVE-RC=$?"
fi
`;
}

export const e2eDir = path.join(cacheDir, 'e2e');

/**
 * A real vmcore (kdump-compressed, -d 31) of a real crash, for host-side runs of `save`
 * (makedumpfile reads its own output as input). Kept by the end-to-end test in .cache/e2e;
 * made here with one crash under QEMU when absent.
 */
export async function realVmcore(): Promise<string> {
  const file = path.join(e2eDir, 'vmcore.kdump');
  if (fs.existsSync(file)) return file;
  const kernel = ensureKernel();
  const initramfs = buildInitramfs(kernel);
  const disk = path.join(e2eDir, 'vmcore-disk.img');
  makeDisk(disk, {
    kernel, initramfs, scenario: scenario(runMarker()),
    kdumpConf: 'path /data/core\ncore_collector makedumpfile -c --message-level 1 -d 31\narchive none\nfinal_action reboot\nfailure_action reboot\n',
  });
  const g = new Guest({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/vmcore.log') });
  try {
    await g.waitExit(10 * 60_000);
  } finally {
    await g.kill();
  }
  const out = path.join(e2eDir, 'vmcore-core');
  extractFromDisk(disk, '/core', out);
  const dumps = fs.readdirSync(path.join(out, 'core')).filter((e) => /^kdump-[0-9-]+-[0-9a-f]+$/.test(e));
  if (dumps.length !== 1) throw new Error(`expected one saved dump, found: ${dumps.join(' ')}\n${g.tail()}`);
  fs.copyFileSync(path.join(out, 'core', dumps[0], 'vmcore'), `${file}.tmp`);
  fs.renameSync(`${file}.tmp`, file);
  fs.rmSync(disk, { force: true });
  return file;
}
