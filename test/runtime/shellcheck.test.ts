import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/cli.js';

/** Every file under templates/runtime that starts with a sh shebang. */
function shellScripts(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...shellScripts(p));
    else if (/^#!\s*\/bin\/(sh|busybox sh)\b/.test(fs.readFileSync(p, 'utf8').split('\n', 1)[0])) out.push(p);
  }
  return out.sort();
}

describe('runtime shell scripts', () => {
  const scripts = shellScripts(path.join(repoRoot, 'templates/runtime'));

  it('are found (the entry point and the SysV init script at least)', () => {
    const rel = scripts.map((s) => path.relative(repoRoot, s));
    expect(rel).to.include.members(['templates/runtime/ops-kdump', 'templates/runtime/sysvinit/ops-kdump']);
  });

  it('are shellcheck-clean as POSIX sh', () => {
    const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'style', ...scripts], { encoding: 'utf8' });
    if (r.error) throw new Error(`shellcheck could not run (${r.error.message}): run scripts/install-test-deps.sh`);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  it('are executable and parse under dash and busybox sh', () => {
    for (const s of scripts) {
      expect(fs.statSync(s).mode & 0o111, `${s} must be executable`).to.not.equal(0);
      for (const shell of [['dash', '-n'], ['busybox', 'sh', '-n']]) {
        const r = spawnSync(shell[0], [...shell.slice(1), s], { encoding: 'utf8' });
        expect(r.status, `${shell.join(' ')} ${s}: ${r.stderr}`).to.equal(0);
      }
    }
  });

  it('systemd units name the installed entry point and the capture target', () => {
    const dir = path.join(repoRoot, 'templates/runtime/systemd');
    const units = fs.readdirSync(dir);
    expect(units).to.include.members(['ops-kdump-load.service', 'ops-kdump-capture.service', 'ops-kdump-capture.target']);
    for (const u of units.filter((x) => x.endsWith('.service'))) {
      const text = fs.readFileSync(path.join(dir, u), 'utf8');
      expect(text, u).to.match(/^ExecStart=\/usr\/sbin\/ops-kdump \w+$/m);
      expect(text, u).to.match(/^\[Install\]$/m);
    }
    expect(fs.readFileSync(path.join(dir, 'ops-kdump-capture.service'), 'utf8')).to.match(/^WantedBy=ops-kdump-capture\.target$/m);
    // The marker ops-kdump load puts on the capture kernel's command line selects that target.
    expect(fs.readFileSync(path.join(repoRoot, 'templates/runtime/ops-kdump'), 'utf8')).to.include('CAPTURE_MARKER="systemd.unit=ops-kdump-capture.target"');
  });
});
