import type { TaintFlag } from './types.js';

/** The kernel's taint bits (include/linux/panic.h, kernel/panic.c taint_flags), letter and meaning. */
export const TAINT_FLAGS: readonly TaintFlag[] = [
  { bit: 0, letter: 'P', meaning: 'proprietary module was loaded' },
  { bit: 1, letter: 'F', meaning: 'module was force loaded' },
  { bit: 2, letter: 'S', meaning: 'kernel running on an out of specification system' },
  { bit: 3, letter: 'R', meaning: 'module was force unloaded' },
  { bit: 4, letter: 'M', meaning: 'processor reported a Machine Check Exception' },
  { bit: 5, letter: 'B', meaning: 'bad page referenced or unexpected page flags' },
  { bit: 6, letter: 'U', meaning: 'taint requested by userspace' },
  { bit: 7, letter: 'D', meaning: 'kernel died recently (OOPS or BUG)' },
  { bit: 8, letter: 'A', meaning: 'ACPI table overridden by user' },
  { bit: 9, letter: 'W', meaning: 'kernel issued a warning' },
  { bit: 10, letter: 'C', meaning: 'staging driver was loaded' },
  { bit: 11, letter: 'I', meaning: 'workaround for a platform firmware bug applied' },
  { bit: 12, letter: 'O', meaning: 'externally-built (out-of-tree) module was loaded' },
  { bit: 13, letter: 'E', meaning: 'unsigned module was loaded' },
  { bit: 14, letter: 'L', meaning: 'soft lockup occurred' },
  { bit: 15, letter: 'K', meaning: 'kernel has been live patched' },
  { bit: 16, letter: 'X', meaning: 'auxiliary taint, defined for and used by distros' },
  { bit: 17, letter: 'T', meaning: 'kernel was built with the struct randomization plugin' },
  { bit: 18, letter: 'N', meaning: 'an in-kernel test has been run' },
];

/** The flags set in a tainted_mask value. */
export function decodeTaint(mask: number): TaintFlag[] {
  return TAINT_FLAGS.filter((f) => (mask / 2 ** f.bit) % 2 >= 1);
}

/** The kernel's taint string (as in "Tainted: G   OE"): the letters of the set flags. */
export function taintLetters(mask: number): string {
  return decodeTaint(mask).map((f) => f.letter).join('');
}
