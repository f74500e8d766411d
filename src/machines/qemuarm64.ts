import type { MachineProfile } from '../config/types.js';

/** OE-Core's arm64 QEMU machine (virt board). */
export const qemuarm64: MachineProfile = {
  name: 'qemuarm64',
  description: 'QEMU arm64 (OE-Core): linux-yocto 6.6, Image, U-Boot style bootargs',
  defaults: {
    arch: 'arm64',
    tune: 'cortexa57',
    yocto_machine: 'qemuarm64',
    kernel: { recipe: 'linux-yocto', version: '6.6', style: 'linux-yocto', image: 'Image' },
    bootloader: 'u-boot',
    crashkernel: '256M',
  },
};
