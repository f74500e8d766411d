import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, tempDir } from '../helpers/cli.js';

/** Where Debian keeps the stock units the runtime's units depend on. */
function systemUnitDir(): string {
  for (const d of ['/usr/lib/systemd/system', '/lib/systemd/system']) {
    if (fs.existsSync(path.join(d, 'sysinit.target'))) return d;
  }
  throw new Error('systemd units not found on this machine: run scripts/install-test-deps.sh (installs systemd)');
}

describe('runtime systemd units', () => {
  it('pass systemd-analyze verify in an image root holding /usr/sbin/ops-kdump', () => {
    const t = tempDir('ops-kdump-units-');
    try {
      const root = t.dir;
      fs.mkdirSync(path.join(root, 'usr/sbin'), { recursive: true });
      fs.mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true });
      fs.cpSync(systemUnitDir(), path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
      fs.copyFileSync(path.join(repoRoot, 'templates/runtime/ops-kdump'), path.join(root, 'usr/sbin/ops-kdump'));
      fs.chmodSync(path.join(root, 'usr/sbin/ops-kdump'), 0o755);
      const unitDir = path.join(root, 'etc/systemd/system');
      fs.mkdirSync(unitDir, { recursive: true });
      const src = path.join(repoRoot, 'templates/runtime/systemd');
      const units = fs.readdirSync(src);
      for (const u of units) fs.copyFileSync(path.join(src, u), path.join(unitDir, u));
      const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units.map((u) => path.join(unitDir, u))], { encoding: 'utf8' });
      if (r.error) throw new Error(`systemd-analyze could not run (${r.error.message}): run scripts/install-test-deps.sh`);
      expect(r.status, r.stderr).to.equal(0);
      // Warnings (unknown keys, bad values) do not change the exit status: there must be none.
      expect(r.stderr.trim(), r.stderr).to.equal('');
    } finally {
      t.cleanup();
    }
  });
});
