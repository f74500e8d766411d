import type { KernelArch } from '../kernel/arch.js';
import type { YoctoReleaseName } from '../yocto/releases.js';

export type Action = 'reboot' | 'halt' | 'poweroff' | 'shell';
export type KernelStyle = 'linux-yocto' | 'defconfig';
export type Bootloader = 'grub' | 'u-boot' | 'none';
export type DumpFormat = 'elf' | 'kdump';
export type Compressor = 'zlib' | 'lzo' | 'snappy' | 'zstd' | 'none';

/** A configuration as written in a config file or a machine profile: every key optional. */
export interface UserConfig {
  machine?: string;
  yocto?: YoctoReleaseName;
  layer?: { name?: string; collection?: string; priority?: number; maintainer?: string };
  arch?: KernelArch;
  tune?: string;
  yocto_machine?: string;
  kernel?: {
    recipe?: string;
    version?: string;
    style?: KernelStyle;
    image?: string;
    extra_config?: Record<string, string | number | boolean>;
  };
  bootloader?: Bootloader;
  crashkernel?: string;
  dump?: { path?: string; format?: DumpFormat; level?: number; compressor?: Compressor; message_level?: number; dmesg?: boolean };
  archive?: { compression?: 'gzip' | 'none'; stage?: 'boot' | 'capture'; recompress?: 'none' | 'zlib'; files?: string[]; keep?: number; min_free_mb?: number };
  actions?: { final?: Action; failure?: Action };
  upload?: Partial<UploadConfig>;
  capture?: { cmdline_remove?: string[]; cmdline_append?: string[] };
}

/**
 * The one fully-defaulted object every later step reads. Built by `resolveConfig`; nothing
 * after resolution looks at flags, files or profiles again.
 */
export interface ResolvedConfig {
  machine: string;
  yocto: YoctoReleaseName;
  layer: { name: string; collection: string; priority: number; maintainer: string };
  arch: KernelArch;
  tune?: string;
  yocto_machine: string;
  kernel: {
    recipe: string;
    version: string;
    style: KernelStyle;
    image: string;
    extra_config: Record<string, string | number | boolean>;
  };
  bootloader: Bootloader;
  crashkernel: string;
  dump: { path: string; format: DumpFormat; level: number; compressor: Compressor; message_level: number; dmesg: boolean };
  archive: { compression: 'gzip' | 'none'; stage: 'boot' | 'capture'; recompress: 'none' | 'zlib'; files: string[]; keep: number; min_free_mb: number };
  actions: { final: Action; failure: Action };
  upload: UploadConfig & { client: UploadClient };
  capture: { cmdline_remove: string[]; cmdline_append: string[] };
}

export type UploadClient = 'openssh' | 'dropbear' | 'curl';

/** Upload of archives off the device (`upload_*` keys of /etc/kdump.conf). */
export interface UploadConfig {
  target: string;
  client?: UploadClient;
  key: string;
  known_hosts: string[];
  ca?: string;
  connect_timeout: number;
  idle_timeout: number;
  keep_local: boolean;
  http_verify: 'get' | 'head';
}

/** A built-in machine profile (validated against schemas/machine.schema.json). */
export interface MachineProfile {
  name: string;
  description: string;
  defaults: UserConfig & {
    arch: KernelArch;
    yocto_machine: string;
    bootloader: Bootloader;
    kernel: { recipe: string; version: string; style: KernelStyle; image: string };
  };
}
