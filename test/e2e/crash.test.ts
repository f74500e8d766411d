import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cliPath } from '../helpers/cli.js';
import type { AnalyzeReport } from '../../src/analyze/types.js';
import { ensureDebugVmlinux } from './analyze-dumps.js';
import {
  buildInitramfs, crashToEnd, e2eDir, ensureKernel, extractFromDisk, Guest, makeDisk, runMarker, scenario, sh, writeDiskFile,
  type Initramfs, type Kernel,
} from './harness.js';

/** The seed pipeline (zlib dump, tar.gz in the capture kernel), dump path on the test disk. */
export const E2E_CONF = `# written by the end-to-end test
path /data/core
core_collector makedumpfile -c --message-level 7 -d 31
archive tar.gz
archive_stage capture
archive_files /etc/os-release
keep 3
min_free_mb 64
failure_action reboot
final_action reboot
`;

/** Modes of everything under the dump path as `ls -lnR` in the guest printed them: root only. */
function expectRootOnlyInGuest(g: Guest): void {
  const modes = g.lines('KDL-MODES ');
  expect(modes.some((l) => l.startsWith('/data/core:')), g.tail()).to.equal(true);
  const entries = modes.filter((l) => /^[-d][rwx-]{9}/.test(l));
  expect(entries.length, modes.join('\n')).to.be.greaterThan(3);
  for (const l of entries) expect(l.slice(0, 10), l).to.be.oneOf(['-rw-------', 'drwx------']);
}

describe('runtime end to end: a real kernel crashed under QEMU @slow', function () {
  this.timeout(15 * 60 * 1000);
  let kernel: Kernel;
  let initramfs: Initramfs;
  const disk = path.join(e2eDir, 'crash-disk.img');
  const marker = runMarker();
  let firstArchive = '';
  let secondArchive = '';

  before(() => {
    kernel = ensureKernel();
    initramfs = buildInitramfs(kernel);
    makeDisk(disk, { kernel, initramfs, kdumpConf: E2E_CONF, scenario: scenario(marker) });
  });

  it('load arms the capture kernel, echo c crashes, save writes a complete archive of this crash and reboots', async () => {
    const g = new Guest({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/crash-1.log') });
    try {
      await g.waitFor(/KDL-LOAD-RC=(\d+)/, 180_000, 'load result');
      expect(g.lines('KDL-LOAD-RC=')[0]).to.equal('0', g.tail());
      await g.waitFor(/KDL-CRASHING/, 30_000);
      expect(g.lines('KDL-STATUS ')).to.include('loaded=1');
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
    const archives = entries.filter((e) => /^kdump-000001-\d{8}-\d{6}-[0-9a-f]+\.tar\.gz$/.test(e));
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

  it('a power cut mid-dump: the next boot records that crash as failed, the earlier archive is intact', async () => {
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
    expect(g2.lines('KDL-LOAD-RC=')[0]).to.equal('1');
    expect(g2.output).to.match(/no crashkernel= on the kernel command line/);
    const list = g2.lines('KDL-LIST ').map((l) => l.split('\t'));
    const byName = new Map(list.map((c) => [c[0], c[1]]));
    expect(byName.get(firstArchive), g2.tail()).to.equal('complete');
    // The next boot recorded the cut dump as a failed crash: its reason, no partial vmcore.
    const cut = list.filter((c) => c[1] === 'failed');
    expect(cut, JSON.stringify(list)).to.have.length(1);
    expect(cut[0][0]).to.match(/^kdump-000002-\d{8}-\d{6}-[0-9a-f]+\.failed$/);
    expect(cut[0][5]).to.equal('the save was interrupted (power cut, reset or watchdog) in step collect');
    expect(list.filter((c) => c[1] === 'complete')).to.have.length(1);
    const status = g2.lines('KDL-STATUS ');
    expect(status).to.include('loaded=0');
    expect(status).to.include(`last_crash=${cut[0][0]}`);
    expect(status).to.include('last_crash_state=failed');
    expect(status).to.include(`last_dump=${firstArchive}`);
    const checks = g2.lines('KDL-TEST ');
    expect(checks).to.include('FAIL  memory reserved for the capture kernel (0 MiB)');
    expect(checks).to.include('FAIL  capture kernel loaded');
    expect(checks).to.include('PASS  dump path /data/core on a disk and writable');
    expect(checks).to.include('PASS  dump path /data/core readable by root only');
    expectRootOnlyInGuest(g2);

    // The earlier archive is still a valid, complete gzip'd tar.
    const out = path.join(e2eDir, 'crash-2-core');
    extractFromDisk(disk, '/core', out);
    sh('tar', ['-tzf', path.join(out, 'core', firstArchive)]);
  });

  it('with the default configuration, on a board whose clock starts at 1970: a fast lzo dump in the capture kernel, archived at the next boot', async () => {
    expect(firstArchive, 'needs the archive of the first test').to.not.equal('');
    // Only the dump path: every other key takes the runtime's default.
    writeDiskFile(disk, '/etc/kdump.conf', 'path /data/core\n');
    // No battery-backed clock: system and capture kernel read 1970 from the RTC.
    const g = await crashToEnd({ kernel, initramfs, disk, rtcBase: '1970-01-01T00:00:00', logFile: path.join(e2eDir, 'logs/crash-4-default.log') });
    expect(g.output).to.match(/ops-kdump: archive deferred to the next boot/);
    expect(g.output).to.match(/ops-kdump: dump saved: kdump-000003-19700101-\d{6}-[0-9a-f]{8}\b/);
    expect(g.output).to.match(/ops-kdump: running final action: reboot/);
    const g2 = new Guest({ kernel, initramfs, disk, extraAppend: 'kdl.mode=inspect', logFile: path.join(e2eDir, 'logs/crash-5-archive.log') });
    try {
      await g2.waitFor(/KDL-INSPECTED/, 600_000);
    } finally {
      await g2.kill();
    }
    expect(g2.lines('KDL-LOAD-RC=')[0]).to.equal('0');
    expect(g2.lines('KDL-STATUS ')).to.include('loaded=1');
    const checks = g2.lines('KDL-TEST ');
    expect(checks, checks.join('\n')).to.have.length(8);
    expect(checks.filter((c) => !c.startsWith('PASS  ')), checks.join('\n')).to.deep.equal([]);
    expectRootOnlyInGuest(g2);
    // In crash order, whatever the dates: the 1970 dump is the newest.
    const list = g2.lines('KDL-LIST ').map((l) => l.split('\t'));
    expect(list.map((c) => c[1]), JSON.stringify(list)).to.deep.equal(['complete', 'failed', 'complete']);
    expect(list[0][0]).to.equal(firstArchive);
    const second = list[2][0];
    expect(second).to.match(/^kdump-000003-19700101-\d{6}-[0-9a-f]+\.tar\.gz$/);
    expect(g2.lines('KDL-STATUS ')).to.include(`last_dump=${second}`);
    secondArchive = second;

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

  it('a save that fails in the capture kernel runs the configured failure action (halt), adds no archive and records the failed crash', async () => {
    expect(firstArchive, 'needs the archives of the earlier tests').to.not.equal('');
    const before = path.join(e2eDir, 'crash-6-before');
    extractFromDisk(disk, '/core', before);
    const earlier = fs.readdirSync(path.join(before, 'core')).filter((e) => e.startsWith('kdump-')).sort();
    expect(earlier).to.have.length(3);
    // Debian's makedumpfile has no zstd: preflight must refuse rather than write something else.
    writeDiskFile(disk, '/etc/kdump.conf', 'path /data/core\ncore_collector makedumpfile -z --message-level 7 -d 31\nfailure_action halt\n');
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
    const now = fs.readdirSync(path.join(after, 'core')).filter((e) => e.startsWith('kdump-')).sort();
    const added = now.filter((e) => !earlier.includes(e));
    expect(now.filter((e) => earlier.includes(e))).to.deep.equal(earlier);
    // The failed crash is on the dump disk: why, and this crash's log (with the run marker).
    expect(added, now.join(' ')).to.have.length(1);
    expect(added[0]).to.match(/^kdump-000004-\d{8}-\d{6}-[0-9a-f]+\.failed$/);
    const meta = fs.readFileSync(path.join(after, 'core', added[0], 'metadata.txt'), 'utf8');
    expect(meta).to.match(/^failed_reason=compressor asked for by core_collector is not compiled into makedumpfile$/m);
    expect(fs.readFileSync(path.join(after, 'core', added[0], 'dmesg.txt'), 'utf8')).to.include(marker);
    for (const e of earlier) {
      // Archives byte for byte; the failed record of the cut dump by its metadata.
      const file = fs.statSync(path.join(before, 'core', e)).isDirectory() ? path.join(e, 'metadata.txt') : e;
      expect(fs.readFileSync(path.join(after, 'core', file)).equals(fs.readFileSync(path.join(before, 'core', file))), e).to.equal(true);
    }
  });
  it("the seed's ELF line: an ELF vmcore of this crash, archived in the capture kernel; keep 2 removes the oldest crash, not the oldest date", async () => {
    expect(secondArchive, 'needs the 1970 archive of the third test').to.not.equal('');
    writeDiskFile(disk, '/etc/kdump.conf', 'path /data/core\ncore_collector makedumpfile -E -f --message-level 7 -d 31\narchive tar.gz\narchive_stage capture\nkeep 2\n');
    const g = await crashToEnd({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/crash-7-elf.log') });
    expect(g.output).to.match(/ops-kdump: running final action: reboot/);
    const out = path.join(e2eDir, 'crash-7-core');
    extractFromDisk(disk, '/core', out);
    const all = fs.readdirSync(path.join(out, 'core')).filter((e) => e.startsWith('kdump-')).sort();
    // keep 2: the first crash's archive goes; the 1970-dated one is newer and stays. The two
    // failed records are counted apart and stay too.
    const saved = all.filter((e) => e.endsWith('.tar.gz'));
    expect(saved, all.join(' ')).to.have.length(2);
    expect(saved[0]).to.equal(secondArchive);
    expect(saved[1]).to.match(/^kdump-000005-/);
    expect(all).not.to.include(firstArchive);
    expect(all.filter((e) => e.endsWith('.failed'))).to.have.length(2);
    const entries = [saved[1]];
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
    // Its flattened form (makedumpfile -E -F, as streamed over ssh) back to ELF for gdb, with
    // analyze --to-elf: an ELF vmcore of the same crash, readable by its owner only although
    // the umask would let everyone read it.
    const flat = path.join(x, 'vmcore.flat');
    const mk = spawnSync('sh', ['-c', 'makedumpfile -E -F -d 31 --message-level 1 "$1" > "$2"', 'sh', path.join(top, 'vmcore'), flat], { encoding: 'utf8' });
    expect(mk.status, mk.stderr).to.equal(0);
    const elf = path.join(x, 'restored.elf');
    const conv = spawnSync('sh', ['-c', 'umask 022 && exec "$@"', 'sh', process.execPath, cliPath, 'analyze', flat, '--to-elf', elf], { encoding: 'utf8' });
    expect(conv.status, conv.stderr).to.equal(0);
    expect(conv.stdout).to.include(`wrote ${elf} (ELF)`);
    expect(fs.statSync(elf).mode & 0o777).to.equal(0o600);
    expect(fs.readFileSync(elf).subarray(0, 5).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2]))).to.equal(true);
    sh('makedumpfile', ['--dump-dmesg', elf, path.join(x, 'restored-dmesg.txt')]);
    expect(fs.readFileSync(path.join(x, 'restored-dmesg.txt'), 'utf8')).to.include(marker);

    // analyze with crash(8) and the kernel's debug vmlinux: the ELF archive as it is, and its
    // flattened form, which crash cannot read itself (restored in a private temporary directory
    // first, removed afterwards). Both give this crash's report.
    const vmlinux = ensureDebugVmlinux(kernel).path;
    const tmp = path.join(x, 'tmp');
    fs.mkdirSync(tmp);
    for (const [what, dump] of [['archive', path.join(out, 'core', entries[0])], ['flattened', flat]] as const) {
      const r = spawnSync(process.execPath, [cliPath, 'analyze', dump, '--vmlinux', vmlinux, '--format', 'json'], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
      expect(r.status, `${what}: ${r.stderr}`).to.equal(0);
      const rep = JSON.parse(r.stdout) as AnalyzeReport;
      expect(rep.dump, what).to.deep.include(what === 'archive' ? { format: 'elf' } : { format: 'flattened', payload: 'elf' });
      expect(rep.signature?.frames, what).to.include('sysrq_handle_crash');
      expect(rep.crash?.panic, what).to.match(/sysrq triggered crash/);
      // The marker is in this archive's saved log (above); the 50-line tail holds the crash.
      expect(rep.crash?.log.join('\n'), what).to.include('sysrq: Trigger a crash');
      expect(fs.readdirSync(tmp), `${what}: nothing left in TMPDIR`).to.deep.equal([]);
    }
    // A TMPDIR too small for the restored dump: said before makedumpfile starts, nothing left.
    sh('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tmp]);
    try {
      const small = spawnSync(process.execPath, [cliPath, 'analyze', flat, '--vmlinux', vmlinux], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
      expect(small.status, small.stderr).to.equal(2);
      const need = (fs.statSync(flat).size / 1048576).toFixed(1);
      expect(small.stderr).to.include(`${tmp} has 1.0 MiB free, but restoring the flattened dump needs about ${need} MiB\n  hint: set TMPDIR to a directory with room`);
      expect(small.stderr).not.to.match(/\n {4}at /);
      expect(fs.readdirSync(tmp)).to.deep.equal([]);
    } finally {
      sh('umount', [tmp]);
    }
  });
});
