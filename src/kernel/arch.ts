/**
 * Kernel architectures kdump-layer knows, named as the kernel's `uname -m`-like arch
 * (not Yocto's TARGET_ARCH: aarch64 is arm64 here, i586/i686 are i386).
 */
export const KERNEL_ARCHES = ['x86_64', 'i386', 'arm64', 'arm', 'powerpc', 'powerpc64', 'riscv64'] as const;
export type KernelArch = (typeof KERNEL_ARCHES)[number];

export function isKernelArch(s: string): s is KernelArch {
  return (KERNEL_ARCHES as readonly string[]).includes(s);
}
