// The bin's V8 code cache (src/bin/kdump-layer.cts): written to the user's cache directory on a
// first run, used after that, replaced when V8 refuses it, and never a reason for a different
// output, exit status or message, whether or not it can be read or written.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cliPath, repoRoot, tempDir } from './helpers/cli.js';

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', KDUMP_LAYER_CACHE: '', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under dir (relative path → content). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out[f] = fs.readFileSync(p, 'utf8');
  }
  return out;
}

describe('the code cache', () => {
  let t: { dir: string; cleanup: () => void };
  let cache: string;
  beforeEach(() => {
    t = tempDir('kdump-layer-code-cache-');
    cache = path.join(t.dir, 'cache');
  });
  afterEach(() => t.cleanup());
  const files = () => (fs.existsSync(path.join(cache, 'kdump-layer')) ? fs.readdirSync(path.join(cache, 'kdump-layer')).sort() : []);

  it('a first run writes one file for its command, root-only; later runs use it as it is and write the same layer', () => {
    const first = run(['generate', '--machine', 'as5712', '--out', 'a'], t.dir, { XDG_CACHE_HOME: cache });
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stderr).to.equal('');
    const written = files();
    expect(written).to.have.length(1);
    expect(written[0]).to.match(new RegExp(`^[0-9a-f]{16}-node${process.version.replace(/\./g, '\\.')}-${process.arch}-generate\\.v8cache$`));
    const file = path.join(cache, 'kdump-layer', written[0]);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).to.equal(0o700);
    const before = fs.readFileSync(file);
    const mtime = fs.statSync(file).mtimeMs;

    // V8 accepted the file: the run did not write it again.
    const second = run(['generate', '--machine', 'as5712', '--out', 'b'], t.dir, { XDG_CACHE_HOME: cache });
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stdout).to.equal(first.stdout.replace(/^a:/, 'b:'));
    expect(files()).to.deep.equal(written);
    expect(fs.statSync(file).mtimeMs).to.equal(mtime);
    expect(fs.readFileSync(file).equals(before)).to.equal(true);
    expect(tree(path.join(t.dir, 'b'))).to.deep.equal(tree(path.join(t.dir, 'a')));
    expect(tree(path.join(t.dir, 'a'))).to.deep.equal(tree(path.join(repoRoot, 'meta-ops-kdump')));
  });

  it('a damaged or foreign file is refused cleanly and replaced; the run is the same', () => {
    const ok = run(['machines'], t.dir, { XDG_CACHE_HOME: cache });
    expect(ok.code, ok.stderr).to.equal(0);
    const file = path.join(cache, 'kdump-layer', files()[0]);
    const good = fs.readFileSync(file);
    for (const junk of [Buffer.alloc(0), Buffer.from('not V8 data at all\n'), good.subarray(0, good.length >> 1), Buffer.from(good).fill(0x5a, 64, 4096)]) {
      fs.writeFileSync(file, junk);
      const r = run(['machines'], t.dir, { XDG_CACHE_HOME: cache });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.equal(ok.stdout);
      expect(fs.readFileSync(file).equals(junk), 'written again').to.equal(false);
      expect(fs.statSync(file).size).to.be.greaterThan(1000);
    }
  });

  it('a cache directory that cannot be made or written changes nothing: same output, exit status and messages', () => {
    fs.writeFileSync(path.join(t.dir, 'a-file'), '');
    const cases: [string[], number][] = [
      [['machines'], 0],
      [['--help'], 0],
      [['generate', '--machine', 'as5712', '--out', 'layer', '--dry-run'], 0],
      [['validate', 'missing.cfg', '--machine', 'as5712'], 2],
      [['generate', '--machine', 'nosuch'], 2],
      [['frobnicate'], 2],
    ];
    for (const [args, code] of cases) {
      const usual = run(args, t.dir, { XDG_CACHE_HOME: cache });
      for (const env of [{ XDG_CACHE_HOME: path.join(t.dir, 'a-file', 'cache') }, { XDG_CACHE_HOME: '', HOME: '' }, { XDG_CACHE_HOME: 'relative/ignored', HOME: path.join(t.dir, 'a-file') }]) {
        const r = run(args, t.dir, env);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(code);
        expect(r.stdout).to.equal(usual.stdout);
        expect(r.stderr).to.equal(usual.stderr);
      }
    }
    expect(fs.readdirSync(t.dir).sort()).to.deep.equal(['a-file', 'cache']);
  });

  it('KDUMP_LAYER_CACHE names the directory (shared with validate --kernel-source)', () => {
    const r = run(['machines'], t.dir, { KDUMP_LAYER_CACHE: 'mine', XDG_CACHE_HOME: cache });
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.readdirSync(path.join(t.dir, 'mine')).filter((f) => f.endsWith('-machines.v8cache'))).to.have.length(1);
    expect(files()).to.deep.equal([]);
  });

  it('a different V8 (here: other V8 flags) refuses the file; it is made again and the output is the same', () => {
    const a = run(['machines'], t.dir, { XDG_CACHE_HOME: cache });
    const file = path.join(cache, 'kdump-layer', files()[0]);
    const before = fs.readFileSync(file);
    const r = spawnSync(process.execPath, ['--no-opt', cliPath, 'machines'], { cwd: t.dir, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache, KDUMP_LAYER_CACHE: '' } });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(a.stdout);
    expect(r.stderr).to.equal('');
    expect(fs.readFileSync(file).equals(before), 'made again for these flags').to.equal(false);
  });

  it('without XDG_CACHE_HOME it is ~/.cache/kdump-layer', () => {
    const home = path.join(t.dir, 'home');
    fs.mkdirSync(home);
    const r = run(['machines'], t.dir, { XDG_CACHE_HOME: '', HOME: home });
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.readdirSync(path.join(home, '.cache', 'kdump-layer')).filter((f) => f.endsWith('-machines.v8cache'))).to.have.length(1);
  });
  it('with KDUMP_LAYER_DEBUG set, an internal error\'s stack names the source files and lines (through the bundle\'s source map)', () => {
    // A write that fails with a plain Error (no errno code) is an internal error.
    const preload = path.join(t.dir, 'fail-write.cjs');
    fs.writeFileSync(preload, "process.stdout.write = () => { throw new Error('write failed on purpose'); };\n");
    const args = ['-r', preload, cliPath, 'machines'];
    const env = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cache };
    const plain = spawnSync(process.execPath, args, { cwd: t.dir, encoding: 'utf8', env: { ...env, KDUMP_LAYER_DEBUG: '' } });
    expect(plain.status).to.equal(70);
    expect(plain.stderr).to.contain('kdump-layer: internal error: write failed on purpose');
    expect(plain.stderr).to.not.match(/\n\s+at /);
    const debug = spawnSync(process.execPath, args, { cwd: t.dir, encoding: 'utf8', env: { ...env, KDUMP_LAYER_DEBUG: '1' } });
    expect(debug.status).to.equal(70);
    expect(debug.stderr).to.contain('kdump-layer: internal error: write failed on purpose');
    expect(debug.stderr).to.match(/\n\s+at .*src\/commands\/machines\.ts:\d+:\d+/);
    expect(debug.stderr).to.not.match(/cli\.cjs:\d+/);
  });
});
