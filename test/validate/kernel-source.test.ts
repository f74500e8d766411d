import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { kconfigCache, linuxSource61 } from './helpers.js';
import { kernelFlow } from './kernel-corpus.js';
import { kdumpFragment } from '../../src/kernel/rules.js';
import { printFragment } from '../../src/kernel/fragment.js';
import { resolveWithKernel, readKconfigTree, treeKnowledge } from '../../src/kernel/kconfig.js';
import { cachedTreeKnowledge } from '../../src/kernel/kconfig-cache.js';
import { renderArchSymbols } from './arch-symbols-gen.js';
import { linuxSource612 } from './kernel-corpus.js';
import type { KernelArch } from '../../src/kernel/arch.js';

const seed = path.join(repoRoot, 'test/fixtures/kconfig/seed.cfg');
type F = { class: string; check: string; severity: string; file?: string; line?: number; symbol?: string; fix: string; message: string; details?: string[] };

function validate(args: string[]) {
  const r = runCli(['validate', ...args, '--format', 'json'], { env: { KDUMP_LAYER_CACHE: kconfigCache } });
  expect(r.stderr, r.stderr).to.equal('');
  return { code: r.code, report: JSON.parse(r.stdout) };
}

/** Every path in the tree with its size and mtime, to prove the tree is only read. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const n of fs.readdirSync(d).sort()) {
      const p = path.join(d, n);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory() && depth < 2) walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return out.join('\n');
}

describe('validate --kernel-source with Debian\'s linux-source-6.1 @slow', function () {
  this.timeout(900000);
  let tree: string;
  let before0: string;
  before(() => {
    tree = linuxSource61();
    before0 = snapshot(tree);
  });
  after(() => {
    // The tree must be exactly as unpacked: conf was built and run elsewhere.
    expect(snapshot(tree)).to.equal(before0);
    expect(fs.existsSync(path.join(tree, '.config'))).to.equal(false);
    expect(fs.existsSync(path.join(tree, 'scripts/kconfig/conf'))).to.equal(false);
  });

  it('the seed on x86_64: HIGHMEM4G invalid and DEBUG_INFO dropped, with where they are defined, what they depend on and what selects them', () => {
    const { code, report } = validate([seed, '--arch', 'x86_64', '--kernel-source', tree]);
    expect(code).to.equal(1);
    expect(report.mode).to.equal('kernel-source');
    expect(report.kernelSource.version).to.match(/^6\.1\.\d+$/);
    const errors: F[] = report.findings.filter((f: F) => f.severity === 'error');
    expect(errors.map((f) => [f.class, f.symbol, f.line])).to.deep.equal([['invalid', 'HIGHMEM4G', 5], ['not-in-effect', 'DEBUG_INFO', 9]]);
    const [highmem, debugInfo] = errors;
    expect(highmem.details!.join('\n')).to.match(/defined at arch\/x86\/Kconfig:\d+/).and.match(/depends on X86_32 — n here/).and.match(/choice "High Memory Support"/);
    expect(highmem.fix).to.match(/remove the line/);
    expect(debugInfo.details!.join('\n')).to.match(/defined at lib\/Kconfig\.debug:\d+/).and.match(/has no prompt/).and.match(/selected by: DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT/);
    expect(debugInfo.fix).to.match(/DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y/);
  });

  it('the seed on i386: HIGHMEM4G takes effect, DEBUG_INFO is still dropped on 6.1', () => {
    const { code, report } = validate([seed, '--arch', 'i386', '--kernel-source', tree]);
    expect(code).to.equal(1);
    expect(report.findings.filter((f: F) => f.symbol === 'HIGHMEM4G')).to.deep.equal([]);
    expect(report.findings.filter((f: F) => f.severity === 'error').map((f: F) => `${f.class}:${f.symbol}`)).to.deep.equal(['not-in-effect:DEBUG_INFO']);
  });

  for (const arch of ['x86_64', 'arm64', 'i386', 'arm', 'powerpc', 'powerpc64', 'riscv64'] as KernelArch[]) {
    it(`the generator's kdump.cfg for ${arch} 6.1 survives the kernel's own Kconfig: no finding at all`, () => {
      const { dir, cleanup } = tempDir();
      try {
        const cfg = path.join(dir, 'kdump.cfg');
        fs.writeFileSync(cfg, printFragment(kdumpFragment({ arch, kernelVersion: '6.1' })));
        const { code, report } = validate([cfg, '--arch', arch, '--kernel-source', tree]);
        expect(report.findings, JSON.stringify(report.findings, null, 1)).to.deep.equal([]);
        expect(code).to.equal(0);
      } finally {
        cleanup();
      }
    });
  }

  it('arm64 too: the seed resolves to the .config of the kernel\'s own make defconfig + merge_config.sh -m + make olddefconfig, byte for byte', async () => {
    const theirs = kernelFlow(tree, 'arm64', seed);
    const ours = await resolveWithKernel({ tree, arch: 'arm64', fragments: [{ file: 'seed.cfg', text: fs.readFileSync(seed, 'utf8') }], cacheDir: kconfigCache });
    expect(ours.text).to.equal(theirs);
    expect(theirs).to.match(/^# Linux\/arm64 6\.1\.\d+ Kernel Configuration$/m);
    expect(theirs.split('\n').length).to.be.greaterThan(3000);
  });

  it('judges by what the tree contains, not by a version it is told (vendor kernels with backports)', () => {
    const { report } = validate([seed, '--arch', 'x86_64', '--kernel-version', '5.10', '--kernel-source', tree]);
    const target = report.findings.find((f: F) => f.class === 'input');
    expect(target.message).to.match(/tree is Linux 6\.1\.\d+ but the target says 5\.10: judging by the tree/);
    const checks = report.checks.map((c: { id: string }) => c.id);
    expect(checks).to.include('kdump:debug-info-dwarf').and.not.include('kdump:debug-info');
    expect(report.findings.some((f: F) => f.symbol === 'DEBUG_INFO' && f.class === 'not-in-effect')).to.equal(true);
  });

  it('the cached Kconfig tree answers exactly as a fresh read of the real tree (exists, type, prompt, the why)', () => {
    const { dir, cleanup } = tempDir();
    try {
      const full = readKconfigTree(tree, 'x86_64');
      expect(full.defs.size).to.be.greaterThan(15000);
      const fresh = treeKnowledge(full);
      expect(cachedTreeKnowledge(tree, 'x86_64', dir).fromCache).to.equal(false);
      const cached = cachedTreeKnowledge(tree, 'x86_64', dir);
      expect(cached.fromCache).to.equal(true);
      const config = new Map([['DEBUG_KERNEL', { kind: 'y' as const }], ['KEXEC', { kind: 'y' as const }]]);
      let differ = 0;
      for (const s of new Set([...full.defs.keys(), ...full.selects.keys()])) {
        if (cached.hasSymbol(s) !== fresh.hasSymbol(s) || cached.symbolType(s) !== fresh.symbolType(s) || cached.hasPrompt(s) !== fresh.hasPrompt(s)) differ++;
      }
      expect(differ).to.equal(0);
      for (const s of ['DEBUG_INFO', 'KEXEC_CORE', 'RELOCATABLE', 'HIGHMEM4G', 'PHYSICAL_START', 'CRASH_DUMP', 'PROC_VMCORE', 'HZ_250', 'LOG_BUF_SHIFT']) {
        expect(cached.explain(s, config), s).to.deep.equal(fresh.explain(s, config));
        expect(cached.cause?.(s, { kind: 'n' }, config), s).to.deep.equal(fresh.cause?.(s, { kind: 'n' }, config));
      }
    } finally {
      cleanup();
    }
  });

  it('src/kernel/arch-symbols.ts is what the Kconfig files of linux-source-6.1 and -6.12 give (run `node scripts/gen-arch-symbols.mjs`)', () => {
    expect(fs.readFileSync(path.join(repoRoot, 'src/kernel/arch-symbols.ts'), 'utf8')).to.equal(renderArchSymbols([tree, linuxSource612()]));
  });

  it('a C compiler that is not there ($CC, $CROSS_COMPILE) is named before any Kconfig file is read', () => {
    for (const env of [{ CC: 'no-such-cc' }, { CROSS_COMPILE: 'aarch64-none-' }]) {
      const r = runCli(['validate', seed, '--arch', 'x86_64', '--kernel-source', tree], { env: { KDUMP_LAYER_CACHE: kconfigCache, ...env } });
      expect(r.code, r.stderr).to.equal(2);
      const name = env.CC ?? `${env.CROSS_COMPILE}gcc`;
      expect(r.stderr).to.include(`kdump-layer: error: C compiler '${name}' not found`).and.include(env.CC ? 'check $CC' : 'check $CROSS_COMPILE');
      expect(r.stderr).to.not.match(/\n\s+at /);
    }
  });

  it('a symbol no Kconfig file of the tree defines is invalid', () => {
    const { dir, cleanup } = tempDir();
    try {
      const cfg = path.join(dir, 'typo.cfg');
      fs.writeFileSync(cfg, 'CONFIG_KEXEC=y\nCONFIG_CRASH_DUMPS=y\n');
      const { report } = validate([cfg, '--arch', 'x86_64', '--kernel-source', tree]);
      const f = report.findings.find((x: F) => x.symbol === 'CRASH_DUMPS');
      expect(f).to.include({ class: 'invalid', severity: 'error', line: 2 });
      expect(f.message).to.match(/not defined by any Kconfig file of this kernel tree for x86_64/);
    } finally {
      cleanup();
    }
  });

  it('merges onto a given base .config (--config) instead of the defconfig', () => {
    const { dir, cleanup } = tempDir();
    try {
      const base = path.join(dir, 'base.config');
      fs.writeFileSync(base, '#\n# Linux/x86 6.1.0 Kernel Configuration\n#\nCONFIG_X86_64=y\n# CONFIG_KEXEC is not set\n# CONFIG_CRASH_DUMP is not set\n');
      const { code, report } = validate(['--config', base, '--arch', 'x86_64', '--kernel-source', tree]);
      expect(code).to.equal(1);
      expect(report.inputs).to.deep.equal([{ file: base, kind: 'base-config', entries: 3 }]);
      expect(report.findings.filter((f: F) => f.severity === 'error').map((f: F) => f.check)).to.include.members(['kexec-syscall', 'crash-dump']);
    } finally {
      cleanup();
    }
  });
});
