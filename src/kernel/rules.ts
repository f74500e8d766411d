/**
 * Kernel-config knowledge for kdump, as data: which symbols exist where (SYMBOL_FACTS) and what
 * kdump needs (KDUMP_RULES). `validate` evaluates these; the generator renders its kdump.cfg from
 * the same rules through kdumpFragment(), so the two cannot disagree.
 *
 * Sources, cited per row as `source`:
 *   K61   = Linux 6.1 Kconfig (Debian linux-source-6.1): arch/x86/Kconfig, arch/arm64/Kconfig,
 *           arch/arm/Kconfig, arch/powerpc/Kconfig, arch/Kconfig, fs/proc/Kconfig,
 *           fs/sysfs/Kconfig, init/Kconfig, lib/Kconfig.debug
 *   KEXEC = kernel/Kconfig.kexec, which gathered the kexec/crash options of every arch in 6.7;
 *           from 6.9 CRASH_DUMP depends on KEXEC_CORE (Baoquan He, "crash: split crash dumping
 *           code out from kexec_core", 2024)
 *   DWARF = "Kbuild: make DWARF version a choice" (5.12) and "Kconfig.debug: make DEBUG_INFO
 *           selectable from a choice" (5.18), which made DEBUG_INFO promptless, selected by the
 *           DEBUG_INFO_DWARF* choice
 *   Checked against the real .config corpus too: no fact calls a symbol absent where a real
 *   defconfig or distribution config of that arch and version has it (test/validate/corpus.test.ts).
 *   KDUMP = Documentation/admin-guide/kdump/kdump.rst (system and dump-capture kernel options)
 *   SEED  = the OpenSwitch kernel coredump design (its fragment and repro steps)
 */
import { KERNEL_ARCHES, type KernelArch } from './arch.js';
import { ARCH_SYMBOL_ARCHES } from './arch-symbols-format.js';
import { ARCH_SYMBOL_TABLES } from './arch-symbols.js';
import type { FragmentEntry, KconfigValue } from './fragment.js';
import { inVersionRange, parseKernelVersion, type KernelVersion, type VersionRange } from './version.js';

export type Severity = 'error' | 'warning' | 'info';
export type SymbolType = 'bool' | 'tristate' | 'string' | 'int' | 'hex';

const ALL: readonly KernelArch[] = KERNEL_ARCHES;
const X86: readonly KernelArch[] = ['x86_64', 'i386'];

const Y: KconfigValue = { kind: 'y' };
const N: KconfigValue = { kind: 'n' };

/** Where a symbol exists (arches × kernel range), whether a fragment can set it, its default. */
export interface SymbolFact {
  symbol: string;
  type: SymbolType;
  arches: readonly KernelArch[];
  kernel?: VersionRange;
  /** False when the symbol has no prompt here: a fragment's value is dropped unless something selects it. */
  settable: boolean;
  /** The prompt's condition when it has one ("EXPERT || CRASH_DUMP"). */
  promptIf?: string;
  /** Symbols that `select` it: a promptless symbol still takes effect when one of these is y. */
  selectedBy?: readonly string[];
  /** The value Kconfig gives it when no fragment does; `defaultIf` names the condition. */
  default?: KconfigValue;
  defaultIf?: string;
  definedIn: string;
  dependsOn?: string;
  /** An int/hex symbol's `range` (literal bounds) per arch: a value outside it is dropped for the default. */
  range?: Partial<Record<KernelArch, readonly [string, string]>>;
  /** What to say where the symbol does not exist or cannot be set, and what to use instead. */
  note?: string;
  fix?: string;
  source: string;
}

export const SYMBOL_FACTS: readonly SymbolFact[] = [
  { symbol: 'KEXEC', type: 'bool', arches: ['x86_64', 'i386', 'arm', 'powerpc', 'powerpc64', 'riscv64'], settable: true, default: N,
    definedIn: 'arch/<arch>/Kconfig (kernel/Kconfig.kexec from 6.7)', source: 'K61, KEXEC' },
  { symbol: 'KEXEC', type: 'bool', arches: ['arm64'], kernel: { from: '4.8' }, settable: true, default: N,
    definedIn: 'arch/arm64/Kconfig (kernel/Kconfig.kexec from 6.7)', note: 'arm64 gained kexec in Linux 4.8', source: 'K61, KEXEC' },
  { symbol: 'KEXEC_FILE', type: 'bool', arches: ['x86_64'], kernel: { from: '3.17' }, settable: true, default: N,
    definedIn: 'arch/x86/Kconfig (kernel/Kconfig.kexec from 6.7)', dependsOn: 'X86_64 && CRYPTO=y && CRYPTO_SHA256=y',
    note: 'kexec_file_load exists on x86_64 from 3.17, arm64 from 5.0 and 64-bit powerpc; not on 32-bit x86, arm or 32-bit powerpc',
    fix: 'use CONFIG_KEXEC=y', source: 'K61, KEXEC' },
  { symbol: 'KEXEC_FILE', type: 'bool', arches: ['arm64'], kernel: { from: '5.0' }, settable: true, default: N,
    definedIn: 'arch/arm64/Kconfig (kernel/Kconfig.kexec from 6.7)', fix: 'use CONFIG_KEXEC=y', source: 'K61, KEXEC' },
  { symbol: 'KEXEC_FILE', type: 'bool', arches: ['powerpc64', 'riscv64'], settable: true, default: N,
    definedIn: 'arch/<arch>/Kconfig (kernel/Kconfig.kexec from 6.7)', dependsOn: 'PPC64 && CRYPTO=y && CRYPTO_SHA256=y (powerpc)',
    fix: 'use CONFIG_KEXEC=y', source: 'K61, KEXEC' },
  { symbol: 'KEXEC_CORE', type: 'bool', arches: ALL, kernel: { from: '4.3' }, settable: false, selectedBy: ['KEXEC', 'KEXEC_FILE'],
    definedIn: 'arch/Kconfig (kernel/Kconfig.kexec from 6.7)',
    note: 'KEXEC_CORE has no prompt: KEXEC or KEXEC_FILE selects it', fix: 'set CONFIG_KEXEC=y (or CONFIG_KEXEC_FILE=y) instead',
    source: 'K61, KEXEC' },
  { symbol: 'CRASH_DUMP', type: 'bool', arches: ['x86_64', 'arm', 'powerpc', 'powerpc64', 'riscv64'], settable: true, default: N,
    definedIn: 'arch/<arch>/Kconfig (kernel/Kconfig.kexec from 6.7)', dependsOn: 'KEXEC_CORE (from 6.9)', source: 'K61, KEXEC' },
  { symbol: 'CRASH_DUMP', type: 'bool', arches: ['i386'], settable: true, default: N, definedIn: 'arch/x86/Kconfig (kernel/Kconfig.kexec from 6.7)',
    dependsOn: 'X86_32 && HIGHMEM', source: 'K61, KEXEC' },
  { symbol: 'CRASH_DUMP', type: 'bool', arches: ['arm64'], kernel: { from: '4.12' }, settable: true, default: N,
    definedIn: 'arch/arm64/Kconfig (kernel/Kconfig.kexec from 6.7)', note: 'arm64 gained kdump in Linux 4.12', source: 'K61, KEXEC' },
  { symbol: 'PROC_VMCORE', type: 'bool', arches: ALL, settable: true, default: Y, defaultIf: 'PROC_FS && CRASH_DUMP',
    definedIn: 'fs/proc/Kconfig', dependsOn: 'PROC_FS && CRASH_DUMP', source: 'K61' },
  { symbol: 'PROC_FS', type: 'bool', arches: ALL, settable: true, promptIf: 'EXPERT', default: Y, definedIn: 'fs/proc/Kconfig', source: 'K61' },
  { symbol: 'SYSFS', type: 'bool', arches: ALL, settable: true, promptIf: 'EXPERT', default: Y, definedIn: 'fs/sysfs/Kconfig', source: 'K61' },
  { symbol: 'RELOCATABLE', type: 'bool', arches: X86, settable: true, default: Y, definedIn: 'arch/x86/Kconfig', source: 'K61' },
  { symbol: 'RELOCATABLE', type: 'bool', arches: ['arm64'], kernel: { from: '4.6' }, settable: true, promptIf: 'EXPERT', default: Y,
    definedIn: 'arch/arm64/Kconfig', source: 'K61' },
  { symbol: 'RELOCATABLE', type: 'bool', arches: ['powerpc', 'powerpc64'], settable: true, definedIn: 'arch/powerpc/Kconfig',
    dependsOn: 'PPC64 || (FLATMEM && (44x || PPC_85xx))', source: 'K61' },
  { symbol: 'RELOCATABLE', type: 'bool', arches: ['riscv64'], settable: true, definedIn: 'arch/riscv/Kconfig', source: 'KEXEC' },
  { symbol: 'PHYSICAL_START', type: 'hex', arches: X86, settable: true, promptIf: 'EXPERT || CRASH_DUMP', default: { kind: 'hex', value: '0x1000000' },
    definedIn: 'arch/x86/Kconfig', note: 'CONFIG_PHYSICAL_START exists only on x86 (and is not settable on powerpc)', source: 'K61, SEED' },
  { symbol: 'PHYSICAL_START', type: 'hex', arches: ['powerpc', 'powerpc64'], settable: false, definedIn: 'arch/powerpc/Kconfig',
    note: 'on powerpc PHYSICAL_START has a prompt only with PHYSICAL_START_BOOL (ADVANCED_OPTIONS on 85xx), and 64-bit powerpc fixes it at 0',
    fix: 'remove the line: a relocatable kernel (CONFIG_RELOCATABLE=y) runs from wherever kexec loads it', source: 'K61' },
  { symbol: 'AUTO_ZRELADDR', type: 'bool', arches: ['arm'], settable: true, promptIf: '!ARCH_MULTIPLATFORM', default: Y,
    defaultIf: '!(ARCH_FOOTBRIDGE || ARCH_RPC || ARCH_SA1100)', definedIn: 'arch/arm/Kconfig', note: 'AUTO_ZRELADDR exists only on 32-bit arm',
    fix: 'remove the line', source: 'K61, KDUMP' },
  { symbol: 'PHYSICAL_ALIGN', type: 'hex', arches: X86, settable: true, default: { kind: 'hex', value: '0x200000' },
    definedIn: 'arch/x86/Kconfig', range: { x86_64: ['0x200000', '0x1000000'], i386: ['0x2000', '0x1000000'] }, source: 'K61' },
  { symbol: 'HIGHMEM4G', type: 'bool', arches: ['i386'], settable: true, definedIn: 'arch/x86/Kconfig (choice "High Memory Support")',
    dependsOn: 'X86_32', note: 'HIGHMEM4G exists only on 32-bit x86: the "High Memory Support" choice depends on X86_32, and x86_64 has no high memory',
    fix: 'remove the line: x86_64 needs no highmem option for kdump', source: 'K61, SEED' },
  { symbol: 'HIGHMEM64G', type: 'bool', arches: ['i386'], kernel: { until: '6.15' }, settable: true,
    definedIn: 'arch/x86/Kconfig (choice "High Memory Support")', dependsOn: 'X86_32',
    note: 'HIGHMEM64G exists only on 32-bit x86 (and was removed in 6.15)', fix: 'use CONFIG_HIGHMEM4G=y on 32-bit x86; remove it on x86_64',
    source: 'K61' },
  { symbol: 'DEBUG_INFO', type: 'bool', arches: ALL, kernel: { until: '5.18' }, settable: true, default: N,
    definedIn: 'lib/Kconfig.debug', dependsOn: 'DEBUG_KERNEL', source: 'K61, DWARF' },
  { symbol: 'DEBUG_INFO', type: 'bool', arches: ALL, kernel: { from: '5.18' }, settable: false, definedIn: 'lib/Kconfig.debug',
    selectedBy: ['DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT', 'DEBUG_INFO_DWARF4', 'DEBUG_INFO_DWARF5'],
    note: 'since Linux 5.18 CONFIG_DEBUG_INFO has no prompt: it is selected by the "Debug information" choice (DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT, DEBUG_INFO_DWARF4 or DEBUG_INFO_DWARF5)',
    fix: 'replace it with CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y (or DEBUG_INFO_DWARF4/DWARF5) and keep CONFIG_DEBUG_KERNEL=y',
    source: 'K61, DWARF' },
  { symbol: 'DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT', type: 'bool', arches: ALL, kernel: { from: '5.12' }, settable: true,
    definedIn: 'lib/Kconfig.debug (choice "Debug information")', dependsOn: 'DEBUG_KERNEL',
    note: 'the DWARF version choice appeared in Linux 5.12', fix: 'before 5.18 use CONFIG_DEBUG_INFO=y', source: 'K61, DWARF' },
  { symbol: 'DEBUG_INFO_DWARF5', type: 'bool', arches: ALL, kernel: { from: '5.12' }, settable: true,
    definedIn: 'lib/Kconfig.debug (choice "Debug information")', dependsOn: 'DEBUG_KERNEL',
    note: 'DWARF 5 support appeared in Linux 5.12 (some stable kernels have it backported)', fix: 'before 5.18 use CONFIG_DEBUG_INFO=y', source: 'K61, DWARF' },
  { symbol: 'DEBUG_INFO_DWARF4', type: 'bool', arches: ALL, kernel: { from: '3.10' }, settable: true, definedIn: 'lib/Kconfig.debug',
    dependsOn: 'DEBUG_KERNEL (DEBUG_INFO before 5.12)', note: 'DEBUG_INFO_DWARF4 appeared in Linux 3.10', fix: 'use CONFIG_DEBUG_INFO=y', source: 'K61, DWARF' },
  { symbol: 'DEBUG_INFO_NONE', type: 'bool', arches: ALL, kernel: { from: '5.18' }, settable: true,
    definedIn: 'lib/Kconfig.debug (choice "Debug information")', note: 'DEBUG_INFO_NONE appeared in Linux 5.18', source: 'K61, DWARF' },
  { symbol: 'DEBUG_INFO_REDUCED', type: 'bool', arches: ALL, settable: true, default: N, definedIn: 'lib/Kconfig.debug',
    dependsOn: 'DEBUG_INFO', source: 'K61' },
  { symbol: 'DEBUG_KERNEL', type: 'bool', arches: ALL, settable: true, default: N, selectedBy: ['EXPERT'], definedIn: 'lib/Kconfig.debug', source: 'K61' },
  { symbol: 'KALLSYMS', type: 'bool', arches: ALL, settable: true, promptIf: 'EXPERT', default: Y, definedIn: 'init/Kconfig', source: 'K61' },
  { symbol: 'LOG_BUF_SHIFT', type: 'int', arches: ALL, settable: true, default: { kind: 'int', value: '17' }, definedIn: 'init/Kconfig',
    dependsOn: 'PRINTK', range: Object.fromEntries(ALL.map((a) => [a, ['12', '25'] as const])), source: 'K61' },
  { symbol: 'MAGIC_SYSRQ', type: 'bool', arches: ALL, settable: true, default: N, selectedBy: ['KGDB_SERIAL_CONSOLE'], definedIn: 'lib/Kconfig.debug', source: 'K61' },
  { symbol: 'LOCALVERSION', type: 'string', arches: ALL, settable: true, default: { kind: 'string', value: '' }, definedIn: 'init/Kconfig', source: 'K61' },
  { symbol: 'INITRAMFS_SOURCE', type: 'string', arches: ALL, settable: true, default: { kind: 'string', value: '' }, definedIn: 'usr/Kconfig', source: 'K61' },
];

export type SymbolLookup =
  | { known: false }
  | { known: true; exists: true; fact: SymbolFact }
  | { known: true; exists: false; byArch: boolean; note: string; fix?: string; source: string };

/**
 * What the fact table says about a symbol on arch × version. `byArch` is true when the symbol
 * does not exist on this arch at all (certain); false when only the version range rules it
 * out (vendor kernels may have backported it, so callers report that less severely).
 */
export function lookupSymbol(symbol: string, arch: KernelArch, version: KernelVersion): SymbolLookup {
  const rows = SYMBOL_FACTS.filter((f) => f.symbol === symbol);
  if (rows.length === 0) return { known: false };
  const hit = rows.find((f) => f.arches.includes(arch) && inVersionRange(version, f.kernel));
  if (hit) return { known: true, exists: true, fact: hit };
  const archRows = rows.filter((f) => f.arches.includes(arch));
  const withNote = [...archRows, ...rows].find((f) => f.note) ?? rows[0];
  const byArch = archRows.length === 0;
  const where = byArch
    ? `CONFIG_${symbol} does not exist on ${arch} (only on ${[...new Set(rows.flatMap((r) => r.arches))].join(', ')})`
    : `CONFIG_${symbol} does not exist on ${arch} in Linux ${version.major}.${version.minor} (${archRows.map((r) => rangeText(r.kernel)).join(', ')})`;
  return { known: true, exists: false, byArch, note: withNote.note ? `${where}: ${withNote.note}` : where, fix: withNote.fix, source: withNote.source };
}

let archTables: Map<string, Map<string, number>> | undefined;

/**
 * For a symbol the fact table does not know: when the generated table for this kernel series
 * (Debian's linux-source-6.1 / -6.12 Kconfig, src/kernel/arch-symbols.ts) shows that no Kconfig
 * file of this arch defines it while another supported arch's do, the arches that define it.
 * Undefined when the series is not in the table or the symbol exists on this arch (or nowhere
 * the table covers: an out-of-tree or other-arch symbol the tool cannot tell from a typo).
 */
export function archAbsence(symbol: string, arch: KernelArch, version: KernelVersion): { definedOn: string[]; release: string } | undefined {
  const series = `${version.major}.${version.minor}`;
  const t = Object.hasOwn(ARCH_SYMBOL_TABLES, series) ? ARCH_SYMBOL_TABLES[series] : undefined;
  if (!t) return undefined;
  archTables ??= new Map();
  let table = archTables.get(series);
  if (!table) {
    table = new Map(t.table.split(' ').filter(Boolean).map((row) => {
      const i = row.lastIndexOf(':');
      return [row.slice(0, i), Number(row.slice(i + 1))] as const;
    }));
    archTables.set(series, table);
  }
  const mask = table.get(symbol);
  const bit = ARCH_SYMBOL_ARCHES.findIndex((a) => a.arches.includes(arch));
  if (mask === undefined || bit < 0 || mask & (1 << bit)) return undefined;
  return { definedOn: ARCH_SYMBOL_ARCHES.filter((_, j) => mask & (1 << j)).map((a) => a.srcarch), release: t.release };
}

function rangeText(r?: VersionRange): string {
  if (!r) return 'all versions';
  if (r.from && r.until) return `${r.from} to before ${r.until}`;
  return r.from ? `from ${r.from}` : `before ${r.until}`;
}

/** One symbol=value a rule asks for. */
export interface Requirement {
  symbol: string;
  value: KconfigValue;
}

/** Where a rule applies: arches × kernel range. A rule applies where any scope matches. */
export interface RuleScope {
  arches: readonly KernelArch[];
  kernel?: VersionRange;
}

export interface KdumpRule {
  id: string;
  title: string;
  scopes: readonly RuleScope[];
  severity: Severity;
  /** Satisfied when any one alternative holds (a plain requirement has one). */
  oneOf: readonly Requirement[];
  /** 'aligned': the value must be a multiple of PHYSICAL_ALIGN rather than equal to the one given. */
  check?: 'aligned';
  /** The alternative the generator writes into kdump.cfg (index into oneOf), or null for none. */
  fragment: number | null;
  /** Judged only against a full .config: the symbol has no prompt, others select it. */
  configOnly?: boolean;
  /**
   * With a kernel tree, this replaces the kernel-version part of `scopes`: the rule applies when
   * the tree defines `symbol` (with or without a prompt, if `hasPrompt` is given). Vendor
   * kernels with backports are then judged by what they contain, not by their version number.
   */
  treeScope?: { symbol: string; hasPrompt?: boolean };
  why: string;
  fix: string;
  source: string;
}

export const KDUMP_RULES: readonly KdumpRule[] = [
  {
    id: 'kexec-syscall', title: 'kexec system call to load the capture kernel', severity: 'error',
    scopes: [{ arches: ALL }], oneOf: [{ symbol: 'KEXEC', value: Y }, { symbol: 'KEXEC_FILE', value: Y }], fragment: 0,
    why: 'the system kernel loads the capture kernel with `kexec -p` (kexec_load, or kexec_file_load with -s); from 6.9 CRASH_DUMP also depends on KEXEC_CORE, which only KEXEC or KEXEC_FILE selects',
    fix: 'set CONFIG_KEXEC=y (or CONFIG_KEXEC_FILE=y where the arch has it)', source: 'KDUMP, KEXEC',
  },
  {
    id: 'kexec-core', title: 'kexec core code is built', severity: 'error', configOnly: true,
    scopes: [{ arches: ALL, kernel: { from: '4.3' } }], treeScope: { symbol: 'KEXEC_CORE' }, oneOf: [{ symbol: 'KEXEC_CORE', value: Y }], fragment: null,
    why: 'KEXEC_CORE holds the code that loads and jumps to the capture kernel; it has no prompt and is selected by KEXEC or KEXEC_FILE',
    fix: 'set CONFIG_KEXEC=y (or CONFIG_KEXEC_FILE=y)', source: 'K61, KEXEC',
  },
  {
    id: 'crash-dump', title: 'crash dump support', severity: 'error',
    scopes: [{ arches: ALL }], oneOf: [{ symbol: 'CRASH_DUMP', value: Y }], fragment: 0,
    why: 'the capture kernel needs it to read the crashed kernel\'s memory, and from 6.9 the system kernel needs it to reserve crashkernel= memory (CRASH_RESERVE)',
    fix: 'set CONFIG_CRASH_DUMP=y', source: 'KDUMP, KEXEC',
  },
  {
    id: 'highmem-i386', title: 'high memory on 32-bit x86 (CRASH_DUMP depends on it)', severity: 'error',
    scopes: [{ arches: ['i386'] }], oneOf: [{ symbol: 'HIGHMEM4G', value: Y }, { symbol: 'HIGHMEM64G', value: Y }], fragment: 0,
    why: 'on 32-bit x86 CRASH_DUMP depends on X86_32 && HIGHMEM, so without a highmem choice CRASH_DUMP is dropped',
    fix: 'set CONFIG_HIGHMEM4G=y', source: 'K61, SEED',
  },
  {
    id: 'proc-vmcore', title: '/proc/vmcore in the capture kernel', severity: 'error',
    scopes: [{ arches: ALL }], oneOf: [{ symbol: 'PROC_VMCORE', value: Y }], fragment: 0,
    why: 'the capture kernel exports the crashed kernel\'s memory as /proc/vmcore, which makedumpfile reads',
    fix: 'set CONFIG_PROC_VMCORE=y (it depends on PROC_FS and CRASH_DUMP)', source: 'KDUMP, K61',
  },
  {
    id: 'proc-fs', title: '/proc file system', severity: 'error',
    scopes: [{ arches: ALL }], oneOf: [{ symbol: 'PROC_FS', value: Y }], fragment: 0,
    why: 'PROC_VMCORE depends on PROC_FS, and the runtime reads /proc/cmdline and /proc/sysrq-trigger',
    fix: 'set CONFIG_PROC_FS=y', source: 'K61',
  },
  {
    id: 'sysfs', title: 'sysfs', severity: 'error',
    scopes: [{ arches: ALL }], oneOf: [{ symbol: 'SYSFS', value: Y }], fragment: 0,
    why: 'the runtime checks the reservation and the loaded capture kernel in /sys/kernel/kexec_crash_size and kexec_crash_loaded',
    fix: 'set CONFIG_SYSFS=y', source: 'SEED, KDUMP',
  },
  {
    id: 'relocatable', title: 'relocatable kernel, so one image serves as system and capture kernel', severity: 'error',
    scopes: [{ arches: X86 }, { arches: ['powerpc64'] }], treeScope: { symbol: 'RELOCATABLE' },
    oneOf: [{ symbol: 'RELOCATABLE', value: Y }], fragment: 0,
    why: 'the capture kernel runs from the crashkernel= region, not from its link address; only a relocatable image can, so one image serves as both kernels (the seed boots the same bzImage). arm64 needs no such option: its Image runs from any suitably aligned physical address, and its RELOCATABLE is about virtual addresses (KASLR)',
    fix: 'set CONFIG_RELOCATABLE=y', source: 'KDUMP, SEED',
  },
  {
    id: 'physical-start', title: 'kernel load address aligned to PHYSICAL_ALIGN', severity: 'warning', check: 'aligned',
    scopes: [{ arches: X86 }], oneOf: [{ symbol: 'PHYSICAL_START', value: { kind: 'hex', value: '0x1000000' } }], fragment: 0,
    why: 'the x86 kernel rounds PHYSICAL_START up to a multiple of PHYSICAL_ALIGN (arch/x86/include/asm/boot.h, LOAD_PHYSICAL_ADDR), so a kernel that is not relocatable runs elsewhere than the crashkernel=size@offset region it was set for; 0x1000000 is the kernel default and the seed\'s value',
    fix: 'set CONFIG_PHYSICAL_START=0x1000000', source: 'K61, SEED',
  },
  {
    id: 'auto-zreladdr', title: 'zImage finds its own load address (arm)', severity: 'warning',
    scopes: [{ arches: ['arm'] }], oneOf: [{ symbol: 'AUTO_ZRELADDR', value: Y }], fragment: 0,
    why: 'a 32-bit arm zImage must work out where it was loaded to run as the capture kernel from the crashkernel= region (kdump.rst, "Arch Dependent, arm")',
    fix: 'set CONFIG_AUTO_ZRELADDR=y', source: 'KDUMP',
  },
  {
    id: 'debug-kernel', title: 'kernel debugging options visible', severity: 'warning',
    scopes: [{ arches: ALL }], oneOf: [{ symbol: 'DEBUG_KERNEL', value: Y }], fragment: 0,
    why: 'the debug info options depend on DEBUG_KERNEL; without it they are dropped',
    fix: 'set CONFIG_DEBUG_KERNEL=y', source: 'K61',
  },
  {
    id: 'debug-info', title: 'debug info in vmlinux for crash(8) and gdb', severity: 'warning',
    scopes: [{ arches: ALL, kernel: { until: '5.18' } }], treeScope: { symbol: 'DEBUG_INFO', hasPrompt: true }, oneOf: [{ symbol: 'DEBUG_INFO', value: Y }], fragment: 0,
    why: 'crash(8) and gdb need a vmlinux with debug info matching the dump to show backtraces and structures',
    fix: 'set CONFIG_DEBUG_INFO=y (before Linux 5.18)', source: 'SEED, DWARF',
  },
  {
    id: 'debug-info-dwarf', title: 'debug info in vmlinux for crash(8) and gdb (DWARF choice)', severity: 'warning',
    scopes: [{ arches: ALL, kernel: { from: '5.18' } }], treeScope: { symbol: 'DEBUG_INFO', hasPrompt: false },
    oneOf: [
      { symbol: 'DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT', value: Y },
      { symbol: 'DEBUG_INFO_DWARF4', value: Y },
      { symbol: 'DEBUG_INFO_DWARF5', value: Y },
    ],
    fragment: 0,
    why: 'crash(8) and gdb need a vmlinux with debug info; since 5.18 CONFIG_DEBUG_INFO has no prompt and is selected by this choice',
    fix: 'set CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y (or DEBUG_INFO_DWARF4/DWARF5) and CONFIG_DEBUG_KERNEL=y', source: 'DWARF, K61',
  },
  {
    id: 'debug-info-full', title: 'full (not reduced) debug info', severity: 'warning',
    scopes: [{ arches: ALL }], oneOf: [{ symbol: 'DEBUG_INFO_REDUCED', value: N }], fragment: 0,
    why: 'reduced debug info leaves out structure types, so crash(8) cannot show most kernel data',
    fix: "write '# CONFIG_DEBUG_INFO_REDUCED is not set'", source: 'K61',
  },
  {
    id: 'kallsyms', title: 'kernel symbol table', severity: 'warning',
    scopes: [{ arches: ALL }], oneOf: [{ symbol: 'KALLSYMS', value: Y }], fragment: 0,
    why: 'symbolic backtraces in the crashed kernel\'s dmesg (kept with every dump) need kallsyms',
    fix: 'set CONFIG_KALLSYMS=y', source: 'K61',
  },
  {
    id: 'magic-sysrq', title: 'magic SysRq, to test the dump path', severity: 'warning',
    scopes: [{ arches: ALL }], oneOf: [{ symbol: 'MAGIC_SYSRQ', value: Y }], fragment: 0,
    why: 'the way to test kdump is `echo c > /proc/sysrq-trigger` (the seed\'s repro step), which needs MAGIC_SYSRQ',
    fix: 'set CONFIG_MAGIC_SYSRQ=y', source: 'SEED',
  },
];

export function ruleApplies(rule: KdumpRule, arch: KernelArch, version: KernelVersion): boolean {
  return rule.scopes.some((s) => s.arches.includes(arch) && inVersionRange(version, s.kernel));
}

/** The rules that apply on arch × version, in table order. */
export function rulesFor(arch: KernelArch, version: KernelVersion): KdumpRule[] {
  return KDUMP_RULES.filter((r) => ruleApplies(r, arch, version));
}

/**
 * The fragment the system + capture kernel needs for kdump on this arch × kernel version,
 * derived from KDUMP_RULES: one entry per applicable rule (its preferred alternative), each
 * with the rule's reason as its comment. `validate` reports it clean by construction; the test
 * suite checks that against the rules and against the kernel's own Kconfig.
 */
export function kdumpFragment(target: { arch: KernelArch; kernelVersion: string }): FragmentEntry[] {
  const version = parseKernelVersion(target.kernelVersion);
  const out: FragmentEntry[] = [];
  for (const rule of rulesFor(target.arch, version)) {
    if (rule.fragment === null || rule.configOnly) continue;
    const req = rule.oneOf[rule.fragment];
    const look = lookupSymbol(req.symbol, target.arch, version);
    if (look.known && !look.exists) continue;
    out.push({ symbol: req.symbol, value: req.value, comment: `${rule.title} [${rule.id}]` });
  }
  return out;
}
