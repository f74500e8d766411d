import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import {
  buildInitramfs, e2eDir, ensureKernel, extractFromDisk, Guest, makeDisk, runMarker, scenario, sh, writeDiskFile,
  type Initramfs, type Kernel,
} from './harness.js';

/** The seed pipeline (zlib dump, tar.gz in the capture kernel), dump path on the test disk. */
export const E2E_CONF = `# written by the end-to-end test
path /data/core
core_collector makedumpfile -c --message-level 1 -d 31
archive tar.gz
archive_stage capture
archive_files /etc/os-release
keep 3
min_free_mb 64
failure_action reboot
final_action reboot
`;

function consoleLines(g: Guest, prefix: string): string[] {
  return g.output
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length));
}

describe('runtime end to end: a real kernel crashed under QEMU @slow', function () {
  this.timeout(15 * 60 * 1000);
  let kernel: Kernel;
  let initramfs: Initramfs;
  const disk = path.join(e2eDir, 'crash-disk.img');
  const marker = runMarker();
  let firstArchive = '';

  before(() => {
    kernel = ensureKernel();
    initramfs = buildInitramfs(kernel);
    makeDisk(disk, { kernel, initramfs, kdumpConf: E2E_CONF, scenario: scenario(marker) });
  });

  it('load arms the capture kernel, echo c crashes, save writes a complete archive of this crash and reboots', async () => {
    const g = new Guest({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/crash-1.log') });
    try {
      await g.waitFor(/KDL-LOAD-RC=(\d+)/, 180_000, 'load result');
      expect(consoleLines(g, 'KDL-LOAD-RC=')[0]).to.equal('0', g.tail());
      await g.waitFor(/KDL-CRASHING/, 30_000);
      expect(consoleLines(g, 'KDL-STATUS ')).to.include('loaded=1');
      await g.waitFor(/sysrq: Trigger a crash/, 60_000);
      await g.waitFor(/KDL-CAPTURE-UP/, 180_000, 'capture kernel up');
      await g.waitExit(300_000);
    } finally {
      await g.kill();
    }
    expect(g.output).to.match(/ops-kdump: dump saved: kdump-/);
    expect(g.output).to.match(/ops-kdump: running final action: reboot/);
    expect(g.output).not.to.match(/KDL-SCENARIO-END/, 'the final action (reboot) must end the capture kernel');

    const out = path.join(e2eDir, 'crash-1-core');
    extractFromDisk(disk, '/core', out);
    const entries = fs.readdirSync(path.join(out, 'core'));
    const archives = entries.filter((e) => /^kdump-\d{8}-\d{6}-[0-9a-f]+\.tar\.gz$/.test(e));
    expect(archives, `entries: ${entries.join(' ')}`).to.have.length(1);
    expect(entries.filter((e) => e.includes('incomplete'))).to.deep.equal([]);
    firstArchive = archives[0];

    const x = path.join(e2eDir, 'crash-1-x');
    fs.rmSync(x, { recursive: true, force: true });
    fs.mkdirSync(x);
    sh('tar', ['-xzf', path.join(out, 'core', firstArchive), '-C', x]);
    const top = path.join(x, firstArchive.replace(/\.tar\.gz$/, ''));
    const files = fs.readdirSync(top).sort();
    expect(files).to.include.members(['vmcore', 'dmesg.txt', 'metadata.txt', 'os-release', 'ops-kdump.log']);

    // The vmcore itself is this crash's: its log, read on the host, has the run marker.
    const hostDmesg = path.join(x, 'host-dmesg.txt');
    sh('makedumpfile', ['--dump-dmesg', path.join(top, 'vmcore'), hostDmesg]);
    const log = fs.readFileSync(hostDmesg, 'utf8');
    expect(log).to.include('sysrq: Trigger a crash');
    expect(log).to.include(marker);
    expect(fs.readFileSync(path.join(top, 'dmesg.txt'), 'utf8')).to.include(marker);

    const meta = fs.readFileSync(path.join(top, 'metadata.txt'), 'utf8');
    expect(meta).to.match(/^result=complete$/m);
    expect(meta).to.include(`crashed_kernel_release=${kernel.release}`);
    expect(meta).to.match(/^dump_format=kdump-zlib$/m);
    expect(meta).to.match(/^dump_level=31$/m);
    expect(meta).to.match(/^step_collect_status=0$/m);
    expect(meta).to.match(/^os_BUILD_ID="e2e"$/m);
    expect(meta).to.match(/^makedumpfile_version=makedumpfile: version 1\.7/m);
    // load measured the dump size with makedumpfile --mem-usage; save recorded it.
    expect(g.output).to.match(/ops-kdump: dump estimate: up to \d+ MiB uncompressed at -d 31/);
    expect(meta).to.match(/^estimate_uncompressed_mib=[1-9]\d*$/m);

    // Keep this real vmcore for the host-side fault tests.
    fs.copyFileSync(path.join(top, 'vmcore'), path.join(e2eDir, 'vmcore.kdump'));
  });

  it('a power cut mid-dump leaves that dump marked incomplete and the earlier archive intact', async () => {
    expect(firstArchive, 'needs the archive of the previous test').to.not.equal('');
    const g = new Guest({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/crash-2-powercut.log') });
    try {
      await g.waitFor(/KDL-CAPTURE-UP/, 300_000, 'capture kernel up');
      await g.waitFor(/ops-kdump: step collect: start/, 120_000, 'collect step');
      await new Promise((r) => setTimeout(r, 2500));
      expect(g.output).not.to.match(/step collect: ok/, 'the cut must land while makedumpfile is writing');
    } finally {
      await g.kill();
    }
    // Boot again without crashkernel: load must refuse (no memory reserved), and list/status
    // must show the interrupted dump as incomplete.
    const g2 = new Guest({
      kernel, initramfs, disk, crashkernel: null, extraAppend: 'kdl.mode=inspect',
      logFile: path.join(e2eDir, 'logs/crash-3-inspect.log'),
    });
    try {
      await g2.waitFor(/KDL-INSPECTED/, 240_000);
    } finally {
      await g2.kill();
    }
    expect(consoleLines(g2, 'KDL-LOAD-RC=')[0]).to.equal('1');
    expect(g2.output).to.match(/no crashkernel= on the kernel command line/);
    const list = consoleLines(g2, 'KDL-LIST ').map((l) => l.split('\t'));
    const byName = new Map(list.map((c) => [c[0], c[1]]));
    expect(byName.get(firstArchive), g2.tail()).to.equal('complete');
    const partial = list.filter((c) => c[1] === 'incomplete');
    expect(partial, JSON.stringify(list)).to.have.length(1);
    expect(list.filter((c) => c[1] === 'complete')).to.have.length(1);
    const status = consoleLines(g2, 'KDL-STATUS ');
    expect(status).to.include('loaded=0');
    expect(status).to.include(`last_dump=${partial[0][0]}`);
    expect(status).to.include('last_dump_state=incomplete');
    const checks = consoleLines(g2, 'KDL-TEST ');
    expect(checks).to.include('FAIL  memory reserved for the capture kernel (0 MiB)');
    expect(checks).to.include('FAIL  capture kernel loaded');
    expect(checks).to.include('PASS  dump path /data/core writable');

    // The earlier archive is still a valid, complete gzip'd tar.
    const out = path.join(e2eDir, 'crash-2-core');
    extractFromDisk(disk, '/core', out);
    sh('tar', ['-tzf', path.join(out, 'core', firstArchive)]);
  });

  it('with the default configuration: a fast lzo dump in the capture kernel, archived at the next boot', async () => {
    expect(firstArchive, 'needs the archive of the first test').to.not.equal('');
    // Only the dump path: every other key takes the runtime's default.
    writeDiskFile(disk, '/etc/kdump.conf', 'path /data/core\n');
    const g = new Guest({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/crash-4-default.log') });
    try {
      await g.waitFor(/KDL-CAPTURE-UP/, 300_000, 'capture kernel up');
      await g.waitExit(300_000);
    } finally {
      await g.kill();
    }
    expect(g.output).to.match(/ops-kdump: archive deferred to the next boot/);
    expect(g.output).to.match(/ops-kdump: removing interrupted leftover kdump-\S+\.incomplete/);
    expect(g.output).to.match(/ops-kdump: running final action: reboot/);
    const g2 = new Guest({ kernel, initramfs, disk, extraAppend: 'kdl.mode=inspect', logFile: path.join(e2eDir, 'logs/crash-5-archive.log') });
    try {
      await g2.waitFor(/KDL-INSPECTED/, 600_000);
    } finally {
      await g2.kill();
    }
    expect(consoleLines(g2, 'KDL-LOAD-RC=')[0]).to.equal('0');
    expect(consoleLines(g2, 'KDL-STATUS ')).to.include('loaded=1');
    const checks = consoleLines(g2, 'KDL-TEST ');
    expect(checks, checks.join('\n')).to.have.length(7);
    expect(checks.filter((c) => !c.startsWith('PASS  ')), checks.join('\n')).to.deep.equal([]);
    const list = consoleLines(g2, 'KDL-LIST ').map((l) => l.split('\t'));
    expect(list.map((c) => c[1]), JSON.stringify(list)).to.deep.equal(['complete', 'complete']);
    expect(list[0][0]).to.equal(firstArchive);
    const second = list[1][0];
    expect(second).to.match(/^kdump-\d{8}-\d{6}-[0-9a-f]+\.tar\.gz$/);

    const out = path.join(e2eDir, 'crash-4-core');
    extractFromDisk(disk, '/core', out);
    const x = path.join(e2eDir, 'crash-4-x');
    fs.rmSync(x, { recursive: true, force: true });
    fs.mkdirSync(x);
    sh('tar', ['-xzf', path.join(out, 'core', second), '-C', x]);
    const top = path.join(x, second.replace(/\.tar\.gz$/, ''));
    const meta = fs.readFileSync(path.join(top, 'metadata.txt'), 'utf8');
    expect(meta).to.match(/^dump_format=kdump-lzo$/m);
    expect(meta).to.match(/^archive_stage=boot$/m);
    expect(meta).to.match(/^result=complete$/m);
    const hostDmesg = path.join(x, 'host-dmesg.txt');
    sh('makedumpfile', ['--dump-dmesg', path.join(top, 'vmcore'), hostDmesg]);
    expect(fs.readFileSync(hostDmesg, 'utf8')).to.include(marker);
  });

  it('a save that fails in the capture kernel runs the configured failure action (halt) and adds no archive', async () => {
    expect(firstArchive, 'needs the archives of the earlier tests').to.not.equal('');
    const before = path.join(e2eDir, 'crash-6-before');
    extractFromDisk(disk, '/core', before);
    const earlier = fs.readdirSync(path.join(before, 'core')).filter((e) => e.startsWith('kdump-')).sort();
    expect(earlier).to.have.length(2);
    // Debian's makedumpfile has no zstd: preflight must refuse rather than write something else.
    writeDiskFile(disk, '/etc/kdump.conf', 'path /data/core\ncore_collector makedumpfile -z --message-level 1 -d 31\nfailure_action halt\n');
    const g = new Guest({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/crash-6-halt.log') });
    try {
      await g.waitFor(/KDL-CAPTURE-UP/, 300_000, 'capture kernel up');
      await g.waitFor(/reboot: System halted/, 120_000, 'the guest halting');
      expect(g.running, 'halt stops the CPU; it does not reset the machine').to.equal(true);
    } finally {
      await g.kill();
    }
    expect(g.output).to.match(/ops-kdump: save FAILED in step preflight: compressor asked for by core_collector is not compiled into makedumpfile/);
    expect(g.output).to.match(/ops-kdump: running failure action: halt/);
    expect(g.output).not.to.match(/KDL-SAVE-RC|KDL-SCENARIO-END/);
    const after = path.join(e2eDir, 'crash-6-after');
    extractFromDisk(disk, '/core', after);
    expect(fs.readdirSync(path.join(after, 'core')).filter((e) => e.startsWith('kdump-')).sort()).to.deep.equal(earlier);
    for (const e of earlier) {
      expect(fs.readFileSync(path.join(after, 'core', e)).equals(fs.readFileSync(path.join(before, 'core', e))), e).to.equal(true);
    }
  });
  it("the seed's ELF line: an ELF vmcore of this crash, archived in the capture kernel; keep 1 rotates", async () => {
    writeDiskFile(disk, '/etc/kdump.conf', 'path /data/core\ncore_collector makedumpfile -E -f --message-level 1 -d 31\narchive tar.gz\narchive_stage capture\nkeep 1\n');
    const g = new Guest({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/crash-7-elf.log') });
    try {
      await g.waitFor(/KDL-CAPTURE-UP/, 300_000, 'capture kernel up');
      await g.waitExit(300_000);
    } finally {
      await g.kill();
    }
    expect(g.output).to.match(/ops-kdump: running final action: reboot/);
    const out = path.join(e2eDir, 'crash-7-core');
    extractFromDisk(disk, '/core', out);
    const entries = fs.readdirSync(path.join(out, 'core')).filter((e) => e.startsWith('kdump-'));
    // keep 1: only the new archive is left.
    expect(entries, entries.join(' ')).to.have.length(1);
    const x = path.join(e2eDir, 'crash-7-x');
    fs.rmSync(x, { recursive: true, force: true });
    fs.mkdirSync(x);
    sh('tar', ['-xzf', path.join(out, 'core', entries[0]), '-C', x]);
    const top = path.join(x, entries[0].replace(/\.tar\.gz$/, ''));
    const head = fs.readFileSync(path.join(top, 'vmcore')).subarray(0, 5);
    expect(head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2])), 'a 64-bit ELF file').to.equal(true);
    expect(fs.readFileSync(path.join(top, 'metadata.txt'), 'utf8')).to.match(/^dump_format=elf$/m);
    expect(fs.readFileSync(path.join(top, 'dmesg.txt'), 'utf8')).to.include(marker);
    sh('makedumpfile', ['--dump-dmesg', path.join(top, 'vmcore'), path.join(x, 'host-dmesg.txt')]);
    expect(fs.readFileSync(path.join(x, 'host-dmesg.txt'), 'utf8')).to.include('sysrq: Trigger a crash');
  });
});
