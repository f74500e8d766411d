/**
 * The three inputs analyze takes: an archive as ops-kdump writes it (kdump-<time>-<id>.tar.gz
 * or .tar holding one directory with vmcore, dmesg.txt, metadata.txt, os-release…), that
 * directory unpacked, or a bare vmcore. Archives are checked whole (gzip CRC, tar header
 * checksums, the end of the archive) while they are unpacked into a private temporary
 * directory that `close()` removes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

export type DumpState = 'complete' | 'complete-with-warnings' | 'incomplete' | 'unknown';

export interface DumpInput {
  /** What the user named. */
  source: string;
  kind: 'archive' | 'directory' | 'vmcore';
  /** The dump's name (the archive's directory name, or the file name). */
  name: string;
  vmcore: string;
  /** metadata.txt as key → value (empty without one). */
  metadata: Record<string, string>;
  /** The archive's os-release as key → value (unquoted). */
  osRelease: Record<string, string>;
  /** dmesg.txt the runtime saved, when present. */
  dmesgFile?: string;
  state: DumpState;
  /** Why the state is what it is (the failed steps for complete-with-warnings). */
  stateDetail?: string;
  close(): void;
}

export class InputError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return out;
}

const isArchiveName = (f: string) => /\.(tar\.gz|tgz|tar)$/.test(f);

/** Opens any of the three inputs; throws InputError with what to do for anything else. */
export async function openInput(source: string): Promise<DumpInput> {
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new InputError(`no such file or directory: ${source}`);
  }
  if (st.isDirectory()) return openDirectory(source, source, 'directory', () => {});
  const head = readHead(source, 512);
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const tar = head.length >= 512 && head.subarray(257, 262).toString('latin1') === 'ustar';
  if (gz || tar || isArchiveName(source)) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-analyze-'));
    const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
    try {
      await unpack(source, tmp, gz);
      const tops = fs.readdirSync(tmp);
      const dir = tops.length === 1 && fs.statSync(path.join(tmp, tops[0])).isDirectory() ? path.join(tmp, tops[0]) : tmp;
      return openDirectory(dir, source, 'archive', cleanup);
    } catch (e) {
      cleanup();
      throw e;
    }
  }
  return {
    source, kind: 'vmcore', name: path.basename(source), vmcore: source, metadata: {}, osRelease: {},
    state: 'unknown', close: () => {},
  };
}

function readHead(file: string, n: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = fs.readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

function openDirectory(dir: string, source: string, kind: 'archive' | 'directory', close: () => void): DumpInput {
  const vmcore = ['vmcore', 'vmcore.flat', 'vmcore-incomplete'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  const name = path.basename(kind === 'archive' ? source.replace(/\.(tar\.gz|tgz|tar)$/, '') : dir);
  if (!vmcore) {
    close();
    const what = kind === 'archive' ? 'the archive' : 'the directory';
    throw new InputError(`${what} holds no vmcore: ${source}`, 'name an archive ops-kdump wrote, its unpacked directory, or a vmcore file');
  }
  const metaFile = path.join(dir, 'metadata.txt');
  const metadata = fs.existsSync(metaFile) ? parseKeyValues(fs.readFileSync(metaFile, 'utf8')) : {};
  const osFile = path.join(dir, 'os-release');
  const osRelease = fs.existsSync(osFile) ? parseKeyValues(fs.readFileSync(osFile, 'utf8')) : {};
  const dmesg = path.join(dir, 'dmesg.txt');
  let state: DumpState = 'unknown';
  let stateDetail: string | undefined;
  const result = metadata.result;
  if (/\.incomplete$/.test(dir) || path.basename(vmcore) === 'vmcore-incomplete') {
    state = 'incomplete';
    stateDetail = 'the dump directory was never finished (the capture was interrupted)';
  } else if (result === 'complete') state = 'complete';
  else if (result?.startsWith('complete-with-warnings')) {
    state = 'complete-with-warnings';
    stateDetail = `steps that failed: ${result.split(':')[1] ?? '?'}`;
  } else if (fs.existsSync(metaFile)) {
    state = 'incomplete';
    stateDetail = 'metadata.txt has no result line (the save did not finish)';
  }
  return { source, kind, name, vmcore, metadata, osRelease, dmesgFile: fs.existsSync(dmesg) ? dmesg : undefined, state, stateDetail, close };
}

/**
 * Unpacks a (gzip'd) tar into `dest`: regular files and directories only, names kept inside
 * `dest`. Any damage — a bad gzip stream or CRC, a tar header checksum that does not add up,
 * an archive that ends early — is an InputError naming the archive.
 */
async function unpack(archive: string, dest: string, gz: boolean): Promise<void> {
  const bad = (why: string) => new InputError(`${archive}: corrupt or truncated archive: ${why}`, 'copy the archive from the device again (compare its size with `ops-kdump list` there)');
  const input = fs.createReadStream(archive, { highWaterMark: 1 << 20 });
  const stream: NodeJS.ReadableStream = gz ? input.pipe(zlib.createGunzip()) : input;
  let pending = Buffer.alloc(0);
  let out: { fd: number; left: number; pad: number } | undefined;
  let skip = 0;
  let longName: string | undefined;
  let collectLong: { left: number; pad: number; parts: Buffer[] } | undefined;
  let ended = false;
  const realDest = fs.realpathSync(dest);

  const header = (h: Buffer): void => {
    if (h.every((b) => b === 0)) {
      ended = true;
      return;
    }
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    const stored = parseInt(h.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(), 8);
    if (stored !== sum) throw bad('a tar header checksum does not match');
    const str = (o: number, n: number) => h.subarray(o, o + n).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 0x30);
    const prefix = h.subarray(257, 262).toString('latin1') === 'ustar' ? str(345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    longName = undefined;
    const pad = (512 - (size % 512)) % 512;
    if (type === 'L') {
      collectLong = { left: size, pad, parts: [] };
      return;
    }
    name = path.normalize(name).replace(/^(\.\/)+/, '');
    const target = path.join(realDest, name);
    if (name.startsWith('..') || path.isAbsolute(name) || !target.startsWith(realDest)) throw bad(`a member escapes the archive: ${name}`);
    if (type === '5') {
      fs.mkdirSync(target, { recursive: true });
      skip = size + pad;
    } else if (type === '0' || type === '7') {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      out = { fd: fs.openSync(target, 'w'), left: size, pad };
      if (size === 0) finishFile();
    } else {
      skip = size + pad; // links, pax headers, devices: not part of a dump
    }
  };
  const finishFile = () => {
    if (!out) return;
    fs.closeSync(out.fd);
    skip = out.pad;
    out = undefined;
  };

  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      while (buf.length > 0 && !ended) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          skip -= n;
          buf = buf.subarray(n);
        } else if (out) {
          const n = Math.min(out.left, buf.length);
          fs.writeSync(out.fd, buf, 0, n);
          out.left -= n;
          buf = buf.subarray(n);
          if (out.left === 0) finishFile();
        } else if (collectLong) {
          const n = Math.min(collectLong.left, buf.length);
          collectLong.parts.push(Buffer.from(buf.subarray(0, n)));
          collectLong.left -= n;
          buf = buf.subarray(n);
          if (collectLong.left === 0) {
            longName = Buffer.concat(collectLong.parts).toString('utf8').replace(/\0.*$/s, '');
            skip = collectLong.pad;
            collectLong = undefined;
          }
        } else if (buf.length >= 512) {
          header(buf.subarray(0, 512));
          buf = buf.subarray(512);
        } else {
          pending = Buffer.from(buf);
          buf = Buffer.alloc(0);
        }
      }
      // After the end-of-archive marker keep reading: gunzip checks its CRC and length at the very end.
    }
  } catch (e) {
    if (out) fs.closeSync(out.fd);
    if (e instanceof InputError) throw e;
    throw bad((e as Error).message);
  } finally {
    input.destroy();
  }
  if (out) {
    fs.closeSync(out.fd);
    throw bad('it ends in the middle of a file');
  }
  if (!ended) throw bad('it ends before the end-of-archive marker');
}
