/**
 * The kernel's `crashkernel=` syntax (Documentation/admin-guide/kdump/kdump.rst):
 *   SIZE[@OFFSET]                      128M@0M, 256M
 *   START-[END]:SIZE[,START-[END]:SIZE...][@OFFSET]   0M-2G:128M,2G-8G:256M
 *   SIZE,high | SIZE,low               x86_64 / arm64 only
 * Sizes take the kernel's memparse suffixes K, M, G, T (a plain number is bytes).
 */
export interface CrashkernelRange {
  start: bigint;
  /** undefined: open-ended range (`2G-`). */
  end?: bigint;
  size: bigint;
}

export type Crashkernel =
  | { kind: 'fixed'; size: bigint; offset?: bigint; zone?: 'high' | 'low' }
  | { kind: 'ranged'; ranges: CrashkernelRange[]; offset?: bigint };

export class CrashkernelError extends Error {}

const SIZE = /^(\d+)([KMGT]?)$/i;
const UNITS: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

function parseSize(s: string, what: string): bigint {
  const m = SIZE.exec(s);
  if (!m) throw new CrashkernelError(`${what} '${s}' is not a size (a number with K, M, G or T, e.g. 128M)`);
  return BigInt(m[1]) * UNITS[m[2].toUpperCase()];
}

/** Parses a crashkernel value; throws CrashkernelError saying what is wrong. */
export function parseCrashkernel(spec: string): Crashkernel {
  const s = spec.trim().replace(/^crashkernel=/, '');
  if (s === '') throw new CrashkernelError('is empty');
  if (/\s/.test(s)) throw new CrashkernelError('must not contain spaces');
  const zone = /,(high|low)$/.exec(s);
  if (zone) {
    const size = parseSize(s.slice(0, zone.index), 'size');
    if (size === 0n) throw new CrashkernelError('size must not be 0');
    return { kind: 'fixed', size, zone: zone[1] as 'high' | 'low' };
  }
  const at = s.split('@');
  if (at.length > 2) throw new CrashkernelError("has more than one '@'");
  const offset = at.length === 2 ? parseSize(at[1], 'offset') : undefined;
  const body = at[0];
  if (!body.includes(':')) {
    const size = parseSize(body, 'size');
    if (size === 0n) throw new CrashkernelError('size must not be 0');
    return offset === undefined ? { kind: 'fixed', size } : { kind: 'fixed', size, offset };
  }
  const ranges: CrashkernelRange[] = [];
  for (const part of body.split(',')) {
    const m = /^([^-:]+)-([^-:]*):([^-:]+)$/.exec(part);
    if (!m) throw new CrashkernelError(`range '${part}' is not START-[END]:SIZE (e.g. 0M-2G:128M)`);
    const start = parseSize(m[1], 'range start');
    const end = m[2] === '' ? undefined : parseSize(m[2], 'range end');
    const size = parseSize(m[3], 'size');
    if (end !== undefined && end <= start) throw new CrashkernelError(`range '${part}' ends before it starts`);
    const prev = ranges[ranges.length - 1];
    if (prev) {
      if (prev.end === undefined) throw new CrashkernelError(`range '${part}' follows an open-ended range`);
      if (start < prev.end) throw new CrashkernelError(`range '${part}' overlaps the range before it`);
    }
    ranges.push(end === undefined ? { start, size } : { start, end, size });
  }
  return offset === undefined ? { kind: 'ranged', ranges } : { kind: 'ranged', ranges, offset };
}

/** The smallest reservation the spec can make (for warnings about too-small values). */
export function smallestReservation(c: Crashkernel): bigint {
  if (c.kind === 'fixed') return c.size;
  return c.ranges.reduce((min, r) => (r.size < min ? r.size : min), c.ranges[0].size);
}

export const MIB = 1n << 20n;

/** What the spec reserves on a machine with `memory` bytes of RAM (0 when no range covers it). */
export function reservationFor(c: Crashkernel, memory: bigint): bigint {
  if (c.kind === 'fixed') return c.size;
  const r = c.ranges.find((x) => memory >= x.start && (x.end === undefined || memory < x.end));
  return r ? r.size : 0n;
}

/** The largest reservation the spec can make. */
export function largestReservation(c: Crashkernel): bigint {
  if (c.kind === 'fixed') return c.size;
  return c.ranges.reduce((max, r) => (r.size > max ? r.size : max), 0n);
}
