/**
 * Finding the vmlinux that matches a dump: read a candidate's identity (release and version
 * from linux_banner, GNU build id, debug info or not), list candidates from the places Yocto
 * and distributions put them, and judge each against the dump's identity.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Elf, FileReader } from './elf.js';
import type { DumpIdentity } from './vmcore.js';

export interface VmlinuxIdentity {
  file: string;
  /** From linux_banner ("Linux version <release> (<builder>) <version>"). */
  release?: string;
  banner?: string;
  buildId?: string;
  debugInfo: boolean;
  /** Set when the file is no ELF executable. */
  unreadable?: string;
}

export function readVmlinuxIdentity(file: string): VmlinuxIdentity {
  let r: FileReader;
  try {
    r = new FileReader(file);
  } catch (e) {
    return { file, debugInfo: false, unreadable: (e as Error).message };
  }
  try {
    let elf: Elf;
    try {
      elf = new Elf(r);
    } catch {
      return { file, debugInfo: false, unreadable: 'not an ELF file (a compressed vmlinuz/bzImage? analyze needs the uncompressed vmlinux)' };
    }
    if (elf.type !== 2 /* ET_EXEC */ && elf.type !== 3) return { file, debugInfo: false, unreadable: `an ELF file but not a kernel image (e_type ${elf.type})` };
    const id: VmlinuxIdentity = { file, debugInfo: Boolean(elf.section('.debug_info')?.size) };
    const gnu = elf.notes('sections').find((n) => n.name === 'GNU' && n.type === 3);
    if (gnu) id.buildId = gnu.desc.toString('hex');
    let banner = elf.symbolBytes('linux_banner', 512);
    if (!banner) banner = scanRodataForBanner(elf);
    if (banner) {
      const text = banner.subarray(0, banner.indexOf(0) < 0 ? banner.length : banner.indexOf(0)).toString('latin1').trim();
      id.banner = text;
      const m = /^Linux version (\S+)/.exec(text);
      if (m) id.release = m[1];
    }
    return id;
  } finally {
    r.close();
  }
}

function scanRodataForBanner(elf: Elf): Buffer | undefined {
  const ro = elf.section('.rodata');
  if (!ro || ro.size > 256 * 1024 * 1024) return undefined;
  const data = elf.r.read(ro.offset, ro.size);
  const needle = Buffer.from('Linux version ', 'latin1');
  for (let i = data.indexOf(needle); i >= 0; i = data.indexOf(needle, i + 1)) {
    // linux_banner starts a string: the byte before it is a NUL (or the section start).
    if (i === 0 || data[i - 1] === 0) return data.subarray(i, i + 512);
  }
  return undefined;
}

/** Why a candidate does not fit the dump, or undefined when it does. */
export function rejectReason(dump: DumpIdentity, v: VmlinuxIdentity): string | undefined {
  if (v.unreadable) return v.unreadable;
  if (!v.release) return 'no linux_banner found in it: cannot tell which kernel it is';
  if (dump.release && v.release !== dump.release) return `another release: vmlinux ${v.release}, dump ${dump.release}`;
  if (dump.buildId && v.buildId) {
    if (!v.buildId.startsWith(dump.buildId) && !dump.buildId.startsWith(v.buildId)) {
      return `another build of ${v.release}: build id ${v.buildId} in the vmlinux, ${dump.buildId} in the dump`;
    }
  } else if (dump.version && v.banner && !v.banner.includes(dump.version)) {
    return `another build of ${v.release}: vmlinux is "${v.banner}", the dump's kernel is "${dump.version}"`;
  }
  if (!v.debugInfo) {
    return 'stripped: it has no debug info (.debug_info); use the vmlinux from the kernel\'s package/ or -dbg tree (the layer\'s dbg-pkgs), not the deployed one';
  }
  return undefined;
}

export interface Candidate {
  file: string;
  /** Which known layout it came from. */
  layout: string;
}

const exists = (p: string) => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};
const dirs = (p: string): string[] => {
  try {
    return fs.readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name).sort();
  } catch {
    return [];
  }
};
const files = (p: string): string[] => {
  try {
    return fs.readdirSync(p, { withFileTypes: true }).filter((d) => !d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
};

/** The TMPDIRs of a BitBake build directory (tmp, tmp-glibc, tmp-musl…), or the dir itself if it is one. */
export function tmpDirs(buildDir: string): string[] {
  const isTmp = (d: string) => fs.existsSync(path.join(d, 'work')) || fs.existsSync(path.join(d, 'deploy'));
  if (isTmp(buildDir)) return [buildDir];
  return dirs(buildDir).filter((n) => /^tmp(-|$)/.test(n)).map((n) => path.join(buildDir, n)).filter(isTmp);
}

/** Kernel recipes are named linux-* (linux-yocto, linux-ops, linux-intel…); these are not kernels. */
const NOT_KERNELS = /^linux-(libc-headers|firmware|dummy|yocto-dev-headers)/;

/**
 * vmlinux candidates in a BitBake build directory, from Yocto's known layouts only: the
 * kernel recipe's package/, image/, packages-split/ (incl. the -dbg split) and build trees,
 * work-shared's kernel-build-artifacts and deploy/images/<machine>/. Directory listings only
 * where a layout has a variable part; nothing else in the tree is read.
 */
export function buildDirCandidates(buildDir: string, release?: string): Candidate[] {
  const out: Candidate[] = [];
  const add = (file: string, layout: string) => {
    if (exists(file) && !out.some((c) => c.file === file)) out.push({ file, layout });
  };
  const vmlinuxIn = (dir: string, layout: string) => {
    for (const f of files(dir)) if (/^vmlinux(-.+)?$/.test(f)) add(path.join(dir, f), layout);
  };
  for (const tmp of tmpDirs(buildDir)) {
    for (const arch of dirs(path.join(tmp, 'work'))) {
      for (const recipe of dirs(path.join(tmp, 'work', arch))) {
        if (!recipe.startsWith('linux-') || NOT_KERNELS.test(recipe)) continue;
        for (const ver of dirs(path.join(tmp, 'work', arch, recipe))) {
          const w = path.join(tmp, 'work', arch, recipe, ver);
          vmlinuxIn(path.join(w, 'package/boot'), 'kernel recipe package/boot');
          vmlinuxIn(path.join(w, 'image/boot'), 'kernel recipe image/boot');
          for (const p of dirs(path.join(w, 'packages-split'))) {
            vmlinuxIn(path.join(w, 'packages-split', p, 'boot'), `packages-split/${p}`);
            vmlinuxIn(path.join(w, 'packages-split', p, 'usr/lib/debug/boot'), `packages-split/${p} (debug)`);
          }
          vmlinuxIn(path.join(w, 'package/usr/lib/debug/boot'), 'kernel recipe package/usr/lib/debug');
          for (const b of dirs(w)) if (b === 'build' || /^linux-.*-build$/.test(b)) add(path.join(w, b, 'vmlinux'), `kernel build tree ${b}`);
        }
      }
    }
    for (const m of dirs(path.join(tmp, 'work-shared'))) add(path.join(tmp, 'work-shared', m, 'kernel-build-artifacts/vmlinux'), 'work-shared kernel-build-artifacts');
    for (const m of dirs(path.join(tmp, 'deploy/images'))) vmlinuxIn(path.join(tmp, 'deploy/images', m), `deploy/images/${m}`);
  }
  return prefer(out, release);
}

/** Distribution layouts: Debian/Fedora/Ubuntu debug packages, and the build-id link tree. */
export function distributionCandidates(release: string | undefined, buildId: string | undefined, root = '/'): Candidate[] {
  const out: Candidate[] = [];
  const add = (rel: string, layout: string) => {
    const f = path.join(root, rel);
    if (exists(f) && !out.some((c) => c.file === f)) out.push({ file: f, layout });
  };
  if (buildId && buildId.length > 2) add(`usr/lib/debug/.build-id/${buildId.slice(0, 2)}/${buildId.slice(2)}.debug`, 'build-id link');
  if (release) {
    add(`usr/lib/debug/boot/vmlinux-${release}`, 'distribution debug package');
    add(`usr/lib/debug/lib/modules/${release}/vmlinux`, 'distribution debug package');
    add(`lib/modules/${release}/build/vmlinux`, 'kernel build tree');
    add(`boot/vmlinux-${release}`, '/boot');
  }
  return out;
}

/** Files named for the dump's release first, so the usual match is read first. */
function prefer(list: Candidate[], release?: string): Candidate[] {
  if (!release) return list;
  const named = (c: Candidate) => (path.basename(c.file) === `vmlinux-${release}` ? 0 : 1);
  return [...list].sort((a, b) => named(a) - named(b));
}

export interface VmlinuxChoice {
  chosen?: { file: string; layout: string; identity: VmlinuxIdentity };
  rejected: { file: string; layout: string; reason: string }[];
}

/** Reads candidates in order and returns the first that matches, with every rejection. */
export function chooseVmlinux(dump: DumpIdentity, candidates: Candidate[]): VmlinuxChoice {
  const rejected: VmlinuxChoice['rejected'] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    let real: string;
    try {
      real = fs.realpathSync(c.file);
    } catch {
      real = c.file;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const identity = readVmlinuxIdentity(c.file);
    const reason = rejectReason(dump, identity);
    if (!reason) return { chosen: { ...c, identity }, rejected };
    rejected.push({ ...c, reason });
  }
  return { rejected };
}
