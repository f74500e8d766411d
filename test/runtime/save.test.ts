/**
 * `ops-kdump save` run on the host against a real vmcore of a real crash (the nearest real
 * thing to the capture kernel for fault cases): real makedumpfile, real ext4 filesystems on
 * loop devices that fill up or are read-only, real busybox and dash.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { realVmcore, sh } from '../e2e/harness.js';
import { opsKdump, SHELLS, type ShResult } from './shell.js';

const EARLIER = ['kdump-20200101-000000-00000001.tar.gz', 'kdump-20200102-000000-00000002.tar.gz'];

function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

interface Target {
  dir: string;
  mnt: string;
  core: string;
  proc: string;
  conf: string;
  osRelease: string;
  earlier: Map<string, string>;
  env: NodeJS.ProcessEnv;
  cleanup: () => void;
}

/**
 * A fresh ext4 filesystem of `sizeMiB` on a loop device holding the dump path with two
 * earlier archives, a /proc stand-in holding the real vmcore, and a kdump.conf.
 */
function makeTarget(vmcore: string, sizeMiB: number, confLines: string, opts: { readOnly?: boolean; vmcoreBytes?: number } = {}): Target {
  if (process.getuid?.() !== 0) throw new Error('these tests mount loop filesystems and must run as root (CI runs npm test as root)');
  const t = tempDir('ops-kdump-save-');
  const img = path.join(t.dir, 'disk.img');
  const mnt = path.join(t.dir, 'mnt');
  fs.mkdirSync(mnt);
  sh('truncate', ['-s', `${sizeMiB}M`, img]);
  sh('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
  sh('mount', ['-o', 'loop', img, mnt]);
  const core = path.join(mnt, 'core');
  fs.mkdirSync(core);
  const earlier = new Map<string, string>();
  for (const name of EARLIER) {
    const src = path.join(t.dir, name.replace('.tar.gz', ''));
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'metadata.txt'), `name=${name}\nresult=complete\n`);
    sh('tar', ['-czf', path.join(core, name), '-C', t.dir, path.basename(src)]);
    earlier.set(name, sha(path.join(core, name)));
  }
  if (opts.readOnly) sh('mount', ['-o', 'remount,ro', mnt]);
  const proc = path.join(t.dir, 'proc');
  fs.mkdirSync(path.join(proc, 'sys/kernel/random'), { recursive: true });
  if (opts.vmcoreBytes !== undefined) {
    fs.writeFileSync(path.join(proc, 'vmcore'), fs.readFileSync(vmcore).subarray(0, opts.vmcoreBytes));
  } else {
    fs.symlinkSync(vmcore, path.join(proc, 'vmcore'));
  }
  // /proc files report size 0: read, then write.
  fs.writeFileSync(path.join(proc, 'mounts'), fs.readFileSync('/proc/mounts'));
  fs.writeFileSync(path.join(proc, 'sys/kernel/random/boot_id'), `${crypto.randomUUID()}\n`);
  const osRelease = path.join(t.dir, 'os-release');
  fs.writeFileSync(osRelease, 'NAME="Switch OS"\nVERSION_ID="4.2"\nBUILD_ID="20260101.7"\n');
  const conf = path.join(t.dir, 'kdump.conf');
  fs.writeFileSync(conf, `path ${core}\n${confLines}\n`);
  const env = { KDUMP_CONF: conf, KDUMP_PROC: proc, KDUMP_OS_RELEASE: osRelease, KDUMP_DRY_ACTIONS: '1', KDUMP_SYSCONFIG: '/nonexistent' };
  return {
    dir: t.dir, mnt, core, proc, conf, osRelease, earlier, env,
    cleanup: () => {
      spawnSync('umount', [mnt]);
      t.cleanup();
    },
  };
}

/** Earlier archives are all still there, byte for byte. */
function expectEarlierIntact(t: Target): void {
  for (const [name, digest] of t.earlier) {
    expect(fs.existsSync(path.join(t.core, name)), `${name} must survive`).to.equal(true);
    expect(sha(path.join(t.core, name)), `${name} must be unchanged`).to.equal(digest);
  }
}

/** Entries of the dump path that are not the earlier archives. */
function newEntries(t: Target): string[] {
  return fs.readdirSync(t.core).filter((e) => !t.earlier.has(e) && e !== 'lost+found');
}

function listRows(t: Target, shell: string[]): string[][] {
  const r = opsKdump(shell, ['list', '-m'], t.env);
  expect(r.code, r.stderr).to.equal(0);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
}

function expectFailure(r: ShResult, step: string, action: string, reason: RegExp): void {
  expect(r.code, r.stderr).to.equal(1);
  expect(r.stderr).to.include(`save FAILED in step ${step}`);
  expect(r.stderr).to.match(reason);
  expect(r.stderr).to.include(`running failure action: ${action}`);
  expect(r.stderr).not.to.include('running final action');
  expect(r.stderr).not.to.include('dump saved');
}

const COLLECT = 'makedumpfile -c --message-level 1 -d 31';

describe('ops-kdump save against a real vmcore, with faults @slow', function () {
  this.timeout(10 * 60_000);
  let vmcore: string;
  let t: Target | undefined;

  before(async () => {
    vmcore = await realVmcore();
  });
  afterEach(() => {
    t?.cleanup();
    t = undefined;
  });

  for (const shell of SHELLS) {
    it(`under ${shell.name}: saves a complete tar.gz archive with vmcore, dmesg, os-release and metadata, then the final action`, () => {
      t = makeTarget(vmcore, 160, `core_collector ${COLLECT}\narchive tar.gz\narchive_stage capture\narchive_files /etc/os-release\nkeep 3\nmin_free_mb 16\nfinal_action poweroff\nfailure_action reboot`);
      const r = opsKdump(shell.argv, ['save'], t.env);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include('running final action: poweroff');
      expectEarlierIntact(t);
      const fresh = newEntries(t);
      expect(fresh, fresh.join(' ')).to.have.length(1);
      expect(fresh[0]).to.match(/^kdump-\d{8}-\d{6}-[0-9a-f]{8}\.tar\.gz$/);
      const x = path.join(t.dir, 'x');
      fs.mkdirSync(x);
      sh('tar', ['-xzf', path.join(t.core, fresh[0]), '-C', x]);
      const top = path.join(x, fresh[0].replace('.tar.gz', ''));
      expect(fs.readdirSync(top).sort()).to.deep.equal(['dmesg.txt', 'metadata.txt', 'ops-kdump.log', 'os-release', 'vmcore']);
      expect(fs.readFileSync(path.join(top, 'dmesg.txt'), 'utf8')).to.include('sysrq: Trigger a crash');
      const meta = fs.readFileSync(path.join(top, 'metadata.txt'), 'utf8');
      expect(meta).to.match(/^result=complete$/m);
      expect(meta).to.match(/^os_BUILD_ID="20260101.7"$/m);
      expect(meta).to.match(/^crashed_kernel_release=\d+\.\d+\.\d+-\S+$/m);
      for (const s of ['dmesg', 'collect', 'release_info', 'metadata']) expect(meta).to.match(new RegExp(`^step_${s}_status=0$`, 'm'));
      expect(meta).to.match(/^step_collect_seconds=\d+\.\d\d$/m);
      // The saved vmcore is a valid dump: makedumpfile reads it back.
      sh('makedumpfile', ['--dump-dmesg', path.join(top, 'vmcore'), path.join(x, 'again.txt')]);
      expect(listRows(t, shell.argv).map((row) => row[1])).to.deep.equal(['complete', 'complete', 'complete']);
    });
  }

  it('rotation keeps the newest `keep` archives and removes the oldest', () => {
    t = makeTarget(vmcore, 160, `core_collector ${COLLECT}\narchive_stage capture\nkeep 2\nmin_free_mb 16\nfinal_action reboot`);
    const r = opsKdump(['dash'], ['save'], t.env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include(`rotation: removing ${EARLIER[0]}`);
    const left = fs.readdirSync(t.core).filter((e) => e.startsWith('kdump-')).sort();
    expect(left).to.have.length(2);
    expect(left[0]).to.equal(EARLIER[1]);
    expect(sha(path.join(t.core, EARLIER[1]))).to.equal(t.earlier.get(EARLIER[1]));
  });

  it('disk full mid-dump: the dump stays marked incomplete, earlier archives survive, the failure action runs', () => {
    t = makeTarget(vmcore, 24, `core_collector ${COLLECT}\nkeep 1\nmin_free_mb 1\nfailure_action poweroff`);
    const r = opsKdump(['busybox', 'sh'], ['save'], t.env);
    expectFailure(r, 'collect', 'poweroff', /core collector 'makedumpfile -c --message-level 1 -d 31' failed/);
    expectEarlierIntact(t);
    const fresh = newEntries(t);
    expect(fresh).to.have.length(1);
    expect(fresh[0]).to.match(/\.incomplete$/);
    const dir = path.join(t.core, fresh[0]);
    expect(fs.readdirSync(dir)).not.to.include('vmcore');
    expect(fs.readdirSync(dir)).not.to.include('vmcore.incomplete');
    const meta = fs.readFileSync(path.join(dir, 'metadata.txt'), 'utf8');
    expect(meta).to.match(/^result=failed$/m);
    expect(meta).to.match(/^failed_step=collect$/m);
    expect(meta).to.match(/^step_collect_status=[1-9]/m);
    expect(fs.readFileSync(path.join(dir, 'ops-kdump.log'), 'utf8')).to.match(/No space left on device/i);
    const states = new Map(listRows(t, ['busybox', 'sh']).map((row) => [row[0], row[1]]));
    expect(states.get(fresh[0])).to.equal('incomplete');
  });

  it('an archive that does not fit: the complete dump stays unarchived (pending), no partial archive is left', () => {
    // vmcore (~30 MiB) fits, vmcore plus its tar.gz does not.
    t = makeTarget(vmcore, 48, `core_collector ${COLLECT}\narchive_stage capture\nmin_free_mb 1\nfailure_action halt`);
    const r = opsKdump(['dash'], ['save'], t.env);
    expectFailure(r, 'archive', 'halt', /could not write the tar.gz archive/);
    expectEarlierIntact(t);
    const fresh = newEntries(t);
    expect(fresh, fresh.join(' ')).to.have.length(1);
    expect(fresh[0]).to.match(/^kdump-\d{8}-\d{6}-[0-9a-f]{8}$/);
    expect(fs.readdirSync(path.join(t.core, fresh[0]))).to.include('vmcore');
    const states = new Map(listRows(t, ['dash']).map((row) => [row[0], row[1]]));
    expect(states.get(fresh[0])).to.equal('pending');
  });

  it('makedumpfile missing from the capture environment: preflight fails, nothing is written', () => {
    t = makeTarget(vmcore, 64, `core_collector ${COLLECT}\nmin_free_mb 1\nfailure_action reboot`);
    // A capture environment with busybox only.
    const bin = path.join(t.dir, 'bin');
    fs.mkdirSync(bin);
    sh('busybox', ['--install', '-s', bin]);
    const r = opsKdump([path.join(bin, 'sh')], ['save'], { ...t.env, PATH: bin });
    expectFailure(r, 'preflight', 'reboot', /core collector 'makedumpfile' not found/);
    expectEarlierIntact(t);
    expect(newEntries(t)).to.deep.equal([]);
  });

  it('makedumpfile failing on a damaged vmcore: the dump is marked incomplete, the failure action runs', () => {
    t = makeTarget(vmcore, 96, `core_collector ${COLLECT}\nmin_free_mb 1\nfailure_action shell`, { vmcoreBytes: 256 * 1024 });
    const r = opsKdump(['busybox', 'sh'], ['save'], t.env);
    expectFailure(r, 'collect', 'shell', /core collector .* failed/);
    expectEarlierIntact(t);
    const fresh = newEntries(t);
    expect(fresh).to.have.length(1);
    expect(fresh[0]).to.match(/\.incomplete$/);
    expect(fs.readFileSync(path.join(t.core, fresh[0], 'metadata.txt'), 'utf8')).to.match(/^result=failed$/m);
  });

  it('compressor not compiled into makedumpfile (-z, zstd): preflight refuses instead of writing an uncompressed dump', () => {
    t = makeTarget(vmcore, 64, 'core_collector makedumpfile -z --message-level 1 -d 31\nmin_free_mb 1\nfailure_action reboot');
    const r = opsKdump(['dash'], ['save'], t.env);
    expectFailure(r, 'preflight', 'reboot', /compressor asked for by core_collector is not compiled into makedumpfile/);
    expect(r.stderr).to.match(/asks for zstd compression/);
    expectEarlierIntact(t);
    expect(newEntries(t)).to.deep.equal([]);
  });

  it('/etc/os-release missing: the dump is still archived, flagged, and the failure action runs', () => {
    t = makeTarget(vmcore, 160, `core_collector ${COLLECT}\narchive_stage capture\nmin_free_mb 1\nfailure_action halt\nfinal_action reboot`);
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
  });

  it('target read-only: preflight fails, earlier archives survive, the failure action runs', () => {
    t = makeTarget(vmcore, 64, `core_collector ${COLLECT}\nmin_free_mb 1\nfailure_action poweroff`, { readOnly: true });
    const r = opsKdump(['dash'], ['save'], t.env);
    expectFailure(r, 'preflight', 'poweroff', /is not writable \(read-only filesystem\?\)/);
    expectEarlierIntact(t);
    expect(newEntries(t)).to.deep.equal([]);
  });

  it('not enough free space for min_free_mb: preflight fails before touching the disk', () => {
    t = makeTarget(vmcore, 24, `core_collector ${COLLECT}\nmin_free_mb 64\nfailure_action reboot`);
    const r = opsKdump(['busybox', 'sh'], ['save'], t.env);
    expectFailure(r, 'preflight', 'reboot', /only \d+ MiB free on .*, min_free_mb is 64/);
    expect(newEntries(t)).to.deep.equal([]);
  });

  it('archive_stage boot: a fast lzo dump in the capture kernel, recompressed and archived at the next boot', () => {
    t = makeTarget(vmcore, 200, 'core_collector makedumpfile -l --message-level 1 -d 31\narchive tar.gz\narchive_stage boot\nrecompress makedumpfile -c --message-level 1 -d 31\nmin_free_mb 1');
    const r = opsKdump(['dash'], ['save'], t.env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include('archive deferred to the next boot');
    const fresh = newEntries(t);
    expect(fresh).to.have.length(1);
    const lzoBytes = fs.statSync(path.join(t.core, fresh[0], 'vmcore')).size;
    expect(new Map(listRows(t, ['dash']).map((row) => [row[0], row[1]])).get(fresh[0])).to.equal('pending');
    const a = opsKdump(['busybox', 'sh'], ['archive'], t.env);
    expect(a.code, a.stderr).to.equal(0);
    const after = newEntries(t);
    expect(after).to.deep.equal([`${fresh[0]}.tar.gz`]);
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
});
