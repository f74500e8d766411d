/**
 * A dump target for host runs of `ops-kdump save`/`archive`: a fresh ext4 filesystem on a
 * loop device holding the dump path (with two archives an earlier runtime version left), a
 * /proc stand-in with a real vmcore of a real crash, a kdump.conf and an os-release.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { realVmcore, sh } from '../e2e/harness.js';
import { OPS_KDUMP, opsKdump } from './shell.js';

/** Archives written by a runtime before sequence numbers, left 0644 in a 0755 directory. */
export const EARLIER = ['kdump-20200101-000000-00000001.tar.gz', 'kdump-20200102-000000-00000002.tar.gz'];

export function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface Target {
  dir: string;
  img: string;
  mnt: string;
  core: string;
  proc: string;
  conf: string;
  osRelease: string;
  earlier: Map<string, string>;
  env: NodeJS.ProcessEnv;
  /** Unmounts and mounts the filesystem again: what is read next comes from the disk. */
  remount: () => void;
  cleanup: () => void;
}

export interface TargetOptions {
  readOnly?: boolean;
  vmcoreBytes?: number;
  /** The same capture boot id for every run (default: a random one). */
  bootId?: string;
}

export function makeTarget(vmcore: string, sizeMiB: number, confLines: string, opts: TargetOptions = {}): Target {
  if (process.getuid?.() !== 0) throw new Error('these tests mount loop filesystems and must run as root (CI runs npm test as root)');
  const t = tempDir('ops-kdump-save-');
  const img = path.join(t.dir, 'disk.img');
  const mnt = path.join(t.dir, 'mnt');
  fs.mkdirSync(mnt);
  sh('truncate', ['-s', `${sizeMiB}M`, img]);
  sh('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
  sh('mount', ['-o', 'loop', img, mnt]);
  const core = path.join(mnt, 'core');
  // As an image built before the dump directory was root-only left it.
  fs.mkdirSync(core);
  fs.chmodSync(core, 0o755);
  const earlier = new Map<string, string>();
  for (const name of EARLIER) {
    const src = path.join(t.dir, name.replace('.tar.gz', ''));
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'metadata.txt'), `name=${name}\nresult=complete\n`);
    sh('tar', ['-czf', path.join(core, name), '-C', t.dir, path.basename(src)]);
    fs.chmodSync(path.join(core, name), 0o644);
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
  fs.writeFileSync(path.join(proc, 'sys/kernel/random/boot_id'), `${opts.bootId ?? crypto.randomUUID()}\n`);
  const osRelease = path.join(t.dir, 'os-release');
  fs.writeFileSync(osRelease, 'NAME="Switch OS"\nVERSION_ID="4.2"\nBUILD_ID="20260101.7"\n');
  const conf = path.join(t.dir, 'kdump.conf');
  fs.writeFileSync(conf, `path ${core}\n${confLines}\n`);
  const env = { KDUMP_CONF: conf, KDUMP_PROC: proc, KDUMP_OS_RELEASE: osRelease, KDUMP_DRY_ACTIONS: '1', KDUMP_SYSCONFIG: '/nonexistent' };
  return {
    dir: t.dir, img, mnt, core, proc, conf, osRelease, earlier, env,
    remount: () => {
      sh('umount', [mnt]);
      sh('mount', ['-o', 'loop', img, mnt]);
    },
    cleanup: () => {
      spawnSync('umount', [mnt]);
      t.cleanup();
    },
  };
}

/** Earlier archives are all still there, byte for byte. */
export function expectEarlierIntact(t: Target, names: string[] = [...t.earlier.keys()]): void {
  for (const name of names) {
    expect(fs.existsSync(path.join(t.core, name)), `${name} must survive`).to.equal(true);
    expect(sha(path.join(t.core, name)), `${name} must be unchanged`).to.equal(t.earlier.get(name));
  }
}

/** Entries of the dump path that are not the earlier archives (dot files aside). */
export function newEntries(t: Target): string[] {
  return fs.readdirSync(t.core).filter((e) => e.startsWith('kdump-') && !t.earlier.has(e)).sort();
}

/** `ops-kdump list -m` rows: name, state, bytes, time, result, reason, upload state, recorded SHA-256. */
export function listRows(t: Target, shell: string[] = ['dash']): string[][] {
  const r = opsKdump(shell, ['list', '-m'], t.env);
  expect(r.code, r.stderr).to.equal(0);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

export function statusOf(t: Target, shell: string[] = ['dash']): Record<string, string> {
  const r = opsKdump(shell, ['status', '-m'], { ...t.env, KDUMP_SYS: path.join(t.dir, 'no-sys') });
  const o: Record<string, string> = {};
  for (const l of r.stdout.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) o[l.slice(0, i)] = l.slice(i + 1);
  }
  return o;
}

/**
 * Everything the runtime wrote in the dump path is root-only: the directory 0700, every
 * entry and everything inside 0700 (directories) or 0600 (files), and the members of every
 * archive 0600/0700 as they will be unpacked.
 */
export function expectRootOnly(t: Target): void {
  const st = fs.statSync(t.core);
  expect((st.mode & 0o777).toString(8), `${t.core}`).to.equal('700');
  const walk = (p: string): void => {
    const s = fs.lstatSync(p);
    const want = s.isDirectory() ? '700' : '600';
    expect((s.mode & 0o777).toString(8), p).to.equal(want);
    if (s.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  for (const e of fs.readdirSync(t.core)) {
    if (e === 'lost+found') continue;
    walk(path.join(t.core, e));
    if (/\.tar(\.gz)?$/.test(e) && !t.earlier.has(e)) {
      const listing = sh('tar', [e.endsWith('.gz') ? '-tvzf' : '-tvf', path.join(t.core, e)]);
      for (const line of listing.trim().split('\n')) {
        expect(line.slice(0, 10), `${e}: ${line}`).to.be.oneOf(['-rw-------', 'drwx------']);
      }
    }
  }
}

/** Every entry `list` shows complete is a readable archive (or directory) whose metadata says complete. */
export function expectCompleteMeansComplete(t: Target): void {
  for (const row of listRows(t)) {
    if (row[1] !== 'complete') continue;
    const p = path.join(t.core, row[0]);
    const base = row[0].replace(/\..*$/, '');
    let meta: string;
    if (row[0].endsWith('.tar.gz')) meta = sh('tar', ['-xzOf', p, `${base}/metadata.txt`]);
    else if (row[0].endsWith('.tar')) meta = sh('tar', ['-xOf', p, `${base}/metadata.txt`]);
    else meta = fs.readFileSync(path.join(p, 'metadata.txt'), 'utf8');
    expect(meta, row[0]).to.match(/^result=complete/m);
    if (!t.earlier.has(row[0])) {
      // The vmcore in it is whole: makedumpfile reads the crashed kernel's log from it.
      const x = fs.mkdtempSync(path.join(t.dir, 'check-'));
      if (row[0].endsWith('.tar.gz')) sh('tar', ['-xzf', p, '-C', x]);
      else if (row[0].endsWith('.tar')) sh('tar', ['-xf', p, '-C', x]);
      else fs.cpSync(p, path.join(x, base), { recursive: true });
      sh('makedumpfile', ['--dump-dmesg', path.join(x, base, 'vmcore'), path.join(x, 'log.txt')]);
      expect(fs.readFileSync(path.join(x, 'log.txt'), 'utf8')).to.include('sysrq: Trigger a crash');
      fs.rmSync(x, { recursive: true, force: true });
    }
  }
}

/**
 * Runs ops-kdump in its own process group and kills the group with SIGKILL once `when`
 * holds (checked every 20 ms): the stand-in for a power cut that the host can make.
 */
export async function runUntilKilled(
  shell: string[], args: string[], env: NodeJS.ProcessEnv,
  when: { pausedAt: string } | { fileAtLeast: { path: string | (() => string | undefined); bytes: number } },
  timeoutMs = 120_000,
  whilePaused?: () => void,
): Promise<string> {
  const child = spawn(shell[0], [...shell.slice(1), OPS_KDUMP, ...args], {
    env: { PATH: process.env.PATH, ...env, ...('pausedAt' in when ? { KDUMP_TEST_PAUSE: when.pausedAt } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const started = Date.now();
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`ops-kdump ${args.join(' ')} ended (${child.exitCode}) before the kill point:\n${stderr}`);
      if (Date.now() - started > timeoutMs) throw new Error(`kill point not reached in ${timeoutMs / 1000} s:\n${stderr}`);
      let hit: boolean;
      if ('pausedAt' in when) {
        hit = stderr.includes(`test hook: paused at ${when.pausedAt}`);
      } else {
        const f = typeof when.fileAtLeast.path === 'function' ? when.fileAtLeast.path() : when.fileAtLeast.path;
        hit = f !== undefined && fs.existsSync(f) && fs.statSync(f).size >= when.fileAtLeast.bytes;
      }
      if (hit) {
        whilePaused?.();
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
    // Every process of the group (tar, gzip, makedumpfile) gone, its files closed.
    for (let i = 0; i < 500; i++) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return stderr;
}

/**
 * Mocha hooks for a suite of tests on real filesystems: the real vmcore is made (or found)
 * before the suite, and every target a test made is unmounted and removed after it.
 */
export function targetHooks(): { make: (sizeMiB: number, confLines: string, opts?: TargetOptions) => Target } {
  let vmcore = '';
  let made: Target[] = [];
  before(async () => {
    vmcore = await realVmcore();
  });
  afterEach(() => {
    for (const t of made) t.cleanup();
    made = [];
  });
  return {
    make(sizeMiB, confLines, opts = {}) {
      const t = makeTarget(vmcore, sizeMiB, confLines, opts);
      made.push(t);
      return t;
    },
  };
}
