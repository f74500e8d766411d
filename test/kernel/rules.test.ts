import { expect } from 'chai';
import { KERNEL_ARCHES, type KernelArch } from '../../src/kernel/arch.js';
import { evaluate } from '../../src/kernel/check.js';
import { parseFragment, printFragment } from '../../src/kernel/fragment.js';
import { KDUMP_RULES, SYMBOL_FACTS, kdumpFragment, lookupSymbol } from '../../src/kernel/rules.js';
import { parseKernelVersion } from '../../src/kernel/version.js';

const symbolsOf = (arch: KernelArch, v: string) => kdumpFragment({ arch, kernelVersion: v }).map((e) => e.symbol);

function judge(arch: KernelArch, kernelVersion: string, text: string, file = 'kdump.cfg') {
  return evaluate({ arch, version: parseKernelVersion(kernelVersion), fragments: [parseFragment(text, file)] });
}

describe('kdump rule data', () => {
  it('has unique rule ids, and every rule and fact says why, how to fix and where it comes from', () => {
    const ids = KDUMP_RULES.map((r) => r.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const r of KDUMP_RULES) {
      expect(r.why, r.id).to.not.equal('');
      expect(r.fix, r.id).to.not.equal('');
      expect(r.source, r.id).to.not.equal('');
      expect(r.oneOf.length, r.id).to.be.greaterThan(0);
      if (r.fragment !== null) expect(r.fragment, r.id).to.be.lessThan(r.oneOf.length);
    }
    for (const f of SYMBOL_FACTS) expect(f.source, f.symbol).to.not.equal('');
  });

  it('the generator\'s fragment for x86_64 3.9.11 (linux-ops) uses DEBUG_INFO and the seed\'s PHYSICAL_START', () => {
    const frag = kdumpFragment({ arch: 'x86_64', kernelVersion: '3.9.11' });
    const syms = frag.map((e) => e.symbol);
    expect(syms).to.include.members(['KEXEC', 'CRASH_DUMP', 'PROC_VMCORE', 'RELOCATABLE', 'PHYSICAL_START', 'SYSFS', 'PROC_FS', 'DEBUG_INFO', 'KALLSYMS', 'MAGIC_SYSRQ']);
    expect(syms).to.not.include.members(['HIGHMEM4G', 'DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT']);
    expect(frag.find((e) => e.symbol === 'PHYSICAL_START')?.value).to.deep.equal({ kind: 'hex', value: '0x1000000' });
    for (const e of frag) expect(e.comment, e.symbol).to.be.a('string').and.not.equal('');
  });

  it('from 5.18 asks for the DWARF choice instead of DEBUG_INFO, which has no prompt there', () => {
    expect(symbolsOf('x86_64', '5.17.15')).to.include('DEBUG_INFO').and.not.include('DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT');
    expect(symbolsOf('x86_64', '5.18')).to.include('DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT').and.not.include('DEBUG_INFO');
    expect(symbolsOf('x86_64', '6.6')).to.include('DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT').and.not.include('DEBUG_INFO');
  });

  it('never writes PHYSICAL_START off x86, nor HIGHMEM4G off 32-bit x86', () => {
    for (const arch of KERNEL_ARCHES) {
      for (const v of ['4.19', '5.10', '6.1', '6.6', '6.12']) {
        const syms = symbolsOf(arch, v);
        expect(syms.includes('PHYSICAL_START'), `${arch} ${v}`).to.equal(arch === 'x86_64' || arch === 'i386');
        expect(syms.includes('HIGHMEM4G'), `${arch} ${v}`).to.equal(arch === 'i386');
      }
    }
  });

  it('accepts kernel-style versions (6.1.0-56-amd64)', () => {
    expect(symbolsOf('x86_64', '6.1.0-56-amd64')).to.deep.equal(symbolsOf('x86_64', '6.1'));
  });

  // The generator renders kdump.cfg from kdumpFragment; it must validate clean for the machines it builds.
  const generatorTargets: [KernelArch, string][] = [['x86_64', '3.9.11'], ['x86_64', '6.6'], ['arm64', '6.6']];
  for (const [arch, v] of generatorTargets) {
    it(`the generator's kdump.cfg for ${arch} ${v} validates with no finding at all`, () => {
      const r = judge(arch, v, printFragment(kdumpFragment({ arch, kernelVersion: v })));
      expect(r.findings, JSON.stringify(r.findings, null, 1)).to.deep.equal([]);
      expect(r.checks.every((c) => c.status === 'pass')).to.equal(true);
    });
  }

  it('kdumpFragment validates without errors or warnings on every arch where kdump exists, 4.19 to 6.17', () => {
    const supported = (arch: KernelArch, v: string) => {
      const look = lookupSymbol('CRASH_DUMP', arch, parseKernelVersion(v));
      return look.known && look.exists;
    };
    let judged = 0;
    for (const arch of KERNEL_ARCHES) {
      for (const v of ['4.19', '5.4', '5.10', '5.15', '5.18', '6.1', '6.6', '6.9', '6.12', '6.17']) {
        if (!supported(arch, v)) continue;
        judged++;
        const r = judge(arch, v, printFragment(kdumpFragment({ arch, kernelVersion: v })));
        expect(r.findings.filter((f) => f.severity !== 'info'), `${arch} ${v}`).to.deep.equal([]);
      }
    }
    expect(judged).to.be.greaterThan(50);
  });

  it('flags the seed fragment on x86_64 6.1: HIGHMEM4G does not exist; DEBUG_INFO does nothing by itself and its fate is the base\'s', () => {
    const seed = 'CONFIG_LOCALVERSION="-kdump"\nCONFIG_PHYSICAL_START=0x1000000\nCONFIG_SYSFS=y\nCONFIG_HIGHMEM4G=y\nCONFIG_RELOCATABLE=y\nCONFIG_INITRAMFS_SOURCE=""\nCONFIG_KEXEC=y\nCONFIG_DEBUG_INFO=y\nCONFIG_CRASH_DUMP=y\n';
    const r = judge('x86_64', '6.1', seed, 'seed.cfg');
    const errors = r.findings.filter((f) => f.severity === 'error');
    expect(errors.map((f) => [f.class, f.symbol, f.line])).to.deep.equal([['invalid', 'HIGHMEM4G', 4]]);
    expect(errors[0].fix).to.match(/remove the line/);
    // A DWARF choice member in the base selects DEBUG_INFO, so the line may end y or not: a note, and unchecked.
    const note = r.findings.find((f) => f.symbol === 'DEBUG_INFO')!;
    expect([note.severity, note.class, note.line]).to.deep.equal(['info', 'not-in-effect', 8]);
    expect(note.message).to.match(/does nothing by itself.*no fragment sets CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT or CONFIG_DEBUG_INFO_DWARF4 or CONFIG_DEBUG_INFO_DWARF5, so the base config decides/);
    expect(note.fix).to.match(/CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y/);
    expect(r.lines.unchecked.map((u) => u.line)).to.include(8);
    // With a DWARF member set, it takes effect (checked, nothing to say).
    const dwarf = judge('x86_64', '6.1', 'CONFIG_DEBUG_KERNEL=y\nCONFIG_DEBUG_INFO_DWARF5=y\nCONFIG_DEBUG_INFO=y\n');
    expect(dwarf.findings.filter((f) => f.symbol === 'DEBUG_INFO')).to.deep.equal([]);
    expect(dwarf.lines.unchecked.map((u) => u.symbol)).to.not.include('DEBUG_INFO');
  });

  it('KEXEC_CORE=y alone: the base may select it (x86_64_defconfig has KEXEC=y), so a note; with KEXEC and KEXEC_FILE off, an error', () => {
    const alone = judge('x86_64', '6.1', 'CONFIG_KEXEC_CORE=y\n');
    expect(alone.findings.filter((f) => f.symbol === 'KEXEC_CORE').map((f) => [f.severity, f.check])).to.deep.equal([['info', 'not-settable']]);
    expect(alone.lines.unchecked.map((u) => u.symbol)).to.deep.equal(['KEXEC_CORE']);
    const off = judge('x86_64', '6.1', '# CONFIG_KEXEC is not set\n# CONFIG_KEXEC_FILE is not set\nCONFIG_KEXEC_CORE=y\n');
    const f = off.findings.find((x) => x.symbol === 'KEXEC_CORE' && x.class === 'not-in-effect')!;
    expect([f.severity, f.effective]).to.deep.equal(['error', 'CONFIG_KEXEC_CORE=n: CONFIG_KEXEC and CONFIG_KEXEC_FILE are off here']);
    expect(judge('x86_64', '6.1', 'CONFIG_KEXEC=y\nCONFIG_KEXEC_CORE=y\n').lines.unchecked).to.deep.equal([]);
  });

  it('a symbol only other arches define is invalid on this one, from the Kconfig files of the 6.1 and 6.12 series', () => {
    const x = judge('x86_64', '6.1', 'CONFIG_CPU_BIG_ENDIAN=y\nCONFIG_ARM64_VA_BITS_48=y\n# CONFIG_ARM64_64K_PAGES is not set\n');
    expect(x.findings.filter((f) => f.class === 'invalid').map((f) => [f.symbol, f.severity])).to.deep.equal([
      ['CPU_BIG_ENDIAN', 'error'], ['ARM64_VA_BITS_48', 'error'], ['ARM64_64K_PAGES', 'info'],
    ]);
    expect(x.findings.find((f) => f.symbol === 'ARM64_VA_BITS_48')!.message).to.equal(
      'CONFIG_ARM64_VA_BITS_48 is not defined by any Kconfig file of Linux 6.1 for x86_64 (only for arm64), so Kconfig ignores the line');
    expect(x.lines.unchecked).to.deep.equal([]);
    // Where the arch has it, or the series is not in the table, nothing is claimed.
    expect(judge('arm64', '6.12', 'CONFIG_ARM64_VA_BITS_48=y\n').findings.filter((f) => f.class === 'invalid')).to.deep.equal([]);
    expect(judge('x86_64', '5.10', 'CONFIG_ARM64_VA_BITS_48=y\n').findings.filter((f) => f.class === 'invalid')).to.deep.equal([]);
  });

  it('a value outside the range Kconfig gives the symbol is dropped for the default (PHYSICAL_ALIGN on x86_64 and i386, LOG_BUF_SHIFT)', () => {
    const x = judge('x86_64', '6.1', 'CONFIG_PHYSICAL_ALIGN=0x1000\nCONFIG_LOG_BUF_SHIFT=30\n');
    expect(x.findings.filter((f) => f.check === 'range').map((f) => [f.symbol, f.line, f.severity])).to.deep.equal([['PHYSICAL_ALIGN', 1, 'error'], ['LOG_BUF_SHIFT', 2, 'error']]);
    expect(x.findings.find((f) => f.symbol === 'PHYSICAL_ALIGN')!.message).to.match(/range 0x200000 0x1000000 on x86_64/);
    // 0x2000 is in range on 32-bit x86 only; in-range values are not range findings.
    expect(judge('i386', '6.1', 'CONFIG_PHYSICAL_ALIGN=0x2000\nCONFIG_LOG_BUF_SHIFT=18\n').findings.filter((f) => f.check === 'range')).to.deep.equal([]);
    expect(judge('x86_64', '6.1', 'CONFIG_PHYSICAL_ALIGN=0x2000\n').findings.filter((f) => f.check === 'range').length).to.equal(1);
  });

  it('since 6.9 reports CRASH_DUMP without KEXEC or KEXEC_FILE (arm64 6.12)', () => {
    const r = judge('arm64', '6.12', 'CONFIG_CRASH_DUMP=y\nCONFIG_PROC_VMCORE=y\n');
    const f = r.findings.find((x) => x.check === 'kexec-syscall');
    expect(f?.severity).to.equal('error');
    expect(f?.expected).to.equal('CONFIG_KEXEC=y or CONFIG_KEXEC_FILE=y');
    expect(f?.message).to.match(/6\.9/);
  });

  it('warns about a PHYSICAL_START that is not a multiple of PHYSICAL_ALIGN', () => {
    const r = judge('x86_64', '6.6', printFragment(kdumpFragment({ arch: 'x86_64', kernelVersion: '6.6' })).replace('0x1000000', '0x100000'));
    const f = r.findings.find((x) => x.check === 'physical-start');
    expect(f).to.include({ severity: 'warning', symbol: 'PHYSICAL_START' });
    expect(f?.message).to.match(/0x200000/);
  });

  it('a hex symbol given in decimal is read as hex by Kconfig, and says so', () => {
    const r = judge('x86_64', '6.6', 'CONFIG_PHYSICAL_START=16777216\n');
    const f = r.findings.find((x) => x.check === 'type');
    expect(f?.message).to.match(/reads it as 0x16777216/);
    expect(f?.fix).to.match(/0x1000000/);
  });

  it('a bool given m or a string is a type error', () => {
    const r = judge('x86_64', '6.6', 'CONFIG_KEXEC=m\nCONFIG_CRASH_DUMP="y"\nCONFIG_LOCALVERSION=y\n');
    expect(r.findings.filter((f) => f.check === 'type').map((f) => [f.symbol, f.severity])).to.deep.equal([
      ['KEXEC', 'error'], ['CRASH_DUMP', 'error'], ['LOCALVERSION', 'error'],
    ]);
  });
});
