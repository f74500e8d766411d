// Paths inside the layer directory: generate never follows a symbolic link below --out, never
// writes into a system directory, and refuses a path that would leave the layer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';

/** Names generate keeps for itself inside the layer directory. */
export const LOCK_NAME = '.kdump-layer.lock';
export const TXN_NAME = '.kdump-layer-txn';

/** The longest file name (one path component) Linux file systems take, in bytes. */
const NAME_MAX = 255;
/** The longest path the kernel takes, in bytes (with room for the staging prefix). */
const PATH_MAX = 4095 - 64;

/** Directories a layer must never be written into (or be): the system's own and the home directory. */
const SYSTEM_DIRS = [
  '/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/media', '/mnt', '/opt',
  '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/usr/bin', '/usr/lib', '/usr/lib32',
  '/usr/lib64', '/usr/libexec', '/usr/local', '/usr/local/bin', '/usr/local/lib', '/usr/sbin', '/usr/share',
  '/usr/src', '/var', '/var/cache', '/var/lib', '/var/log', '/var/spool', '/var/tmp',
];
/** Virtual file systems: nothing below them is a place for a layer. */
const SYSTEM_TREES = ['/dev', '/proc', '/sys'];

/** Is `rel` a plain layer-relative path ('a/b/c', no '.', '..', empty part, backslash or NUL)? */
export function isPlainRelPath(rel: string): boolean {
  if (typeof rel !== 'string' || rel === '' || rel.includes('\0') || rel.includes('\\') || rel.startsWith('/')) return false;
  return rel.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Is `rel` one of the names generate keeps for itself (the lock, the staging area)? */
export function isReserved(rel: string): boolean {
  const top = rel.split('/')[0];
  return top === TXN_NAME || top.startsWith(LOCK_NAME);
}

/**
 * dir/rel for a plain relative path (isPlainRelPath: no '.', '..' or empty parts): what
 * path.join gives, without its normalizing, which a run would otherwise do for every layer
 * path several times (and V8 would then spend milliseconds compiling for).
 */
export function under(dir: string, rel: string): string {
  return dir.endsWith('/') ? `${dir}${rel}` : `${dir}/${rel}`;
}

/** Refuses a generated path the file system cannot hold (a too-long name), before anything is written. */
export function checkNameLengths(outDir: string, rel: string): void {
  for (const part of rel.split('/')) {
    const n = Buffer.byteLength(part);
    if (n > NAME_MAX) {
      throw new UserError(`a generated file name is ${n} bytes long; file systems take at most ${NAME_MAX}: ${part.slice(0, 60)}…`, {
        where: rel.length > 120 ? `${rel.slice(0, 120)}…` : rel,
        hint: 'shorten the name it comes from in the configuration (kernel.recipe, layer.collection); nothing was written',
      });
    }
  }
  const total = Buffer.byteLength(under(outDir, `${TXN_NAME}/files/${rel}`));
  if (total > PATH_MAX) {
    throw new UserError(`a generated path would be ${total} bytes long; the system takes at most ${PATH_MAX}`, {
      where: rel,
      hint: 'choose a shorter --out or shorter names in the configuration; nothing was written',
    });
  }
}

/** The real path of `p`, for a path that may not exist yet: the deepest existing ancestor resolved, the rest appended. */
export function realPathOfMaybeMissing(p: string): string {
  const abs = path.resolve(p);
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      return path.join(fs.realpathSync(cur), ...missing.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    const parent = path.dirname(cur);
    if (parent === cur) return abs;
    missing.push(path.basename(cur));
    cur = parent;
  }
}

function isSystemDir(abs: string): boolean {
  const homes = new Set([os.homedir(), safeUserHome()].filter(Boolean).map((h) => path.resolve(h)));
  if (SYSTEM_DIRS.includes(abs) || homes.has(abs)) return true;
  return SYSTEM_TREES.some((t) => abs === t || abs.startsWith(`${t}/`));
}

function safeUserHome(): string {
  try {
    return os.userInfo().homedir;
  } catch {
    return '';
  }
}

/**
 * Checks --out and returns the directory generate works in. The path the user named may itself
 * be (or run through) a symbolic link: it is resolved once, here, and both the spelled and the
 * resolved path must not be a system directory. Everything below it is checked with lstat later.
 */
export function resolveOutDir(outDir: string): string {
  if (outDir === '') throw new UserError('--out is empty', { hint: 'give --out a directory (it is created when missing)' });
  const spelled = path.resolve(outDir);
  const real = realPathOfMaybeMissing(outDir);
  for (const p of new Set([spelled, real])) {
    if (isSystemDir(p)) {
      throw new UserError(`refusing to write a layer into ${p === spelled ? p : `${p} (where ${spelled} leads)`}: it is a system or home directory`, {
        where: outDir,
        hint: 'give --out a directory of its own, e.g. --out layers/meta-ops-kdump',
      });
    }
  }
  // Not a file, not inside a file.
  let cur = real;
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(cur);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    if (st && !st.isDirectory()) {
      throw new UserError(cur === real ? 'output path is a file, not a directory' : `output path runs through a file (${cur})`, {
        where: outDir,
        hint: 'give --out a directory (it is created when missing)',
      });
    }
    if (st) return real;
    const parent = path.dirname(cur);
    if (parent === cur) return real;
    cur = parent;
  }
}

function lstatOrNull(abs: string): fs.Stats | null {
  // No exception for a missing path: a first generate asks about every file of the layer.
  return fs.lstatSync(abs, { throwIfNoEntry: false }) ?? null;
}

export function symlinkError(outDir: string, rel: string): UserError {
  return new UserError(`${rel} is a symbolic link; generate does not follow links inside the layer directory`, {
    where: outDir,
    hint: 'replace the link with a real directory or file (or remove it), then run again',
  });
}

/**
 * What is at outDir/rel, checking every component with lstat: 'missing' (the path or a parent
 * is absent), 'file' (a regular file). Throws a UserError for a symbolic link anywhere on the
 * way, a non-directory where a directory must be, or a directory/special file at the end.
 * Directories in `checked` (layer-relative, from ensureDirs in the same run) are not checked again.
 */
export function inspect(outDir: string, rel: string, checked?: ReadonlySet<string>): 'missing' | 'file' {
  const parts = rel.split('/');
  let cur = outDir;
  const shown = (i: number) => parts.slice(0, i + 1).join('/');
  const slash = rel.lastIndexOf('/');
  const start = slash > 0 && checked?.has(rel.slice(0, slash)) ? parts.length - 1 : 0;
  if (start > 0) cur = under(outDir, rel.slice(0, slash));
  for (let i = start; i < parts.length; i++) {
    cur = under(cur, parts[i]);
    const st = lstatOrNull(cur);
    if (st === null) return 'missing';
    if (st.isSymbolicLink()) throw symlinkError(outDir, shown(i));
    const last = i === parts.length - 1;
    if (!last && !st.isDirectory()) {
      throw new UserError(`${shown(i)} is a file where generate needs a directory (for ${rel})`, { where: outDir, hint: 'move it away; nothing was written' });
    }
    if (last && st.isDirectory()) {
      throw new UserError(`a directory is in the way of a generated file: ${rel}`, { where: outDir, hint: 'move it away; nothing was written' });
    }
    if (last && !st.isFile()) {
      throw new UserError(`${rel} is not a regular file (a device, FIFO or socket)`, { where: outDir, hint: 'move it away; nothing was written' });
    }
  }
  return 'file';
}

/** Reads outDir/rel (after inspect), not following a link that appeared since: null when absent. */
export function readNoFollow(outDir: string, rel: string): Buffer | null {
  return readNoFollowWithMode(outDir, rel)?.data ?? null;
}

/** readNoFollow, with the permission bits of the file read. */
export function readNoFollowWithMode(outDir: string, rel: string): { data: Buffer; mode: number } | null {
  if (inspect(outDir, rel) === 'missing') return null;
  let fd: number;
  try {
    fd = fs.openSync(under(outDir, rel), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw symlinkError(outDir, rel);
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UserError(`${rel} is not a regular file`, { where: outDir, hint: 'move it away; nothing was written' });
    return { data: fs.readFileSync(fd), mode: st.mode & 0o777 };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates the directories of outDir/relDir one by one, refusing links and files on the way.
 * `checked` (optional) collects the directories checked or made, so that a run writing many files
 * checks each directory once: those already in it are not checked again.
 */
export function ensureDirs(outDir: string, relDir: string, checked?: Set<string>): void {
  if (relDir === '.' || relDir === '' || checked?.has(relDir)) return;
  let cur = outDir;
  const parts = relDir.split('/');
  for (let i = 0; i < parts.length; i++) {
    cur = under(cur, parts[i]);
    const rel = parts.slice(0, i + 1).join('/');
    if (checked?.has(rel)) continue;
    const st = lstatOrNull(cur);
    if (st === null) {
      try {
        fs.mkdirSync(cur, 0o755);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (!fs.lstatSync(cur).isDirectory()) throw symlinkError(outDir, rel);
      }
    } else if (st.isSymbolicLink()) {
      throw symlinkError(outDir, rel);
    } else if (!st.isDirectory()) {
      throw new UserError(`${rel} is a file where generate needs a directory`, { where: outDir, hint: 'move it away' });
    }
    checked?.add(rel);
  }
}
