import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';

const fixtures = path.join(repoRoot, 'test/fixtures/kconfig');
const seed = path.join(fixtures, 'seed.cfg');
const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas/validate-report.schema.json'), 'utf8'));
const ajv = new Ajv.default({ allErrors: true, strict: true });
const validateSchema = ajv.compile(schema);

/** Runs validate with --format json and checks the output against the published schema. */
function json(args: string[], opts: { cwd?: string } = {}) {
  const r = runCli(['validate', ...args, '--format', 'json'], opts);
  expect(r.stderr, r.stderr).to.equal('');
  const report = JSON.parse(r.stdout);
  expect(validateSchema(report), JSON.stringify(validateSchema.errors)).to.equal(true);
  expect(report.summary.exitCode).to.equal(r.code);
  return { code: r.code, report };
}

type F = { class: string; check: string; severity: string; file?: string; line?: number; symbol?: string; fix: string; message: string; requested?: string; effective?: string };

describe('kdump-layer validate (CLI)', () => {
  it('the seed fragment on x86_64 6.1 fails on the line Kconfig drops, and leaves DEBUG_INFO (whose fate is the base\'s) unchecked, with its fix', () => {
    const { code, report } = json([seed, '--arch', 'x86_64', '--kernel-version', '6.1']);
    expect(code).to.equal(1);
    const errors: F[] = report.findings.filter((f: F) => f.severity === 'error');
    expect(errors.map((f) => [f.class, f.symbol, f.file, f.line])).to.deep.equal([['invalid', 'HIGHMEM4G', seed, 5]]);
    expect(errors[0].requested).to.equal('CONFIG_HIGHMEM4G=y');
    expect(errors[0].message).to.match(/32-bit x86/);
    const debugInfo: F = report.findings.find((f: F) => f.symbol === 'DEBUG_INFO');
    expect([debugInfo.severity, debugInfo.line]).to.deep.equal(['info', 9]);
    expect(debugInfo.fix).to.match(/DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y/);
    expect(report.unchecked.map((u: { line: number }) => u.line)).to.deep.equal([9]);
    expect(report.summary.verdict).to.equal('fail');
    expect(report.target).to.deep.equal({ arch: 'x86_64', kernelVersion: '6.1.0', from: 'options' });
    expect(report.mode).to.equal('fragments');
  });

  it('the seed fragment on i386 3.9 passes (warnings only)', () => {
    const { code, report } = json([seed, '--arch', 'i386', '--kernel-version', '3.9']);
    expect(code).to.equal(0);
    expect(report.summary.errors).to.equal(0);
    expect(report.findings.map((f: F) => f.check)).to.include('magic-sysrq');
  });

  it('--werror makes warnings fail', () => {
    const r = runCli(['validate', seed, '--arch', 'i386', '--kernel-version', '3.9', '--werror']);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/--werror/);
  });

  it('--machine as5712 takes x86_64 and 3.9.11 from the machine profile', () => {
    const { code, report } = json([seed, '--machine', 'as5712']);
    expect(report.target).to.deep.equal({ arch: 'x86_64', kernelVersion: '3.9.11', from: 'machine', machine: 'as5712' });
    expect(code).to.equal(1);
    expect(report.findings.filter((f: F) => f.severity === 'error').map((f: F) => f.symbol)).to.deep.equal(['HIGHMEM4G']);
  });

  it('an arm64 6.12 fragment with CRASH_DUMP but no KEXEC* fails', () => {
    const { code, report } = json([path.join(fixtures, 'arm64-crash-dump-no-kexec.cfg'), '--arch', 'arm64', '--kernel-version', '6.12.8']);
    expect(code).to.equal(1);
    const f = report.findings.find((x: F) => x.check === 'kexec-syscall');
    expect(f).to.include({ severity: 'error', class: 'kdump', file: path.join(fixtures, 'arm64-crash-dump-no-kexec.cfg') });
    expect(f.fix).to.match(/CONFIG_KEXEC=y/);
  });

  it('two fragments that redefine a symbol: names both lines and which one wins', () => {
    const a = path.join(fixtures, 'redefine-a.cfg');
    const b = path.join(fixtures, 'redefine-b.cfg');
    const { report } = json([a, b, '--arch', 'x86_64', '--kernel-version', '6.6']);
    const redefs: F[] = report.findings.filter((f: F) => f.class === 'redefinition');
    expect(redefs.map((f) => [f.symbol, f.file, f.line])).to.deep.equal([['MAGIC_SYSRQ', b, 2]]);
    expect(redefs[0].message).to.contain(`${a}:3`).and.contain('wins: n');
    expect(redefs[0].effective).to.equal('# CONFIG_MAGIC_SYSRQ is not set');
    // The winning value then fails the kdump rule, at the line that set it.
    const sysrq = report.findings.find((f: F) => f.check === 'magic-sysrq');
    expect(sysrq).to.include({ file: b, line: 2, severity: 'warning' });
  });

  it('without a tree: says which lines it cannot check, in every format, and never calls the fragment clean', function () {
    this.timeout(120000); // six CLI runs
    const { dir, cleanup } = tempDir();
    try {
      const cfg = path.join(dir, 'usb.cfg');
      // KEXEC and CRASH_DUMP are known facts; the USB and btrfs lines depend on Kconfig the tables do not hold.
      fs.writeFileSync(cfg, 'CONFIG_KEXEC=y\nCONFIG_CRASH_DUMP=y\nCONFIG_USB_SERIAL_FTDI_SIO=y\nCONFIG_BTRFS_FS=m\n');
      const args = [cfg, '--arch', 'x86_64', '--kernel-version', '6.1'];
      const { code, report } = json(args);
      expect(code).to.equal(0);
      expect(report.summary.verdict).to.equal('unverified');
      expect(report.summary.lines).to.deep.equal({ asked: 4, checked: 2, unchecked: 2 });
      expect(report.unchecked.map((u: { line: number; symbol: string }) => [u.line, u.symbol])).to.deep.equal([[3, 'USB_SERIAL_FTDI_SIO'], [4, 'BTRFS_FS']]);
      expect(report.unchecked[0].reason).to.match(/depends on its dependencies, prompt and selects in the kernel's Kconfig/);
      const text = runCli(['validate', ...args]);
      expect(text.stdout).to.match(/CANNOT BE CHECKED without the kernel's Kconfig: 2 of 4 line\(s\)/).and.contain(`${cfg}:3  CONFIG_USB_SERIAL_FTDI_SIO=y`)
        .and.match(/--kernel-source <Linux tree>.*--config <the build's final \.config>/).and.match(/^NOT VERIFIED: 0 error\(s\).*lines: 2 checked, 2 cannot be checked/m);
      expect(text.stdout).to.not.match(/^PASS/m);
      const junit = runCli(['validate', ...args, '--format', 'junit']);
      expect(junit.stdout).to.match(/<testsuite [^>]*skipped="1">/).and.match(/<skipped message="2 of 4 line\(s\) cannot be checked/);
      const gh = runCli(['validate', ...args, '--format', 'github']);
      expect(gh.stdout).to.contain(`::notice file=${cfg.replace(/:/g, '%3A').replace(/,/g, '%2C')},line=3,title=kdump-layer%3A not verified::2 of 4 line(s) cannot be checked`);
      expect(gh.stdout).to.match(/NOT VERIFIED: 0 error\(s\).*2 line\(s\) checked, 2 cannot be checked without the kernel's Kconfig/);
      // With the build's final .config every line is checked.
      const config = path.join(dir, '.config');
      fs.writeFileSync(config, '#\n# Linux/x86 6.1.0 Kernel Configuration\n#\nCONFIG_X86_64=y\nCONFIG_KEXEC=y\nCONFIG_CRASH_DUMP=y\nCONFIG_BTRFS_FS=m\n');
      const withConfig = json([cfg, '--config', config]);
      expect(withConfig.report.summary.lines.unchecked).to.equal(0);
      expect(withConfig.report.findings.filter((f: F) => f.class === 'not-in-effect').map((f: F) => f.symbol)).to.deep.equal(['USB_SERIAL_FTDI_SIO']);
    } finally {
      cleanup();
    }
  });

  it('without a tree: "is not set" for a prompt that needs EXPERT, and for a symbol a set option selects, is flagged', () => {
    const { dir, cleanup } = tempDir();
    try {
      const cfg = path.join(dir, 'off.cfg');
      fs.writeFileSync(cfg, 'CONFIG_KEXEC=y\n# CONFIG_KEXEC_CORE is not set\n# CONFIG_PROC_FS is not set\n# CONFIG_KALLSYMS is not set\n');
      const { report } = json([cfg, '--arch', 'x86_64', '--kernel-version', '6.1']);
      const by = (s: string) => report.findings.find((f: F) => f.symbol === s && f.class === 'not-in-effect');
      expect(by('KEXEC_CORE')).to.include({ check: 'selected', severity: 'error', line: 2 });
      expect(by('KEXEC_CORE').message).to.match(/CONFIG_KEXEC selects CONFIG_KEXEC_CORE/);
      expect(by('PROC_FS')).to.include({ check: 'expert-only', line: 3 });
      expect(by('KALLSYMS').message).to.match(/prompt only with CONFIG_EXPERT=y/);
    } finally {
      cleanup();
    }
  });

  it('every malformed line reaches the report with file:line, and fails the run', () => {
    const { code, report } = json([path.join(fixtures, 'malformed.cfg'), '--arch', 'x86_64', '--kernel-version', '6.6']);
    expect(code).to.equal(1);
    const syntax: F[] = report.findings.filter((f: F) => f.class === 'syntax');
    expect(syntax.map((f) => [f.check, f.line])).to.deep.equal([
      ['not-set-variant', 2], ['whitespace', 3], ['bad-quoting', 4], ['first-letter', 5], ['unquoted-string', 6], ['missing-prefix', 7], ['type', 8],
    ]);
    // Kconfig reads 'yes' as y: a note, not an error, and the value counts as y.
    expect(syntax.find((f) => f.line === 5)).to.include({ severity: 'info' });
    for (const f of syntax) expect(f.fix).to.be.a('string').and.not.equal('');
  });

  it('judges a full .config: what fragments asked for but did not get is "not in effect"', () => {
    const { dir, cleanup } = tempDir();
    try {
      const config = path.join(dir, '.config');
      fs.writeFileSync(config, '#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.6.52 Kernel Configuration\n#\nCONFIG_X86_64=y\nCONFIG_KEXEC=y\nCONFIG_CRASH_DUMP=y\nCONFIG_PROC_FS=y\nCONFIG_PROC_VMCORE=y\nCONFIG_SYSFS=y\nCONFIG_KEXEC_CORE=y\nCONFIG_RELOCATABLE=y\nCONFIG_PHYSICAL_START=0x1000000\nCONFIG_KALLSYMS=y\n# CONFIG_MAGIC_SYSRQ is not set\n');
      const frag = path.join(dir, 'kdump.cfg');
      fs.writeFileSync(frag, 'CONFIG_KEXEC=y\nCONFIG_MAGIC_SYSRQ=y\n');
      const { code, report } = json([frag, '--config', config]);
      expect(code).to.equal(1);
      expect(report.mode).to.equal('config');
      expect(report.target).to.deep.equal({ arch: 'x86_64', kernelVersion: '6.6.52', from: 'config-header' });
      const nie = report.findings.find((f: F) => f.class === 'not-in-effect');
      expect(nie).to.include({ symbol: 'MAGIC_SYSRQ', file: frag, line: 2, requested: 'CONFIG_MAGIC_SYSRQ=y' });
      expect(nie.effective).to.contain('# CONFIG_MAGIC_SYSRQ is not set').and.contain(`${config}:15`);
    } finally {
      cleanup();
    }
  });

  it('text: an aligned table without colour when not a TTY', () => {
    const r = runCli(['validate', seed, '--arch', 'x86_64', '--kernel-version', '6.1']);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.not.match(/\u001b\[/);
    const lines = r.stdout.split('\n');
    const head = lines.find((l) => l.startsWith('SEVERITY'))!;
    const row = lines.find((l) => l.startsWith('error') && l.includes('HIGHMEM4G'))!;
    expect(row.indexOf(`${seed}:5`)).to.equal(head.indexOf('WHERE'));
    expect(row.indexOf('invalid')).to.equal(head.indexOf('CLASS'));
    expect(r.stdout).to.match(/fix: +remove the line/);
    expect(r.stdout).to.match(/^FAIL: 1 error\(s\)/m);
  });

  it('junit: one test case per check, failures for the failing ones', () => {
    const r = runCli(['validate', seed, '--arch', 'x86_64', '--kernel-version', '6.1', '--format', 'junit']);
    expect(r.code).to.equal(1);
    const { report } = json([seed, '--arch', 'x86_64', '--kernel-version', '6.1']);
    const cases = r.stdout.match(/<testcase /g) ?? [];
    // One case per check, and one skipped case for the line that cannot be checked (DEBUG_INFO).
    expect(report.unchecked.length).to.equal(1);
    expect(cases.length).to.equal(report.checks.length + 1);
    const failures = (r.stdout.match(/<failure /g) ?? []).length;
    expect(failures).to.equal(report.summary.failedChecks).and.equal(1);
    expect(r.stdout).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="kdump-layer" tests="\d+" failures="1" skipped="1">/);
    expect(r.stdout).to.contain('name="symbol:CONFIG_HIGHMEM4G: CONFIG_HIGHMEM4G=y');
  });

  it('github: workflow annotations with file and line', () => {
    const r = runCli(['validate', seed, '--arch', 'x86_64', '--kernel-version', '6.1', '--format', 'github']);
    expect(r.code).to.equal(1);
    const esc = seed.replace(/:/g, '%3A').replace(/,/g, '%2C');
    expect(r.stdout).to.contain(`::error file=${esc},line=5,title=kdump-layer invalid CONFIG_HIGHMEM4G (invalid)::`);
    expect(r.stdout).to.match(/::warning file=[^\n]+title=kdump-layer kdump CONFIG_MAGIC_SYSRQ \(magic-sysrq\)::[^\n]*%0Afix: set CONFIG_MAGIC_SYSRQ=y/);
    expect(r.stdout).to.match(/^::notice /m);
  });

  it('--output writes the report to a file', () => {
    const { dir, cleanup } = tempDir();
    try {
      const out = path.join(dir, 'report.xml');
      const r = runCli(['validate', seed, '--machine', 'qemux86-64', '--format', 'junit', '-o', out]);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(fs.readFileSync(out, 'utf8')).to.match(/<testsuites/);
      // Again over the last report: a new file is moved into place (a reader, or a second
      // name of the old file, never sees a half-written one) and nothing is left beside it.
      const twin = path.join(dir, 'previous.xml');
      fs.linkSync(out, twin);
      const before = fs.readFileSync(twin, 'utf8');
      const again = runCli(['validate', seed, '--machine', 'qemux86-64', '--format', 'json', '-o', out]);
      expect(again.code).to.equal(1);
      expect(JSON.parse(fs.readFileSync(out, 'utf8')).summary.exitCode).to.equal(1);
      expect(fs.readFileSync(twin, 'utf8')).to.equal(before);
      expect(fs.readdirSync(dir).sort()).to.deep.equal(['previous.xml', 'report.xml']);
    } finally {
      cleanup();
    }
  });

  describe('bad usage and unreadable input: exit 2, a message naming what and where, no stack trace', () => {
    const cases: { name: string; args: string[]; stderr: RegExp }[] = [
      { name: 'no input', args: ['--arch', 'x86_64', '--kernel-version', '6.6'], stderr: /nothing to validate/ },
      { name: 'a missing file', args: ['no-such.cfg', '--arch', 'x86_64', '--kernel-version', '6.6'], stderr: /input no-such\.cfg: no such file/ },
      { name: 'a directory', args: ['test', '--arch', 'x86_64', '--kernel-version', '6.6'], stderr: /input test is a directory/ },
      { name: 'a bad version', args: [seed, '--arch', 'x86_64', '--kernel-version', 'latest'], stderr: /--kernel-version: not a kernel version: 'latest'/ },
      { name: 'an unknown arch', args: [seed, '--arch', 'sparc', '--kernel-version', '6.6'], stderr: /Invalid values:[\s\S]*arch/ },
      { name: 'an unknown machine', args: [seed, '--machine', 'nosuch'], stderr: /unknown machine 'nosuch'[\s\S]*as5712/ },
      { name: '--machine with --arch', args: [seed, '--machine', 'as5712', '--arch', 'x86_64'], stderr: /both name the target/ },
      { name: 'no target', args: [seed], stderr: /target arch is unknown[\s\S]*--machine/ },
      { name: 'only a version', args: [seed, '--kernel-version', '6.6'], stderr: /target arch is unknown/ },
      { name: '--kernel-source that is not a directory', args: [seed, '--arch', 'x86_64', '--kernel-source', seed], stderr: /--kernel-source .*not a directory/ },
      { name: 'a bad --format', args: [seed, '--machine', 'as5712', '--format', 'xml'], stderr: /Invalid values:[\s\S]*format/ },
      { name: 'a binary file', args: [process.execPath, '--machine', 'as5712'], stderr: /binary file/ },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const r = runCli(['validate', ...c.args]);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(c.stderr);
        expect(r.stderr).to.not.match(/\n\s+at /);
        expect(r.stdout).to.equal('');
      });
    }

    it('two full .configs', () => {
      const { dir, cleanup } = tempDir();
      try {
        const hdr = '#\n# Linux/x86 6.6.1 Kernel Configuration\n#\nCONFIG_X86_64=y\n';
        fs.writeFileSync(path.join(dir, 'a.config'), hdr);
        fs.writeFileSync(path.join(dir, 'b.config'), hdr);
        const r = runCli(['validate', 'a.config', '--config', 'b.config'], { cwd: dir });
        expect(r.code).to.equal(2);
        expect(r.stderr).to.match(/more than one full \.config given \(a\.config, b\.config\)/);
      } finally {
        cleanup();
      }
    });

    it('an unsupported arch in a .config header, naming file:line', () => {
      const { dir, cleanup } = tempDir();
      try {
        fs.writeFileSync(path.join(dir, 'mips.config'), '#\n# Linux/mips 6.6.1 Kernel Configuration\n#\n');
        const r = runCli(['validate', 'mips.config'], { cwd: dir });
        expect(r.code).to.equal(2);
        expect(r.stderr).to.match(/mips\.config:2: arch 'mips' is not supported/);
      } finally {
        cleanup();
      }
    });
  });
});
