import type { MachineProfile } from '../config/types.js';

/** Accton AS5712-54X as OpenSwitch built it: the seed design's target. */
export const as5712: MachineProfile = {
  name: 'as5712',
  description: 'Accton AS5712-54X (OpenSwitch): x86_64 core2-64, linux-ops 3.9.11 defconfig, GRUB',
  defaults: {
    arch: 'x86_64',
    tune: 'core2-64',
    yocto_machine: 'as5712',
    kernel: { recipe: 'linux-ops', version: '3.9.11', style: 'defconfig', image: 'bzImage' },
    bootloader: 'grub',
    crashkernel: '128M@0M',
  },
};
