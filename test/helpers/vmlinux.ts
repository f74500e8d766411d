/**
 * Small kernel-shaped ELF files for the vmlinux lookup tests and benchmark: built by gcc and
 * ld (real ELF executables with a linux_banner symbol, a GNU build id and DWARF debug info),
 * optionally stripped by strip(1); and a BitBake TMPDIR shaped like a real one.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function run(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
}

/**
 * Builds `out`, an ELF executable whose linux_banner is "Linux version <release> (…) <version>".
 * `salt` changes the build id; `stripped` removes the debug info as `strip --strip-debug` does.
 */
export function makeFakeVmlinux(out: string, opts: { release: string; version?: string; salt?: string; stripped?: boolean }): string {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const src = `${out}.c`;
  const version = opts.version ?? '#1 SMP PREEMPT_DYNAMIC Test 1.0';
  fs.writeFileSync(src, `const char linux_banner[] = "Linux version ${opts.release} (builder@host) (gcc) ${version}\\n";
const char kdl_salt[] = "${opts.salt ?? 'a'}";
struct kdl_task { int pid; char comm[16]; } kdl_init_task = { 1, "init" };
void _start(void) { for (;;) {} }
`);
  run('gcc', ['-g', '-O0', '-nostdlib', '-static', '-no-pie', '-Wl,--build-id=sha1', '-o', out, src]);
  fs.rmSync(src);
  if (opts.stripped) run('strip', ['--strip-debug', out]);
  return out;
}

export interface FakeTmpdir {
  tmp: string;
  files: number;
}

/** A copy of `src` without debug info, as `strip --strip-debug` (the build id stays). */
export function stripCopy(src: string, out: string): string {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  run('strip', ['--strip-debug', '-o', out, src]);
  return out;
}

/**
 * A BitBake TMPDIR with `total` files spread the way a real one is: work/<arch>/<recipe>/<ver>/
 * with temp/, image/, package/, packages-split/, sysroot-destdir/ and many source files, plus
 * sstate-control, stamps, sysroots-components, deploy/images and work-shared. The kernel recipe
 * `linux-ops` keeps vmlinux files where kernel.bbclass puts them: copies of `vmlinux` (hard
 * links) under package/boot and packages-split/kernel-vmlinux/boot, a stripped one in deploy.
 */
export function makeFakeTmpdir(root: string, total: number, kernel: { vmlinux: string; release: string; stripped?: string }): FakeTmpdir {
  const tmp = path.join(root, 'tmp');
  let files = 0;
  const write = (p: string, content = '') => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    files++;
  };
  const link = (src: string, p: string) => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    try {
      fs.linkSync(src, p);
    } catch {
      fs.copyFileSync(src, p);
    }
    files++;
  };
  write(path.join(root, 'conf/local.conf'), 'MACHINE = "qemux86-64"\n');
  write(path.join(root, 'conf/bblayers.conf'), 'BBLAYERS = ""\n');
  const arches = ['core2-64-poky-linux', 'x86_64-linux', 'qemux86_64-poky-linux', 'all-poky-linux'];
  const kernelDir = path.join(tmp, 'work/qemux86_64-poky-linux/linux-ops/6.1-r0');
  link(kernel.vmlinux, path.join(kernelDir, `package/boot/vmlinux-${kernel.release}`));
  link(kernel.vmlinux, path.join(kernelDir, `packages-split/kernel-vmlinux/boot/vmlinux-${kernel.release}`));
  if (kernel.stripped) link(kernel.stripped, path.join(tmp, `deploy/images/qemux86-64/vmlinux-${kernel.release}`));
  write(path.join(kernelDir, 'temp/log.do_compile'), 'compiled\n');
  write(path.join(tmp, 'work/qemux86_64-poky-linux/linux-libc-headers/6.1-r0/temp/log.do_install'));
  let n = 0;
  // Recipes with source trees: most of a real TMPDIR's files.
  for (let r = 0; files < total; r++) {
    const arch = arches[r % arches.length];
    const w = path.join(tmp, 'work', arch, `recipe-${r}`, '1.0-r0');
    const perRecipe = Math.min(400, total - files);
    for (let i = 0; i < perRecipe; i++) {
      const sub = ['src', 'image/usr/lib', 'package/usr/bin', 'packages-split/pkg', 'temp', 'sysroot-destdir/usr/include', 'build/obj'][i % 7];
      write(path.join(w, sub, `d${Math.floor(i / 50)}`, `f${n++}.c`));
    }
    if (r % 5 === 0) write(path.join(tmp, 'stamps', arch, `recipe-${r}`, '1.0-r0.do_compile'));
    if (r % 7 === 0) write(path.join(tmp, 'sstate-control', `manifest-${arch}-recipe-${r}.populate_sysroot`));
  }
  return { tmp, files };
}
