import type { DumpFormat, Compression } from '../dump/vmcore.js';
import type { DumpState } from '../dump/input.js';

export interface Frame {
  /** The frame number crash printed (#0 …). */
  level: number;
  function: string;
  /** Offset into the function, when crash gave one ("+17"). */
  offset?: string;
  /** The module the function is in ([kdl_oops]), when it is not the kernel's. */
  module?: string;
  /** Source file and line, when the vmlinux carries them. */
  file?: string;
  line?: number;
  /** Set on the frame crash shows as the exception point ([exception RIP: …]). */
  exception?: boolean;
}

export interface ModuleInfo {
  name: string;
  size?: number;
  /** Taint letters crash reports for the module (mod -t), e.g. "OE". */
  taints: string;
  outOfTree: boolean;
  unsigned: boolean;
  proprietary: boolean;
}

export interface TaintFlag {
  letter: string;
  bit: number;
  meaning: string;
}

export interface TaskInfo {
  pid: number;
  command: string;
  cpu?: number;
}

export interface CrashSignature {
  /** 16 hex digits of sha256 over kind and frames. */
  hash: string;
  kind: string;
  frames: string[];
}

/** What crash(8) said about the crash, parsed; every field is optional because a dump may be incomplete. */
export interface CrashFacts {
  crashVersion?: string;
  date?: string;
  uptime?: string;
  panic?: string;
  task?: TaskInfo;
  backtrace: Frame[];
  /** The kernel's own call trace of the oops/panic, from its log (what the signature uses when present). */
  logTrace?: Frame[];
  log: string[];
  taint?: { mask: number; flags: TaintFlag[] };
  modules: ModuleInfo[];
  memory?: Record<string, string>;
  tasks?: TaskInfo[];
  /** crash commands whose output could not be read (with crash's message). */
  failures: string[];
}

/** Everything one `analyze` of one dump found; every reporter renders this and nothing else. */
export interface AnalyzeReport {
  schemaVersion: 1;
  tool: 'kdump-layer analyze';
  input: {
    source: string;
    kind: 'archive' | 'directory' | 'vmcore';
    name: string;
    state: DumpState;
    stateDetail?: string;
    metadata: Record<string, string>;
  };
  dump: {
    format: DumpFormat;
    /** A flattened dump's content: what makedumpfile -R restores it to. */
    payload?: 'kdump' | 'elf';
    compression?: Compression;
    bytes: number;
    dumpLevel?: number;
    incomplete?: string;
  };
  kernel: {
    release?: string;
    version?: string;
    machine?: string;
    buildId?: string;
    pageSize?: number;
  };
  image: {
    osRelease: Record<string, string>;
    prettyName?: string;
    buildId?: string;
  };
  crashTime?: string;
  vmlinux?: { file: string; layout: string; release?: string; buildId?: string };
  crash?: CrashFacts;
  signature?: CrashSignature;
  /** Things the reader must know first (an incomplete dump, failed crash commands). */
  warnings: string[];
  /** For ELF dumps: the gdb command line that opens it. */
  gdbCommand?: string;
}
