// The package as users get it: `npm pack`, installed from the tarball into an empty project,
// run with npx — no build step on the user's machine, kdump-layer's own version.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, tempDir } from './helpers/cli.js';

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('the npm package @slow', function () {
  this.timeout(300000);
  let t: { dir: string; cleanup: () => void };
  before(() => {
    t = tempDir('kdump-layer-pack-');
  });
  after(() => t.cleanup());

  it('packs dist/ (no sources, no tests) with a LICENSE, installs into an empty project and runs with npx', () => {
    // The test command built dist/ already; --ignore-scripts so packing does not rebuild under running tests.
    const pack = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', t.dir], repoRoot);
    expect(pack.code, pack.stderr).to.equal(0);
    const info = JSON.parse(pack.stdout)[0] as { filename: string; files: { path: string }[] };
    const files = info.files.map((f) => f.path);
    expect(files).to.include.members(['LICENSE', 'package.json', 'dist/bin/kdump-layer.js', 'dist/bin/cli.cjs', 'dist/bin/package.json', 'schemas/config.schema.json']);
    expect(files.filter((f) => f.endsWith('.ts') || f.startsWith('test/') || f.startsWith('src/'))).to.deep.equal([]);
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(manifest.license).to.equal('MIT');
    expect(fs.readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8')).to.match(/^MIT License/);

    // An empty project with a version of its own, to tell the two apart.
    const project = path.join(t.dir, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'host-project', version: '9.9.9', private: true }));
    const tarball = path.join(t.dir, info.filename);
    // The dependencies come from the npm cache `npm ci` filled; the registry only when the cache lacks one.
    let install = sh('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project);
    if (install.code !== 0) install = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
    // npm runs no prepare for a tarball: had it tried to build, the build tools (dev dependencies) are not there and this fails.
    expect(install.code, install.stderr).to.equal(0);
    expect(fs.existsSync(path.join(project, 'node_modules/kdump-layer/dist/src')), 'only the bundle ships').to.equal(false);

    const version = sh('npx', ['--no-install', 'kdump-layer', '--version'], project);
    expect(version.code, version.stderr).to.equal(0);
    expect(version.stdout.trim()).to.equal(manifest.version);

    const installed = path.join(project, 'node_modules/kdump-layer');
    const shipped = fs.readdirSync(installed, { recursive: true }).map(String).sort();
    const cache = path.join(t.dir, 'cache');
    const gen = sh('npx', ['--no-install', 'kdump-layer', 'generate', '--machine', 'as5712'], project, { XDG_CACHE_HOME: cache });
    expect(gen.code, gen.stderr).to.equal(0);
    // The V8 code cache goes to the user's cache directory, never into the installed package.
    expect(fs.readdirSync(path.join(cache, 'kdump-layer')).filter((f) => f.endsWith('-generate.v8cache'))).to.have.length(1);
    expect(fs.readdirSync(installed, { recursive: true }).map(String).sort()).to.deep.equal(shipped);
    const committed = path.join(repoRoot, 'meta-ops-kdump/conf/layer.conf');
    expect(fs.readFileSync(path.join(project, 'meta-ops-kdump/conf/layer.conf'), 'utf8')).to.equal(fs.readFileSync(committed, 'utf8'));
    const check = sh('npx', ['--no-install', 'kdump-layer', 'generate', '--machine', 'as5712', '--check', '--out', path.join(repoRoot, 'meta-ops-kdump')], project);
    expect(check.code, check.stdout + check.stderr).to.equal(0);

    const validate = sh('npx', ['--no-install', 'kdump-layer', 'validate', 'meta-ops-kdump/recipes-kernel/linux/files/kdump.cfg', '--machine', 'as5712'], project);
    expect(validate.code, validate.stdout + validate.stderr).to.equal(0);
    const init = sh('npx', ['--no-install', 'kdump-layer', 'init', '--machine', 'as5712'], project);
    expect(init.code, init.stderr).to.equal(0);
  });
});
