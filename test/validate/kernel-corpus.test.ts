import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { kconfigCache, linuxSource61 } from './helpers.js';
import { arm64ConfigFragments, flaggedLines, kernelCorpus, kernelFlowRun, linesKernelDrops, linuxSource612 } from './kernel-corpus.js';
import type { KernelArch } from '../../src/kernel/arch.js';
import { runValidate } from '../../src/kernel/validate.js';
import { buildConf, mergeConfig, resolveWithKernel } from '../../src/kernel/kconfig.js';
import type { ValidateReport } from '../../src/report/types.js';

const TREES: [string, () => string][] = [['6.1', linuxSource61], ['6.12', linuxSource612]];
// x86_64 on both trees; arm64 on 6.1, with samples of two real arm64 configs added to the corpus.
const RUNS: [string, () => string, KernelArch][] = [['6.1', linuxSource61, 'x86_64'], ['6.12', linuxSource612, 'x86_64'], ['6.1', linuxSource61, 'arm64']];

for (const [series, treeOf, arch] of RUNS) {
  describe(`tree mode is the kernel: Debian's linux-source-${series}, ${arch}, the whole fragment corpus${arch === 'arm64' ? ' and arm64 config samples' : ''} @slow`, function () {
    this.timeout(1800000);
    const corpus = arch === 'arm64' ? [...kernelCorpus(), ...arm64ConfigFragments()] : kernelCorpus();
    const reports = new Map<string, ValidateReport>();
    const kernel = new Map<string, { config: string; unread: string[] }>();
    let tree: string;
    before(() => {
      tree = treeOf();
    });

    it('resolves every fragment to the .config of make defconfig + merge_config.sh -m + make olddefconfig, byte for byte', async () => {
      expect(corpus.length).to.be.greaterThanOrEqual(20);
      const { dir, cleanup } = tempDir();
      try {
        const differ: string[] = [];
        for (const f of corpus) {
          const flow = kernelFlowRun(tree, arch, f.file);
          kernel.set(f.name, flow);
          const out = path.join(dir, 'resolved.config');
          reports.set(f.name, await runValidate({ files: [f.file], arch, kernelSource: tree, writeConfig: out, cacheDir: kconfigCache }));
          if (fs.readFileSync(out, 'utf8') !== flow.config) differ.push(f.name);
        }
        expect(differ).to.deep.equal([]);
        expect([...kernel.values()].every((t) => t.config.split('\n').length > 3000)).to.equal(true);
        // conf's own "unexpected data" warnings are read (the ground truth below counts those lines as dropped).
        expect(kernel.get('fixture:malformed.cfg')!.unread).to.include('\uFEFFCONFIG_KEXEC_FILE=y');
      } finally {
        cleanup();
      }
    });

    it('flags exactly the lines the kernel drops: precision and recall 1.00', () => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      const wrong: string[] = [];
      for (const f of corpus) {
        const flow = kernel.get(f.name)!;
        const truth = linesKernelDrops(fs.readFileSync(f.file, 'utf8'), flow.config, flow.unread);
        const flagged = flaggedLines(reports.get(f.name)!, f.file);
        for (const line of truth.asks.keys()) {
          const d = truth.dropped.has(line);
          const g = flagged.has(line);
          if (d && g) tp++;
          else if (g) { fp++; wrong.push(`${f.name}:${line} flagged, but the kernel kept it`); }
          else if (d) { fn++; wrong.push(`${f.name}:${line} dropped by the kernel, not flagged`); }
        }
      }
      expect(wrong).to.deep.equal([]);
      expect(tp).to.be.greaterThan(30);
      expect({ fp, fn }).to.deep.equal({ fp: 0, fn: 0 });
    });
  });
}

/**
 * Every malformed-line case, checked against the kernel's own reader: conf runs on
 * test/fixtures/kconfig/kernel/malformed.cfg merged into the defconfig, and for each line we
 * compare conf's own warning (or its silence), the value the line gave, and validate's finding.
 */
type Case = { line: number; kernel: RegExp | null; check: string; severity: string; final: [string, string | null] };
const CASES = (series: string): Case[] => [
  { line: 1, kernel: /unexpected data: \uFEFFCONFIG_KEXEC_FILE=y/, check: 'byte-order-mark', severity: 'error', final: ['KEXEC_FILE', null] },
  { line: 3, kernel: /symbol value 'Y' invalid for KEXEC$/, check: 'bad-value', severity: 'error', final: ['KEXEC', null] },
  { line: 4, kernel: null, check: 'first-letter', severity: 'info', final: ['MAGIC_SYSRQ', 'y'] },
  { line: 5, kernel: null, check: 'first-letter', severity: 'info', final: ['IKCONFIG', 'm'] },
  { line: 6, kernel: /symbol value 'module' invalid for CRASH_DUMP$/, check: 'type', severity: 'error', final: ['CRASH_DUMP', null] },
  { line: 7, kernel: /symbol value '16 # smaller' invalid for LOG_BUF_SHIFT$/, check: 'trailing-text', severity: 'error', final: ['LOG_BUF_SHIFT', '17'] },
  { line: 8, kernel: null, check: 'bad-quoting', severity: 'error', final: ['LOCALVERSION', '""'] },
  { line: 9, kernel: null, check: 'type', severity: 'error', final: ['DEFAULT_HOSTNAME', '"(none)"'] },
  { line: 10, kernel: null, check: 'two-settings', severity: 'error', final: ['IKHEADERS', 'm'] },
  { line: 11, kernel: null, check: 'type', severity: 'info', final: ['PHYSICAL_ALIGN', '400000'] }, // written as given: 400000 is 0x400000
  { line: 12, kernel: null, check: 'crlf', severity: 'info', final: ['MODULES', 'y'] },
  { line: 13, kernel: null, check: 'whitespace', severity: 'error', final: ['EXPERT', null] },
  { line: 14, kernel: /unexpected data: +CONFIG_BTRFS_FS=y/, check: 'whitespace', severity: 'error', final: ['BTRFS_FS', null] },
  { line: 15, kernel: /unexpected data: KPROBES=n/, check: 'missing-prefix', severity: 'error', final: ['KPROBES', 'y'] },
  series === '6.1'
    // merge_config.sh keeps the base's CONFIG_SWAP=y (it removes only the exact form); 6.1 reads this line later: it wins.
    ? { line: 16, kernel: /override: reassigning to symbol SWAP$/, check: 'trailing-text', severity: 'info', final: ['SWAP', null] }
    : { line: 16, kernel: null, check: 'trailing-text', severity: 'error', final: ['SWAP', 'y'] },
  { line: 17, kernel: null, check: 'bad-quoting', severity: 'warning', final: ['INITRAMFS_SOURCE', '"a"'] },
  { line: 18, kernel: /invalid string found/, check: 'bad-quoting', severity: 'error', final: ['MODPROBE_PATH', '"/sbin/modprobe"'] },
  { line: 19, kernel: /symbol value '0016' invalid for NR_CPUS$/, check: 'type', severity: 'error', final: ['NR_CPUS', '64'] },
  { line: 20, kernel: /symbol value ' 13' invalid for LOG_CPU_MAX_BUF_SHIFT$/, check: 'whitespace', severity: 'error', final: ['LOG_CPU_MAX_BUF_SHIFT', '12'] },
  { line: 21, kernel: null, check: 'commented-assignment', severity: 'warning', final: ['FTRACE', 'y'] },
  { line: 22, kernel: /symbol value 'Y' invalid for HZ_100$/, check: 'bad-value', severity: 'error', final: ['HZ_100', null] },
  { line: 23, kernel: null, check: 'trailing-text', severity: 'info', final: ['PRINTK_TIME', null] },
];

for (const [series, treeOf] of TREES) {
  describe(`every malformed line is judged as the kernel's own reader (conf) reads it: linux-source-${series} @slow`, function () {
    this.timeout(900000);
    const fixture = path.resolve('test/fixtures/kconfig/kernel/malformed.cfg');
    let warnings: Map<number, string[]>;
    let final: Map<string, string>;
    let report: ValidateReport;
    before(async () => {
      const tree = treeOf();
      const text = fs.readFileSync(fixture, 'utf8');
      const resolved = await resolveWithKernel({ tree, arch: 'x86_64', fragments: [{ file: fixture, text }], cacheDir: kconfigCache });
      // conf numbers the merged file's lines: the fragment is its last lines.
      const merged = mergeConfig(fs.readFileSync(buildConf(path.resolve(tree), 'x86_64', kconfigCache).defconfig, 'utf8'), [{ text }]);
      const first = merged.split('\n').length - 1 - text.split('\n').length + 2;
      warnings = new Map();
      for (const w of resolved.warnings) {
        const m = /^\.config:(\d+):warning: (.*)$/.exec(w);
        if (!m) continue;
        const line = Number(m[1]) - first + 1;
        warnings.set(line, [...(warnings.get(line) ?? []), m[2]]);
      }
      final = new Map();
      for (const l of resolved.text.split('\n')) {
        const m = /^CONFIG_(\w+)=(.*)$/.exec(l);
        if (m) final.set(m[1], m[2]);
      }
      report = await runValidate({ files: [fixture], arch: 'x86_64', kernelSource: tree, cacheDir: kconfigCache });
    });

    for (const c of CASES(series)) {
      it(`line ${c.line}: ${c.kernel ? `conf warns ${c.kernel.source}` : 'conf says nothing'}; ${c.final[0]} ends ${c.final[1] ?? 'unset'}; validate: ${c.check} (${c.severity})`, () => {
        const got = warnings.get(c.line) ?? [];
        if (c.kernel) {
          expect(got.length, JSON.stringify(got)).to.equal(1);
          expect(got[0]).to.match(c.kernel);
        } else {
          expect(got).to.deep.equal([]);
        }
        expect(final.get(c.final[0]) ?? null).to.equal(c.final[1]);
        const ours = report.findings.filter((f) => f.file === fixture && f.line === c.line);
        const hit = ours.find((f) => f.check === c.check);
        expect(hit, JSON.stringify(ours)).to.not.equal(undefined);
        expect(hit!.severity).to.equal(c.severity);
        // Nothing on the line is worse than the kernel's verdict: a line the kernel reads as meant is never an error.
        if (c.severity === 'info') expect(ours.filter((f) => f.severity !== 'info' && f.class !== 'kdump')).to.deep.equal([]);
        // Where conf complains about a value, the finding quotes the same text.
        const quoted = /symbol value '([^']*)'/.exec(got[0] ?? '')?.[1];
        if (quoted !== undefined) expect(ours.map((f) => f.message).join('\n')).to.contain(`'${quoted}'`);
        if (got[0] && /unexpected data|invalid string found/.test(got[0])) expect(ours.map((f) => f.message).join('\n')).to.match(/unexpected data|invalid string found/);
      });
    }
  });
}
