import type { MachineProfile } from '../config/types.js';

/** poky's meta-yocto-bsp generic 64-bit PC. */
export const genericx86_64: MachineProfile = {
  name: 'genericx86-64',
  description: 'Generic x86_64 PC (meta-yocto-bsp): linux-yocto 6.6, GRUB (EFI)',
  defaults: {
    arch: 'x86_64',
    tune: 'corei7-64',
    yocto_machine: 'genericx86-64',
    kernel: { recipe: 'linux-yocto', version: '6.6', style: 'linux-yocto', image: 'bzImage' },
    bootloader: 'grub',
    crashkernel: '256M',
  },
};
