// The built CLI on generated argument lists and files: whatever the combination, the exit
// code is 0, 1 or 2, no stack trace or Node internal error text is printed, and no run hangs.
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { cliPath, tempDir } from '../helpers/cli.js';
import { machineNames } from '../../src/machines/index.js';
import { hostileString, STACK_TRACE } from './inputs.js';

/** A child is killed after this long: far above any normal run, so it fires only on a hang. */
const HANG_MS = 60_000;
const RUNS = 150;

/**
 * Values that never name a place outside the test's directory: a generated value that starts
 * like an option or an absolute or parent path gets a prefix, so no run writes elsewhere.
 */
const safeValue = hostileString.map((s) => s.replace(/\0/g, '')).map((s) => (/^(-|\/|\.\.)/.test(s) || s === '.' ? `x${s}` : s));

const inputFile = fc.constantFrom('good.cfg', 'bad.cfg', 'bin.cfg', 'full.config', 'crlf.cfg', 'dir', 'fifo', 'missing.cfg', '/dev/zero', '/dev/null', 'good.yml', 'bad.yml');
const configFile = fc.constantFrom('good.yml', 'bad.yml', 'alias.yml', 'dup.yml', 'dir', 'fifo', 'missing.yml', '/dev/zero', 'bin.cfg', 'good.cfg');
const outPath = fc.constantFrom('L', 'sub/L', '-', 'out.txt', 'good.cfg', 'dir', 'fifo', '.');

/** One option (with its value where it takes one), as the user might type it. */
const option: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(fc.constantFrom('--machine', '-m'), fc.oneof(fc.constantFrom(...machineNames()), safeValue)).map(([f, v]) => [f, v]),
  fc.tuple(fc.constantFrom('--config', '-c'), configFile).map(([f, v]) => [f, v]),
  fc.tuple(fc.constantFrom('--out', '-o', '--output'), outPath).map(([f, v]) => [f, v]),
  fc.tuple(fc.constantFrom('--arch', '--yocto', '--format', '--kernel-version'), fc.oneof(
    fc.constantFrom('x86_64', 'arm64', 'sparc', 'scarthgap', 'morty', 'text', 'json', 'junit', 'github', 'xml', '6.6', '3.9.11', 'latest', ''), safeValue,
  )).map(([f, v]) => [f, v]),
  fc.tuple(fc.constantFrom('--kernel-source'), fc.constantFrom('dir', 'good.cfg', 'missing')).map(([f, v]) => [f, v]),
  fc.constantFrom<readonly string[]>(['--check'], ['--force'], ['--dry-run'], ['--werror'], ['--json'], ['--machine-profile'], ['--no-check'], ['--check=yes'], ['--check=true'],
    ['--werror=1'], ['--format=json'], ['--out=-'], ['--help'], ['--version'], ['--'], ['-'], ['--bogus'], ['-z']).map((a) => [...a]),
  inputFile.map((f) => [f]),
  safeValue.map((v) => [v]),
);

const command = fc.constantFrom(['generate'], ['validate'], ['machines'], ['init'], ['schema'], ['genrate'], [], ['validate', 'good.cfg'], ['generate', '--machine', 'as5712']);
const argv = fc.tuple(command, fc.array(option, { maxLength: 6 })).map(([c, opts]) => [...c, ...opts.flat()]);

function fixtures(dir: string): void {
  const w = (name: string, text: string | Buffer) => fs.writeFileSync(path.join(dir, name), text);
  w('good.cfg', 'CONFIG_KEXEC=y\nCONFIG_CRASH_DUMP=y\n# CONFIG_X is not set\n');
  w('bad.cfg', 'CONFIG_KEXEC=yes\n CONFIG_X = y\nCONFIG_S=unquoted\n# CONFIG_Y is unset\n\uD800\u0007\n');
  w('crlf.cfg', 'CONFIG_KEXEC=y\r\nCONFIG_S="a"\r\n');
  w('bin.cfg', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00]));
  w('full.config', '#\n# Linux/x86 6.1.0 Kernel Configuration\n#\nCONFIG_X86_64=y\nCONFIG_KEXEC=y\n');
  w('good.yml', 'machine: as5712\nkernel:\n  extra_config:\n    LOCALVERSION: "-kdump"\n');
  w('bad.yml', 'machine: as5712\ndump:\n  path: "/var/core dump~"\nkernel:\n  extra_config:\n    CONFIG_CONFIG_X: "a\\nb"\n    N: 1e21\n');
  w('alias.yml', 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: *nope\n');
  w('dup.yml', 'machine: as5712\nmachine: as6712\n');
  fs.mkdirSync(path.join(dir, 'dir'));
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
}

describe('the CLI on generated arguments and files @slow', function () {
  this.timeout(RUNS * HANG_MS);

  it(`${RUNS} generated command lines: exit 0, 1 or 2, no stack trace, no hang`, () => {
    fc.assert(
      fc.property(argv, (args) => {
        const { dir, cleanup } = tempDir();
        try {
          fixtures(dir);
          const r = spawnSync(process.execPath, [cliPath, ...args], {
            cwd: dir, encoding: 'utf8', timeout: HANG_MS, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' },
          });
          const shown = `kdump-layer ${args.map((a) => JSON.stringify(a)).join(' ')}\n${r.stderr}`;
          expect(r.signal, `killed (a hang?): ${shown}`).to.equal(null);
          expect([0, 1, 2], shown).to.include(r.status);
          expect(r.stderr, shown).to.not.match(STACK_TRACE);
          expect(r.stdout.slice(0, 100_000), shown).to.not.match(/\n {4}at |node:internal|Maximum call stack/);
          if (r.status === 2) expect(r.stderr, shown).to.match(/^kdump-layer: error: /m);
        } finally {
          cleanup();
        }
      }),
      { numRuns: RUNS },
    );
  });
});
