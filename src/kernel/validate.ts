/**
 * `validate` from options to report: read the inputs, decide the target (arch × version), get
 * the final config (given, or resolved with a kernel tree), evaluate the rules, summarize.
 * The only I/O here is reading inputs and running the kernel's Kconfig; evaluation is pure.
 */
import fs from 'node:fs';
import path from 'node:path';

import { isKernelArch, KERNEL_ARCHES, type KernelArch } from './arch.js';
import { evaluate, summarize, type Finding, type KernelKnowledge } from './check.js';
import { parseFragment, type ParsedFragment } from './fragment.js';
import { parseKernelVersion, shortVersion, type KernelVersion } from './version.js';
import { UserError } from '../errors.js';
import { INPUT_LIMITS, readInputFile } from '../input.js';
import { writeAtomic } from '../layer/write-atomic.js';
import { failsRun, type ValidateReport } from '../report/types.js';

export interface ValidateOptions {
  files: string[];
  machine?: { name: string; arch: KernelArch; kernelVersion: string };
  arch?: string;
  kernelVersion?: string;
  config?: string;
  kernelSource?: string;
  /** With kernelSource: where to write the resolved .config. */
  writeConfig?: string;
  werror?: boolean;
  cacheDir?: string;
}

function readInput(file: string, what: string): string {
  return readInputFile(file, {
    what,
    limit: INPUT_LIMITS.kconfig,
    hint: 'name the fragment (.cfg) or .config file itself',
    binary: { message: 'is a binary file, not a Kconfig fragment or .config', hint: 'for a compressed config (config.gz, .xz) decompress it first' },
  }).toString('utf8');
}

/** The KernelArch a kernel-written .config is for, from its header and its own symbols. */
export function archFromConfig(frag: ParsedFragment): KernelArch | undefined {
  if (!frag.header) return undefined;
  const a = frag.header.arch;
  const has = (s: string) => frag.entries.some((e) => e.symbol === s && e.value.kind === 'y');
  switch (a) {
    case 'x86':
    case 'x86_64':
    case 'i386':
      return has('X86_64') || (a === 'x86_64' && !frag.entries.some((e) => e.symbol === 'X86_32' && e.value.kind === 'y')) ? 'x86_64' : 'i386';
    case 'arm64':
      return 'arm64';
    case 'arm':
      return 'arm';
    case 'powerpc':
      return has('PPC64') ? 'powerpc64' : 'powerpc';
    case 'riscv':
      if (has('64BIT')) return 'riscv64';
      throw new UserError(`${frag.file}:${frag.header.line}: 32-bit riscv is not supported`, { hint: `supported arches: ${KERNEL_ARCHES.join(', ')}` });
    default:
      throw new UserError(`${frag.file}:${frag.header.line}: arch '${a}' is not supported`, { hint: `supported arches: ${KERNEL_ARCHES.join(', ')}` });
  }
}

export async function runValidate(opts: ValidateOptions): Promise<ValidateReport> {
  if (opts.files.length === 0 && !opts.config) {
    throw new UserError('nothing to validate', { hint: 'name one or more fragments (.cfg) and/or a full .config, e.g. `kdump-layer validate kdump.cfg --config build/.config`' });
  }
  if (opts.machine && (opts.arch || opts.kernelVersion)) {
    throw new UserError('--machine and --arch/--kernel-version both name the target', { hint: 'use one: --machine NAME, or --arch ARCH --kernel-version VER' });
  }
  if (opts.arch !== undefined && !isKernelArch(opts.arch)) {
    throw new UserError(`--arch ${opts.arch}: not a supported arch`, { hint: `one of: ${KERNEL_ARCHES.join(', ')}` });
  }
  if (opts.writeConfig && !opts.kernelSource) {
    throw new UserError('--write-config needs --kernel-source', { hint: 'only a run with the kernel tree resolves a .config to write' });
  }
  const flagVersion = opts.kernelVersion !== undefined ? parseKernelVersion(opts.kernelVersion, '--kernel-version') : undefined;
  if (opts.kernelSource) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(opts.kernelSource);
    } catch { /* reported below */ }
    if (!st?.isDirectory()) {
      throw new UserError(`--kernel-source ${opts.kernelSource}: not a directory`, { hint: 'point it at an unpacked Linux source tree (the directory with the top Makefile and Kconfig)' });
    }
  }

  // Read every input; kernel-written .configs (header line) are told apart from fragments.
  const fragments: ParsedFragment[] = [];
  const fullConfigs: ParsedFragment[] = [];
  const texts = new Map<string, string>();
  for (const file of opts.files) {
    const text = readInput(file, 'input');
    texts.set(file, text);
    const parsed = parseFragment(text, file);
    (parsed.header ? fullConfigs : fragments).push(parsed);
  }
  if (opts.config) {
    const text = readInput(opts.config, '--config');
    texts.set(opts.config, text);
    fullConfigs.push(parseFragment(text, opts.config));
  }
  if (fullConfigs.length > 1) {
    throw new UserError(`more than one full .config given (${fullConfigs.map((f) => f.file).join(', ')})`, {
      hint: 'validate one kernel build at a time: one .config (via --config or as a file) plus any fragments',
    });
  }
  const fullConfig = fullConfigs[0];

  // The target: --machine, else --arch/--kernel-version, else the .config header, else the tree.
  const inputFindings: Finding[] = [];
  let arch: KernelArch | undefined = opts.machine?.arch ?? (opts.arch as KernelArch | undefined);
  let version: KernelVersion | undefined = opts.machine ? parseKernelVersion(opts.machine.kernelVersion, `machine ${opts.machine.name}`) : flagVersion;
  let from: ValidateReport['target']['from'] = opts.machine ? 'machine' : 'options';
  const headerArch = fullConfig ? archFromConfig(fullConfig) : undefined;
  const headerVersion = fullConfig?.header ? parseKernelVersion(fullConfig.header.version, `${fullConfig.file}:${fullConfig.header.line}`) : undefined;
  if (!arch && headerArch) {
    arch = headerArch;
    from = 'config-header';
  }
  if (!version && headerVersion) {
    version = headerVersion;
    if (from !== 'machine') from = 'config-header';
  }
  if (fullConfig?.header && !opts.kernelSource) {
    if (headerArch && arch && headerArch !== arch) {
      inputFindings.push(mismatch(fullConfig, `${fullConfig.file} is a ${headerArch} config, but the target is ${arch}`, 'name the target the .config was built for, or pass the right .config'));
    }
    if (headerVersion && version && (headerVersion.major !== version.major || headerVersion.minor !== version.minor)) {
      inputFindings.push(mismatch(fullConfig, `${fullConfig.file} is for Linux ${shortVersion(headerVersion)}, but the target is ${shortVersion(version)}`, 'name the kernel version the .config was built for'));
    }
  }
  let treeVersion: string | undefined;
  // The kernel-tree code is loaded only when a tree is given.
  const kconfig = opts.kernelSource ? await import('./kconfig.js') : undefined;
  const kconfigCache = opts.kernelSource ? await import('./kconfig-cache.js') : undefined;
  if (opts.kernelSource && kconfig) {
    treeVersion = kconfig.kernelTreeVersion(opts.kernelSource);
    const tv = parseKernelVersion(treeVersion);
    if (version && (tv.major !== version.major || tv.minor !== version.minor)) {
      inputFindings.push({
        class: 'input', check: 'target', severity: 'warning', message: `the kernel tree is Linux ${treeVersion} but the target says ${shortVersion(version)}: judging by the tree`,
        fix: 'point --kernel-source at the tree the target builds, or correct the version', file: opts.kernelSource,
      });
    }
    version = tv;
    if (!arch) throw new UserError('--kernel-source needs the arch', { hint: `add --arch (one of: ${KERNEL_ARCHES.join(', ')}) or --machine NAME` });
  }
  if (!arch || !version) {
    throw new UserError(`the target ${!arch ? 'arch' : 'kernel version'} is unknown`, {
      hint: 'name it with --machine NAME, or --arch ARCH --kernel-version VER (a full .config names both in its header)',
    });
  }

  // Where the kernel's reader changed between versions, read the fragments as this kernel does.
  for (let i = 0; i < fragments.length; i++) fragments[i] = parseFragment(texts.get(fragments[i].file) ?? '', fragments[i].file, version);

  // The final config: resolved with the tree, or the given .config, or none (rule tables only).
  let config: ParsedFragment | undefined;
  let tree: KernelKnowledge | undefined;
  let kernelSource: ValidateReport['kernelSource'];
  let mode: ValidateReport['mode'] = 'fragments';
  if (opts.kernelSource && kconfig) {
    const pending = kconfig.resolveWithKernel({
      tree: opts.kernelSource, arch, cacheDir: opts.cacheDir,
      fragments: fragments.map((f) => ({ file: f.file, text: texts.get(f.file) ?? '' })),
      baseConfig: fullConfig ? { text: texts.get(fullConfig.file) ?? '', file: fullConfig.file } : undefined,
    });
    // While make and the kernel's conf run, load the parsed Kconfig tree (cached between runs;
    // parsed and cached when the tree's Kconfig files changed or were never read).
    const knowledge = kconfigCache!.cachedTreeKnowledge(opts.kernelSource, arch, opts.cacheDir ?? kconfig.defaultCacheDir());
    const resolved = await pending;
    if (opts.writeConfig) writeAtomic(path.resolve(opts.writeConfig), resolved.text, 0o644);
    config = resolved.config;
    tree = knowledge;
    mode = 'kernel-source';
    from = opts.machine ? 'machine' : opts.arch ? 'options' : 'kernel-source';
    kernelSource = { path: opts.kernelSource, version: treeVersion!, steps: [`ARCH=${kconfig.KBUILD_ARCH[arch].arch}`, ...resolved.steps] };
  } else if (fullConfig) {
    config = fullConfig;
    mode = 'config';
  }

  const evaluation = evaluate({
    arch, version, fragments, config, tree,
    configOrigin: opts.kernelSource ? 'kernel-source' : 'given',
    anchorFile: fragments[fragments.length - 1]?.file ?? fullConfig?.file,
  });
  // In tree mode the base .config is an input too: its own lines must read right.
  if (opts.kernelSource && fullConfig) {
    const syntax = fullConfig.problems.map((p): Finding => ({
      class: 'syntax', check: p.code, checkId: `syntax:${fullConfig.file}`, severity: p.severity, file: p.file, line: p.line, symbol: p.symbol,
      requested: p.raw, message: p.message, fix: p.fix,
    }));
    evaluation.checks.unshift({ id: `syntax:${fullConfig.file}`, class: 'syntax', title: `${fullConfig.file} reads as Kconfig intends`, status: syntax.some((f) => f.severity !== 'info') ? 'fail' : 'pass', findings: syntax });
    evaluation.findings = [...syntax, ...evaluation.findings];
  }
  if (inputFindings.length) {
    for (const f of inputFindings) f.checkId = 'target';
    evaluation.checks.unshift({ id: 'target', class: 'input', title: 'the inputs agree on the target', status: 'fail', findings: inputFindings });
    evaluation.findings = [...inputFindings, ...evaluation.findings];
  }

  const werror = Boolean(opts.werror);
  const counts = summarize(evaluation.findings);
  const failing = evaluation.findings.some((f) => failsRun(f, werror));
  return {
    schemaVersion: 1,
    tool: 'kdump-layer validate',
    target: { arch, kernelVersion: version.version, from, machine: opts.machine?.name },
    mode,
    inputs: [
      ...fragments.map((f) => ({ file: f.file, kind: 'fragment' as const, entries: f.entries.length })),
      ...(fullConfig ? [{ file: fullConfig.file, kind: opts.kernelSource ? ('base-config' as const) : ('config' as const), entries: fullConfig.entries.length }] : []),
    ],
    kernelSource,
    werror,
    summary: {
      ...counts,
      checks: evaluation.checks.length,
      failedChecks: evaluation.checks.filter((c) => c.findings.some((f) => failsRun(f, werror))).length,
      exitCode: failing ? 1 : 0,
      lines: { asked: evaluation.lines.asked, checked: evaluation.lines.checked, unchecked: evaluation.lines.unchecked.length },
      verdict: failing ? 'fail' : evaluation.lines.unchecked.length > 0 ? 'unverified' : 'pass',
    },
    checks: evaluation.checks.map((c) => ({ id: c.id, class: c.class, title: c.title, status: c.findings.some((f) => failsRun(f, werror)) ? 'fail' : 'pass', findings: c.findings.length })),
    findings: evaluation.findings,
    unchecked: evaluation.lines.unchecked,
  };
}

function mismatch(frag: ParsedFragment, message: string, fix: string): Finding {
  return { class: 'input', check: 'target', severity: 'warning', file: frag.file, line: frag.header?.line, message, fix };
}
