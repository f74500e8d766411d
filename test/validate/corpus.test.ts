import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { runValidate, archFromConfig } from '../../src/kernel/validate.js';
import { parseFragment } from '../../src/kernel/fragment.js';
import { SYMBOL_FACTS, archAbsence, lookupSymbol } from '../../src/kernel/rules.js';
import { parseKernelVersion } from '../../src/kernel/version.js';
import type { ValidateReport } from '../../src/report/types.js';
import { corpusDir } from './helpers.js';

/** Every real .config of the corpus, validated in-process (the CLI path is covered elsewhere). */
async function validateAll(sub: 'defconfigs' | 'distros'): Promise<Map<string, ValidateReport>> {
  const dir = path.join(corpusDir(), sub);
  const out = new Map<string, ValidateReport>();
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.config')).sort()) {
    out.set(name, await runValidate({ files: [path.join(dir, name)] }));
  }
  return out;
}

/** Every real .config of the corpus (upstream defconfigs and distribution kernels), parsed. */
function* corpusConfigs() {
  for (const sub of ['defconfigs', 'distros']) {
    const dir = path.join(corpusDir(), sub);
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.config'))) {
      const frag = parseFragment(fs.readFileSync(path.join(dir, name), 'utf8'), name);
      yield { name, frag, arch: archFromConfig(frag)!, version: parseKernelVersion(frag.header!.version) };
    }
  }
}

const errorChecks = (r: ValidateReport) => [...new Set(r.findings.filter((f) => f.severity === 'error').map((f) => f.check))].sort();

describe('validate on the real kernel config corpus', () => {
  let defconfigs: Map<string, ValidateReport>;
  let distros: Map<string, ValidateReport>;
  before(async function () {
    this.timeout(120000);
    defconfigs = await validateAll('defconfigs');
    distros = await validateAll('distros');
  });

  it('finds the corpus beside the repository (fails, not skips, when it is missing)', () => {
    expect(defconfigs.size).to.be.greaterThanOrEqual(50);
    expect(distros.size).to.be.greaterThanOrEqual(30);
  });

  it('takes arch and version from each .config header, as the file name says', () => {
    const archOf: Record<string, string> = { arm64: 'arm64', arm: 'arm', i386: 'i386', riscv: 'riscv64', x86_64: 'x86_64' };
    for (const [name, r] of defconfigs) {
      const m = /^(arm64|arm|i386|riscv|x86_64)_defconfig_(\d+\.\d+)\.config$/.exec(name)!;
      expect(r.target.arch, name).to.equal(archOf[m[1]]);
      expect(r.target.kernelVersion.startsWith(`${m[2]}.`), `${name}: ${r.target.kernelVersion}`).to.equal(true);
      expect(r.target.from).to.equal('config-header');
      expect(r.mode).to.equal('config');
    }
    for (const [name, r] of distros) {
      if (/aarch64|pixel|samsung/.test(name)) expect(r.target.arch, name).to.equal('arm64');
      if (/x86_64|rhel|nixpkgs/.test(name)) expect(r.target.arch, name).to.equal('x86_64');
      if (/riscv64/.test(name)) expect(r.target.arch, name).to.equal('riscv64');
    }
  });

  it('reads every real .config without a syntax error', () => {
    for (const [name, r] of [...defconfigs, ...distros]) {
      expect(r.findings.filter((f) => f.class === 'syntax' && f.severity === 'error'), name).to.deep.equal([]);
    }
  });

  it('passes the kdump-capable upstream defconfigs: x86_64 and i386 4.20–6.10, arm64 5.5–6.17', () => {
    for (const [name, r] of defconfigs) {
      if (/^(x86_64_|arm64_)/.test(name) || (/^i386_/.test(name) && !name.includes('6.17'))) {
        expect(errorChecks(r), name).to.deep.equal([]);
        expect(r.summary.exitCode, name).to.equal(0);
      }
    }
  });

  it('fails i386 6.17 defconfig: no HIGHMEM, so CRASH_DUMP and /proc/vmcore are gone', () => {
    expect(errorChecks(defconfigs.get('i386_defconfig_6.17.config')!)).to.deep.equal(['crash-dump', 'highmem-i386', 'proc-vmcore']);
  });

  it('fails riscv defconfigs, which have no kexec at all', () => {
    for (const [name, r] of defconfigs) {
      if (name.startsWith('riscv_')) expect(errorChecks(r), name).to.include.members(['kexec-syscall', 'crash-dump']);
    }
  });

  it('passes the distribution kernels that ship kdump, fails those that do not (Android, Arch hardened)', () => {
    const noKdump = ['Android_15_6.6_aarch64.config', 'Arch_hardened_x86_64.config', 'android_pixel-3a.config', 'android_pixel-7.config', 'android_samsung_s23.config'];
    for (const [name, r] of distros) {
      if (noKdump.includes(name)) {
        expect(errorChecks(r), name).to.include.members(['crash-dump', 'kexec-syscall']);
        expect(r.summary.exitCode, name).to.equal(1);
      } else {
        expect(errorChecks(r), name).to.deep.equal([]);
        expect(r.summary.exitCode, name).to.equal(0);
      }
    }
  });

  it('the symbol fact table never calls a symbol absent where a real .config has it', () => {
    const known = new Set(SYMBOL_FACTS.map((f) => f.symbol));
    let checked = 0;
    for (const { name, frag, arch, version } of corpusConfigs()) {
      for (const e of frag.entries) {
        if (!known.has(e.symbol)) continue;
        checked++;
        const look = lookupSymbol(e.symbol, arch, version);
        expect(look.known && look.exists, `${name}: CONFIG_${e.symbol} is in the .config, the fact table says ${look.known && !look.exists ? look.note : '?'}`).to.equal(true);
      }
    }
    expect(checked).to.be.greaterThan(1000);
  });

  it('the generated per-arch symbol table never calls a symbol absent where a real 6.1 or 6.12 .config of that arch has it (vendor kernels too)', () => {
    let checked = 0;
    const configs: string[] = [];
    for (const { name, frag, arch, version } of corpusConfigs()) {
      if (!['6.1', '6.12'].includes(`${version.major}.${version.minor}`)) continue;
      configs.push(name);
      for (const e of frag.entries) {
        checked++;
        const absent = archAbsence(e.symbol, arch, version);
        expect(absent, `${name}: CONFIG_${e.symbol} is in the .config, the table says only ${absent?.definedOn.join(', ')} define it`).to.equal(undefined);
      }
    }
    // The upstream 6.1 defconfigs of five arches, Debian 13 (6.12.43) and the RHEL-family 6.12 kernels.
    expect(configs.length).to.be.greaterThan(8);
    expect(checked).to.be.greaterThan(50000);
  });

  it('tells apart the debug info rule before and after 5.18 on real configs', () => {
    const checks = (n: string) => defconfigs.get(n)!.findings.map((f) => f.check);
    expect(checks('x86_64_defconfig_5.17.config')).to.include('debug-info').and.not.include('debug-info-dwarf');
    expect(checks('x86_64_defconfig_6.1.config')).to.include('debug-info-dwarf').and.not.include('debug-info');
  });
});
