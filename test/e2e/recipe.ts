/**
 * Reads the generated layer's ops-kdump recipe the way BitBake and OE-Core's classes act on
 * it at image build time, so that a test image gets the layer's files exactly as the
 * recipe installs them: do_install (install -d / install -m, with the DISTRO_FEATURES
 * conditions), SYSTEMD_SERVICE + SYSTEMD_AUTO_ENABLE (systemd.bbclass: `systemctl enable`
 * offline), INITSCRIPT_NAME + INITSCRIPT_PARAMS (update-rc.d.bbclass: rc links).
 *
 * Only the shell forms the recipe uses are understood; anything else throws, so a recipe
 * change the test image would not follow fails the test instead of being skipped.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** OE-Core's bitbake.conf paths for a usrmerge-less image (Debian's /lib and /sbin are links). */
const OE_PATHS: Record<string, string> = {
  D: '',
  prefix: '/usr',
  bindir: '/usr/bin',
  sbindir: '/usr/sbin',
  base_bindir: '/bin',
  base_sbindir: '/sbin',
  libdir: '/usr/lib',
  datadir: '/usr/share',
  sysconfdir: '/etc',
  localstatedir: '/var',
  systemd_unitdir: '/lib/systemd',
  systemd_system_unitdir: '/lib/systemd/system',
};

export type InitSystem = 'systemd' | 'sysvinit';

export interface RecipeInstall {
  recipe: string;
  dirs: { path: string; mode: number }[];
  files: { src: string; dest: string; mode: number }[];
  /** Units systemd.bbclass enables (empty unless the image uses systemd). */
  enable: string[];
  /** rc links update-rc.d.bbclass makes (empty unless the image uses SysV init). */
  rcLinks: { link: string; target: string }[];
}

function variable(bb: string, names: string[]): string | undefined {
  for (const n of names) {
    const re = new RegExp(`^${n.replace(/[$.{}]/g, (c) => `\\${c}`)}\\s*\\??=\\s*"([^"]*)"`, 'm');
    const m = re.exec(bb);
    if (m) return m[1];
  }
  return undefined;
}

/** The recipe file of the runtime package in a generated layer. */
export function findRecipe(layerDir: string): string {
  const dir = path.join(layerDir, 'recipes-kdump/ops-kdump');
  const bb = fs.readdirSync(dir).filter((f) => f.endsWith('.bb'));
  if (bb.length !== 1) throw new Error(`expected one .bb in ${dir}, found: ${bb.join(' ')}`);
  return path.join(dir, bb[0]);
}

/** What the recipe installs into an image whose DISTRO_FEATURES has `init`. */
export function recipeInstall(layerDir: string, init: InitSystem): RecipeInstall {
  const recipe = findRecipe(layerDir);
  const bb = fs.readFileSync(recipe, 'utf8');
  const features = new Set([init, 'ops-kdump']);
  const filesDir = path.join(path.dirname(recipe), 'files');
  const vars: Record<string, string> = { ...OE_PATHS, S: filesDir, WORKDIR: filesDir, UNPACKDIR: filesDir };
  const expand = (s: string, line: number): string =>
    s.replace(/\$\{([A-Za-z_]+)\}/g, (_, v: string) => {
      if (!(v in vars)) throw new Error(`${recipe}: do_install line ${line}: unknown variable \${${v}}`);
      return vars[v];
    });

  const body = /^do_install\(\)\s*\{\n([\s\S]*?)^\}/m.exec(bb);
  if (!body) throw new Error(`${recipe}: no do_install`);
  const out: RecipeInstall = { recipe, dirs: [], files: [], enable: [], rcLinks: [] };
  const cond: boolean[] = [];
  const active = (): boolean => cond.every(Boolean);
  body[1].split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fi = /^if \$\{@bb\.utils\.contains\('DISTRO_FEATURES', '([^']+)', 'true', 'false', d\)\}; then$/.exec(line);
    if (fi) {
      cond.push(features.has(fi[1]));
      return;
    }
    if (line === 'else') {
      cond.push(!cond.pop());
      return;
    }
    if (line === 'fi') {
      if (cond.pop() === undefined) throw new Error(`${recipe}: do_install line ${i + 1}: fi without if`);
      return;
    }
    const words = line.split(/\s+/);
    if (words[0] !== 'install') throw new Error(`${recipe}: do_install line ${i + 1}: cannot follow '${line}'`);
    if (!active()) return;
    if (words[1] === '-d') {
      // install -d [-m MODE] DIR...
      const mode = words[2] === '-m' ? parseInt(words[3], 8) : 0o755;
      for (const w of words.slice(words[2] === '-m' ? 4 : 2)) out.dirs.push({ path: expand(w, i + 1), mode });
    } else if (words[1] === '-m' && words.length === 5) {
      out.files.push({ mode: parseInt(words[2], 8), src: expand(words[3], i + 1), dest: expand(words[4], i + 1) });
    } else {
      throw new Error(`${recipe}: do_install line ${i + 1}: cannot follow '${line}'`);
    }
  });
  if (cond.length) throw new Error(`${recipe}: do_install: if without fi`);

  if (init === 'systemd') {
    const services = variable(bb, ['SYSTEMD_SERVICE:${PN}', 'SYSTEMD_SERVICE_${PN}']) ?? '';
    const auto = variable(bb, ['SYSTEMD_AUTO_ENABLE:${PN}', 'SYSTEMD_AUTO_ENABLE_${PN}', 'SYSTEMD_AUTO_ENABLE']) ?? 'enable';
    if (auto === 'enable') out.enable = services.split(/\s+/).filter(Boolean);
  } else {
    const name = variable(bb, ['INITSCRIPT_NAME']);
    const params = variable(bb, ['INITSCRIPT_PARAMS']) ?? 'defaults';
    if (name) {
      // update-rc.d syntax: (start|stop) NN runlevel... . [(start|stop) NN runlevel... .]
      const t = params.split(/\s+/);
      for (let k = 0; k < t.length; ) {
        const kind = t[k];
        if (kind !== 'start' && kind !== 'stop') throw new Error(`${recipe}: INITSCRIPT_PARAMS '${params}': cannot follow`);
        const nn = t[k + 1];
        k += 2;
        while (k < t.length && t[k] !== '.') {
          out.rcLinks.push({ link: `/etc/rc${t[k]}.d/${kind === 'start' ? 'S' : 'K'}${nn}${name}`, target: `../init.d/${name}` });
          k++;
        }
        k++;
      }
    }
  }
  return out;
}

/** Installs what recipeInstall found into the root file system tree `root`. */
export function applyInstall(root: string, inst: RecipeInstall): void {
  for (const d of inst.dirs) {
    fs.mkdirSync(path.join(root, d.path), { recursive: true });
    fs.chmodSync(path.join(root, d.path), d.mode);
  }
  for (const f of inst.files) {
    const dest = path.join(root, f.dest);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.rmSync(dest, { force: true });
    fs.copyFileSync(f.src, dest);
    fs.chmodSync(dest, f.mode);
  }
  if (inst.enable.length) {
    const r = spawnSync('systemctl', [`--root=${root}`, 'enable', ...inst.enable], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`systemctl --root enable ${inst.enable.join(' ')}: ${r.stderr}`);
  }
  for (const l of inst.rcLinks) {
    const link = path.join(root, l.link);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.rmSync(link, { force: true });
    fs.symlinkSync(l.target, link);
  }
}
