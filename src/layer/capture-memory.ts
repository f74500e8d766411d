/**
 * Memory the capture environment needs: the smallest `crashkernel=` with which a dump was
 * saved in every run, measured by `bench/capture-env.ts --sweep` (Linux 6.1 x86_64 under
 * QEMU, the layer's kdump.conf, 1 GiB and 4 GiB guests). The capture kernel boots the image's
 * own init, so the figure could depend on it; measured, it does not: 96M saved a dump with
 * systemd and with SysV on both guest sizes, while at 88M the capture kernel itself ran out
 * of memory during its own start in two of three runs, before user space. Written into
 * /etc/sysconfig/kdump, where `ops-kdump load` compares the reservation with it and warns; a
 * number, or RAM ranges in the crashkernel= form (`0M-4G:96,4G-:128`, sizes in MiB) matched
 * against the system's RAM.
 */
export const CAPTURE_NEED_MIB = {
  systemd: '96',
  sysvinit: '96',
} as const;
