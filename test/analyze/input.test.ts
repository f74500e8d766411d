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
