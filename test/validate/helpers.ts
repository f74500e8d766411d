import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../helpers/cli.js';

/** The real kernel config corpus, beside the clone. Missing is a failure, not a skip. */
export function corpusDir(): string {
  const dir = path.resolve(repoRoot, '../shared/data/kconfig-corpus');
  if (!fs.existsSync(path.join(dir, 'defconfigs'))) {
    throw new Error(`the kernel config corpus is missing: expected ${dir} (a copy of shared/ beside the repository)`);
  }
  return dir;
}

export const cacheDir = path.join(repoRoot, '.cache');
/** Where the tests keep built kconfig tools (also what the CLI is pointed at in tests). */
export const kconfigCache = path.join(cacheDir, 'kdump-layer');

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr ?? ''}`);
  }
  return r.stdout;
}

/**
 * Debian's linux-source-6.1 unpacked under .cache/ once (installed by scripts/install-test-deps.sh).
 * A marker file says the unpacking finished.
 */
export function linuxSource61(): string {
  const dir = path.join(cacheDir, 'linux-source-6.1');
  if (fs.existsSync(path.join(dir, '.kdump-layer-unpacked'))) return dir;
  const tarball = '/usr/src/linux-source-6.1.tar.xz';
  if (!fs.existsSync(tarball)) {
    throw new Error(`${tarball} is missing: install the Debian package linux-source-6.1 (scripts/install-test-deps.sh does)`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(cacheDir, { recursive: true });
  sh('tar', ['-xJf', tarball, '-C', cacheDir]);
  fs.writeFileSync(path.join(dir, '.kdump-layer-unpacked'), '');
  return dir;
}

/**
 * Debian's own x86_64 kernel config: the real linux-image-6.1.0-*-amd64 package, downloaded with
 * apt-get into .cache/ and unpacked with dpkg-deb (never installed). Returns the /boot/config-* path.
 */
export function debianAmd64Config(): string {
  const dir = path.join(cacheDir, 'debian-linux-image');
  const found = () => {
    const boot = path.join(dir, 'root/boot');
    const f = fs.existsSync(boot) ? fs.readdirSync(boot).find((n) => n.startsWith('config-')) : undefined;
    return f ? path.join(boot, f) : undefined;
  };
  const have = found();
  if (have) return have;
  fs.mkdirSync(dir, { recursive: true });
  // linux-image-amd64 is the metapackage; its dependency names the real image package.
  const deps = sh('apt-cache', ['depends', 'linux-image-amd64']);
  const pkg = /Depends: (linux-image-[0-9.]+-\d+-amd64)\b/.exec(deps)?.[1];
  if (!pkg) throw new Error(`cannot find the image package linux-image-amd64 depends on:\n${deps}`);
  sh('apt-get', ['download', '-q', pkg], dir);
  const deb = fs.readdirSync(dir).find((n) => n.startsWith(pkg) && n.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}`);
  sh('dpkg-deb', ['-x', deb, 'root'], dir);
  const cfg = found();
  if (!cfg) throw new Error(`${deb} holds no /boot/config-*`);
  return cfg;
}
