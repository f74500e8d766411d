/**
 * The source arches of the generated symbol table (src/kernel/arch-symbols.ts), in mask bit
 * order, and which KernelArch values each one covers.
 */
import type { KernelArch } from './arch.js';

export const ARCH_SYMBOL_ARCHES: readonly { srcarch: string; parseAs: KernelArch; arches: readonly KernelArch[] }[] = [
  { srcarch: 'x86', parseAs: 'x86_64', arches: ['x86_64', 'i386'] },
  { srcarch: 'arm64', parseAs: 'arm64', arches: ['arm64'] },
  { srcarch: 'arm', parseAs: 'arm', arches: ['arm'] },
  { srcarch: 'powerpc', parseAs: 'powerpc64', arches: ['powerpc', 'powerpc64'] },
  { srcarch: 'riscv', parseAs: 'riscv64', arches: ['riscv64'] },
];
