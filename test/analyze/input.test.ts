import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { InputError, openInput } from '../../src/dump/input.js';
import { DumpFormatError, identifyVmcore } from '../../src/dump/vmcore.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { makeFakeVmlinux } from '../helpers/vmlinux.js';

/** Archives made by tar(1) as the runtime makes them: one directory with vmcore and metadata. */
describe('analyze: reading archives and dump files', () => {
  let t: ReturnType<typeof tempDir>;
  let archive: string;
  const name = 'kdump-20260321-101502-3f2a9c01';
  before(() => {
    t = tempDir();
    const dir = path.join(t.dir, 'src', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'vmcore'), Buffer.alloc(300_000, 7));
    fs.writeFileSync(path.join(dir, 'metadata.txt'), 'name=x\nresult=complete-with-warnings:release_info\nos_BUILD_ID="42"\n');
    fs.writeFileSync(path.join(dir, 'os-release'), 'PRETTY_NAME="Switch OS 1.0"\nBUILD_ID=42\n');
    archive = path.join(t.dir, `${name}.tar.gz`);
    const r = spawnSync('tar', ['-czf', archive, '-C', path.join(t.dir, 'src'), name]);
    expect(r.status).to.equal(0);
  });
  after(() => t.cleanup());

  it('unpacks a good archive, reads its metadata and os-release, and removes its temporary copy on close', async () => {
    const input = await openInput(archive);
    expect(input.kind).to.equal('archive');
    expect(input.name).to.equal(name);
    expect(input.state).to.equal('complete-with-warnings');
    expect(input.stateDetail).to.equal('steps that failed: release_info');
    expect(input.osRelease.PRETTY_NAME).to.equal('Switch OS 1.0');
    expect(fs.readFileSync(input.vmcore).equals(Buffer.alloc(300_000, 7))).to.equal(true);
    const tmp = path.dirname(path.dirname(input.vmcore));
    input.close();
    expect(fs.existsSync(tmp)).to.equal(false);
  });

  it('refuses a truncated or corrupted archive, naming it', async () => {
    const bytes = fs.readFileSync(archive);
    const cut = path.join(t.dir, 'cut.tar.gz');
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const bad = path.join(t.dir, 'bad.tar.gz');
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(bad, flipped);
    for (const f of [cut, bad]) {
      const e = await openInput(f).then(() => undefined, (x: unknown) => x);
      expect(e, f).to.be.instanceOf(InputError);
      expect((e as Error).message).to.match(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: corrupt or truncated archive: `));
    }
  });

  it('through the CLI: exit 2 with the reason for a cut archive, a dump of unknown format and a vmlinux given as dump', () => {
    const cut = path.join(t.dir, 'cut2.tar.gz');
    const whole = fs.readFileSync(archive);
    fs.writeFileSync(cut, whole.subarray(0, whole.length - 9));
    const a = runCli(['analyze', cut, '--info']);
    expect(a.code).to.equal(2);
    expect(a.stderr).to.match(/corrupt or truncated archive/);
    expect(a.stderr).to.not.match(/\n\s+at /);
    const r = runCli(['analyze', archive, '--info']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/vmcore: unknown dump format: not a kernel dump format analyze knows \(kdump-compressed, ELF, flattened\): it starts with bytes 0707070707070707/);
    const v = makeFakeVmlinux(path.join(t.dir, 'vmlinux'), { release: '6.1.0-1-test' });
    const e = runCli(['analyze', v, '--info']);
    expect(e.code).to.equal(2);
    expect(e.stderr).to.match(/an ELF file but not a core dump \(e_type 2\); is this a vmlinux\?/);
  });

  it('an unpacked .incomplete directory is an incomplete dump; an empty file is no dump', async () => {
    const dir = path.join(t.dir, `${name}.incomplete`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'vmcore'), 'x');
    fs.writeFileSync(path.join(dir, 'metadata.txt'), 'name=x\n');
    const input = await openInput(dir);
    expect(input.state).to.equal('incomplete');
    const empty = path.join(t.dir, 'empty');
    fs.writeFileSync(empty, '');
    expect(() => identifyVmcore(empty)).to.throw(DumpFormatError, /the file is empty/);
  });
});

/** An ELF core file laid out as /proc/vmcore is: ELF header, PT_NOTE with VMCOREINFO, one PT_LOAD. */
function elfCore(vmcoreinfo: string, loadBytes: number, writtenLoadBytes: number): Buffer {
  const name = Buffer.from('VMCOREINFO\0');
  const desc = Buffer.from(vmcoreinfo);
  const pad = (n: number) => (n + 3) & ~3;
  const note = Buffer.alloc(12 + pad(name.length) + pad(desc.length));
  note.writeUInt32LE(name.length, 0);
  note.writeUInt32LE(desc.length, 4);
  note.writeUInt32LE(0, 8);
  name.copy(note, 12);
  desc.copy(note, 12 + pad(name.length));
  const h = Buffer.alloc(64 + 2 * 56);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(h);
  h.writeUInt16LE(4, 16); // ET_CORE
  h.writeUInt16LE(62, 18); // x86_64
  h.writeUInt32LE(1, 20);
  h.writeBigUInt64LE(64n, 32); // phoff
  h.writeUInt16LE(64, 52);
  h.writeUInt16LE(56, 54);
  h.writeUInt16LE(2, 56);
  const noteOff = h.length;
  const loadOff = noteOff + note.length;
  h.writeUInt32LE(4, 64); // PT_NOTE
  h.writeBigUInt64LE(BigInt(noteOff), 64 + 8);
  h.writeBigUInt64LE(BigInt(note.length), 64 + 32);
  h.writeUInt32LE(1, 120); // PT_LOAD
  h.writeBigUInt64LE(BigInt(loadOff), 120 + 8);
  h.writeBigUInt64LE(0xffffffff81000000n, 120 + 16);
  h.writeBigUInt64LE(BigInt(loadBytes), 120 + 32);
  h.writeBigUInt64LE(BigInt(loadBytes), 120 + 40);
  return Buffer.concat([h, note, Buffer.alloc(writtenLoadBytes)]);
}

describe('analyze: ELF vmcores', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => {
    t = tempDir();
  });
  after(() => t.cleanup());
  const info = 'OSRELEASE=6.1.0-57-amd64\nBUILD-ID=6a2b4ac77585b8cf102cba771300e573c8489b69\nPAGESIZE=4096\nCRASHTIME=1764603771\n';

  it('reads release, build id, page size and crash time from the VMCOREINFO note; prints the gdb command', () => {
    const f = path.join(t.dir, 'vmcore');
    fs.writeFileSync(f, elfCore(info, 8192, 8192));
    const id = identifyVmcore(f);
    expect(id).to.include({ format: 'elf', machine: 'x86_64', release: '6.1.0-57-amd64', buildId: '6a2b4ac77585b8cf102cba771300e573c8489b69', pageSize: 4096, crashTime: '2025-12-01T15:42:51Z' });
    expect(id.incomplete).to.equal(undefined);
    const r = runCli(['analyze', f, '--info', '--format', 'json']);
    expect(JSON.parse(r.stdout).gdbCommand).to.equal(`gdb vmlinux-6.1.0-57-amd64 ${f}`);
    expect(runCli(['analyze', f, '--to-elf', path.join(t.dir, 'x')]).stderr).to.match(/the dump is ELF already/);
  });

  it('a copy that stopped short is incomplete, said first', () => {
    const f = path.join(t.dir, 'vmcore.cut');
    fs.writeFileSync(f, elfCore(info, 8192, 1000));
    const r = runCli(['analyze', f, '--info']);
    expect(r.code).to.equal(0);
    expect(r.stdout.split('\n')[0]).to.match(/^warning: incomplete vmcore: the file is \d+ bytes but its memory segments end at byte \d+ \(truncated\)$/);
  });
});
