import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes `content` to `abs` atomically: a temporary file in the same directory, then moved into
 * place (see moveIntoPlace; with noClobber an existing `abs` is kept and EEXIST thrown).
 */
export function writeAtomic(abs: string, content: string, mode: number, opts: { noClobber?: boolean } = {}): void {
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, content, { mode, flag: 'wx' });
    fs.chmodSync(tmp, mode); // writeFileSync's mode is filtered by the umask
    moveIntoPlace(tmp, abs, opts.noClobber);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Moves a finished temporary file to `abs` in one step. rename(2) replaces whatever is there;
 * with noClobber the file is linked instead, which fails with EEXIST when `abs` exists (even if
 * it appeared after the caller looked), so a file made meanwhile is never replaced. Where the
 * file system has no hard links, an exclusive rename is not possible: it falls back to looking first.
 */
export function moveIntoPlace(tmp: string, abs: string, noClobber = false): void {
  if (!noClobber) {
    fs.renameSync(tmp, abs);
    return;
  }
  try {
    fs.linkSync(tmp, abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    if (fs.existsSync(abs)) throw Object.assign(new Error(`EEXIST: file already exists, '${abs}'`), { code: 'EEXIST' });
    fs.renameSync(tmp, abs);
    return;
  }
  fs.unlinkSync(tmp);
}

/** Whether an error is the EEXIST of a noClobber write. */
export function isExists(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'EEXIST';
}

/** Flushes a file or directory to disk (a directory: the names in it). */
export function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
