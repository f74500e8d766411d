import type { MachineProfile } from '../config/types.js';

/** Accton AS6712-32X (OpenSwitch): the same platform family as the AS5712. */
export const as6712: MachineProfile = {
  name: 'as6712',
  description: 'Accton AS6712-32X (OpenSwitch): x86_64 core2-64, linux-ops 3.9.11 defconfig, GRUB',
  defaults: {
    arch: 'x86_64',
    tune: 'core2-64',
    yocto_machine: 'as6712',
    kernel: { recipe: 'linux-ops', version: '3.9.11', style: 'defconfig', image: 'bzImage' },
    bootloader: 'grub',
    crashkernel: '128M@0M',
  },
};
