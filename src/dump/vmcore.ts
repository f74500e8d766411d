/**
 * What a vmcore is, read from its own headers without crash(8): the format (kdump-compressed
 * and its compressor, ELF, makedumpfile's flattened stream), the crashed kernel's identity
 * from the dump header and VMCOREINFO (release, build id, page size, crash time), and whether
 * the file is complete.
 */
import { Elf, ELF_MAGIC, FileReader, parseVmcoreinfo, PT_LOAD } from './elf.js';

export type DumpFormat = 'kdump' | 'elf' | 'flattened';
export type Compression = 'zlib' | 'lzo' | 'snappy' | 'zstd' | 'none';

export interface DumpIdentity {
  file: string;
  bytes: number;
  format: DumpFormat;
  /** kdump-compressed (and flattened) dumps: the compressor named in the header. */
  compression?: Compression;
  /** A flattened dump: what makedumpfile -R restores from it (-F with -E: ELF; else kdump-compressed). */
  payload?: 'kdump' | 'elf';
  /** makedumpfile dump level (-d), where the header carries it. */
  dumpLevel?: number;
  release?: string;
  /** uname -v of the crashed kernel (kdump header only), e.g. "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (…)". */
  version?: string;
  machine?: string;
  nodename?: string;
  buildId?: string;
  pageSize?: number;
  /** ISO time of the crash (VMCOREINFO CRASHTIME), else of the dump header. */
  crashTime?: string;
  crashTimeFrom?: 'vmcoreinfo' | 'dump-header';
  /** Set when the file is shorter than its headers say or makedumpfile marked it incomplete. */
  incomplete?: string;
  vmcoreinfo: Record<string, string>;
}

export class DumpFormatError extends Error {}

const KDUMP_SIG = 'KDUMP   ';
const FLAT_SIG = 'makedumpfile';
const FLAT_HEADER_SIZE = 4096;
const DUMP_DH_COMPRESSED_ZLIB = 0x1;
const DUMP_DH_COMPRESSED_LZO = 0x2;
const DUMP_DH_COMPRESSED_SNAPPY = 0x4;
const DUMP_DH_COMPRESSED_INCOMPLETE = 0x8;
const DUMP_DH_COMPRESSED_ZSTD = 0x20;

/** A view of the bytes of a dump: direct for kdump/ELF files, reassembled for flattened ones. */
interface ByteSource {
  size: number;
  read(offset: number, length: number): Buffer;
}

/** Identifies the vmcore at `file`; throws DumpFormatError for a file that is no dump. */
export function identifyVmcore(file: string): DumpIdentity {
  const r = new FileReader(file);
  try {
    const head = r.read(0, 16);
    if (head.length >= 8 && head.subarray(0, 8).toString('latin1') === KDUMP_SIG) return readKdump(file, r, r, 'kdump');
    if (head.length >= 12 && head.subarray(0, 12).toString('latin1') === FLAT_SIG) {
      const flat = new FlattenedSource(r);
      const elf = flat.read(0, 4).equals(ELF_MAGIC);
      const id = elf ? readElfDump(file, r, flat, 'flattened') : readKdump(file, r, flat, 'flattened');
      id.payload = elf ? 'elf' : 'kdump';
      if (!flat.complete) id.incomplete = id.incomplete ?? 'the flattened stream has no end marker (truncated)';
      return id;
    }
    if (head.length >= 4 && head.subarray(0, 4).equals(ELF_MAGIC)) return readElfDump(file, r, r, 'elf');
    const what = head.length === 0 ? 'the file is empty' : `it starts with bytes ${head.subarray(0, 8).toString('hex')}`;
    throw new DumpFormatError(`not a kernel dump format analyze knows (kdump-compressed, ELF, flattened): ${what}`);
  } finally {
    r.close();
  }
}

const cstr = (b: Buffer, o: number, n: number) => {
  const s = b.subarray(o, o + n);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? n : z).toString('latin1');
};

function readKdump(file: string, r: FileReader, src: ByteSource, format: DumpFormat): DumpIdentity {
  const h = src.read(0, 464);
  if (h.length < 464) throw new DumpFormatError(`truncated kdump header (${h.length} bytes)`);
  // The header is in the crashed machine's byte order; header_version is small either way.
  const le = h.readInt32LE(8) > 0 && h.readInt32LE(8) < 100;
  const i32 = (o: number) => (le ? h.readInt32LE(o) : h.readInt32BE(o));
  const u32 = (o: number) => (le ? h.readUInt32LE(o) : h.readUInt32BE(o));
  const i64 = (b: Buffer, o: number) => Number(le ? b.readBigInt64LE(o) : b.readBigInt64BE(o));
  const headerVersion = i32(8);
  const status = u32(424);
  const blockSize = i32(428);
  const subHdrSize = i32(432);
  const bitmapBlocks = u32(436);
  if (blockSize <= 0 || blockSize > 1 << 20 || (blockSize & (blockSize - 1)) !== 0) throw new DumpFormatError(`implausible kdump block size ${blockSize}`);
  const id: DumpIdentity = {
    file,
    bytes: r.size,
    format,
    compression: status & DUMP_DH_COMPRESSED_ZLIB ? 'zlib' : status & DUMP_DH_COMPRESSED_LZO ? 'lzo'
      : status & DUMP_DH_COMPRESSED_SNAPPY ? 'snappy' : status & DUMP_DH_COMPRESSED_ZSTD ? 'zstd' : 'none',
    nodename: cstr(h, 12 + 65, 65),
    release: cstr(h, 12 + 130, 65),
    version: cstr(h, 12 + 195, 65),
    machine: cstr(h, 12 + 260, 65),
    vmcoreinfo: {},
  };
  const tvSec = i64(h, 408);
  if (tvSec > 0) {
    id.crashTime = new Date(tvSec * 1000).toISOString().replace(/\.000Z$/, 'Z');
    id.crashTimeFrom = 'dump-header';
  }
  if (status & DUMP_DH_COMPRESSED_INCOMPLETE) id.incomplete = 'makedumpfile marked the dump incomplete (it ran out of space or was interrupted)';
  const sub = src.read(blockSize, 112);
  if (sub.length >= 16) id.dumpLevel = le ? sub.readInt32LE(8) : sub.readInt32BE(8);
  if (headerVersion >= 3 && sub.length >= 48) {
    const off = i64(sub, 32);
    const size = i64(sub, 40);
    if (off > 0 && size > 0 && size < 1 << 20) {
      const info = src.read(off, size);
      if (info.length < size) id.incomplete = id.incomplete ?? 'the file ends before its VMCOREINFO (truncated)';
      applyVmcoreinfo(id, info.toString('latin1'));
    }
  }
  // Completeness: the last page descriptor must point inside the file.
  if (!id.incomplete && format === 'kdump') {
    const bitmapStart = (1 + subHdrSize) * blockSize;
    const bitmapBytes = (bitmapBlocks * blockSize) / 2;
    const bitmap2 = src.read(bitmapStart + bitmapBytes, bitmapBytes);
    if (bitmap2.length < bitmapBytes) id.incomplete = 'the file ends inside its page bitmaps (truncated)';
    else {
      let dumpable = 0;
      for (const byte of bitmap2) dumpable += POPCOUNT[byte];
      const descStart = bitmapStart + bitmapBlocks * blockSize;
      // Descriptors are not in file order (excluded zero pages share one page of data), so
      // the end of the data is the largest offset + size over all of them.
      let end = 0;
      const chunk = 43_690 * 24;
      for (let at = 0; at < dumpable * 24 && !id.incomplete; at += chunk) {
        const want = Math.min(chunk, dumpable * 24 - at);
        const d = src.read(descStart + at, want);
        if (d.length < want) id.incomplete = 'the file ends inside its page table (truncated)';
        for (let o = 0; o + 24 <= d.length; o += 24) end = Math.max(end, i64(d, o) + (le ? d.readUInt32LE(o + 8) : d.readUInt32BE(o + 8)));
      }
      if (!id.incomplete && end > r.size) id.incomplete = `the file is ${r.size} bytes but its page data ends at byte ${end} (truncated)`;
    }
  }
  return id;
}

const POPCOUNT = Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let v = i; v; v >>= 1) n += v & 1;
  return n;
});

function applyVmcoreinfo(id: DumpIdentity, text: string): void {
  const info = parseVmcoreinfo(text);
  id.vmcoreinfo = info;
  if (info.OSRELEASE) id.release = info.OSRELEASE;
  if (info['BUILD-ID']) id.buildId = info['BUILD-ID'].toLowerCase();
  if (info.PAGESIZE && /^\d+$/.test(info.PAGESIZE)) id.pageSize = Number(info.PAGESIZE);
  if (info.CRASHTIME && /^\d+$/.test(info.CRASHTIME)) {
    id.crashTime = new Date(Number(info.CRASHTIME) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    id.crashTimeFrom = 'vmcoreinfo';
  }
}

const ELF_MACHINES: Record<number, string> = { 3: 'i386', 8: 'mips', 20: 'ppc', 21: 'ppc64', 40: 'arm', 62: 'x86_64', 183: 'aarch64', 243: 'riscv64' };

/** An ELF core: the file itself, or (format 'flattened') the ELF file a flattened stream holds. */
function readElfDump(file: string, r: FileReader, src: ByteSource, format: DumpFormat): DumpIdentity {
  let elf: Elf;
  try {
    elf = new Elf(src);
  } catch {
    throw new DumpFormatError('truncated ELF header');
  }
  if (elf.type !== 4 /* ET_CORE */) throw new DumpFormatError(`an ELF file but not a core dump (e_type ${elf.type}); is this a vmlinux?`);
  const id: DumpIdentity = { file, bytes: r.size, format, machine: ELF_MACHINES[elf.machine], vmcoreinfo: {} };
  const info = elf.notes('segments').find((n) => n.name === 'VMCOREINFO');
  if (info) applyVmcoreinfo(id, info.desc.toString('latin1'));
  const end = Math.max(0, ...elf.segments().filter((p) => p.type === PT_LOAD).map((p) => p.offset + p.filesz));
  if (end > src.size) {
    id.incomplete = format === 'elf' ? `the file is ${r.size} bytes but its memory segments end at byte ${end} (truncated)`
      : `the flattened stream holds ${src.size} bytes but its memory segments end at byte ${end} (truncated)`;
  }
  return id;
}

/**
 * makedumpfile -F output: a 4 KiB header, then records (offset, size, data; big-endian),
 * ended by a record of offset -1. Reading a range means finding the records that cover it.
 */
class FlattenedSource implements ByteSource {
  readonly size: number;
  readonly complete: boolean;
  private readonly records: { offset: number; size: number; at: number }[] = [];
  constructor(private readonly r: FileReader) {
    let at = FLAT_HEADER_SIZE;
    let complete = false;
    let size = 0;
    while (at + 16 <= r.size) {
      const h = r.read(at, 16);
      const offset = Number(h.readBigInt64BE(0));
      const len = Number(h.readBigInt64BE(8));
      if (offset === -1 && len === -1) {
        complete = true;
        break;
      }
      if (offset < 0 || len < 0) break;
      this.records.push({ offset, size: len, at: at + 16 });
      size = Math.max(size, offset + len);
      at += 16 + len;
    }
    this.size = size;
    this.complete = complete;
  }
  read(offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    let filled = 0;
    for (const rec of this.records) {
      const s = Math.max(offset, rec.offset);
      const e = Math.min(offset + length, rec.offset + rec.size);
      if (s >= e) continue;
      this.r.read(rec.at + (s - rec.offset), e - s).copy(out, s - offset);
      filled = Math.max(filled, e - offset);
    }
    return out.subarray(0, filled);
  }
}
