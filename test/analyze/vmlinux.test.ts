import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { buildDirCandidates, chooseVmlinux, distributionCandidates, readVmlinuxIdentity, tmpDirs } from '../../src/dump/vmlinux.js';
import type { DumpIdentity } from '../../src/dump/vmcore.js';
import { tempDir } from '../helpers/cli.js';
import { makeFakeTmpdir, makeFakeVmlinux, stripCopy } from '../helpers/vmlinux.js';

const RELEASE = '6.1.0-99-test';

describe('analyze: the vmlinux for a dump', () => {
  let t: ReturnType<typeof tempDir>;
  let good: string;
  let stripped: string;
  let otherBuild: string;
  let otherRelease: string;
  before(function () {
    this.timeout(60_000);
    t = tempDir();
    good = makeFakeVmlinux(path.join(t.dir, 'v/good'), { release: RELEASE });
    stripped = stripCopy(good, path.join(t.dir, 'v/stripped'));
    otherBuild = makeFakeVmlinux(path.join(t.dir, 'v/other-build'), { release: RELEASE, salt: 'b', version: '#2 SMP PREEMPT_DYNAMIC Test 1.1' });
    otherRelease = makeFakeVmlinux(path.join(t.dir, 'v/other-release'), { release: '6.6.0-1-test' });
  });
  after(() => t.cleanup());

  const dumpOf = (file: string, extra: Partial<DumpIdentity> = {}): DumpIdentity => {
    const v = readVmlinuxIdentity(file);
    return { file: 'vmcore', bytes: 0, format: 'kdump', release: v.release, buildId: v.buildId, vmcoreinfo: {}, ...extra };
  };

  it('reads release, banner, build id and debug info from a real ELF built by gcc', () => {
    const v = readVmlinuxIdentity(good);
    expect(v.release).to.equal(RELEASE);
    expect(v.banner).to.match(/^Linux version 6\.1\.0-99-test \(builder@host\)/);
    expect(v.buildId).to.match(/^[0-9a-f]{40}$/);
    expect(v.debugInfo).to.equal(true);
    expect(readVmlinuxIdentity(stripped).debugInfo).to.equal(false);
    expect(readVmlinuxIdentity(stripped).buildId).to.equal(v.buildId);
  });

  it('picks the vmlinux whose build id matches and says why every other one was refused', () => {
    const dump = dumpOf(good);
    const choice = chooseVmlinux(dump, [
      { file: otherRelease, layout: 'a' }, { file: stripped, layout: 'b' }, { file: otherBuild, layout: 'c' }, { file: good, layout: 'd' },
    ]);
    expect(choice.chosen?.file).to.equal(good);
    const why = Object.fromEntries(choice.rejected.map((r) => [r.layout, r.reason]));
    expect(why.a).to.equal(`another release: vmlinux 6.6.0-1-test, dump ${RELEASE}`);
    expect(why.b).to.match(/^stripped: it has no debug info/);
    expect(why.c).to.match(/^another build of 6\.1\.0-99-test: build id [0-9a-f]{40} in the vmlinux, [0-9a-f]{40} in the dump$/);
  });

  it('without a build id in the dump, compares the dump header\'s uname -v with linux_banner', () => {
    const dump = dumpOf(good, { buildId: undefined, version: '#1 SMP PREEMPT_DYNAMIC Test 1.0' });
    expect(chooseVmlinux(dump, [{ file: otherBuild, layout: 'x' }]).rejected[0].reason).to.match(/^another build of .*"#1 SMP PREEMPT_DYNAMIC Test 1.0"/);
    expect(chooseVmlinux(dump, [{ file: good, layout: 'x' }]).chosen?.file).to.equal(good);
  });

  it('refuses what is not a vmlinux (a compressed kernel, a text file)', () => {
    const bz = path.join(t.dir, 'vmlinuz');
    fs.writeFileSync(bz, Buffer.concat([Buffer.from([0x4d, 0x5a]), Buffer.alloc(1000)]));
    const c = chooseVmlinux(dumpOf(good), [{ file: bz, layout: 'x' }]);
    expect(c.chosen).to.equal(undefined);
    expect(c.rejected[0].reason).to.match(/^not an ELF file \(a compressed vmlinuz\/bzImage\?/);
  });

  it('finds the kernel recipe\'s package/boot vmlinux in a build tree and skips the stripped deploy copy', () => {
    const root = path.join(t.dir, 'build');
    makeFakeTmpdir(root, 500, { vmlinux: good, release: RELEASE, stripped });
    expect(tmpDirs(root)).to.deep.equal([path.join(root, 'tmp')]);
    expect(tmpDirs(path.join(root, 'tmp'))).to.deep.equal([path.join(root, 'tmp')]);
    const cands = buildDirCandidates(root, RELEASE);
    expect(cands.map((c) => path.relative(root, c.file)).sort()).to.deep.equal([
      `tmp/deploy/images/qemux86-64/vmlinux-${RELEASE}`,
      `tmp/work/qemux86_64-poky-linux/linux-ops/6.1-r0/package/boot/vmlinux-${RELEASE}`,
      `tmp/work/qemux86_64-poky-linux/linux-ops/6.1-r0/packages-split/kernel-vmlinux/boot/vmlinux-${RELEASE}`,
    ]);
    // Hard links of one file count once; the stripped deploy copy is refused with the reason.
    const choice = chooseVmlinux(dumpOf(good), [...buildDirCandidates(root, RELEASE)].reverse());
    expect(choice.chosen?.identity.debugInfo).to.equal(true);
  });

  it('looks in the distribution layouts under a root: /usr/lib/debug/boot and the build-id tree', () => {
    const root = path.join(t.dir, 'sysroot');
    const v = readVmlinuxIdentity(good);
    fs.mkdirSync(path.join(root, 'usr/lib/debug/boot'), { recursive: true });
    fs.copyFileSync(good, path.join(root, `usr/lib/debug/boot/vmlinux-${RELEASE}`));
    fs.mkdirSync(path.join(root, `usr/lib/debug/.build-id/${v.buildId!.slice(0, 2)}`), { recursive: true });
    fs.copyFileSync(good, path.join(root, `usr/lib/debug/.build-id/${v.buildId!.slice(0, 2)}/${v.buildId!.slice(2)}.debug`));
    const c = distributionCandidates(RELEASE, v.buildId, root);
    expect(c.map((x) => x.layout)).to.deep.equal(['build-id link', 'distribution debug package']);
  });
});
