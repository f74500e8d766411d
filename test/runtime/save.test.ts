/**
 * `ops-kdump save` run on the host against a real vmcore of a real crash (the nearest real
 * thing to the capture kernel for fault cases): real makedumpfile, real ext4 filesystems on
 * loop devices that fill up or are read-only, real busybox and dash.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { sh } from '../e2e/harness.js';
import { opsKdump, SHELLS, type ShResult } from './shell.js';
import {
  EARLIER, expectCompleteMeansComplete, expectEarlierIntact, expectRootOnly, listRows, newEntries, sha, statusOf,
  type Target, targetHooks,
} from './target.js';

function expectFailure(r: ShResult, step: string, action: string, reason: RegExp): void {
  expect(r.code, r.stderr).to.equal(1);
  expect(r.stderr).to.include(`save FAILED in step ${step}`);
  expect(r.stderr).to.match(reason);
  expect(r.stderr).to.include(`running failure action: ${action}`);
  expect(r.stderr).not.to.include('running final action');
  expect(r.stderr).not.to.include('dump saved');
}

/** The one failed record of this crash: its metadata, and what list and status say. */
function expectFailedRecord(t: Target, step: string, reason: RegExp, opts: { dmesg: boolean }): string {
  const fresh = newEntries(t);
  expect(fresh, fresh.join(' ')).to.have.length(1);
  expect(fresh[0]).to.match(/^kdump-000001-\d{8}-\d{6}-[0-9a-f]{8}\.failed$/);
  const dir = path.join(t.core, fresh[0]);
  const files = fs.readdirSync(dir).sort();
  expect(files).to.include.members(['metadata.txt', 'ops-kdump.log']);
  expect(files.filter((f) => f.includes('vmcore')), 'no partial vmcore is kept').to.deep.equal([]);
  const meta = fs.readFileSync(path.join(dir, 'metadata.txt'), 'utf8');
  expect(meta).to.match(/^result=failed$/m);
  expect(meta).to.match(new RegExp(`^failed_step=${step}$`, 'm'));
  expect(meta).to.match(/^seq=1$/m);
  expect(meta).to.match(/^crash_time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
  const why = /^failed_reason=(.*)$/m.exec(meta)![1];
  expect(why).to.match(reason);
  expect(fs.readFileSync(path.join(dir, 'ops-kdump.log'), 'utf8')).to.include(`save FAILED in step ${step}`);
  if (opts.dmesg) {
    expect(fs.readFileSync(path.join(dir, 'dmesg.txt'), 'utf8'), 'the crashed kernel\'s log').to.include('sysrq: Trigger a crash');
  } else {
    expect(files).not.to.include('dmesg.txt');
  }
  const row = listRows(t).find((x) => x[0] === fresh[0])!;
  expect(row.slice(1, 2).concat(row.slice(4, 6))).to.deep.equal(['failed', 'failed', why]);
  const st = statusOf(t);
  expect(st.last_crash).to.equal(fresh[0]);
  expect(st.last_crash_state).to.equal('failed');
  expect(st.last_crash_reason).to.equal(why);
  expect(st.last_dump, 'the last usable dump is still the earlier one').to.equal(EARLIER[1]);
  const human = opsKdump(['dash'], ['status'], { ...t.env, KDUMP_SYS: path.join(t.dir, 'no-sys') }).stdout;
  expect(human).to.include(`last crash: ${fresh[0]}: dump failed, because ${why}\n`);
  expect(human).to.include(`last dump: ${EARLIER[1]} (complete)\n`);
  return fresh[0];
}

const COLLECT = 'makedumpfile -c --message-level 7 -d 31';

describe('ops-kdump save against a real vmcore, with faults @slow', function () {
  this.timeout(10 * 60_000);
  const targets = targetHooks();
  let t: Target | undefined;

  for (const shell of SHELLS) {
    it(`under ${shell.name}: saves a complete tar.gz archive with vmcore, dmesg, os-release and metadata, root-only, then the final action`, () => {
      t = targets.make(160, `core_collector ${COLLECT}\narchive tar.gz\narchive_stage capture\narchive_files /etc/os-release BUILD_INFO\nkeep 3\nmin_free_mb 16\nfinal_action poweroff\nfailure_action reboot`);
      // An extra release file, executable and world-readable where it lives.
      const buildInfo = path.join(t.dir, 'etc/build-info');
      fs.mkdirSync(path.dirname(buildInfo));
      fs.writeFileSync(buildInfo, 'BUILD=7\n', { mode: 0o755 });
      fs.chmodSync(buildInfo, 0o755);
      fs.writeFileSync(t.conf, fs.readFileSync(t.conf, 'utf8').replace('BUILD_INFO', buildInfo));
      // Started with the most permissive umask: the runtime sets its own.
      const r = opsKdump(['sh', '-c', `umask 000; exec ${shell.argv.join(' ')} "$0" "$@"`], ['save'], t.env);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include('running final action: poweroff');
      expect(r.stderr).to.include(`dump directory ${t.core} was drwxr-xr-x, readable by other users: made it drwx------`);
      expect(r.stderr).to.match(/made 2 file\(s\) in .* readable by root only/);
      expectEarlierIntact(t);
      const fresh = newEntries(t);
      expect(fresh, fresh.join(' ')).to.have.length(1);
      expect(fresh[0]).to.match(/^kdump-000001-\d{8}-\d{6}-[0-9a-f]{8}\.tar\.gz$/);
      expectRootOnly(t);
      expect(fs.readFileSync(path.join(t.core, '.ops-kdump-seq'), 'utf8')).to.equal('1\n');
      const base = fresh[0].replace('.tar.gz', '');
      expect(sh('tar', ['-tzf', path.join(t.core, fresh[0])]).split('\n')[0], 'metadata first').to.equal(`${base}/metadata.txt`);
      const x = path.join(t.dir, 'x');
      fs.mkdirSync(x);
      sh('tar', ['-xzf', path.join(t.core, fresh[0]), '-C', x]);
      const top = path.join(x, base);
      expect(fs.readdirSync(top).sort()).to.deep.equal(['dmesg.txt', 'files', 'metadata.txt', 'ops-kdump.log', 'os-release', 'vmcore']);
      expect(fs.readFileSync(path.join(top, 'dmesg.txt'), 'utf8')).to.include('sysrq: Trigger a crash');
      const meta = fs.readFileSync(path.join(top, 'metadata.txt'), 'utf8');
      expect(meta).to.match(/^result=complete$/m);
      expect(meta).to.match(/^seq=1$/m);
      expect(meta).to.match(/^os_BUILD_ID="20260101.7"$/m);
      expect(meta).to.match(/^crashed_kernel_release=\d+\.\d+\.\d+-\S+$/m);
      for (const s of ['dmesg', 'collect', 'release_info', 'metadata']) expect(meta).to.match(new RegExp(`^step_${s}_status=0$`, 'm'));
      expect(meta).to.match(/^step_collect_seconds=\d+\.\d\d$/m);
      // The saved vmcore is a valid dump: makedumpfile reads it back.
      sh('makedumpfile', ['--dump-dmesg', path.join(top, 'vmcore'), path.join(x, 'again.txt')]);
      expect(listRows(t, shell.argv).map((row) => row[1])).to.deep.equal(['complete', 'complete', 'complete']);
      const row = listRows(t, shell.argv)[2];
      expect(row.slice(4, 6)).to.deep.equal(['complete', '']);
      // No upload target: nothing to upload; the archive's SHA-256 is recorded when it is made.
      expect(row.slice(6)).to.deep.equal(['-', sha(path.join(t.core, fresh[0]))]);
      expect(statusOf(t, shell.argv)).to.deep.include({ last_crash: fresh[0], last_crash_state: 'complete', last_dump: fresh[0], last_dump_result: 'complete' });
    });
  }

  for (const shell of SHELLS) {
    it(`under ${shell.name}: rotation keeps the newest \`keep\` archives and removes the oldest`, () => {
      t = targets.make(160, `core_collector ${COLLECT}\narchive_stage capture\nkeep 2\nmin_free_mb 16\nfinal_action reboot`);
      const r = opsKdump(shell.argv, ['save'], t.env);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include(`rotation: removing ${EARLIER[0]}`);
      const left = fs.readdirSync(t.core).filter((e) => e.startsWith('kdump-')).sort();
      expect(left).to.have.length(2);
      expect(left[1]).to.equal(EARLIER[1]);
      expect(left[0]).to.match(/^kdump-000001-/);
      expect(sha(path.join(t.core, EARLIER[1]))).to.equal(t.earlier.get(EARLIER[1]));
      expectRootOnly(t);
    });
  }

  it('disk full mid-dump: the crash is recorded as failed with makedumpfile\'s own words and the crashed kernel\'s log; earlier archives survive', () => {
    t = targets.make(24, `core_collector ${COLLECT}\nkeep 1\nmin_free_mb 1\nfailure_action poweroff`);
    const r = opsKdump(['busybox', 'sh'], ['save'], t.env);
    expectFailure(r, 'collect', 'poweroff', /core collector 'makedumpfile -c --message-level 7 -d 31' failed/);
    expect(r.stderr).to.match(/ops-kdump: core collector: Can't write the dump file\(.*vmcore\.incomplete\)\. No space left on device/);
    expect(r.stderr, 'only the collector\'s own lines are quoted').not.to.match(/core collector: .*ops-kdump:/);
    expectEarlierIntact(t);
    const name = expectFailedRecord(t, 'collect', /^core collector '.*' failed: Can't write the dump file\(.*\)\. No space left on device$/, { dmesg: true });
    const meta = fs.readFileSync(path.join(t.core, name, 'metadata.txt'), 'utf8');
    expect(meta).to.match(/^step_collect_status=[1-9]/m);
    expect(fs.readFileSync(path.join(t.core, name, 'ops-kdump.log'), 'utf8')).to.match(/No space left on device/i);
    expectRootOnly(t);
  });

  it('an archive that does not fit: the complete dump stays unarchived (pending), no partial archive is left', () => {
    // vmcore (~30 MiB) fits, vmcore plus its tar.gz does not.
    t = targets.make(48, `core_collector ${COLLECT}\narchive_stage capture\nmin_free_mb 1\nfailure_action halt`);
    const r = opsKdump(['dash'], ['save'], t.env);
    expectFailure(r, 'archive', 'halt', /could not write the tar.gz archive/);
    expectEarlierIntact(t);
    const fresh = newEntries(t);
    expect(fresh, fresh.join(' ')).to.have.length(1);
    expect(fresh[0]).to.match(/^kdump-000001-\d{8}-\d{6}-[0-9a-f]{8}$/);
    expect(fs.readdirSync(path.join(t.core, fresh[0]))).to.include('vmcore');
    const states = new Map(listRows(t).map((row) => [row[0], row[1]]));
    expect(states.get(fresh[0])).to.equal('pending');
    expectRootOnly(t);
  });

  it('makedumpfile missing from the capture environment: the crash is recorded as failed, nothing else is written', () => {
    t = targets.make(64, `core_collector ${COLLECT}\nmin_free_mb 1\nfailure_action reboot`);
    // A capture environment with busybox only.
    const bin = path.join(t.dir, 'bin');
    fs.mkdirSync(bin);
    sh('busybox', ['--install', '-s', bin]);
    const r = opsKdump([path.join(bin, 'sh')], ['save'], { ...t.env, PATH: bin });
    expectFailure(r, 'preflight', 'reboot', /core collector 'makedumpfile' not found/);
    expectEarlierIntact(t);
    // Neither makedumpfile nor vmcore-dmesg: no log of the crashed kernel to be had.
    expectFailedRecord(t, 'preflight', /^core collector 'makedumpfile' not found$/, { dmesg: false });
    expectRootOnly(t);
  });

  it('makedumpfile failing on a damaged vmcore: the crash is recorded as failed with makedumpfile\'s error, the failure action runs', () => {
    t = targets.make(96, `core_collector ${COLLECT}\nmin_free_mb 1\nfailure_action shell`, { vmcoreBytes: 256 * 1024 });
    const r = opsKdump(['busybox', 'sh'], ['save'], t.env);
    expectFailure(r, 'collect', 'shell', /core collector .* failed/);
    expect(r.stderr).to.match(/ops-kdump: core collector: makedumpfile Failed\./);
    expectEarlierIntact(t);
    expectFailedRecord(t, 'collect', /^core collector '.*' failed: .*Can't /, { dmesg: false });
  });

  it('compressor not compiled into makedumpfile (-z, zstd): preflight refuses, the crash is recorded as failed with its log', () => {
    t = targets.make(64, 'core_collector makedumpfile -z --message-level 7 -d 31\nmin_free_mb 1\nfailure_action reboot');
    const r = opsKdump(['dash'], ['save'], t.env);
    expectFailure(r, 'preflight', 'reboot', /compressor asked for by core_collector is not compiled into makedumpfile/);
    expect(r.stderr).to.match(/asks for zstd compression/);
    expectEarlierIntact(t);
    const name = expectFailedRecord(t, 'preflight', /^compressor asked for by core_collector is not compiled into makedumpfile$/, { dmesg: true });
    // The log kept with the record says why in full.
    expect(fs.readFileSync(path.join(t.core, name, 'ops-kdump.log'), 'utf8')).to.match(/asks for zstd compression, but 'makedumpfile' was built without it/);
    expect(fs.readFileSync(path.join(t.core, name, 'metadata.txt'), 'utf8')).to.match(/^crashed_kernel_release=\d+\.\d+\.\d+-\S+$/m);
    expectRootOnly(t);
  });

  it('/etc/os-release missing: the dump is still archived; metadata, list and status say complete with warnings', () => {
    t = targets.make(160, `core_collector ${COLLECT}\narchive_stage capture\nmin_free_mb 1\nfailure_action halt\nfinal_action reboot`);
    fs.rmSync(t.osRelease);
    const r = opsKdump(['busybox', 'sh'], ['save'], t.env);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.include(`build/release information ${t.osRelease} is missing`);
    expect(r.stderr).to.include('step(s) release_info failed');
    expect(r.stderr).to.include('running failure action: halt');
    expect(r.stderr).not.to.include('running final action');
    expectEarlierIntact(t);
    const fresh = newEntries(t);
    expect(fresh).to.have.length(1);
    const meta = sh('tar', ['-xzOf', path.join(t.core, fresh[0]), `${fresh[0].replace('.tar.gz', '')}/metadata.txt`]);
    expect(meta).to.match(/^step_release_info_status=1$/m);
    expect(meta).to.match(/^result=complete-with-warnings:release_info$/m);
    for (const shell of SHELLS) {
      const row = listRows(t, shell.argv).find((x) => x[0] === fresh[0])!;
      expect(row[1]).to.equal('complete');
      expect(row[4]).to.equal('complete-with-warnings:release_info');
      expect(statusOf(t, shell.argv)).to.deep.include({ last_crash: fresh[0], last_crash_result: 'complete-with-warnings:release_info', last_dump_result: 'complete-with-warnings:release_info' });
      const env = { ...t.env, KDUMP_SYS: path.join(t.dir, 'no-sys') };
      const list = opsKdump(shell.argv, ['list'], env).stdout;
      expect(list).to.match(new RegExp(`^${fresh[0].replace(/\./g, '\\.')} +complete .*with warnings: release_info \\(build/release information missing\\)$`, 'm'));
      const status = opsKdump(shell.argv, ['status'], env).stdout;
      expect(status).to.include(`last crash: ${fresh[0]}: dump complete with warnings: release_info (build/release information missing)\n`);
      expect(status).to.include(`last dump: ${fresh[0]} (complete with warnings: release_info (build/release information missing))\n`);
    }
  });

  it('target read-only: preflight fails, nothing can be recorded and the console says so; earlier archives survive', () => {
    t = targets.make(64, `core_collector ${COLLECT}\nmin_free_mb 1\nfailure_action poweroff`, { readOnly: true });
    const r = opsKdump(['dash'], ['save'], t.env);
    expectFailure(r, 'preflight', 'poweroff', /is not writable \(read-only filesystem\?\)/);
    expect(r.stderr).to.include(`this failed crash cannot be recorded on the dump disk (${t.core})`);
    expectEarlierIntact(t);
    expect(newEntries(t)).to.deep.equal([]);
  });

  for (const shell of SHELLS) {
    it(`under ${shell.name}: not enough free space for min_free_mb: preflight fails before the dump; a small failed record with the crashed kernel's log is kept`, () => {
      t = targets.make(24, `core_collector ${COLLECT}\nmin_free_mb 64\nfailure_action reboot`);
      const r = opsKdump(shell.argv, ['save'], t.env);
      expectFailure(r, 'preflight', 'reboot', /only \d+ MiB free on .*, min_free_mb is 64/);
      expectFailedRecord(t, 'preflight', /^only \d+ MiB free on .*, min_free_mb is 64$/, { dmesg: true });
      expectRootOnly(t);
    });
  }

  it('failed records are rotated apart: they never push out a saved dump, and the newest `keep` of them stay', () => {
    t = targets.make(160, `core_collector ${COLLECT}\narchive_stage capture\nkeep 2\nmin_free_mb 100000\nfailure_action reboot`);
    for (let i = 0; i < 3; i++) expect(opsKdump(['dash'], ['save'], t.env).code).to.equal(1);
    expectEarlierIntact(t);
    expect(newEntries(t).map((e) => e.slice(0, 12))).to.deep.equal(['kdump-000002', 'kdump-000003']);
    // Then a dump that succeeds: two saved dumps (the oldest earlier archive goes), the two failed records stay.
    fs.writeFileSync(t.conf, fs.readFileSync(t.conf, 'utf8').replace('min_free_mb 100000', 'min_free_mb 1'));
    const ok = opsKdump(['busybox', 'sh'], ['save'], t.env);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(listRows(t).map((x) => `${x[0].slice(0, 12)} ${x[1]}`)).to.deep.equal([
      `${EARLIER[1].slice(0, 12)} complete`, 'kdump-000002 failed', 'kdump-000003 failed', 'kdump-000004 complete',
    ]);
    expectEarlierIntact(t, [EARLIER[1]]);
    expectCompleteMeansComplete(t);
  });

  for (const shell of SHELLS) {
    it(`under ${shell.name}: archive_stage boot: a fast lzo dump in the capture kernel, recompressed and archived root-only at the next boot`, () => {
      t = targets.make(200, 'core_collector makedumpfile -l --message-level 7 -d 31\narchive tar.gz\narchive_stage boot\nrecompress makedumpfile -c --message-level 7 -d 31\nmin_free_mb 1');
      const r = opsKdump(shell.argv, ['save'], t.env);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include('archive deferred to the next boot');
      const fresh = newEntries(t);
      expect(fresh).to.have.length(1);
      const lzoBytes = fs.statSync(path.join(t.core, fresh[0], 'vmcore')).size;
      expect(new Map(listRows(t).map((row) => [row[0], row[1]])).get(fresh[0])).to.equal('pending');
      // The next boot runs archive with the boot's usual umask.
      const a = opsKdump(['sh', '-c', `umask 022; exec ${shell.argv.join(' ')} "$0" "$@"`], ['archive'], t.env);
      expect(a.code, a.stderr).to.equal(0);
      const after = newEntries(t);
      expect(after).to.deep.equal([`${fresh[0]}.tar.gz`]);
      expectRootOnly(t);
      const x = path.join(t.dir, 'x');
      fs.mkdirSync(x);
      sh('tar', ['-xzf', path.join(t.core, after[0]), '-C', x]);
      const top = path.join(x, fresh[0]);
      expect(fs.statSync(path.join(top, 'vmcore')).size).to.be.lessThan(lzoBytes);
      const meta = fs.readFileSync(path.join(top, 'metadata.txt'), 'utf8');
      expect(meta).to.match(/^recompressed_with=makedumpfile -c/m);
      expect(meta.trim().split('\n').filter((l) => l.startsWith('dump_format=')).pop()).to.equal('dump_format=kdump-zlib');
      sh('makedumpfile', ['--dump-dmesg', path.join(top, 'vmcore'), path.join(x, 'dmesg')]);
      expect(fs.readFileSync(path.join(x, 'dmesg'), 'utf8')).to.include('sysrq: Trigger a crash');
    });
  }
});
