/**
 * Real power cuts while the capture kernel archives: QEMU is killed, so whatever the guest
 * had not written to its disk is lost, as on a device whose power goes. The runtime is held
 * at a named point (KDUMP_TEST_PAUSE) so that the cut lands there every time:
 * - after the tar.gz was written and synced, before it got its name (in the capture kernel,
 *   and in the next boot's archiving);
 * - while the dump directory it was made from is being removed (the removal rotation uses).
 * After each, the next boot shows no archive complete that is not, loses no earlier
 * complete archive and leaves no leftover. The cut during the dump itself is in crash.test.ts.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import {
  buildInitramfs, crashToEnd, e2eDir, ensureKernel, extractFromDisk, Guest, makeDisk, runMarker, scenario, sh, writeDiskFile,
  type Initramfs, type Kernel,
} from './harness.js';

const CONF = `path /data/core
core_collector makedumpfile -c --message-level 7 -d 31
archive tar.gz
archive_stage capture
keep 3
min_free_mb 16
failure_action reboot
final_action reboot
`;

describe('real power cuts while archiving, in the capture kernel and at the next boot (QEMU) @slow', function () {
  this.timeout(20 * 60_000);
  let kernel: Kernel;
  let initramfs: Initramfs;
  const disk = path.join(e2eDir, 'powercut-disk.img');
  const markers = [runMarker(), runMarker(), runMarker()];
  let first = '';

  /** Crashes with the capture run held at `point`, then cuts the power there. */
  async function crashAndCut(tag: string, marker: string, point: string): Promise<Guest> {
    writeDiskFile(disk, '/scenario.sh', scenario(marker, `export KDUMP_TEST_PAUSE=${point}`));
    const g = new Guest({ kernel, initramfs, disk, logFile: path.join(e2eDir, `logs/powercut-${tag}.log`) });
    try {
      await g.waitFor(/KDL-CAPTURE-UP/, 300_000, 'capture kernel up');
      await g.waitFor(new RegExp(`ops-kdump: test hook: paused at ${point}`), 300_000, point);
    } finally {
      await g.kill();
    }
    return g;
  }

  /** The next boot (no crashkernel): the init script finishes the leftovers; list and files. */
  async function nextBoot(tag: string): Promise<{ list: string[][]; files: string[]; dir: string }> {
    const g = new Guest({
      kernel, initramfs, disk, crashkernel: null, extraAppend: 'kdl.mode=inspect', logFile: path.join(e2eDir, `logs/powercut-${tag}-next.log`),
    });
    try {
      await g.waitFor(/KDL-INSPECTED/, 300_000);
    } finally {
      await g.kill();
    }
    const out = path.join(e2eDir, `powercut-${tag}-core`);
    extractFromDisk(disk, '/core', out);
    const dir = path.join(out, 'core');
    return { list: g.lines('KDL-LIST ').map((l) => l.split('\t')), files: fs.readdirSync(dir).sort(), dir };
  }

  /** The archive is a whole tar.gz of a complete dump of the crash that wrote `marker`. */
  function expectWholeArchiveOf(dir: string, name: string, marker: string, tag: string): void {
    const x = path.join(e2eDir, `powercut-${tag}-x`);
    fs.rmSync(x, { recursive: true, force: true });
    fs.mkdirSync(x);
    sh('tar', ['-xzf', path.join(dir, name), '-C', x]);
    const top = path.join(x, name.replace(/\.tar\.gz$/, ''));
    expect(fs.readFileSync(path.join(top, 'metadata.txt'), 'utf8')).to.match(/^result=complete$/m);
    expect(fs.readFileSync(path.join(top, 'dmesg.txt'), 'utf8')).to.include(marker);
    const hostDmesg = path.join(x, 'host-dmesg.txt');
    sh('makedumpfile', ['--dump-dmesg', path.join(top, 'vmcore'), hostDmesg]);
    expect(fs.readFileSync(hostDmesg, 'utf8')).to.include(marker);
  }

  before(() => {
    kernel = ensureKernel();
    initramfs = buildInitramfs(kernel);
    makeDisk(disk, { kernel, initramfs, kdumpConf: CONF, scenario: scenario(markers[0]) });
  });

  it('cut after the tar.gz is written, before it is named: not shown complete; the next boot archives the dump again', async () => {
    const g = await crashAndCut('1', markers[0], 'archive-written');
    expect(g.output).to.match(/ops-kdump: dump saved|step metadata: ok/);
    const atCut = path.join(e2eDir, 'powercut-1-atcut');
    extractFromDisk(disk, '/core', atCut);
    const left = fs.readdirSync(path.join(atCut, 'core'));
    expect(left.filter((e) => e.endsWith('.tar.gz.incomplete')), left.join(' ')).to.have.length(1);
    expect(left.filter((e) => e.endsWith('.tar.gz')), 'no archive has its name yet').to.deep.equal([]);

    const { list, files, dir } = await nextBoot('1');
    expect(list.map((c) => c[1]), JSON.stringify(list)).to.deep.equal(['complete']);
    first = list[0][0];
    expect(first).to.match(/^kdump-000001-\d{8}-\d{6}-[0-9a-f]+\.tar\.gz$/);
    expect(files.filter((e) => e.startsWith('kdump-')), 'no leftover').to.deep.equal([first]);
    expectWholeArchiveOf(dir, first, markers[0], '1');
  });

  it('cut while the dump directory is being removed after archiving: never listed half-removed; the next boot finishes; the earlier archive is intact', async () => {
    expect(first, 'needs the archive of the previous test').to.not.equal('');
    const before = fs.readFileSync(path.join(e2eDir, 'powercut-1-core/core', first));
    await crashAndCut('2', markers[1], 'remove-renamed');
    const atCut = path.join(e2eDir, 'powercut-2-atcut');
    extractFromDisk(disk, '/core', atCut);
    const left = fs.readdirSync(path.join(atCut, 'core'));
    // The rename to .deleting may not have reached the disk before the cut: then the
    // directory is still there beside its complete archive, which stands for it.
    const second = left.find((e) => /^kdump-000002-.*\.tar\.gz$/.test(e));
    expect(second, left.join(' ')).to.not.equal(undefined);
    const dirName = second!.replace(/\.tar\.gz$/, '');
    expect(left.filter((e) => e === dirName || e === `${dirName}.deleting`), left.join(' ')).to.have.length(1);

    const { list, files, dir } = await nextBoot('2');
    expect(list.map((c) => c[1]), JSON.stringify(list)).to.deep.equal(['complete', 'complete']);
    expect(list[0][0]).to.equal(first);
    expect(list[1][0]).to.equal(second);
    expect(files.filter((e) => e.startsWith('kdump-')), 'no leftover').to.deep.equal([first, second!]);
    expect(fs.readFileSync(path.join(dir, first)).equals(before), 'the earlier archive, byte for byte').to.equal(true);
    expectWholeArchiveOf(dir, second!, markers[1], '2');
  });

  it("cut during the next boot's archiving (archive_stage boot), after the tar.gz is written: the boot after archives the dump; earlier archives intact", async () => {
    const before = new Map(fs.readdirSync(path.join(e2eDir, 'powercut-2-core/core')).filter((e) => e.endsWith('.tar.gz'))
      .map((e) => [e, fs.readFileSync(path.join(e2eDir, 'powercut-2-core/core', e))]));
    expect(before.size, 'needs the archives of the previous tests').to.equal(2);
    writeDiskFile(disk, '/etc/kdump.conf', CONF.replace('archive_stage capture', 'archive_stage boot'));
    writeDiskFile(disk, '/scenario.sh', scenario(markers[2]));
    const g = await crashToEnd({ kernel, initramfs, disk, logFile: path.join(e2eDir, 'logs/powercut-3.log') });
    expect(g.output).to.match(/ops-kdump: archive deferred to the next boot/);
    const cut = new Guest({
      kernel, initramfs, disk, crashkernel: null, extraAppend: 'kdl.mode=archive-cut kdl.pause=archive-written',
      logFile: path.join(e2eDir, 'logs/powercut-3-archive-cut.log'),
    });
    try {
      await cut.waitFor(/ops-kdump: test hook: paused at archive-written/, 300_000, 'archive-written');
    } finally {
      await cut.kill();
    }
    const { list, files, dir } = await nextBoot('3');
    expect(list.map((c) => c[1]), JSON.stringify(list)).to.deep.equal(['complete', 'complete', 'complete']);
    const third = list[2][0];
    expect(third).to.match(/^kdump-000003-\d{8}-\d{6}-[0-9a-f]+\.tar\.gz$/);
    expect(files.filter((e) => e.startsWith('kdump-')), 'no leftover').to.deep.equal([...before.keys(), third].sort());
    for (const [name, bytes] of before) expect(fs.readFileSync(path.join(dir, name)).equals(bytes), name).to.equal(true);
    expectWholeArchiveOf(dir, third, markers[2], '3');
  });
});
