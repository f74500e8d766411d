// The layer directory's lock: one generate at a time per directory. A lock file created with
// O_EXCL names its holder (pid, host, start); a holder that died (kill -9) is detected by its
// pid (and the process start time, against pid reuse) and its lock is taken over.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { LOCK_NAME } from './safepath.js';

interface Holder {
  pid: number;
  host: string;
  /** The holder's start time from /proc (clock ticks since boot), when known: tells a reused pid apart. */
  start: string | null;
  since: string;
  nonce: string;
}

const WAIT_MS = Number(process.env.KDUMP_LAYER_LOCK_WAIT_MS ?? 10_000);
const POLL_MS = 50;

export const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function procStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function readHolder(lock: string): Holder | 'missing' | 'unreadable' {
  let raw: string;
  try {
    raw = fs.readFileSync(lock, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const h = JSON.parse(raw) as Holder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : 'unreadable';
  } catch {
    return 'unreadable'; // being written right now, or damaged
  }
}

/** Is the holder gone for certain? Only a holder on this host can be checked. */
function isStale(h: Holder): boolean {
  if (h.host !== os.hostname()) return false;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const start = procStart(h.pid);
  return h.start !== null && start !== null && start !== h.start;
}

const describe = (h: Holder) => `pid ${h.pid} on ${h.host}, since ${h.since}`;

/** Is there a lock left by a process that no longer runs? */
export function hasDeadLock(dir: string): boolean {
  const lock = path.join(dir, LOCK_NAME);
  return isDead(lock, readHolder(lock));
}

/** Inode of the lock file now (null when gone). */
function inodeOf(lock: string): number | null {
  try {
    return fs.lstatSync(lock).ino;
  } catch {
    return null;
  }
}

/**
 * A lock whose holder is gone: its pid no longer runs, or the file stayed unreadable (a holder
 * killed between creating and writing it) for a few seconds.
 */
function isDead(lock: string, h: Holder | 'missing' | 'unreadable'): boolean {
  if (typeof h === 'object') return isStale(h);
  if (h === 'missing') return false;
  try {
    return Date.now() - fs.lstatSync(lock).mtimeMs > 5000;
  } catch {
    return false;
  }
}

/** Removes a dead holder's lock; a second lock (`.break`) makes sure two takers do not both remove it. */
function breakStale(lock: string, seenIno: number | null): void {
  const breaker = `${lock}.break`;
  try {
    fs.writeFileSync(breaker, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another taker is at it; a breaker older than a few seconds was left by a killed one.
    try {
      if (Date.now() - fs.statSync(breaker).mtimeMs > 5000) fs.rmSync(breaker, { force: true });
    } catch {
      /* gone meanwhile */
    }
    sleepSync(POLL_MS);
    return;
  }
  try {
    // Still the same dead lock (not one a live process took meanwhile)?
    if (seenIno !== null && inodeOf(lock) === seenIno && isDead(lock, readHolder(lock))) fs.rmSync(lock, { force: true });
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

/**
 * Takes the lock of `dir` (which must exist), waiting up to KDUMP_LAYER_LOCK_WAIT_MS for a
 * live holder. Returns the release function. A second generate fails with exit 2 naming the holder.
 */
export function acquireLock(dir: string): () => void {
  const lock = path.join(dir, LOCK_NAME);
  const me: Holder = { pid: process.pid, host: os.hostname(), start: procStart(process.pid), since: new Date().toISOString(), nonce: crypto.randomBytes(8).toString('hex') };
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = fs.openSync(lock, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
      try {
        fs.writeFileSync(fd, `${JSON.stringify(me)}\n`);
      } finally {
        fs.closeSync(fd);
      }
      return () => {
        const h = readHolder(lock);
        if (typeof h === 'object' && h.nonce === me.nonce) fs.rmSync(lock, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const ino = inodeOf(lock);
    const holder = readHolder(lock);
    if (isDead(lock, holder)) {
      breakStale(lock, ino);
      continue;
    }
    if (Date.now() >= deadline) throw lockedError(dir, holder);
    sleepSync(POLL_MS);
  }
}

function lockedError(dir: string, holder: Holder | 'missing' | 'unreadable'): UserError {
  const who = typeof holder === 'object' ? describe(holder) : 'a process whose lock file cannot be read';
  return new UserError(`another kdump-layer generate is working on this directory (${who})`, {
    where: dir,
    hint: `wait for it to finish and run again; if no such process runs, remove ${path.join(dir, LOCK_NAME)}`,
  });
}

/** For commands that only read (--check, --dry-run): waits while a live generate holds the lock. */
export function waitForUnlocked(dir: string): void {
  const lock = path.join(dir, LOCK_NAME);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const holder = readHolder(lock);
    if (holder === 'missing' || isDead(lock, holder)) return;
    if (Date.now() >= deadline) throw lockedError(dir, holder);
    sleepSync(POLL_MS);
  }
}
