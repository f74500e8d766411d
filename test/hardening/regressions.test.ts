// One test per bad input the hardening issue found: each gives exit 2 (or the right result),
// a message naming what and where, never exit 70, a hang or a stack trace.
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { cliPath, runCli, tempDir } from '../helpers/cli.js';
import { STACK_TRACE } from './inputs.js';


function expectUsageError(r: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.code, r.stderr).to.equal(2);
  expect(r.stderr).to.match(message);
  expect(r.stderr + r.stdout).to.not.match(STACK_TRACE);
}

describe('hardening: bad input gives exit 2 with a message, never a hang, exit 70 or a stack trace', function () {
  this.timeout(120_000);
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir();
  });
  afterEach(() => t.cleanup());
  const run = (args: string[], env?: NodeJS.ProcessEnv) => runCli(args, { cwd: t.dir, env });
  const write = (name: string, text: string) => fs.writeFileSync(path.join(t.dir, name), text);
  const config = (text: string, ...more: string[]) => {
    write('k.yml', text);
    return run(['generate', '--config', 'k.yml', '--dry-run', ...more]);
  };

  describe('hangs', () => {
    // A child with a kill timeout far above a normal run: it fires only on a hang.
    const HANG = 60_000;
    const hangProof = (args: string[]) => {
      const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: t.dir, encoding: 'utf8', timeout: HANG, env: { ...process.env, NO_COLOR: '1' } });
      expect(r.signal, 'the run was killed: it hung').to.equal(null);
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };

    for (const [name, value] of [
      ['a 10 000-character dump.path with a space', `/${'a'.repeat(10_000)} x`],
      ['a 10 000-character dump.path ending in ~', `/${'a'.repeat(10_000)}~`],
      ['a 10 000-segment dump.path with a bad last character', `${'/a'.repeat(5_000)}!`],
    ]) {
      it(`${name} is rejected by the schema`, () => {
        write('k.yml', `machine: as5712\ndump:\n  path: "${value}"\n`);
        const r = hangProof(['generate', '--config', 'k.yml', '--dry-run']);
        expectUsageError(r, /k\.yml:3: dump\.path: has a form that is not allowed/);
      });
    }

    it('validate /dev/zero is refused as a character device', () => {
      expectUsageError(hangProof(['validate', '/dev/zero', '--machine', 'as5712']), /input \/dev\/zero is a character device, not a regular file/);
    });

    it('generate --config /dev/zero is refused as a character device', () => {
      expectUsageError(hangProof(['generate', '--config', '/dev/zero']), /config file \/dev\/zero is a character device/);
    });

    it('a FIFO with no writer is refused, as a fragment and as a config file', () => {
      execFileSync('mkfifo', [path.join(t.dir, 'fifo')]);
      expectUsageError(hangProof(['validate', 'fifo', '--machine', 'as5712']), /input fifo is a pipe \(FIFO\), not a regular file/);
      write('x.cfg', 'CONFIG_KEXEC=y\n');
      expectUsageError(hangProof(['validate', 'x.cfg', '--config', 'fifo', '--machine', 'as5712']), /--config fifo is a pipe \(FIFO\)/);
      expectUsageError(hangProof(['generate', '--config', 'fifo']), /config file fifo is a pipe \(FIFO\)/);
    });

    it('a fragment over 16 MiB and a config file over 1 MiB are refused, naming the limit', () => {
      write('big.cfg', `${'# padding line\n'.repeat(1_200_000)}`);
      expectUsageError(hangProof(['validate', 'big.cfg', '--machine', 'as5712']), /input big\.cfg is larger than the limit of 16 MiB/);
      write('big.yml', `machine: as5712\n${'#\n'.repeat(600_000)}`);
      expectUsageError(hangProof(['generate', '--config', 'big.yml']), /config file big\.yml is larger than the limit of 1 MiB/);
    });

    it('a real .config of the corpus size is well within the limit', () => {
      const corpus = path.resolve('../shared/data/kconfig-corpus/distros');
      const largest = fs.readdirSync(corpus).map((f) => fs.statSync(path.join(corpus, f)).size).reduce((a, b) => Math.max(a, b), 0);
      expect(largest).to.be.greaterThan(100_000).and.lessThan(16 * 1024 * 1024 / 10);
    });
  });

  describe('never exit 70 for input', () => {
    it('a line break in a string extra_config value', () => {
      expectUsageError(config('machine: as5712\nkernel:\n  extra_config:\n    CMDLINE: "a\\nb"\n'),
        /k\.yml:4: kernel\.extra_config\.CMDLINE: value of CMDLINE holds a line break[\s\S]*hint: a Kconfig string value is one line/);
    });

    it('a key given as CONFIG_CONFIG_X, and a key of CONFIG_ alone', () => {
      expectUsageError(config('machine: as5712\nkernel:\n  extra_config:\n    CONFIG_CONFIG_X: y\n'),
        /k\.yml:4: kernel\.extra_config\.CONFIG_CONFIG_X: kernel option 'CONFIG_CONFIG_X' has the CONFIG_ prefix twice[\s\S]*e\.g\. X or CONFIG_X/);
      expectUsageError(config('machine: as5712\nkernel:\n  extra_config:\n    CONFIG_: y\n'), /'CONFIG_' names no kernel option/);
    });

    it('a number too large for an exact integer (1e21), in extra_config and in min_free_mb', () => {
      const r = config('machine: as5712\nkernel:\n  extra_config:\n    NR_CPUS: 1e21\n');
      expectUsageError(r, /k\.yml:4: kernel\.extra_config\.NR_CPUS: must be <= 9007199254740991/);
      expect(r.stderr).to.not.match(/must be string/);
      expectUsageError(config('machine: as5712\nkernel:\n  extra_config:\n    NR_CPUS: [1]\n'), /NR_CPUS: must be string, integer or boolean\n/);
      expectUsageError(config('machine: as5712\narchive:\n  min_free_mb: 1e21\n'), /k\.yml:3: archive\.min_free_mb: must be <= 2147483647/);
    });

    it('a large number written as a string of digits is kept exactly', () => {
      write('k.yml', 'machine: as5712\nkernel:\n  extra_config:\n    X: "123456789012345678901"\n');
      const r = run(['generate', '--config', 'k.yml', '--out', 'L']);
      expect(r.code, r.stderr).to.equal(0);
      expect(fs.readFileSync(path.join(t.dir, 'L/recipes-kernel/linux/files/kdump.cfg'), 'utf8')).to.include('CONFIG_X=123456789012345678901\n');
    });

    it('a YAML alias bomb', () => {
      expectUsageError(config('a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'),
        /k\.yml: YAML aliases expand to too much data/);
    });

    it('more aliases than any configuration needs', () => {
      let text = 'machine: &m as5712\nx:\n';
      for (let i = 0; i < 150; i++) text += `  - *m\n`;
      expectUsageError(config(text), /k\.yml:\d+: more than 100 YAML aliases/);
    });

    it('an unresolved alias', () => {
      expectUsageError(config('machine: *nope\n'), /k\.yml(:\d+(:\d+)?)?: .*(anchor|alias).*nope/);
    });

    it('a key given twice, by line', () => {
      expectUsageError(config('machine: as5712\ndump:\n  level: 1\n  level: 2\n'), /k\.yml:4: key 'level' is given twice/);
    });

    it('a key that is a list, without a Node warning', () => {
      const r = config('machine: as5712\n? [a, b]\n: c\n');
      expectUsageError(r, /k\.yml:2: a key is a list or a mapping, not a name/);
      expect(r.stderr).to.not.match(/Warning/);
    });

    it('YAML nested deeper than the parser can go', () => {
      expectUsageError(config(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), /k\.yml:1:\d+: nested too deeply to read/);
    });

    it('a flag given twice: --kernel-version 6.1 --kernel-version 6.6', () => {
      write('f.cfg', 'CONFIG_KEXEC=y\n');
      expectUsageError(run(['validate', 'f.cfg', '--arch', 'x86_64', '--kernel-version', '6.1', '--kernel-version', '6.6']),
        /--kernel-version is given more than once[\s\S]*hint: give --kernel-version once/);
    });
  });

  describe('flags that did the wrong thing silently', () => {
    it('--format json --format junit is an error, not a text report', () => {
      write('f.cfg', 'CONFIG_KEXEC=y\n');
      const r = run(['validate', 'f.cfg', '--machine', 'as5712', '--format', 'json', '--format', 'junit']);
      expectUsageError(r, /--format is given more than once/);
      expect(r.stdout).to.equal('');
    });

    it('--check=yes is an error, and nothing is written', () => {
      const r = run(['generate', '--machine', 'as5712', '--check=yes']);
      expectUsageError(r, /--check=yes: --check is a switch: it takes no value but true or false/);
      expect(fs.readdirSync(t.dir)).to.deep.equal([]);
    });

    it('--check=true and --check=false are read as written', () => {
      expect(run(['generate', '--machine', 'as5712', '--check=true']).code).to.equal(1);
      expect(fs.readdirSync(t.dir)).to.deep.equal([]);
      expect(run(['generate', '--machine', 'as5712', '--check=false']).code).to.equal(0);
      expect(fs.readdirSync(t.dir)).to.deep.equal(['meta-ops-kdump']);
    });

    it('--out a --out b (and -o a --out b) is an error naming --out', () => {
      expectUsageError(run(['generate', '--machine', 'as5712', '--out', 'a', '--out', 'b']), /--out is given more than once/);
      expectUsageError(run(['generate', '--machine', 'as5712', '-o', 'a', '--out', 'b']), /--out is given more than once/);
      expect(fs.readdirSync(t.dir)).to.deep.equal([]);
    });
  });

  describe('unbounded input', () => {
    it('a text report with 300 000 findings does not overflow the stack', () => {
      const lines = ['#', '# Linux/x86 6.1.0 Kernel Configuration', '#', 'CONFIG_X86_64=y'];
      for (let i = 0; i < 300_000; i++) lines.push(`bad line ${i}`);
      write('big.config', `${lines.join('\n')}\n`);
      const r = run(['validate', 'big.config', '--output', 'report.txt']);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.equal('');
      expect(fs.readFileSync(path.join(t.dir, 'report.txt'), 'utf8')).to.match(/big\.config:300004 +syntax/);
    });

    it('`| head` ends quietly: no EPIPE message or stack trace', () => {
      const lines: string[] = [];
      for (let i = 0; i < 50_000; i++) lines.push(`CONFIG_X${i}=maybe`);
      write('f.cfg', `${lines.join('\n')}\n`);
      for (const format of ['text', 'json', 'junit', 'github']) {
        const out = execFileSync('sh', ['-c', `"${process.execPath}" "${cliPath}" validate f.cfg --machine as5712 --format ${format} 2>err.txt | head -c 100 >/dev/null; echo $?`], { cwd: t.dir, encoding: 'utf8' });
        expect(out.trim()).to.equal('0');
        expect(fs.readFileSync(path.join(t.dir, 'err.txt'), 'utf8')).to.equal('');
      }
      const out = execFileSync('sh', ['-c', `"${process.execPath}" "${cliPath}" schema 2>err.txt | head -n 1`], { cwd: t.dir, encoding: 'utf8' });
      expect(out).to.equal('{\n');
      expect(fs.readFileSync(path.join(t.dir, 'err.txt'), 'utf8')).to.equal('');
    });
  });

  describe('smaller points', () => {
    it('init --out - (and -o -) prints the configuration to stdout and writes nothing', () => {
      for (const flag of ['--out', '-o']) {
        const r = run(['init', '--machine', 'as5712', flag, '-']);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.match(/^# kdump-layer configuration for as5712\./);
        expect(fs.readdirSync(t.dir)).to.deep.equal([]);
      }
    });

    it('"did you mean" for a mistyped config key and machine name', () => {
      expectUsageError(config('machine: as5712\ndump:\n  formt: elf\n'), /k\.yml:3: dump\.formt: unknown key \(did you mean 'format'\?\)/);
      expectUsageError(config('machien: as5712\n'), /k\.yml:1: machien: unknown key \(did you mean 'machine'\?\)/);
      expectUsageError(run(['generate', '--machine', 'as5713']), /unknown machine 'as5713' \(did you mean 'as5712'\?\)/);
      write('f.cfg', 'CONFIG_KEXEC=y\n');
      expectUsageError(run(['validate', 'f.cfg', '--machine', 'qemux86']), /unknown machine 'qemux86' \(did you mean 'qemux86-64'\?\)/);
      // Nothing near: the known names, no guess.
      expectUsageError(config('machine: as5712\nzzzzzzzz: 1\n'), /zzzzzzzz: unknown key \(known here: machine, yocto/);
    });

    it('the kas fragment sets machine from yocto_machine and names the kas version it needs', () => {
      write('k.yml', 'machine: as5712\nyocto_machine: my-switch\n');
      expect(run(['generate', '--config', 'k.yml', '--out', 'L']).code).to.equal(0);
      const kas = fs.readFileSync(path.join(t.dir, 'L/kas/ops-kdump.yml'), 'utf8');
      expect(kas).to.match(/^machine: my-switch$/m);
      expect(kas).to.match(/^header:\n {2}version: 14$/m);
      expect(kas).to.include('Needs kas 3.3 or newer');
      expect(kas).to.include('KAS_WORK_DIR');
      expect(fs.readFileSync(path.join(t.dir, 'L/README.md'), 'utf8')).to.include('kas 3.3 or newer');
    });

    it('kdump.conf says min_free_mb is checked before the dump, as the runtime does', () => {
      expect(run(['generate', '--machine', 'as5712', '--out', 'L']).code).to.equal(0);
      const conf = fs.readFileSync(path.join(t.dir, 'L/recipes-kdump/ops-kdump/files/kdump.conf'), 'utf8');
      expect(conf).to.not.include('must remain');
      expect(conf).to.match(/must have when a dump starts[^\n]*\n# no dump is attempted\. It is checked before the dump/);
    });

    it('JUnit output is well-formed XML for control characters in values and file names (checked by xmllint)', () => {
      const name = 'tab\there\u0001.cfg';
      write(name, 'CONFIG_CMDLINE="a\u0001b\u001b[31m"\nCONFIG_KEXEC=\u0007\n# CONFIG_X is not set \u0008\uFFFF\n');
      const r = run(['validate', name, '--machine', 'as5712', '--format', 'junit', '--output', 'r.xml']);
      expect(r.code, r.stderr).to.equal(1);
      const xml = fs.readFileSync(path.join(t.dir, 'r.xml'), 'utf8');
      expect(xml).to.include('<failure ');
      // xmllint exits non-zero on any well-formedness error (an unescaped control character above all).
      const lint = spawnSync('xmllint', ['--noout', 'r.xml'], { cwd: t.dir, encoding: 'utf8' });
      expect(lint.error, 'xmllint (libxml2-utils) must be installed').to.equal(undefined);
      expect(lint.status, lint.stderr).to.equal(0);
      // The tab of the file name survives in attributes as a character reference.
      expect(xml).to.include('tab&#9;here');
    });

    it('the text report: no colour into a pipe, even with FORCE_COLOR=1, and none with NO_COLOR', () => {
      write('f.cfg', 'CONFIG_KEXEC=maybe\n');
      const piped = run(['validate', 'f.cfg', '--machine', 'as5712'], { NO_COLOR: '', FORCE_COLOR: '1' });
      expect(piped.stdout).to.include('CONFIG_KEXEC');
      expect(piped.stdout).to.not.match(/\u001b\[/);
      const noColor = run(['validate', 'f.cfg', '--machine', 'as5712'], { NO_COLOR: '1', FORCE_COLOR: '1' });
      expect(noColor.stdout).to.include('CONFIG_KEXEC');
      expect(noColor.stdout).to.not.match(/\u001b\[/);
    });
  });
});
