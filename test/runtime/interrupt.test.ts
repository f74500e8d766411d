/**
 * Power cuts the host can make: `ops-kdump` killed with SIGKILL (its whole process group,
 * tar and makedumpfile included) at named points or while a file is being written, on a
 * real ext4 filesystem that is then unmounted and mounted again, so that what the next run
 * sees comes from the disk. Each time: nothing is shown complete that is not, no complete
 * dump that should be kept is lost, and the next run (`archive`, as at the next boot)
 * finishes or cleans every leftover. What a real power cut adds to this is in
 * docs/runtime.md; a real one during the dump is made under QEMU (test/e2e).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { opsKdump, SHELLS } from './shell.js';
import {
  EARLIER, expectCompleteMeansComplete, expectEarlierIntact, expectRootOnly, listRows, newEntries, runUntilKilled, sha,
  type Target, targetHooks,
} from './target.js';

const LZO = 'makedumpfile -l --message-level 7 -d 31';

/** A complete dump the capture kernel left for the next boot (archive_stage boot). */
function pendingDump(t: Target, shell: string[]): string {
  const r = opsKdump(shell, ['save'], t.env);
  expect(r.code, r.stderr).to.equal(0);
  const fresh = newEntries(t);
  expect(fresh, fresh.join(' ')).to.have.length(1);
  return fresh[0];
}

/** What list shows right after the cut, read back from the disk. */
function afterCut(t: Target): Map<string, string> {
  t.remount();
  expectCompleteMeansComplete(t);
  return new Map(listRows(t).map((r) => [r[0], r[1]]));
}

/** The next boot: `ops-kdump archive` finishes the work; then nothing is left over. */
function nextBoot(t: Target, shell: string[]): string {
  const r = opsKdump(shell, ['archive'], t.env);
  expect(r.code, r.stderr).to.equal(0);
  t.remount();
  const left = fs.readdirSync(t.core).filter((e) => /\.(incomplete|deleting)$/.test(e) || e.endsWith('.tmp'));
  expect(left, 'leftovers').to.deep.equal([]);
  expectCompleteMeansComplete(t);
  expectRootOnly(t);
  return r.stderr;
}

describe('ops-kdump killed mid-way (power cut stand-in) on real ext4 @slow', function () {
  this.timeout(10 * 60_000);
  const targets = targetHooks();
  let t: Target | undefined;

  const boot = `core_collector ${LZO}\narchive tar.gz\narchive_stage boot\nkeep 3\nmin_free_mb 1`;

  for (const [i, shell] of SHELLS.entries()) {
    const other = SHELLS[1 - i];
    it(`under ${shell.name}: next boot's archiving killed while the tar.gz is written: the dump stays pending, the next run archives it`, async () => {
      t = targets.make(200, boot);
      const name = pendingDump(t, shell.argv);
      const part = path.join(t.core, `${name}.tar.gz.incomplete`);
      await runUntilKilled(shell.argv, ['archive'], t.env, { fileAtLeast: { path: part, bytes: 1 << 20 } });
      const seen = afterCut(t);
      expect(seen.get(name)).to.equal('pending');
      expect(seen.get(`${name}.tar.gz.incomplete`)).to.equal('incomplete');
      expect(seen.has(`${name}.tar.gz`)).to.equal(false);
      const log = nextBoot(t, other.argv);
      expect(log).to.include(`removing partial archive ${name}.tar.gz.incomplete (interrupted)`);
      expect(newEntries(t)).to.deep.equal([`${name}.tar.gz`]);
      expectEarlierIntact(t);
    });
  }

  for (const point of ['archive-written', 'archive-renamed', 'remove-renamed']) {
    it(`next boot's archiving killed at ${point}: never a half archive or a half-removed dump on show, the next run finishes`, async () => {
      t = targets.make(200, boot);
      const name = pendingDump(t, ['dash']);
      await runUntilKilled(['busybox', 'sh'], ['archive'], t.env, { pausedAt: point });
      const seen = afterCut(t);
      const onDisk = fs.readdirSync(t.core);
      if (point === 'archive-written') {
        // The archive is whole but has not got its name: it is not shown complete.
        expect(onDisk).to.include(`${name}.tar.gz.incomplete`);
        expect([...seen.entries()].filter(([, s]) => s === 'complete').map(([n]) => n).sort()).to.deep.equal([...EARLIER].sort());
        expect(seen.get(name)).to.equal('pending');
      } else {
        // The archive has its name: it alone stands for this crash.
        expect(seen.get(`${name}.tar.gz`)).to.equal('complete');
        expect(seen.has(name), 'the directory being removed is not listed').to.equal(false);
        expect(onDisk).to.include(point === 'archive-renamed' ? name : `${name}.deleting`);
      }
      const archived = `${name}.tar.gz`;
      const before = seen.has(archived) ? sha(path.join(t.core, archived)) : '';
      nextBoot(t, ['dash']);
      expect(newEntries(t)).to.deep.equal([archived]);
      if (before) expect(sha(path.join(t.core, archived)), 'a complete archive is kept as it was').to.equal(before);
      expectEarlierIntact(t);
    });
  }

  it('two archive runs at once (boot service and a manual run): the second refuses and touches nothing; the lock of a killed run is taken over', async () => {
    const tt = targets.make(200, boot);
    t = tt;
    const name = pendingDump(tt, ['dash']);
    const partial = path.join(tt.core, `${name}.tar.gz.incomplete`);
    let second: { code: number; stderr: string } | undefined;
    let partialAfter = '';
    await runUntilKilled(['dash'], ['archive'], tt.env, { pausedAt: 'archive-written' }, 120_000, () => {
      const before = sha(partial);
      second = opsKdump(['busybox', 'sh'], ['archive'], tt.env);
      partialAfter = fs.existsSync(partial) && sha(partial) === before ? 'untouched' : 'changed or removed';
    });
    expect(second!.code).to.equal(1);
    expect(second!.stderr).to.match(/another 'ops-kdump archive' is running \(process \d+, lock /);
    expect(partialAfter, "the first run's archive in the making").to.equal('untouched');
    // The first run was killed holding the lock: the next run takes it over and finishes.
    const log = nextBoot(t, ['dash']);
    expect(log).to.match(/taking over archive\.lock: its holder \(\d+ .*\) is no longer running/);
    expect(newEntries(t)).to.deep.equal([`${name}.tar.gz`]);
    expectEarlierIntact(t);
  });

  it('rotation killed between two removals: the kept dumps stay intact, the next boot finishes the rotation', async () => {
    t = targets.make(200, `core_collector ${LZO}\narchive tar.gz\narchive_stage capture\nkeep 1\nmin_free_mb 1`);
    // keep 1: both earlier archives go, newest first; the cut lands after the first.
    await runUntilKilled(['dash'], ['save'], t.env, { pausedAt: 'rotate-next' });
    const seen = afterCut(t);
    const fresh = newEntries(t);
    expect(fresh).to.have.length(1);
    expect(seen.get(fresh[0])).to.equal('complete');
    expect(seen.has(EARLIER[1])).to.equal(false);
    expect(seen.get(EARLIER[0])).to.equal('complete');
    expectEarlierIntact(t, [EARLIER[0]]);
    const digest = sha(path.join(t.core, fresh[0]));
    const log = nextBoot(t, ['busybox', 'sh']);
    expect(log).to.include(`rotation: removing ${EARLIER[0]} (keep 1)`);
    expect(newEntries(t)).to.deep.equal(fresh);
    expect(fs.readdirSync(t.core).filter((e) => e.startsWith('kdump-'))).to.deep.equal(fresh);
    expect(sha(path.join(t.core, fresh[0]))).to.equal(digest);
  });

  it('rotation killed in the middle of removing a dump directory: it is never listed half-removed, the next boot removes it', async () => {
    // A complete but unarchived dump from an earlier crash, then a new crash with keep 2.
    t = targets.make(300, `core_collector ${LZO}\narchive none\nkeep 3\nmin_free_mb 1`);
    const first = pendingDump(t, ['busybox', 'sh']);
    fs.writeFileSync(t.conf, fs.readFileSync(t.conf, 'utf8').replace('keep 3', 'keep 1'));
    // keep 1: the earlier dump directory goes first (newest victim), through <name>.deleting.
    await runUntilKilled(['busybox', 'sh'], ['save'], t.env, { pausedAt: 'remove-renamed' });
    const seen = afterCut(t);
    expect(fs.readdirSync(t.core)).to.include(`${first}.deleting`);
    expect(seen.has(first)).to.equal(false);
    expect([...seen.keys()].filter((n) => n.includes('.deleting'))).to.deep.equal([]);
    const second = newEntries(t).filter((e) => e !== `${first}.deleting`);
    expect(second).to.have.length(1);
    expect(seen.get(second[0])).to.equal('complete');
    expectEarlierIntact(t);
    const log = nextBoot(t, ['dash']);
    expect(log).to.include(`finishing the interrupted removal of ${first}`);
    expect(fs.readdirSync(t.core).filter((e) => e.startsWith('kdump-'))).to.deep.equal(second);
  });

  it('save killed after every step but before the final rename: the next boot gives the dump its name and archives it', async () => {
    t = targets.make(200, boot);
    await runUntilKilled(['dash'], ['save'], t.env, { pausedAt: 'save-finished' });
    const seen = afterCut(t);
    const fresh = newEntries(t);
    expect(fresh).to.have.length(1);
    expect(fresh[0]).to.match(/\.incomplete$/);
    expect(seen.get(fresh[0])).to.equal('incomplete');
    const name = fresh[0].replace(/\.incomplete$/, '');
    const log = nextBoot(t, ['busybox', 'sh']);
    expect(log).to.include(`finishing ${name}: the dump was complete, only its final rename was missing`);
    expect(newEntries(t)).to.deep.equal([`${name}.tar.gz`]);
    expectEarlierIntact(t);
  });

  it('save killed while makedumpfile writes: the next boot records the crash as failed, keeps its log, drops the partial vmcore', async () => {
    t = targets.make(200, boot);
    const core = t.core;
    // The dump's name is not known in advance: the partial vmcore of whichever dump is being written.
    const partial = (): string | undefined => {
      const d = fs.readdirSync(core).find((e) => e.endsWith('.incomplete'));
      return d && path.join(core, d, 'vmcore.incomplete');
    };
    await runUntilKilled(['busybox', 'sh'], ['save'], t.env, { fileAtLeast: { path: partial, bytes: 2 << 20 } });
    const seen = afterCut(t);
    const cut = newEntries(t);
    expect(cut).to.have.length(1);
    expect(seen.get(cut[0])).to.equal('incomplete');
    const name = cut[0].replace(/\.incomplete$/, '');
    const log = nextBoot(t, ['dash']);
    expect(log).to.include(`recorded the interrupted save of ${name} as failed (${name}.failed)`);
    expect(newEntries(t)).to.deep.equal([`${name}.failed`]);
    const dir = path.join(t.core, `${name}.failed`);
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['dmesg.txt', 'metadata.txt', 'ops-kdump.log']);
    expect(fs.readFileSync(path.join(dir, 'dmesg.txt'), 'utf8')).to.include('sysrq: Trigger a crash');
    const row = listRows(t).find((r) => r[0] === `${name}.failed`)!;
    expect(row.slice(4, 6)).to.deep.equal(['failed', 'the save was interrupted (power cut, reset or watchdog) in step collect']);
    expectEarlierIntact(t);
  });
});
