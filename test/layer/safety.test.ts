// generate and the layer directory: symlinks, system directories, too-long names, kill -9 at
// every step, two runs at once, and the config path in the marker. The real CLI, real files.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliPath, runCli, tempDir } from '../helpers/cli.js';

/** Every entry below dir (relative path -> mode and content; links as 'link -> target'), sorted. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, p);
      if (e.isSymbolicLink()) out[p] = `link -> ${fs.readlinkSync(abs)}`;
      else if (e.isDirectory()) {
        out[`${p}/`] = 'dir';
        walk(p);
      } else out[p] = `${(fs.statSync(abs).mode & 0o777).toString(8)} ${fs.readFileSync(abs, 'utf8')}`;
    }
  };
  if (fs.existsSync(dir)) walk('');
  return out;
}

const A = 'machine: as5712\ndump:\n  compressor: lzo\n';
const B = 'machine: qemux86-64\ndump:\n  compressor: zlib\n';
const NOTE = 'NOTES.txt';

describe('generate keeps to its layer directory', function () {
  // Each case runs the real CLI several times; generous for a loaded machine.
  this.timeout(180000);
  let t: { dir: string; cleanup: () => void };
  beforeEach(() => {
    t = tempDir();
    fs.writeFileSync(path.join(t.dir, 'a.yml'), A);
    fs.writeFileSync(path.join(t.dir, 'b.yml'), B);
  });
  afterEach(() => t.cleanup());
  const layer = () => path.join(t.dir, 'meta-ops-kdump');
  const run = (...args: string[]) => runCli(args, { cwd: t.dir });
  const noTrace = (s: string) => expect(s).not.to.match(/\n\s+at .*\.js:\d+/);

  it('refuses a sub-directory that is a symlink, writing nothing there or in the layer', () => {
    const outside = path.join(t.dir, 'outside');
    fs.mkdirSync(outside);
    fs.mkdirSync(layer());
    fs.symlinkSync('../outside', path.join(layer(), 'conf'));
    const before = snapshot(t.dir);
    const r = run('generate', '--config', 'a.yml');
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.match(/conf is a symbolic link; generate does not follow links inside the layer directory/);
    noTrace(r.stderr);
    expect(snapshot(t.dir), 'nothing written anywhere').to.deep.equal(before);
  });

  it('refuses to remove a generated file reached through a symlinked directory (the file outside stays)', () => {
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    // Move the generated directory out and link it back: the manifest still lists its files, checksums match.
    const outside = path.join(t.dir, 'outside');
    fs.renameSync(path.join(layer(), 'recipes-kernel/makedumpfile'), outside);
    fs.symlinkSync(outside, path.join(layer(), 'recipes-kernel/makedumpfile'));
    const before = snapshot(t.dir);
    const r = run('generate', '--config', 'b.yml');
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.include('recipes-kernel/makedumpfile is a symbolic link');
    expect(snapshot(t.dir)).to.deep.equal(before);
    expect(fs.readdirSync(outside).sort()).to.deep.equal(['makedumpfile-kdump.inc', 'makedumpfile_%.bbappend']);
  });

  it('refuses a generated file that is a symlink (it would be written through)', () => {
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    const victim = path.join(t.dir, 'victim.txt');
    fs.writeFileSync(victim, 'precious\n');
    fs.rmSync(path.join(layer(), 'README.md'));
    fs.symlinkSync(victim, path.join(layer(), 'README.md'));
    for (const args of [['--config', 'b.yml'], ['--config', 'b.yml', '--force'], ['--config', 'b.yml', '--check']]) {
      const r = run('generate', ...args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr).to.include('README.md is a symbolic link');
    }
    expect(fs.readFileSync(victim, 'utf8')).to.equal('precious\n');
  });

  for (const entry of ['../victim.txt', 'conf/../../victim.txt', '/tmp/victim.txt', '.kdump-layer-txn/x']) {
    it(`refuses a manifest entry that leaves the layer: ${entry}`, () => {
      expect(run('generate', '--config', 'a.yml').code).to.equal(0);
      const victim = path.join(t.dir, 'victim.txt');
      fs.writeFileSync(victim, 'precious\n');
      const mf = path.join(layer(), '.kdump-layer-manifest.json');
      const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
      m.files[entry.replace('/tmp/victim.txt', victim)] = 'a'.repeat(64);
      fs.writeFileSync(mf, JSON.stringify(m));
      const before = snapshot(t.dir);
      const r = run('generate', '--config', 'b.yml', '--force');
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/manifest lists a path outside the layer's generated files/);
      noTrace(r.stderr);
      expect(snapshot(t.dir)).to.deep.equal(before);
    });
  }

  it('follows a symlink given as --out itself (the user named it), and checks where it leads', () => {
    const real = path.join(t.dir, 'real');
    fs.mkdirSync(real);
    fs.symlinkSync(real, path.join(t.dir, 'via-link'));
    const r = run('generate', '--machine', 'as5712', '--out', 'via-link');
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.existsSync(path.join(real, 'conf/layer.conf'))).to.equal(true);
    expect(fs.lstatSync(path.join(t.dir, 'via-link')).isSymbolicLink()).to.equal(true);
    fs.symlinkSync('/etc', path.join(t.dir, 'to-etc'));
    const bad = run('generate', '--machine', 'as5712', '--out', 'to-etc', '--dry-run');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/refusing to write a layer into \/etc \(where .*to-etc leads\): it is a system or home directory/);
  });

  describe('--out a system or home directory: exit 2', () => {
    // --dry-run: a regression must not write into the real system directories of the test machine.
    for (const dir of ['/', '/etc', '/usr', '/var', '/boot', '/lib', '/usr/local', '/proc/kdump', '/sys/x', '/dev/shm/meta-x', '/tmp', '//etc/']) {
      it(dir, () => {
        const r = run('generate', '--machine', 'as5712', '--out', dir, '--dry-run');
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(/refusing to write a layer into .*: it is a system or home directory/);
        expect(r.stdout).to.equal('');
      });
    }
    it('the home directory ($HOME), for real', () => {
      const home = path.join(t.dir, 'home');
      fs.mkdirSync(home);
      const before = snapshot(t.dir);
      const r = runCli(['generate', '--machine', 'as5712', '--out', home], { cwd: t.dir, env: { HOME: home } });
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include('system or home directory');
      expect(snapshot(t.dir)).to.deep.equal(before);
    });
  });

  it('a file name too long for the file system (300-character recipe): exit 2 and nothing written, new or existing layer', () => {
    fs.writeFileSync(path.join(t.dir, 'long.yml'), `machine: as5712\nkernel:\n  recipe: linux-${'x'.repeat(294)}\n`);
    const empty = snapshot(t.dir);
    const r1 = run('generate', '--config', 'long.yml');
    expect(r1.code, r1.stderr).to.equal(2);
    expect(r1.stderr).to.match(/too long|at most 255/);
    noTrace(r1.stderr);
    expect(snapshot(t.dir), 'no layer directory, no lock').to.deep.equal(empty);
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    const before = snapshot(t.dir);
    const r2 = run('generate', '--config', 'long.yml', '--force');
    expect(r2.code).to.equal(2);
    expect(snapshot(t.dir)).to.deep.equal(before);
  });

  it('keeps the marker the same however the config path is spelled (and from another directory)', () => {
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    expect(fs.readFileSync(path.join(layer(), 'conf/layer.conf'), 'utf8')).to.include('Regenerate with: kdump-layer generate --config a.yml');
    fs.mkdirSync(path.join(t.dir, 'sub'));
    for (const [cwd, args] of [
      [t.dir, ['--config', './a.yml']],
      [t.dir, ['--config', 'sub/../a.yml']],
      [t.dir, ['--config', path.join(t.dir, 'a.yml')]],
      [path.join(t.dir, 'sub'), ['--config', '../a.yml', '--out', '../meta-ops-kdump']],
      [os.tmpdir(), ['--config', path.join(t.dir, 'a.yml'), '--out', layer()]],
    ] as [string, string[]][]) {
      const r = runCli(['generate', ...args, '--check'], { cwd });
      expect(r.code, `${cwd}: ${args.join(' ')}\n${r.stdout}`).to.equal(0);
    }
  });

  it('--check reports what an interrupted run left; generate cleans it', () => {
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    fs.mkdirSync(path.join(layer(), '.kdump-layer-txn/files'), { recursive: true });
    fs.writeFileSync(path.join(layer(), 'conf/.layer.conf.4242.tmp'), 'half\n');
    const r = run('generate', '--config', 'a.yml', '--check');
    expect(r.code).to.equal(1);
    expect(r.stdout).to.include('leftover of an interrupted generate: .kdump-layer-txn (an update that never committed)');
    expect(r.stdout).to.include('leftover of an interrupted generate: conf/.layer.conf.4242.tmp');
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    expect(fs.existsSync(path.join(layer(), '.kdump-layer-txn'))).to.equal(false);
    expect(fs.existsSync(path.join(layer(), 'conf/.layer.conf.4242.tmp'))).to.equal(false);
    expect(run('generate', '--config', 'a.yml', '--check').code).to.equal(0);
  });

  it('a committed update whose staging area holds more than its files is completed, and the staging area removed whole', () => {
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    const before = snapshot(layer());
    const txn = path.join(layer(), '.kdump-layer-txn');
    fs.mkdirSync(path.join(txn, 'files/conf'), { recursive: true });
    fs.writeFileSync(path.join(txn, 'files/conf/stray.txt'), 'not staged by generate\n');
    fs.writeFileSync(path.join(txn, 'journal.json'), '{"version":1,"writes":[],"modes":[],"removes":[]}\n');
    const r = run('generate', '--config', 'a.yml');
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.existsSync(txn)).to.equal(false);
    expect(snapshot(layer())).to.deep.equal(before);
  });

  it('a committed update whose staging area leads out of the layer through a link stops with exit 2, moving and removing nothing', () => {
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    // Outside the layer: a directory holding a file named like a staged one, and an empty directory.
    const outside = path.join(t.dir, 'outside');
    fs.mkdirSync(path.join(outside, 'empty'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'layer.conf'), 'not the layer\'s\n');
    const txn = path.join(layer(), '.kdump-layer-txn');
    fs.mkdirSync(path.join(txn, 'files'), { recursive: true });
    fs.symlinkSync(outside, path.join(txn, 'files/conf'));
    fs.writeFileSync(path.join(txn, 'journal.json'), '{"version":1,"writes":["conf/layer.conf","conf/empty/x"],"modes":[],"removes":[]}\n');
    const before = snapshot(t.dir);
    const r = run('generate', '--config', 'a.yml');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('the staging area of an interrupted generate is damaged: .kdump-layer-txn/files/conf is a symbolic link');
    noTrace(r.stderr);
    expect(snapshot(t.dir)).to.deep.equal(before);
    expect(fs.readFileSync(path.join(outside, 'layer.conf'), 'utf8')).to.equal('not the layer\'s\n');
    expect(fs.existsSync(path.join(outside, 'empty'))).to.equal(true);
  });

  it('a damaged journal (or one naming a path outside the layer) stops the run with exit 2, touching nothing', () => {
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    const victim = path.join(t.dir, 'victim.txt');
    fs.writeFileSync(victim, 'precious\n');
    fs.mkdirSync(path.join(layer(), '.kdump-layer-txn'));
    for (const journal of ['{"version":1,"writes":[],"modes":[],"removes":["../victim.txt"]}', '{"version":1', '[]']) {
      fs.writeFileSync(path.join(layer(), '.kdump-layer-txn/journal.json'), journal);
      const before = snapshot(t.dir);
      const r = run('generate', '--config', 'b.yml');
      expect(r.code, journal).to.equal(2);
      expect(r.stderr).to.include('the journal of an interrupted generate is damaged');
      noTrace(r.stderr);
      expect(snapshot(t.dir)).to.deep.equal(before);
    }
  });

  it('a lock left by a killed process is taken over; a live holder is named and the second run exits 2', async () => {
    expect(run('generate', '--config', 'a.yml').code).to.equal(0);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const lock = path.join(layer(), '.kdump-layer.lock');
    fs.writeFileSync(lock, JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), start: null, since: 'earlier', nonce: 'x' }));
    const check = run('generate', '--config', 'a.yml', '--check');
    expect(check.code).to.equal(1);
    expect(check.stdout).to.include('leftover of an interrupted generate: .kdump-layer.lock');
    const r = run('generate', '--config', 'b.yml');
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.existsSync(lock)).to.equal(false);

    // A live holder: a generate paused while holding the lock.
    const holder = spawn(process.execPath, [cliPath, 'generate', '--config', 'a.yml'], { cwd: t.dir, env: { ...process.env, KDUMP_LAYER_TEST_HOLD_MS: '8000' }, stdio: 'ignore' });
    try {
      const deadline = Date.now() + 20000;
      while (!fs.existsSync(lock) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      const second = runCli(['generate', '--config', 'b.yml'], { cwd: t.dir, env: { KDUMP_LAYER_LOCK_WAIT_MS: '300' } });
      expect(second.code, second.stderr).to.equal(2);
      expect(second.stderr).to.match(new RegExp(`another kdump-layer generate is working on this directory \\(pid ${holder.pid} on `));
    } finally {
      holder.kill('SIGKILL');
      await new Promise((res) => holder.once('exit', res));
    }
    // Killed holding the lock: the next run takes it over at once.
    const after = run('generate', '--config', 'a.yml');
    expect(after.code, after.stderr).to.equal(0);
    expect(run('generate', '--config', 'a.yml', '--check').code).to.equal(0);
  });

  it('two generates into one directory at once (different configurations) leave one of them whole, never a mix', async () => {
    const refs = referenceLayers(t.dir);
    for (let round = 0; round < 2; round++) {
      fs.rmSync(layer(), { recursive: true, force: true });
      const go = (cfg: string) =>
        new Promise<number>((res) => {
          const c = spawn(process.execPath, [cliPath, 'generate', '--config', cfg], { cwd: t.dir, env: { ...process.env, KDUMP_LAYER_TEST_STEP_MS: '5' }, stdio: 'ignore' });
          c.on('exit', (code) => res(code ?? -1));
        });
      const codes = await Promise.all([go('a.yml'), go('b.yml')]);
      // The second waits for the first; if it waited too long it exits 2 and changes nothing.
      for (const c of codes) expect([0, 2]).to.include(c);
      const snap = snapshot(layer());
      expect([refs.a, refs.b], `round ${round}: ${JSON.stringify(codes)}`).to.deep.include(snap);
    }
  });
});

/** The layers a.yml and b.yml give, each generated alone (with the user's NOTES.txt beside). */
function referenceLayers(dir: string): { a: Record<string, string>; b: Record<string, string> } {
  const make = (cfg: string) => {
    const out = path.join(dir, `ref-${cfg}`);
    fs.rmSync(out, { recursive: true, force: true });
    const r = runCli(['generate', '--config', cfg, '--out', out], { cwd: dir });
    if (r.code !== 0) throw new Error(r.stderr);
    const snap = snapshot(out);
    // The marker names the config relative to the layer's parent: the same directory here.
    fs.rmSync(out, { recursive: true, force: true });
    return snap;
  };
  return { a: make('a.yml'), b: make('b.yml') };
}

/** Steps of `generate --config b.yml` over a's layer, as the trace names them. */
function traceSteps(dir: string, layerDir: string): string[] {
  const r = runCli(['generate', '--config', 'b.yml', '--out', layerDir], { cwd: dir, env: { KDUMP_LAYER_TEST_TRACE: '1' } });
  if (r.code !== 0) throw new Error(r.stderr);
  return [...r.stderr.matchAll(/^kdump-layer: step \d+ (.*)$/gm)].map((m) => m[1]);
}

function killTest(pick: (steps: string[]) => number[]) {
  return function (this: Mocha.Context) {
    const t = tempDir();
    try {
      fs.writeFileSync(path.join(t.dir, 'a.yml'), A);
      fs.writeFileSync(path.join(t.dir, 'b.yml'), B);
      const layerDir = path.join(t.dir, 'meta-ops-kdump');
      const refs = referenceLayers(t.dir);
      const startFromA = () => {
        fs.rmSync(layerDir, { recursive: true, force: true });
        const r = runCli(['generate', '--config', 'a.yml'], { cwd: t.dir });
        if (r.code !== 0) throw new Error(r.stderr);
        fs.writeFileSync(path.join(layerDir, NOTE), 'mine\n');
      };
      const withNote = (s: Record<string, string>) => ({ ...s, [NOTE]: '644 mine\n' });
      startFromA();
      const steps = traceSteps(t.dir, layerDir);
      expect(steps).to.include('committed');
      for (const k of pick(steps)) {
        startFromA();
        const killed = runCli(['generate', '--config', 'b.yml'], { cwd: t.dir, env: { KDUMP_LAYER_TEST_KILL_AT: String(k) } });
        expect(killed.code, `step ${k} (${steps[k - 1]}): killed`).to.equal(-1);
        const snap = snapshot(layerDir);
        const visible = Object.fromEntries(Object.entries(snap).filter(([p]) => !p.startsWith('.kdump-layer-txn') && p !== '.kdump-layer.lock'));
        const committed = '.kdump-layer-txn/journal.json' in snap;
        if (!committed) expect(visible, `step ${k} (${steps[k - 1]}): before the commit the old layer is whole`).to.deep.equal(withNote(refs.a));
        // Until the next run, --check sees the leftovers (whichever configuration it is given: a or b by turns).
        const cfg = k % 2 === 0 ? 'b.yml' : 'a.yml';
        const c = runCli(['generate', '--config', cfg, '--check'], { cwd: t.dir });
        expect(c.code, `step ${k}: --check ${cfg}`).to.equal(1);
        expect(c.stdout).to.include('leftover of an interrupted generate');
        // The next run (either configuration) leaves exactly that configuration's layer, the user's file kept.
        const next = k % 2 === 0 ? 'a.yml' : 'b.yml';
        const r = runCli(['generate', '--config', next], { cwd: t.dir });
        expect(r.code, `step ${k}: next run ${next}: ${r.stderr}`).to.equal(0);
        expect(snapshot(layerDir), `step ${k} (${steps[k - 1]}), then generate ${next}`).to.deep.equal(withNote(next === 'a.yml' ? refs.a : refs.b));
      }
    } finally {
      t.cleanup();
    }
  };
}

describe('kill -9 during generate', function () {
  this.timeout(600000);
  it('at the first step, just before and after the commit, and at the last step: old or new layer after the next run', killTest((steps) => {
    const commit = steps.indexOf('committed') + 1;
    return [...new Set([1, commit - 1, commit + 1, steps.length])];
  }));
  it('at every step of a run @slow', killTest((steps) => steps.map((_, i) => i + 1)));

  it('at random moments (SIGKILL from outside) @slow', async () => {
    const t = tempDir();
    try {
      fs.writeFileSync(path.join(t.dir, 'a.yml'), A);
      fs.writeFileSync(path.join(t.dir, 'b.yml'), B);
      const layerDir = path.join(t.dir, 'meta-ops-kdump');
      const refs = referenceLayers(t.dir);
      for (let i = 0; i < 12; i++) {
        const from = i % 2 === 0 ? 'a.yml' : 'b.yml';
        const to = from === 'a.yml' ? 'b.yml' : 'a.yml';
        fs.rmSync(layerDir, { recursive: true, force: true });
        expect(runCli(['generate', '--config', from], { cwd: t.dir }).code).to.equal(0);
        const child = spawn(process.execPath, [cliPath, 'generate', '--config', to], { cwd: t.dir, env: { ...process.env, KDUMP_LAYER_TEST_STEP_MS: '10' }, stdio: 'ignore' });
        const delay = 100 + Math.floor(Math.random() * 1500);
        await new Promise((res) => setTimeout(res, delay));
        child.kill('SIGKILL');
        await new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res(null) : child.once('exit', res)));
        const r = runCli(['generate', '--config', to], { cwd: t.dir });
        expect(r.code, r.stderr).to.equal(0);
        expect(snapshot(layerDir), `killed after ${delay} ms`).to.deep.equal(to === 'a.yml' ? refs.a : refs.b);
      }
    } finally {
      t.cleanup();
    }
  });
});
