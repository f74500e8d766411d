/**
 * One dump from input to Report: open the input, identify the vmcore, find the vmlinux,
 * run crash once, parse, sign. Also the many-dumps run over a directory. Errors a user can
 * act on are UserErrors (exit 2) naming what, where and what to do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { InputError, openInput, type DumpInput } from '../dump/input.js';
import { DumpFormatError, identifyVmcore, type DumpIdentity } from '../dump/vmcore.js';
import { buildDirCandidates, chooseVmlinux, distributionCandidates, readVmlinuxIdentity, rejectReason, type Candidate } from '../dump/vmlinux.js';
import { CRASH_INSTALL_HINT, runCrash, ToolMissingError } from './crash.js';
import { factsFromLog, parseCrashOutput } from './parse.js';
import { checkRoom, restoreFlattened } from './restore.js';
import { crashSignature } from './signature.js';
import { shQuote } from '../pull/plan.js';
import type { AnalyzeReport } from './types.js';

export interface AnalyzeOptions {
  vmlinux?: string;
  buildDir?: string;
  /** Root for the distribution layouts (/usr/lib/debug/…); "/" unless a test says otherwise. */
  systemRoot?: string;
}

const DBG_HINT = 'analyze needs the vmlinux with debug info: in a Yocto build it is the kernel recipe\'s package/boot/vmlinux-<release> (kept by the layer\'s dbg-pkgs); name it with --vmlinux or the build directory with --build-dir';

export async function withInput<T>(source: string, fn: (input: DumpInput) => Promise<T>): Promise<T> {
  let input: DumpInput;
  try {
    input = await openInput(source);
  } catch (e) {
    if (e instanceof InputError) throw new UserError(e.message, { hint: e.hint });
    throw e;
  }
  try {
    return await fn(input);
  } finally {
    input.close();
  }
}

export function identify(input: DumpInput): DumpIdentity {
  try {
    return identifyVmcore(input.vmcore);
  } catch (e) {
    if (e instanceof DumpFormatError) {
      throw new UserError(`unknown dump format: ${e.message}`, {
        where: input.kind === 'vmcore' ? input.source : `${input.source}: vmcore`,
        hint: 'analyze reads what makedumpfile or /proc/vmcore write: kdump-compressed (makedumpfile -c/-l/-z/-p), ELF (-E or a copy of /proc/vmcore) and flattened (-F)',
      });
    }
    throw e;
  }
}

/** The report of --info: what the dump is, without vmlinux or crash. */
export function infoReport(input: DumpInput, id: DumpIdentity): AnalyzeReport {
  const warnings: string[] = [];
  if (input.state === 'incomplete') warnings.push(`incomplete dump: ${input.stateDetail ?? 'the save did not finish'}`);
  if (id.incomplete) warnings.push(`incomplete vmcore: ${id.incomplete}`);
  if (input.state === 'complete-with-warnings') warnings.push(`saved with warnings: ${input.stateDetail}`);
  const os = input.osRelease;
  const report: AnalyzeReport = {
    schemaVersion: 1,
    tool: 'kdump-layer analyze',
    input: { source: input.source, kind: input.kind, name: input.name, state: input.state, metadata: input.metadata },
    dump: { format: id.format, bytes: id.bytes },
    kernel: {},
    image: { osRelease: os },
    warnings,
  };
  if (input.stateDetail) report.input.stateDetail = input.stateDetail;
  if (id.payload) report.dump.payload = id.payload;
  if (id.compression) report.dump.compression = id.compression;
  if (id.dumpLevel !== undefined) report.dump.dumpLevel = id.dumpLevel;
  if (id.incomplete) report.dump.incomplete = id.incomplete;
  const k = report.kernel;
  if (id.release ?? input.metadata.crashed_kernel_release) k.release = id.release ?? input.metadata.crashed_kernel_release;
  if (id.version) k.version = id.version;
  if (id.machine) k.machine = id.machine;
  if (id.buildId) k.buildId = id.buildId;
  if (id.pageSize) k.pageSize = id.pageSize;
  if (os.PRETTY_NAME ?? input.metadata.os_PRETTY_NAME) report.image.prettyName = os.PRETTY_NAME ?? input.metadata.os_PRETTY_NAME;
  if (os.BUILD_ID ?? input.metadata.os_BUILD_ID) report.image.buildId = os.BUILD_ID ?? input.metadata.os_BUILD_ID;
  const crashTime = id.crashTime ?? input.metadata.crash_time;
  if (crashTime) report.crashTime = crashTime;
  // A command to paste: the dump's path quoted for the shell when it needs it.
  const word = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : shQuote(p));
  if (id.format === 'elf') report.gdbCommand = `gdb vmlinux-${k.release ?? '<release>'} ${input.kind === 'vmcore' ? word(input.source) : 'vmcore'}`;
  // A flattened ELF dump is ELF again after --to-elf (makedumpfile -R).
  else if (id.payload === 'elf') report.gdbCommand = `kdump-layer analyze ${word(input.source)} --to-elf vmcore.elf && gdb vmlinux-${k.release ?? '<release>'} vmcore.elf`;
  return report;
}

function describeDump(id: DumpIdentity): string {
  return [`release ${id.release ?? '?'}`, id.buildId ? `build id ${id.buildId}` : '', id.version ? `version "${id.version}"` : ''].filter(Boolean).join(', ');
}

/** The vmlinux for a dump, or a UserError listing every candidate and why it was rejected. */
export function findVmlinux(id: DumpIdentity, opts: AnalyzeOptions): { file: string; layout: string; release?: string; buildId?: string } {
  if (opts.vmlinux) {
    if (!fs.existsSync(opts.vmlinux)) throw new UserError(`no such file: ${opts.vmlinux}`, { where: '--vmlinux', hint: DBG_HINT });
    const v = readVmlinuxIdentity(opts.vmlinux);
    const reason = rejectReason(id, v);
    if (reason) {
      throw new UserError(
        `${opts.vmlinux} does not fit this dump: ${reason}\n  the dump:    ${describeDump(id)}\n  the vmlinux: release ${v.release ?? '?'}${v.buildId ? `, build id ${v.buildId}` : ''}${v.banner ? `, banner "${v.banner}"` : ''}`,
        { where: '--vmlinux', hint: DBG_HINT },
      );
    }
    return { file: opts.vmlinux, layout: '--vmlinux', release: v.release, buildId: v.buildId };
  }
  const candidates: Candidate[] = [];
  if (opts.buildDir) {
    if (!fs.existsSync(opts.buildDir)) throw new UserError(`no such directory: ${opts.buildDir}`, { where: '--build-dir' });
    candidates.push(...buildDirCandidates(opts.buildDir, id.release));
  }
  candidates.push(...distributionCandidates(id.release, id.buildId, opts.systemRoot ?? '/'));
  const choice = chooseVmlinux(id, candidates);
  if (choice.chosen) {
    return { file: choice.chosen.file, layout: choice.chosen.layout, release: choice.chosen.identity.release, buildId: choice.chosen.identity.buildId };
  }
  const lines = choice.rejected.map((r) => `  ${r.file} (${r.layout}): ${r.reason}`);
  throw new UserError(
    `no vmlinux matches this dump (${describeDump(id)})${lines.length ? `; candidates looked at:\n${lines.join('\n')}` : `: none found${opts.buildDir ? ` in ${opts.buildDir}` : ''} nor in /usr/lib/debug`}`,
    { hint: DBG_HINT },
  );
}

/** Analyzes one dump: the whole flow for one input. */
export async function analyzeDump(source: string, opts: AnalyzeOptions): Promise<AnalyzeReport> {
  return withInput(source, async (input) => {
    const id = identify(input);
    const report = infoReport(input, id);
    const vmlinux = findVmlinux(id, opts);
    report.vmlinux = vmlinux;
    let run;
    // crash(8) reads flattened kdump-compressed dumps, not flattened ELF ones: those are
    // restored first, into a private temporary directory ($TMPDIR), as large as the ELF dump.
    const restored = id.format === 'flattened' && id.payload === 'elf' ? fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-elf-')) : undefined;
    try {
      let vmcore = input.vmcore;
      if (restored) {
        checkRoom(input.vmcore, path.dirname(restored), 'set TMPDIR to a directory with room for it (it is removed after the analysis), or restore it yourself: kdump-layer analyze DUMP --to-elf FILE');
        vmcore = path.join(restored, 'vmcore');
        restoreFlattened(input.vmcore, vmcore);
      }
      run = await runCrash(vmlinux.file, vmcore);
    } catch (e) {
      if (e instanceof ToolMissingError) throw new UserError(e.message, { hint: CRASH_INSTALL_HINT });
      throw e;
    } finally {
      if (restored) fs.rmSync(restored, { recursive: true, force: true });
    }
    let facts = parseCrashOutput(run.stdout, run.stderr);
    if (run.version) facts.crashVersion = run.version;
    if (facts.backtrace.length === 0 && facts.log.length === 0 && !facts.panic) {
      const said = `${run.stderr}\n${run.stdout}`.trim().split('\n').filter((l) => l.trim() && !/^\s*(Usage:|crash \[OPTION\]|Enter "crash -h")/.test(l));
      const incomplete = report.dump.incomplete || input.state === 'incomplete';
      // An incomplete dump crash cannot open still has the kernel log the runtime saved first.
      if (incomplete && input.dmesgFile) {
        facts = factsFromLog(fs.readFileSync(input.dmesgFile, 'utf8').split('\n'));
        if (run.version) facts.crashVersion = run.version;
        report.warnings.push(`crash(8) could not open this incomplete dump (${said[0] ?? `exit ${run.status}`}); this report comes from the kernel log saved with it (dmesg.txt)`);
      } else {
        throw new UserError(`crash(8) could not open the dump (exit ${run.status}):\n${said.slice(-6).map((l) => `  ${l}`).join('\n')}`, {
          where: input.source,
          hint: incomplete ? 'the vmcore is incomplete; copy it again from the device, or keep its dmesg.txt beside it' : 'check that the vmlinux is the one of the crashed kernel',
        });
      }
    }
    report.crash = facts;
    for (const f of facts.failures) report.warnings.push(`crash could not read everything: ${f}`);
    report.signature = crashSignature(facts.panic, facts.logTrace?.length ? facts.logTrace : facts.backtrace, facts.log);
    return report;
  });
}

export interface UnanalyzedDump {
  source: string;
  reason: string;
}

export interface SignatureGroup {
  signature: string;
  kind: string;
  frames: string[];
  count: number;
  firstCrash?: string;
  lastCrash?: string;
  releases: string[];
  hosts: string[];
  example: string;
  dumps: string[];
}

export interface AnalyzeSummary {
  schemaVersion: 1;
  tool: 'kdump-layer analyze';
  directory: string;
  groups: SignatureGroup[];
  unanalyzed: UnanalyzedDump[];
  reports: AnalyzeReport[];
}

/** The dumps in a directory: archives, dump directories and vmcore files, by name. */
export function dumpsInDirectory(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (['vmcore', 'vmcore.flat', 'vmcore-incomplete'].some((f) => fs.existsSync(path.join(p, f)))) out.push(p);
    } else if (/\.(tar\.gz|tgz|tar)$/.test(e.name) || /^vmcore/.test(e.name)) out.push(p);
  }
  return out;
}

/** Is this directory one dump (holds a vmcore) rather than a directory of dumps? */
export function isDumpDirectory(dir: string): boolean {
  return ['vmcore', 'vmcore.flat', 'vmcore-incomplete'].some((f) => fs.existsSync(path.join(dir, f)));
}

/** Every dump of a directory, analyzed one after the other, grouped by signature. */
export async function analyzeDirectory(dir: string, opts: AnalyzeOptions, progress?: (msg: string) => void): Promise<AnalyzeSummary> {
  const reports: AnalyzeReport[] = [];
  const unanalyzed: UnanalyzedDump[] = [];
  const dumps = dumpsInDirectory(dir);
  if (dumps.length === 0) throw new UserError(`no dumps in ${dir}`, { hint: 'a directory of dumps holds kdump-*.tar.gz archives, unpacked dump directories or vmcore files' });
  for (const d of dumps) {
    progress?.(`analyzing ${d}`);
    try {
      reports.push(await analyzeDump(d, opts));
    } catch (e) {
      if (e instanceof UserError) unanalyzed.push({ source: d, reason: e.message.split('\n').join(' ') });
      else throw e;
    }
  }
  return { schemaVersion: 1, tool: 'kdump-layer analyze', directory: dir, groups: groupBySignature(reports), unanalyzed, reports };
}

/** Pure: reports → groups, most frequent first, then by signature. */
export function groupBySignature(reports: AnalyzeReport[]): SignatureGroup[] {
  const groups = new Map<string, SignatureGroup>();
  for (const r of reports) {
    if (!r.signature) continue;
    const g = groups.get(r.signature.hash) ?? {
      signature: r.signature.hash, kind: r.signature.kind, frames: r.signature.frames, count: 0, releases: [], hosts: [], example: r.input.source, dumps: [],
    };
    g.count++;
    g.dumps.push(r.input.source);
    if (r.crashTime) {
      if (!g.firstCrash || r.crashTime < g.firstCrash) g.firstCrash = r.crashTime;
      if (!g.lastCrash || r.crashTime > g.lastCrash) g.lastCrash = r.crashTime;
    }
    if (r.kernel.release && !g.releases.includes(r.kernel.release)) g.releases.push(r.kernel.release);
    const host = r.image.prettyName ?? r.kernel.machine;
    if (host && !g.hosts.includes(host)) g.hosts.push(host);
    groups.set(r.signature.hash, g);
  }
  for (const g of groups.values()) {
    g.releases.sort();
    g.hosts.sort();
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || (a.signature < b.signature ? -1 : 1));
}
