/**
 * Reading the files a user names (a configuration file, kernel config fragments, a .config):
 * regular files only, and never more than a stated limit, so that `/dev/zero`, a FIFO with no
 * writer or a runaway file gives a clear error instead of a hang or an exhausted memory.
 */
import fs from 'node:fs';
import { UserError } from './errors.js';

const MIB = 1024 * 1024;

/**
 * Size limits, far above any real input. The largest distribution .config in the test corpus
 * (openSUSE aarch64, ~14 000 lines) is 350 KiB, so 16 MiB leaves a margin of 45; a kdump-layer
 * configuration file is a few KiB (`init` writes ~5 KiB), so 1 MiB leaves a margin of 200.
 */
export const INPUT_LIMITS = {
  /** A kdump-layer configuration file (YAML or JSON). */
  config: 1 * MIB,
  /** A kernel config fragment or a full .config. */
  kconfig: 16 * MIB,
} as const;

/** "1 MiB", "16 MiB": how a limit is said in messages and docs. */
export function formatLimit(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export interface ReadInputOptions {
  /** What the file is, for messages: "config file", "input", "--config". */
  what: string;
  limit: number;
  /** What to do when the path is wrong (appended as the hint). */
  hint: string;
  /** When set, a file with a NUL byte in its first 8 KB is refused with this message and hint. */
  binary?: { message: string; hint: string };
}

/**
 * The bytes of a regular file no larger than `limit`. The file is opened non-blocking and
 * checked with fstat before any read, so a FIFO or a device is refused without waiting on it;
 * a file that grows while it is read is cut off at the limit and refused too.
 */
export function readInputFile(file: string, opts: ReadInputOptions): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
        : code === 'EISDIR' ? 'is a directory'
          : code === 'ENOTDIR' ? 'a part of the path is not a directory'
            : code === 'ENAMETOOLONG' ? 'the path is too long'
              : code === 'ELOOP' ? 'too many symbolic links'
                : `cannot open it (${code ?? (e as Error).message})`;
    throw new UserError(`${opts.what} ${file}: ${why}`, { hint: opts.hint });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      throw new UserError(`${opts.what} ${file} is ${kindOf(st)}, not a regular file`, {
        hint: st.isDirectory() ? opts.hint : 'save the content to a file first and name that file',
      });
    }
    const tooLarge = () =>
      new UserError(`${opts.what} ${file} is larger than the limit of ${formatLimit(opts.limit)}`, {
        hint: 'no real input is this large: check that this is the file you meant',
      });
    if (opts.binary) {
      // Before the size: a large binary (an executable, a compressed config) is said to be one.
      const head = Buffer.alloc(Math.min(8000, st.size));
      const n = head.length ? fs.readSync(fd, head, 0, head.length, 0) : 0;
      if (head.subarray(0, n).includes(0)) throw new UserError(`${opts.what} ${file} ${opts.binary.message}`, { hint: opts.binary.hint });
    }
    if (st.size > opts.limit) throw tooLarge();
    // Read until end of file, but never past the limit: the size can change after fstat.
    const chunk = Buffer.allocUnsafe(Math.min(opts.limit + 1, st.size + 64 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, total);
      if (n === 0) break;
      total += n;
      if (total > opts.limit) throw tooLarge();
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${opts.what} ${file}: cannot read it (${code ?? (e as Error).message})`, { hint: 'check its permissions' });
  } finally {
    fs.closeSync(fd);
  }
}
