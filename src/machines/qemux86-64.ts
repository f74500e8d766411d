import type { MachineProfile } from '../config/types.js';

/** OE-Core's x86_64 QEMU machine. */
export const qemux86_64: MachineProfile = {
  name: 'qemux86-64',
  description: 'QEMU x86_64 (OE-Core): linux-yocto 6.6, kernel booted by QEMU (-append)',
  defaults: {
    arch: 'x86_64',
    tune: 'core2-64',
    yocto_machine: 'qemux86-64',
    kernel: { recipe: 'linux-yocto', version: '6.6', style: 'linux-yocto', image: 'bzImage' },
    bootloader: 'grub',
    crashkernel: '256M',
  },
};
