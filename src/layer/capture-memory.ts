/**
 * Memory the capture environment needs: the smallest `crashkernel=` with which a dump was
 * still saved, measured by `bench/capture-env.ts --sweep` (Linux 6.1 x86_64 under QEMU, the
 * layer's kdump.conf) and rounded up to the next 16 MiB step tried. The capture kernel boots
 * the image's own init, so the figure depends on it. Written into /etc/sysconfig/kdump, where
 * `ops-kdump load` compares the reservation with it and warns; a number, or RAM ranges in
 * the crashkernel= form (`0M-4G:128,4G-:144`, sizes in MiB) matched against the system's RAM.
 */
export const CAPTURE_NEED_MIB = {
  systemd: '128',
  sysvinit: '128',
} as const;
