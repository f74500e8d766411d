import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROBE_CC_SCRIPT, probeCache, removeStaleClaims, toolchainIdentity } from '../../src/kernel/probe-cache.js';
import { builtConf, resolveWithKernel } from '../../src/kernel/kconfig.js';
import { kconfigCache, linuxSource61 } from '../validate/helpers.js';
import { repoRoot } from '../helpers/cli.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-probe-'));
}

/** The real gcc, behind a script that notes each run in $PROBE_LOG: how often the compiler was asked. */
function loggingGcc(dir: string): { cc: string; log: string; runs: () => string[] } {
  const cc = path.join(dir, 'logging-gcc');
  const log = path.join(dir, 'compiler-runs');
  fs.writeFileSync(cc, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec gcc "$@"\n`, { mode: 0o755 });
  return { cc, log, runs: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) };
}

describe('remembered Kconfig compiler probes', () => {
  it('the wrapper is shellcheck-clean POSIX sh', () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'probe-cc');
      fs.writeFileSync(file, PROBE_CC_SCRIPT);
      const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'style', file], { encoding: 'utf8' });
      if (r.error) throw new Error(`shellcheck could not run (${r.error.message}): run scripts/install-test-deps.sh`);
      expect(r.status, r.stdout + r.stderr).to.equal(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const shell of [['dash'], ['busybox', 'sh']]) {
    describe(`under ${shell.join(' ')}`, () => {
      let dir: string;
      let gcc: ReturnType<typeof loggingGcc>;
      let answers: string;
      let wrapper: string;
      beforeEach(() => {
        dir = tempDir();
        gcc = loggingGcc(dir);
        answers = path.join(dir, 'answers');
        fs.mkdirSync(answers);
        wrapper = path.join(dir, 'probe-cc');
        fs.writeFileSync(wrapper, PROBE_CC_SCRIPT, { mode: 0o755 });
      });
      afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

      const probe = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; answersDir?: string } = {}) => {
        const r = spawnSync(shell[0], [...shell.slice(1), wrapper, ...args], {
          cwd: dir, input: opts.input ?? '', encoding: 'utf8',
          env: { ...process.env, LC_ALL: 'C', KDUMP_LAYER_PROBE_CC: gcc.cc, KDUMP_LAYER_PROBE_DIR: opts.answersDir ?? answers, ...opts.env },
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      };

      it('as-instr: asks the compiler once per instruction, then answers the same exit code and messages itself', () => {
        const asInstr = ['-c', '-x', 'assembler-with-cpp', '-o', '/dev/null', '-'];
        const good = probe(asInstr, { input: 'nop\n' });
        const bad = probe(asInstr, { input: 'no_such_instruction %eax\n' });
        expect(good).to.deep.include({ status: 0, stderr: '' });
        expect(bad.status).to.equal(1);
        expect(bad.stderr).to.match(/no such instruction/);
        expect(gcc.runs()).to.have.length(2);
        expect(probe(asInstr, { input: 'nop\n' })).to.deep.equal(good);
        expect(probe(asInstr, { input: 'no_such_instruction %eax\n' })).to.deep.equal(bad);
        expect(gcc.runs(), 'the repeated probes were answered without the compiler').to.have.length(2);
        // The input is part of the question, to the byte: no final newline is another input.
        expect(probe(asInstr, { input: 'nop' }).status).to.equal(0);
        expect(gcc.runs()).to.have.length(3);
      });

      it('cc-option: the .tmp_$$ directory of each shell is one question; the answer comes back with its messages', () => {
        const ask = (pid: number, flag: string) => {
          fs.mkdirSync(path.join(dir, `.tmp_${pid}`));
          try {
            return probe(['-Werror', flag, '-c', '-x', 'c', '/dev/null', '-o', `.tmp_${pid}/tmp.o`]);
          } finally {
            fs.rmSync(path.join(dir, `.tmp_${pid}`), { recursive: true });
          }
        };
        const unknown = ask(101, '-fno-such-option-anywhere');
        expect(unknown.status).to.equal(1);
        expect(unknown.stderr).to.match(/-fno-such-option-anywhere/);
        expect(ask(202, '-fno-such-option-anywhere')).to.deep.equal(unknown);
        expect(ask(303, '-O2').status).to.equal(0);
        expect(ask(404, '--param=max-inline-insns-single=100').status).to.equal(0);
        expect(gcc.runs()).to.have.length(3);
        // An option's value given as the next word (the tsan probes of lib/Kconfig.kcsan).
        expect(probe(['--param', 'max-inline-insns-single=100', '-E', '-x', 'c', '/dev/null']).status).to.equal(0);
        expect(probe(['--param', 'max-inline-insns-single=100', '-E', '-x', 'c', '/dev/null']).status).to.equal(0);
        expect(gcc.runs()).to.have.length(4);
      });

      it('output on standard output is replayed byte for byte (cc-version.sh)', () => {
        const args = ['-E', '-P', '-x', 'c', '-'];
        const input = 'GCC __GNUC__ __GNUC_MINOR__\n';
        const first = probe(args, { input });
        expect(first.status).to.equal(0);
        expect(first.stdout).to.match(/^GCC \d+ \d+\n$/);
        expect(probe(args, { input })).to.deep.equal(first);
        expect(gcc.runs()).to.have.length(1);
      });

      it('the locale is part of the question (messages differ by language)', () => {
        probe(['--version']);
        probe(['--version'], { env: { LC_ALL: 'C.UTF-8' } });
        expect(gcc.runs()).to.have.length(2);
      });

      it('runs that write a file or read one always go to the compiler', () => {
        fs.writeFileSync(path.join(dir, 'probe.c'), 'int x;\n');
        for (let i = 0; i < 2; i++) {
          fs.rmSync(path.join(dir, 'out.o'), { force: true });
          expect(probe(['-c', '-x', 'c', '/dev/null', '-o', 'out.o']).status).to.equal(0);
          expect(fs.existsSync(path.join(dir, 'out.o')), 'the object file is written every time').to.equal(true);
          expect(probe(['-c', '-x', 'c', '/dev/null']).status).to.equal(0);
          expect(fs.existsSync(path.join(dir, 'null.o'))).to.equal(true);
          expect(probe(['-E', 'probe.c']).stdout).to.include('int x;');
          expect(probe(['-c', '-x', 'c', '/dev/null', '-o', '.tmp_x/tmp.o']).status, 'not a cc-option directory').to.not.equal(0);
        }
        expect(gcc.runs()).to.have.length(8);
        expect(fs.readdirSync(answers)).to.deep.equal([]);
      });

      it('a compiler killed by a signal gave no answer: its exit status passes through and nothing is kept', () => {
        const killed = path.join(dir, 'killed-cc');
        fs.writeFileSync(killed, '#!/bin/sh\nkill -KILL $$\n', { mode: 0o755 });
        const args = ['-E', '-x', 'c', '/dev/null'];
        expect(probe(args, { env: { KDUMP_LAYER_PROBE_CC: killed } }).status).to.equal(137);
        expect(fs.readdirSync(answers).filter((f) => f.endsWith('.r'))).to.deep.equal([]);
        // The claim stays until it is old (a run may still be asking): meanwhile the compiler answers.
        expect(probe(args).status).to.equal(0);
        expect(probe(args).status).to.equal(0);
        expect(gcc.runs()).to.have.length(2);
        const claims = fs.readdirSync(answers).filter((f) => f.endsWith('.w'));
        expect(claims).to.have.length(1);
        // A claim older than ten minutes is removed (as each run sets the wrapper up); the probe is kept again.
        removeStaleClaims(answers);
        expect(fs.readdirSync(answers).filter((f) => f.endsWith('.w'))).to.have.length(1);
        const old = new Date(Date.now() - 11 * 60 * 1000);
        fs.utimesSync(path.join(answers, claims[0]), old, old);
        removeStaleClaims(answers);
        expect(fs.readdirSync(answers).filter((f) => f.endsWith('.w'))).to.deep.equal([]);
        expect(probe(args).status).to.equal(0);
        expect(probe(args).status).to.equal(0);
        expect(gcc.runs()).to.have.length(3);
      });

      it('without a usable directory for answers, it is the compiler itself', () => {
        const args = ['-c', '-x', 'assembler-with-cpp', '-o', '/dev/null', '-'];
        expect(probe(args, { input: 'nop\n', answersDir: path.join(dir, 'missing') }).status).to.equal(0);
        expect(probe(args, { input: 'nop\n', answersDir: path.join(dir, 'missing') }).status).to.equal(0);
        expect(probe(args, { input: 'nop\n', answersDir: '' }).status).to.equal(0);
        expect(gcc.runs()).to.have.length(3);
      });
    });
  }

  it('a changed compiler, assembler on PATH or compiler environment is another toolchain', () => {
    const dir = tempDir();
    try {
      const { cc } = loggingGcc(dir);
      const version = 'gcc (Debian 12.2.0-14) 12.2.0';
      const env = { PATH: process.env.PATH };
      const base = toolchainIdentity(cc, version, env);
      expect(toolchainIdentity(cc, version, env)).to.equal(base);
      expect(toolchainIdentity('gcc', version, env)).to.not.equal(base);
      expect(toolchainIdentity(cc, 'gcc (Debian 13.2.0-1) 13.2.0', env)).to.not.equal(base);
      expect(toolchainIdentity(cc, version, { ...env, CPATH: '/opt/include' })).to.not.equal(base);
      // An `as` earlier on PATH is what gcc would run.
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'as'), '#!/bin/sh\nexec /usr/bin/as "$@"\n', { mode: 0o755 });
      const withAs = toolchainIdentity(cc, version, { PATH: `${bin}:${process.env.PATH}` });
      expect(withAs).to.match(new RegExp(`program as ${bin}/as`));
      // The compiler's own file changed (an upgrade in place).
      const t = new Date(Date.now() - 86_400_000);
      fs.utimesSync(cc, t, t);
      expect(toolchainIdentity(cc, version, env)).to.not.equal(base);
      // The wrapper is written once, executable; answers go to one directory per toolchain.
      const a = probeCache(path.join(dir, 'obj'), cc, version);
      expect(fs.readFileSync(a.cc, 'utf8')).to.equal(PROBE_CC_SCRIPT);
      expect(fs.statSync(a.cc).mode & 0o777).to.equal(0o755);
      expect(a.env).to.deep.equal({ KDUMP_LAYER_PROBE_CC: cc, KDUMP_LAYER_PROBE_DIR: a.dir });
      expect(probeCache(path.join(dir, 'obj'), 'gcc', version).dir).to.not.equal(a.dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('conf runs of a real 6.1 tree with a compiler that logs its runs', () => {
    const seed = () => [{ file: 'seed.cfg', text: fs.readFileSync(path.join(repoRoot, 'test/fixtures/kconfig/seed.cfg'), 'utf8') }];
    /** Runs fn with $CC set to a logging gcc in a new directory; restores $CC and removes the directory. */
    async function withLoggingCc(fn: (dir: string, gcc: ReturnType<typeof loggingGcc>) => Promise<void>): Promise<void> {
      const dir = tempDir();
      const saved = process.env.CC;
      try {
        const gcc = loggingGcc(dir);
        process.env.CC = gcc.cc;
        await fn(dir, gcc);
      } finally {
        if (saved === undefined) delete process.env.CC;
        else process.env.CC = saved;
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    it('a cold run, which builds conf too, identifies the toolchain once for make and conf @slow', async function () {
      this.timeout(300_000);
      const tree = linuxSource61();
      const fragments = seed();
      const plain = await resolveWithKernel({ tree, arch: 'x86_64', fragments, cacheDir: kconfigCache });
      await withLoggingCc(async (dir, gcc) => {
        const cold = await resolveWithKernel({ tree, arch: 'x86_64', fragments, cacheDir: path.join(dir, 'cache') });
        expect(fs.existsSync(path.join(dir, 'cache')), 'conf was built in the new cache').to.equal(true);
        // -print-search-dirs is asked by kdump-layer alone (the Makefile and Kconfig never do).
        expect(gcc.runs().filter((r) => r === '-print-search-dirs')).to.have.length(1);
        expect(cold.text).to.equal(plain.text);
      });
    });

    it('a warm conf run asks the compiler only what it cannot remember, and resolves the same .config @slow', async function () {
      this.timeout(300_000);
      const tree = linuxSource61();
      const fragments = seed();
      const plain = await resolveWithKernel({ tree, arch: 'x86_64', fragments, cacheDir: kconfigCache });
      const probes = path.join(builtConf(tree, 'x86_64', kconfigCache)!.objDir, 'probes');
      const before = new Set(fs.readdirSync(probes));
      try {
        await withLoggingCc(async (_dir, gcc) => {
          // Another $CC is another toolchain: its first run asks everything, the second what it cannot keep.
          const first = await resolveWithKernel({ tree, arch: 'x86_64', fragments, cacheDir: kconfigCache });
          const asked = gcc.runs().length;
          const second = await resolveWithKernel({ tree, arch: 'x86_64', fragments, cacheDir: kconfigCache });
          expect(asked, 'the first run asks the compiler').to.be.greaterThan(50);
          // Besides kdump-layer's own --version and -print-search-dirs, only the probe of
          // scripts/tools-support-relr.sh (an object file under a mktemp name) is asked again.
          const again = gcc.runs().slice(asked);
          expect(again.slice(0, 2)).to.deep.equal(['--version', '-print-search-dirs']);
          expect(again.slice(2), again.join('\n')).to.have.length(1);
          expect(again[2]).to.match(/^-c -x c - -o \S+\.o$/);
          expect(first.text).to.equal(plain.text);
          expect(second.text).to.equal(plain.text);
          expect(second.warnings).to.deep.equal(plain.warnings);
        });
      } finally {
        // This run's compiler is gone with its directory: so are its answers.
        for (const d of fs.readdirSync(probes)) if (!before.has(d)) fs.rmSync(path.join(probes, d), { recursive: true, force: true });
      }
    });
  });
});
