/**
 * The fragment corpus tree mode is held to, and the kernel's own flow on it, shared by the
 * tree-mode tests and bench/validate.ts: the seed, yocto-kernel-cache fragments (the kdump,
 * kexec and debug features and a deterministic sample of the rest) and hand-made fragments
 * that each reproduce one case (valid, other-arch, dependency-dropped, select, choice, range,
 * malformed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../helpers/cli.js';
import { cacheDir } from './helpers.js';
import { KBUILD_ARCH, kernelReleaseVersion } from '../../src/kernel/kconfig.js';
import type { KernelArch } from '../../src/kernel/arch.js';
import type { ValidateReport } from '../../src/report/types.js';

const LINE_CLASSES = ['syntax', 'invalid', 'not-in-effect', 'redefinition'];

/** The lines of `file` a report says do not take effect (errors and warnings; notes do not count). */
export function flaggedLines(report: ValidateReport, file: string): Set<number> {
  return new Set(report.findings.filter((f) => f.file === file && f.line && f.severity !== 'info' && LINE_CLASSES.includes(f.class)).map((f) => f.line!));
}

export interface CorpusFragment {
  /** A short name: `yocto:features/kdump/kdump.cfg`, `fixture:malformed.cfg`. */
  name: string;
  file: string;
}

/** yocto-kernel-cache's fragments beside the clone. Missing is a failure, not a skip. */
export function yoctoFragmentsDir(): string {
  const dir = path.resolve(repoRoot, '../shared/data/yocto-kernel-cache-fragments');
  if (!fs.existsSync(path.join(dir, 'features'))) throw new Error(`the yocto-kernel-cache fragments are missing: expected ${dir}`);
  return dir;
}

/** Every .cfg below dir, relative, sorted (a deterministic order for the sample). */
function cfgFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const n of fs.readdirSync(path.join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    if (fs.statSync(path.join(dir, r)).isDirectory()) out.push(...cfgFiles(dir, r));
    else if (n.endsWith('.cfg')) out.push(r);
  }
  return out;
}

export const SAMPLE_STEP = 80;

export function kernelCorpus(): CorpusFragment[] {
  const yocto = yoctoFragmentsDir();
  const all = cfgFiles(yocto);
  const features = ['features/kdump/kdump.cfg', 'features/kexec/kexec.cfg', ...all.filter((f) => f.startsWith('features/debug/'))];
  const sample = all.filter((_, i) => i % SAMPLE_STEP === 7).filter((f) => !features.includes(f));
  const fixtures = path.join(repoRoot, 'test/fixtures/kconfig/kernel');
  return [
    { name: 'seed', file: path.join(repoRoot, 'test/fixtures/kconfig/seed.cfg') },
    ...[...features, ...sample].map((f) => ({ name: `yocto:${f}`, file: path.join(yocto, f) })),
    ...fs.readdirSync(fixtures).sort().map((n) => ({ name: `fixture:${n}`, file: path.join(fixtures, n) })),
  ];
}

/**
 * Real arm64 config lines as fragments: every `step`th setting line of a kernel-written .config
 * from ../shared/data/kconfig-corpus (its header line dropped, so it reads as a fragment), written
 * once under .cache/corpus-fragments. 6.1: the upstream arm64 defconfig resolved by 6.1; 6.12:
 * Debian 13's arm64 config (6.12).
 */
export function arm64ConfigFragments(step = 10): CorpusFragment[] {
  const corpus = path.resolve(repoRoot, '../shared/data/kconfig-corpus');
  const sources = ['defconfigs/arm64_defconfig_6.1.config', 'distros/Debian_13_Trixie_aarch64.config'];
  const out = path.join(cacheDir, 'corpus-fragments');
  fs.mkdirSync(out, { recursive: true });
  return sources.map((rel) => {
    const src = path.join(corpus, rel);
    if (!fs.existsSync(src)) throw new Error(`the kernel config corpus is missing ${src}`);
    const settings = fs.readFileSync(src, 'utf8').split('\n').filter((l) => /^CONFIG_\w+=|^# CONFIG_\w+ is not set$/.test(l));
    const file = path.join(out, `${path.basename(rel, '.config')}-every-${step}.cfg`);
    const text = `${settings.filter((_, i) => i % step === 0).join('\n')}\n`;
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
    return { name: `kconfig-corpus:${rel} (every ${step}th setting)`, file };
  });
}

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr ?? ''}`);
  return `${r.stdout}${r.stderr}`;
}

/** Debian's linux-source-6.12 (bookworm-security) unpacked under .cache/ once. */
export function linuxSource612(): string {
  const dir = path.join(cacheDir, 'linux-source-6.12');
  if (fs.existsSync(path.join(dir, '.kdump-layer-unpacked'))) return dir;
  const tarball = '/usr/src/linux-source-6.12.tar.xz';
  if (!fs.existsSync(tarball)) throw new Error(`${tarball} is missing: install the Debian package linux-source-6.12 (scripts/install-test-deps.sh does)`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(cacheDir, { recursive: true });
  sh('tar', ['-xJf', tarball, '-C', cacheDir]);
  fs.writeFileSync(path.join(dir, '.kdump-layer-unpacked'), '');
  return dir;
}

const flowCache = path.join(cacheDir, 'kernel-flow');

/**
 * The kernel's own flow for one fragment: `make O=<dir> ARCH=<arch> <arch defconfig>`, then
 * `scripts/kconfig/merge_config.sh -m -O <dir> <dir>/.config <fragment>`, then
 * `make O=<dir> ARCH=<arch> olddefconfig`. The defconfig step gives the same .config for every
 * fragment, so it runs once per tree and arch and its .config is copied; results are cached
 * under .cache/kernel-flow by tree, arch and fragment text. Returns the final .config's text.
 */
export function kernelFlow(tree: string, arch: KernelArch, fragment: string): string {
  return kernelFlowRun(tree, arch, fragment).config;
}

/**
 * kernelFlow, and the lines conf said it did not read at all ("unexpected data: <line>", the
 * line's text without its line break), from `make olddefconfig`'s own warnings.
 */
export function kernelFlowRun(tree: string, arch: KernelArch, fragment: string): { config: string; unread: string[] } {
  const kb = KBUILD_ARCH[arch];
  const text = fs.readFileSync(fragment);
  const key = crypto.createHash('sha256').update(`${kernelReleaseVersion(tree)}\0${path.resolve(tree)}\0${kb.arch}\0${kb.defconfig}\0`).update(text).digest('hex').slice(0, 20);
  const cached = path.join(flowCache, `${key}.config`);
  const cachedUnread = path.join(flowCache, `${key}.unread.json`);
  if (fs.existsSync(cached) && fs.existsSync(cachedUnread)) {
    return { config: fs.readFileSync(cached, 'utf8'), unread: JSON.parse(fs.readFileSync(cachedUnread, 'utf8')) as string[] };
  }
  const out = path.join(flowCache, `o-${crypto.createHash('sha256').update(`${path.resolve(tree)}\0${kb.arch}\0${kernelReleaseVersion(tree)}`).digest('hex').slice(0, 12)}`);
  const base = path.join(out, 'defconfig.config');
  if (!fs.existsSync(base)) {
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    sh('make', ['-s', '-C', tree, `O=${out}`, `ARCH=${kb.arch}`, kb.defconfig]);
    fs.copyFileSync(path.join(out, '.config'), `${base}.tmp`);
    fs.renameSync(`${base}.tmp`, base);
  }
  fs.copyFileSync(base, path.join(out, '.config'));
  // merge_config.sh writes its temporary files into the current directory.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-merge-'));
  try {
    sh(path.join(tree, 'scripts/kconfig/merge_config.sh'), ['-m', '-O', out, path.join(out, '.config'), path.resolve(fragment)], { cwd: work });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const said = sh('make', ['-s', '-C', tree, `O=${out}`, `ARCH=${kb.arch}`, 'olddefconfig']);
  const unread = [...said.matchAll(/^\S*\.config:\d+:warning: unexpected data: (.*)$/gm)].map((m) => m[1]);
  const result = fs.readFileSync(path.join(out, '.config'), 'utf8');
  fs.writeFileSync(`${cachedUnread}.tmp`, JSON.stringify(unread));
  fs.renameSync(`${cachedUnread}.tmp`, cachedUnread);
  fs.writeFileSync(`${cached}.tmp`, result);
  fs.renameSync(`${cached}.tmp`, cached);
  return { config: result, unread };
}

/**
 * Ground truth for one fragment, independent of the tool's reader: every line that asks for a
 * value (`CONFIG_X=…`, possibly several on one line, or `# CONFIG_X is not set`) and whether the
 * kernel's final .config has what the line plainly means (yes/Y/true → y, no/off → n,
 * module → m, quotes and a trailing `# comment` stripped, numbers compared as numbers). A line
 * conf says it did not read at all (`unread`, its "unexpected data" warnings) is dropped too,
 * even where the value it asks for holds anyway, from the base config.
 */
export function linesKernelDrops(fragmentText: string, finalConfig: string, unread: string[] = []): { asks: Map<number, string[]>; dropped: Set<number> } {
  const notRead = new Set(unread);
  const final = new Map<string, string>();
  for (const l of finalConfig.split('\n')) {
    const m = /^CONFIG_(\w+)=(.*)$/.exec(l);
    if (m) final.set(m[1], m[2]);
  }
  const asks = new Map<number, string[]>();
  const dropped = new Set<number>();
  fragmentText.split('\n').forEach((asWritten, i) => {
    const raw = i === 0 ? asWritten.replace(/^\uFEFF/, '') : asWritten;
    const line = raw.replace(/\r$/, '');
    const wants: [string, string][] = [];
    const off = /^#\s*CONFIG_(\w+)\s+is\s+not\s+set/i.exec(line);
    if (off) wants.push([off[1], 'n']);
    else if (!line.trimStart().startsWith('#')) {
      // A quoted value runs to the last quote on the line (or to its end when unclosed).
      for (const m of line.matchAll(/CONFIG_(\w+)\s*=\s*("(?:.*")?[^"]*$|"(?:.*")|'[^']*'?|[^\s#]*)/g)) wants.push([m[1], m[2].replace(/^("(?:.*"))\s*(#.*)?$/, '$1')]);
    }
    if (wants.length === 0) return;
    asks.set(i + 1, wants.map(([s]) => s));
    if (notRead.has(asWritten.replace(/\r$/, '')) || wants.some(([s, v]) => !sameMeaning(v, final.get(s)))) dropped.add(i + 1);
  });
  return { asks, dropped };
}

function sameMeaning(asked: string, have: string | undefined): boolean {
  const words: Record<string, string> = { y: 'y', yes: 'y', true: 'y', on: 'y', n: 'n', no: 'n', false: 'n', off: 'n', m: 'm', module: 'm' };
  let a = asked.trim();
  const w = words[a.toLowerCase()];
  if (w) return w === 'n' ? have === undefined || have === 'n' : have === w;
  if (/^["'].*["']$/.test(a)) a = a.slice(1, -1).replace(/\\(.)/g, '$1');
  else if (/^["']/.test(a)) a = a.slice(1);
  if (have === undefined) return false;
  const h = /^".*"$/.test(have) ? have.slice(1, -1).replace(/\\(.)/g, '$1') : have;
  if (/^0x/i.test(h) && /^(0x)?[0-9a-f]+$/i.test(a)) return BigInt(h) === BigInt(/^0x/i.test(a) ? a : `0x${a}`);
  if (/^-?\d+$/.test(h) && /^-?\d+$/.test(a)) return BigInt(h) === BigInt(a);
  return a === h;
}
