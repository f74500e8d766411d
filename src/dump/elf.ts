/**
 * A small ELF reader for what analyze needs from vmcores and vmlinux files: program headers,
 * section headers, notes, one symbol. Reads only the bytes it is asked for (a vmlinux with
 * debug info is ~600 MB, a vmcore can be many GB).
 */
import fs from 'node:fs';

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
export const PT_LOAD = 1;
export const PT_NOTE = 4;
const SHT_SYMTAB = 2;
const SHT_NOTE = 7;

export interface ElfSection { name: string; type: number; offset: number; size: number; addr: number; link: number; entsize: number; /** exact: kernel addresses exceed 2^53 */ addrBig: bigint }
export interface ElfSegment { type: number; offset: number; filesz: number; vaddr: number; paddr: number; memsz: number }
export interface ElfNote { name: string; type: number; desc: Buffer }

/** Positioned reads: of a file, or of a dump reassembled from makedumpfile's flattened stream. */
export interface ByteReader {
  read(offset: number, length: number): Buffer;
}

/** Positioned reads on an open file. */
export class FileReader implements ByteReader {
  readonly fd: number;
  readonly size: number;
  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'r');
    this.size = fs.fstatSync(this.fd).size;
  }
  read(offset: number, length: number): Buffer {
    const b = Buffer.alloc(Math.max(0, Math.min(length, this.size - offset)));
    let done = 0;
    while (done < b.length) {
      const n = fs.readSync(this.fd, b, done, b.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return b.subarray(0, done);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

export class Elf {
  readonly is64: boolean;
  readonly le: boolean;
  readonly machine: number;
  readonly type: number;
  private sectionsCache?: ElfSection[];
  private segmentsCache?: ElfSegment[];

  constructor(readonly r: ByteReader) {
    const h = r.read(0, 64);
    if (h.length < 52 || !h.subarray(0, 4).equals(ELF_MAGIC)) throw new Error('not an ELF file');
    this.is64 = h[4] === 2;
    this.le = h[5] === 1;
    this.type = this.u16(h, 16);
    this.machine = this.u16(h, 18);
  }

  u16(b: Buffer, o: number): number { return this.le ? b.readUInt16LE(o) : b.readUInt16BE(o); }
  u32(b: Buffer, o: number): number { return this.le ? b.readUInt32LE(o) : b.readUInt32BE(o); }
  u64(b: Buffer, o: number): number { return Number(this.le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)); }
  big(b: Buffer, o: number): bigint { return this.le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o); }
  addr(b: Buffer, o: number): number { return this.is64 ? this.u64(b, o) : this.u32(b, o); }

  private header(): Buffer { return this.r.read(0, 64); }

  segments(): ElfSegment[] {
    if (this.segmentsCache) return this.segmentsCache;
    const h = this.header();
    const phoff = this.addr(h, this.is64 ? 32 : 28);
    const phentsize = this.u16(h, this.is64 ? 54 : 42);
    let phnum = this.u16(h, this.is64 ? 56 : 44);
    if (phnum === 0xffff) {
      // PN_XNUM: the real count is in section 0's sh_info (vmcores of large machines).
      const shoff = this.addr(h, this.is64 ? 40 : 32);
      const s0 = this.r.read(shoff, 64);
      phnum = this.u32(s0, this.is64 ? 44 : 28);
    }
    const table = this.r.read(phoff, phentsize * phnum);
    const out: ElfSegment[] = [];
    for (let i = 0; i < phnum && (i + 1) * phentsize <= table.length; i++) {
      const p = table.subarray(i * phentsize);
      out.push(this.is64
        ? { type: this.u32(p, 0), offset: this.u64(p, 8), vaddr: this.u64(p, 16), paddr: this.u64(p, 24), filesz: this.u64(p, 32), memsz: this.u64(p, 40) }
        : { type: this.u32(p, 0), offset: this.u32(p, 4), vaddr: this.u32(p, 8), paddr: this.u32(p, 12), filesz: this.u32(p, 16), memsz: this.u32(p, 20) });
    }
    return (this.segmentsCache = out);
  }

  sections(): ElfSection[] {
    if (this.sectionsCache) return this.sectionsCache;
    const h = this.header();
    const shoff = this.addr(h, this.is64 ? 40 : 32);
    const shentsize = this.u16(h, this.is64 ? 58 : 46);
    const shnum = this.u16(h, this.is64 ? 60 : 48);
    const shstrndx = this.u16(h, this.is64 ? 62 : 50);
    if (!shoff || !shnum) return (this.sectionsCache = []);
    const table = this.r.read(shoff, shentsize * shnum);
    const raw: (ElfSection & { nameOff: number })[] = [];
    for (let i = 0; i < shnum && (i + 1) * shentsize <= table.length; i++) {
      const s = table.subarray(i * shentsize);
      raw.push(this.is64
        ? { name: '', nameOff: this.u32(s, 0), type: this.u32(s, 4), addr: this.u64(s, 16), addrBig: this.big(s, 16), offset: this.u64(s, 24), size: this.u64(s, 32), link: this.u32(s, 40), entsize: this.u64(s, 56) }
        : { name: '', nameOff: this.u32(s, 0), type: this.u32(s, 4), addr: this.u32(s, 12), addrBig: BigInt(this.u32(s, 12)), offset: this.u32(s, 16), size: this.u32(s, 20), link: this.u32(s, 24), entsize: this.u32(s, 36) });
    }
    const strs = raw[shstrndx] ? this.r.read(raw[shstrndx].offset, raw[shstrndx].size) : Buffer.alloc(0);
    for (const s of raw) {
      const end = strs.indexOf(0, s.nameOff);
      s.name = strs.subarray(s.nameOff, end < 0 ? undefined : end).toString('latin1');
    }
    return (this.sectionsCache = raw.map(({ nameOff: _n, ...s }) => s));
  }

  section(name: string): ElfSection | undefined {
    return this.sections().find((s) => s.name === name);
  }

  /** Notes of every PT_NOTE segment (vmcores) or SHT_NOTE section (vmlinux). */
  notes(from: 'segments' | 'sections'): ElfNote[] {
    const areas = from === 'segments'
      ? this.segments().filter((p) => p.type === PT_NOTE).map((p) => ({ offset: p.offset, size: p.filesz }))
      : this.sections().filter((s) => s.type === SHT_NOTE).map((s) => ({ offset: s.offset, size: s.size }));
    const out: ElfNote[] = [];
    for (const a of areas) out.push(...parseNotes(this.r.read(a.offset, Math.min(a.size, 64 * 1024 * 1024)), this.le));
    return out;
  }

  /** The file bytes of a symbol's value (e.g. a string such as linux_banner), or undefined. */
  symbolBytes(name: string, maxLength: number): Buffer | undefined {
    const symtab = this.sections().find((s) => s.type === SHT_SYMTAB);
    if (!symtab) return undefined;
    const strtab = this.sections()[symtab.link];
    if (!strtab) return undefined;
    const strs = this.r.read(strtab.offset, strtab.size);
    // Find the name's offset in the string table first: one indexOf, not a decode per symbol.
    const wanted = Buffer.from(`\0${name}\0`, 'latin1');
    const nameOffs = new Set<number>();
    for (let i = strs.indexOf(wanted); i >= 0; i = strs.indexOf(wanted, i + 1)) nameOffs.add(i + 1);
    if (nameOffs.size === 0) return undefined;
    const ent = symtab.entsize || (this.is64 ? 24 : 16);
    const syms = this.r.read(symtab.offset, symtab.size);
    for (let o = 0; o + ent <= syms.length; o += ent) {
      if (!nameOffs.has(this.u32(syms, o))) continue;
      const value = this.is64 ? this.big(syms, o + 8) : BigInt(this.u32(syms, o + 4));
      const shndx = this.is64 ? this.u16(syms, o + 6) : this.u16(syms, o + 14);
      const sec = this.sections()[shndx];
      if (!sec || sec.type === 8 /* NOBITS */) return undefined;
      return this.r.read(sec.offset + Number(value - sec.addrBig), maxLength);
    }
    return undefined;
  }
}

export function parseNotes(buf: Buffer, le = true): ElfNote[] {
  const out: ElfNote[] = [];
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const align = (n: number) => (n + 3) & ~3;
  let o = 0;
  while (o + 12 <= buf.length) {
    const namesz = u32(o);
    const descsz = u32(o + 4);
    const type = u32(o + 8);
    const nameStart = o + 12;
    const descStart = nameStart + align(namesz);
    const end = descStart + align(descsz);
    if (end > buf.length || (namesz === 0 && descsz === 0 && type === 0)) break;
    const name = buf.subarray(nameStart, nameStart + namesz).toString('latin1').replace(/\0+$/, '');
    out.push({ name, type, desc: buf.subarray(descStart, descStart + descsz) });
    o = end;
  }
  return out;
}

/** VMCOREINFO text (KEY=value lines) as a map; later keys win. */
export function parseVmcoreinfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).replace(/\0+$/, '');
  }
  return out;
}
