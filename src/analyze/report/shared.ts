import type { AnalyzeReport, Frame } from '../types.js';

/** "func+17 [module]  file.c:123" — one backtrace line, the same in every format. */
export function frameText(f: Frame): string {
  return `${f.function}${f.offset ?? ''}${f.module ? ` [${f.module}]` : ''}`;
}

export function frameSource(f: Frame): string {
  return f.file ? `${f.file}:${f.line}` : '';
}

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** The summary rows every format shows first, in this order. */
export function summaryRows(r: AnalyzeReport): [string, string][] {
  const rows: [string, string][] = [];
  const c = r.crash;
  if (r.signature) rows.push(['signature', `${r.signature.hash}  (${r.signature.kind}${r.signature.frames.length ? `: ${r.signature.frames.join(' < ')}` : ''})`]);
  if (c?.panic) rows.push(['panic', c.panic]);
  if (c?.task) rows.push(['task', `pid ${c.task.pid} "${c.task.command}" on CPU ${c.task.cpu}`]);
  if (r.crashTime) rows.push(['crash time', r.crashTime]);
  if (c?.uptime) rows.push(['uptime', c.uptime]);
  rows.push(['kernel', [r.kernel.release ?? 'unknown release', r.kernel.machine, r.kernel.version].filter(Boolean).join('  ')]);
  if (r.kernel.buildId) rows.push(['build id', r.kernel.buildId]);
  if (r.image.prettyName || r.image.buildId) rows.push(['image', [r.image.prettyName, r.image.buildId ? `(BUILD_ID ${r.image.buildId})` : ''].filter(Boolean).join(' ')]);
  if (c?.taint) rows.push(['taint', c.taint.flags.length ? c.taint.flags.map((f) => `${f.letter} (${f.meaning})`).join(', ') : 'not tainted']);
  const d = r.dump;
  // kdump-lzo, elf, flattened (kdump-lzo), flattened (elf): a flattened dump by what it holds.
  const content = `${d.payload ?? d.format}${d.compression ? `-${d.compression}` : ''}`;
  rows.push(['dump', `${r.input.name}: ${d.payload ? `${d.format} (${content})` : content}, ${mib(d.bytes)}${d.dumpLevel !== undefined ? `, dump level ${d.dumpLevel}` : ''}${r.kernel.pageSize ? `, page size ${r.kernel.pageSize}` : ''}; state ${r.input.state}`]);
  if (r.vmlinux) rows.push(['vmlinux', `${r.vmlinux.file} (${r.vmlinux.layout})`]);
  if (r.gdbCommand) rows.push(['gdb', r.gdbCommand]);
  return rows;
}

export function flaggedModule(m: { outOfTree: boolean; unsigned: boolean; proprietary: boolean }): string {
  return [m.outOfTree ? 'out-of-tree' : '', m.unsigned ? 'unsigned' : '', m.proprietary ? 'proprietary' : ''].filter(Boolean).join(', ');
}
