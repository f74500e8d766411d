// Only the semver functions used here (not the whole package): validate's start-up time counts.
import type { SemVer } from 'semver';
import coerce from 'semver/functions/coerce.js';
import lt from 'semver/functions/lt.js';
import gte from 'semver/functions/gte.js';
import { UserError } from '../errors.js';

/** A kernel version as the rule data compares it: major.minor.patch, nothing else. */
export type KernelVersion = SemVer;

/** A half-open kernel version range: `from` inclusive, `until` exclusive; either may be absent. */
export interface VersionRange {
  from?: string;
  until?: string;
}

/**
 * Reads a kernel-style version: `3.9.11`, `6.6`, `6.6.52`, `6.1.0-56-amd64`, `v6.12-rc3`,
 * `5.15.0-1034-azure`. Vendor suffixes are dropped (semver's coerce keeps major.minor.patch),
 * so `6.1.0-56-amd64` compares as 6.1.0. Throws UserError when no version can be read.
 */
export function parseKernelVersion(text: string, where?: string): KernelVersion {
  const trimmed = text.trim();
  // coerce would also accept "6" or "abc 1.2"; a kernel version starts with major.minor.
  if (!/^v?\d+\.\d+/.test(trimmed)) {
    throw new UserError(`not a kernel version: '${text}'`, {
      where,
      hint: 'write it as the kernel does, e.g. 6.6, 6.6.52, 3.9.11 or 6.1.0-56-amd64',
    });
  }
  const v = coerce(trimmed);
  if (!v) {
    throw new UserError(`not a kernel version: '${text}'`, { where, hint: 'e.g. 6.6.52' });
  }
  return v;
}

/** True when `version` lies in `range` (from inclusive, until exclusive). */
export function inVersionRange(version: KernelVersion, range: VersionRange | undefined): boolean {
  if (!range) return true;
  if (range.from && lt(version, coerceStrict(range.from))) return false;
  if (range.until && gte(version, coerceStrict(range.until))) return false;
  return true;
}

/** Renders a range for people: "≥ 5.18", "< 5.18", "4.12 – 6.8". */
export function describeRange(range: VersionRange | undefined): string {
  if (!range || (!range.from && !range.until)) return 'all';
  if (range.from && range.until) return `${range.from} to before ${range.until}`;
  if (range.from) return `>= ${range.from}`;
  return `< ${range.until}`;
}

/** The rule data's versions, each read once (rules are checked against many symbols). */
const ruleVersions = new Map<string, SemVer>();
function coerceStrict(s: string): SemVer {
  let v = ruleVersions.get(s);
  if (v) return v;
  v = coerce(s) ?? undefined;
  if (!v) throw new Error(`rule data holds a bad version: ${s}`);
  ruleVersions.set(s, v);
  return v;
}

/** major.minor of a version, e.g. "6.1", for messages. */
export function shortVersion(v: KernelVersion): string {
  return `${v.major}.${v.minor}${v.patch ? `.${v.patch}` : ''}`;
}
