/**
 * The layer's own capture path, booted: a root file system from Debian packages with the
 * layer installed as its recipe installs it (image.ts, recipe.ts), systemd or SysV init,
 * Debian's kernel under QEMU/TCG. Each `it` is one QEMU run; a run that crashes holds the
 * system boot, the crash and the capture boot, since only a reboot ends QEMU (-no-reboot).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import {
  e2eDir, ensureKernel, extractFromDisk, Guest, sh, type Initramfs, type Kernel,
} from './harness.js';
import { buildImage, buildStandinInitramfs, copyImage, generateLayer, type Image } from './image.js';

const DUMP_DIR = '/var/core/kernel-core';

/** Console output after the crash: the capture kernel's boot. */
function captureBoot(g: Guest): string {
  const i = g.output.indexOf('sysrq: Trigger a crash');
  expect(i, 'the system crashed').to.be.greaterThan(-1);
  return g.output.slice(i);
}

interface Booted {
  kernel: Kernel;
  initramfs: Initramfs;
  image: Image;
  disk: string;
}

function boot(b: Booted, name: string, step: string, opts: { then?: string; watchdog?: boolean; bpsWrite?: number; interactive?: boolean } = {}): Guest {
  return new Guest({
    kernel: b.kernel,
    initramfs: b.initramfs,
    disk: b.disk,
    crashkernel: b.image.crashkernel,
    extraAppend: `root=/dev/vda rw kdl.step=${step}${opts.then ? ` kdl.then=${opts.then}` : ''}`,
    logFile: path.join(e2eDir, 'logs', `${name}.log`),
    qemuArgs: opts.watchdog ? ['-device', 'i6300esb', '-action', 'watchdog=reset'] : [],
    driveOptions: opts.bpsWrite ? `throttling.bps-write=${opts.bpsWrite}` : undefined,
    interactive: opts.interactive,
  });
}

/** The archive named `name` from the image's dump directory, unpacked on the host. */
function unpackArchive(disk: string, name: string, tag: string): { top: string; meta: string; dmesg: string } {
  const out = path.join(e2eDir, `${tag}-core`);
  extractFromDisk(disk, DUMP_DIR, out);
  const x = path.join(e2eDir, `${tag}-x`);
  fs.rmSync(x, { recursive: true, force: true });
  fs.mkdirSync(x);
  sh('tar', ['-xzf', path.join(out, path.basename(DUMP_DIR), name), '-C', x]);
  const top = path.join(x, name.replace(/\.tar\.gz$/, ''));
  return {
    top,
    meta: fs.readFileSync(path.join(top, 'metadata.txt'), 'utf8'),
    dmesg: fs.readFileSync(path.join(top, 'dmesg.txt'), 'utf8'),
  };
}

/** The record of a failed save the capture kernel left in the dump directory: its metadata. */
function failedEntry(disk: string, tag: string): string {
  const out = path.join(e2eDir, `${tag}-core`);
  extractFromDisk(disk, DUMP_DIR, out);
  const dir = path.join(out, path.basename(DUMP_DIR));
  const inc = fs.readdirSync(dir).filter((e) => e.endsWith('.failed'));
  expect(inc, fs.readdirSync(dir).join(' ')).to.have.length(1);
  return fs.readFileSync(path.join(dir, inc[0], 'metadata.txt'), 'utf8');
}

function expectLoaded(g: Guest): void {
  const status = g.lines('KDL-STATUS ');
  expect(status, g.tail()).to.include('loaded=1');
  expect(status).to.include(`path=${DUMP_DIR}`);
}

describe('the layer booted as its recipe installs it: systemd and SysV images under QEMU @slow', function () {
  this.timeout(60 * 60_000);
  let kernel: Kernel;
  let initramfs: Initramfs;
  let layer: string;

  before(() => {
    kernel = ensureKernel();
    initramfs = buildStandinInitramfs(kernel);
    layer = generateLayer('as5712');
  });

  after(() => {
    if (layer) fs.rmSync(path.dirname(layer), { recursive: true, force: true });
  });

  describe('systemd image', () => {
    let b: Booted;
    let marker = '';

    before(() => {
      const image = buildImage(kernel, 'systemd', layer);
      b = { kernel, initramfs, image, disk: copyImage(image, path.join(e2eDir, 'boot-systemd.img')) };
    });

    it('the image has the layer as the recipe installs it', () => {
      expect(b.image.installed).to.include.members([
        '/usr/sbin/ops-kdump 0755', '/etc/kdump.conf 0600', '/etc/sysconfig/kdump 0644', '/var/core/kernel-core/ 0700',
        '/lib/systemd/system/ops-kdump-load.service 0644', '/lib/systemd/system/ops-kdump-capture.target 0644',
        'enable ops-kdump-load.service', 'enable ops-kdump-capture.service', 'enable ops-kdump-archive.service',
      ]);
      expect(b.image.installed.filter((l) => l.includes('init.d'))).to.deep.equal([]);
    });

    it('load at boot, crash; the capture kernel boots ops-kdump-capture.target alone, saves and reboots', async () => {
      const g = boot(b, 'boot-systemd-1-crash', 'crash');
      try {
        await g.waitFor(/KDL-CRASHING/, 15 * 60_000, 'the system up and crashing');
        await g.waitFor(/KDL-CAPTURE-PROBE end/, 10 * 60_000, 'the capture target starting');
        await g.waitExit(15 * 60_000);
      } finally {
        await g.kill();
      }
      expect(g.lines('KDL-UNIT ')).to.include('ops-kdump-load.service active success');
      expectLoaded(g);
      marker = g.lines('KDL-MARKER=')[0];
      expect(marker).to.match(/^KDL-MARK-[0-9a-f]{12}$/);
      const cap = captureBoot(g);
      expect(cap).to.match(/systemd\.unit=ops-kdump-capture\.target/);
      // Nothing of a normal boot: every active or queued unit is of sysinit or the capture.
      const active = g.lines('KDL-ACTIVE ');
      const jobs = g.lines('KDL-JOB ').map((j) => j.split(' ')[0]);
      expect(active).to.include('ops-kdump-capture.service');
      expect(jobs).to.include('ops-kdump-capture.target');
      for (const u of [...active, ...jobs]) {
        expect(u, `${u} runs in the capture kernel`).not.to.match(
          /^(multi-user|basic|getty|graphical|default|timers|network.*)\.target$|getty|ops-kdump-(load|archive)|kdl-driver|cron|ssh/,
        );
      }
      expect(cap).to.match(/ops-kdump: dump saved: kdump-/);
      expect(cap).to.match(/ops-kdump: running final action: reboot/);
      expect(cap).to.match(/reboot: Restarting system/);
    });

    it('hardware watchdog armed (i6300esb, RuntimeWatchdogSec=90s): a dump that takes longer than its timeout finishes, and the final action reboots', async () => {
      // A copy of the image of its own: the other tests' disk keeps its state.
      const wd: Booted = { ...b, disk: copyImage(b.image, path.join(e2eDir, 'boot-systemd-watchdog.img')) };
      // 256 KiB/s of writes: the lzo dump (tens of MiB) takes minutes, beyond the timeout.
      const g = boot(wd, 'boot-systemd-3-watchdog', 'crash', { watchdog: true, bpsWrite: 256 * 1024 });
      try {
        await g.waitFor(/KDL-CRASHING/, 15 * 60_000, 'the system up and crashing');
        await g.waitExit(20 * 60_000);
      } finally {
        await g.kill();
        fs.rmSync(wd.disk, { force: true });
      }
      // Armed in the system, and again in the capture boot (systemd feeds it there too).
      const armed = g.lines('KDL-WATCHDOG ');
      expect(armed, g.tail()).to.deep.equal(['active 90', 'active 90']);
      const cap = captureBoot(g);
      const collect = /ops-kdump: step collect: ok \((\d+(?:\.\d+)?) s\)/.exec(cap);
      expect(collect, cap.slice(-3000)).to.not.equal(null);
      expect(Number(collect![1]), 'the dump outlasted the watchdog timeout').to.be.greaterThan(90);
      expect(cap).to.match(/ops-kdump: dump saved: kdump-/);
      // The kernel's own restart after the final action, not a watchdog reset (which prints nothing).
      expect(cap).to.match(/ops-kdump: running final action: reboot[\s\S]*reboot: Restarting system/);
    });

    it('the next boot archives it (list: complete, dmesg with the marker); a save that then fails for a full disk powers off', async () => {
      expect(marker, 'needs the crash of the previous test').to.not.equal('');
      const g = boot(b, 'boot-systemd-2-archive-poweroff', 'inspect', { then: 'poweroff' });
      try {
        await g.waitFor(/KDL-INSPECTED/, 15 * 60_000, 'the archive listed');
        await g.waitFor(/KDL-CRASHING/, 120_000);
        await g.waitExit(15 * 60_000);
      } finally {
        await g.kill();
      }
      expect(g.lines('KDL-UNIT ')).to.include('ops-kdump-archive.service inactive success');
      const list = g.lines('KDL-LIST ').map((l) => l.split('\t'));
      expect(list, g.tail()).to.have.length(1);
      expect(list[0][1]).to.equal('complete');
      expect(list[0][0]).to.match(/^kdump-\d{6}-\d{8}-\d{6}-[0-9a-f]+\.tar\.gz$/);
      const a = unpackArchive(b.disk, list[0][0], 'boot-systemd');
      expect(a.dmesg).to.include(marker);
      expect(a.meta).to.match(/^result=complete$/m);
      expect(a.meta).to.match(/^archive_stage=boot$/m);

      const cap = captureBoot(g);
      expect(cap).to.match(/ops-kdump: save FAILED in step collect/);
      expect(cap).to.match(/ops-kdump: running failure action: poweroff/);
      expect(cap).to.match(/reboot: Power down/);
      expect(cap).not.to.match(/reboot: Restarting system/);
      const meta = failedEntry(b.disk, 'boot-systemd-failed');
      expect(meta).to.match(/^result=failed$/m);
      expect(meta).to.match(/^failed_step=collect$/m);
    });
  });

  describe('SysV image', () => {
    let b: Booted;
    let marker = '';

    before(() => {
      const image = buildImage(kernel, 'sysvinit', layer);
      b = { kernel, initramfs, image, disk: copyImage(image, path.join(e2eDir, 'boot-sysv.img')) };
    });

    it('the image has the layer as the recipe installs it', () => {
      expect(b.image.installed).to.include.members([
        '/usr/sbin/ops-kdump 0755', '/etc/init.d/ops-kdump 0755', '/etc/rcS.d/S41ops-kdump -> ../init.d/ops-kdump',
      ]);
      expect(b.image.installed.filter((l) => l.includes('systemd'))).to.deep.equal([]);
    });

    it('the init script loads at boot; after the crash it saves from rcS and reboots', async () => {
      const g = boot(b, 'boot-sysv-1-crash', 'crash');
      try {
        await g.waitFor(/KDL-CRASHING/, 15 * 60_000, 'the system up and crashing');
        await g.waitExit(15 * 60_000);
      } finally {
        await g.kill();
      }
      expect(g.output).to.match(/KDL-DRIVER step=crash init=init/);
      expectLoaded(g);
      marker = g.lines('KDL-MARKER=')[0];
      expect(marker).to.match(/^KDL-MARK-[0-9a-f]{12}$/);
      const cap = captureBoot(g);
      expect(cap).to.match(/ops-kdump: dump saved: kdump-/);
      expect(cap).to.match(/ops-kdump: running final action: reboot/);
      expect(cap).to.match(/reboot: Restarting system/);
      expect(cap, 'the capture boot stops at the save: no runlevel 2').not.to.match(/KDL-DRIVER/);
    });

    it('the next boot archives it; a save that then fails for a full disk opens a shell on the console', async () => {
      expect(marker, 'needs the crash of the previous test').to.not.equal('');
      const g = boot(b, 'boot-sysv-2-archive-shell', 'inspect', { then: 'shell', interactive: true });
      try {
        await g.waitFor(/KDL-INSPECTED/, 15 * 60_000, 'the archive listed');
        await g.waitFor(/starting a shell on the console/, 15 * 60_000, 'the failure shell');
        await new Promise((r) => setTimeout(r, 3000));
        g.send('ops-kdump list -m | sed "s/^/KDL-SHELL-LIST /"; echo KDL-SHELL-"OK"\n');
        await g.waitFor(/KDL-SHELL-OK/, 120_000, 'a command run in the shell');
        g.send('exit\n');
        await g.waitExit(5 * 60_000);
      } finally {
        await g.kill();
      }
      const list = g.lines('KDL-LIST ').map((l) => l.split('\t'));
      expect(list, g.tail()).to.have.length(1);
      expect(list[0][1]).to.equal('complete');
      const a = unpackArchive(b.disk, list[0][0], 'boot-sysv');
      expect(a.dmesg).to.include(marker);
      expect(a.meta).to.match(/^result=complete$/m);

      const cap = captureBoot(g);
      expect(cap).to.match(/ops-kdump: save FAILED in step collect/);
      // In the shell, the user sees the dump state: the earlier archive and the failed crash.
      const inShell = g.lines('KDL-SHELL-LIST ').map((l) => l.split('\t')[1]);
      expect(inShell).to.deep.equal(['complete', 'failed']);
      expect(cap, 'the shell exits into a reboot').to.match(/reboot: Restarting system/);
      const meta = failedEntry(b.disk, 'boot-sysv-failed');
      expect(meta).to.match(/^result=failed$/m);
    });
  });
});
