/**
 * A crash signature: the same bug from different devices, boots and builds gets the same
 * hash (the idea of ABRT's duplicate hash for kernel oopses). Inputs are the panic kind and
 * the top frames that are not generic panic/oops/exception machinery, by function name only:
 * no addresses, no offsets, no pids, no times.
 */
import crypto from 'node:crypto';
import type { CrashSignature, Frame } from './types.js';

/** Functions every panic or oops passes through: they say how the kernel died, not why. */
const GENERIC_FRAMES = new Set([
  'machine_kexec', '__crash_kexec', 'crash_kexec', 'panic', 'vpanic', 'oops_end', 'die', '__die', '__die_body', 'die_addr',
  'no_context', 'page_fault_oops', 'kernelmode_fixup_or_oops', '__bad_area_nosemaphore', 'bad_area_nosemaphore', 'bad_area',
  'do_user_addr_fault', 'exc_page_fault', 'asm_exc_page_fault', 'handle_page_fault', 'do_kern_addr_fault',
  'do_trap', 'do_error_trap', 'handle_invalid_op', 'exc_invalid_op', 'asm_exc_invalid_op', 'handle_bug', 'report_bug',
  'exc_general_protection', 'asm_exc_general_protection', 'die_body', 'do_general_protection',
  'dump_stack', 'dump_stack_lvl', 'show_stack', 'show_regs', '__show_regs', 'crash_setup_regs', 'crash_save_cpu',
  'watchdog_timer_fn', 'watchdog_overflow_callback', 'nmi_panic', 'native_machine_crash_shutdown', 'machine_crash_shutdown',
  // arm64 / arm
  'die_kernel_fault', '__do_kernel_fault', 'do_page_fault', 'do_translation_fault', 'do_mem_abort', 'el1_abort', 'el1h_64_sync_handler', 'el1h_64_sync',
  'do_bad_area', '__do_user_fault', 'bug_handler', 'brk_handler', 'do_debug_exception', 'el1_dbg',
]);

/** How many non-generic frames take part; enough to tell bugs apart, few enough to ignore deep callers. */
export const SIGNATURE_FRAMES = 3;

/** A frame's function name without compiler suffixes (.cold, .isra.0, .constprop.0, .part.1). */
export function normalizeFunction(name: string): string {
  return name.replace(/\.(cold|isra|constprop|part|lto_priv|llvm)(\.\d+)*.*$/, '');
}

export function isGenericFrame(name: string): boolean {
  return GENERIC_FRAMES.has(normalizeFunction(name));
}

/**
 * The panic kind: the message with everything run-specific taken out (numbers, addresses,
 * process names in brackets, the oops counter), so it names the class of failure.
 */
export function panicKind(panic: string | undefined, log: string[] = []): string {
  // An oops' own message ("Oops: 0002 [#1] …") says little; the BUG:/general protection line before it says what.
  const cause = [...log].reverse().find((l) => /\b(BUG: |general protection fault|kernel BUG at|Unable to handle kernel|WARNING: CPU|Kernel panic - not syncing)/.test(l));
  const text = panic && !/^Oops\b/.test(panic) ? panic : cause ? cause.replace(/^\[\s*[\d.]+\]\s*/, '') : panic ?? 'unknown';
  return text
    .replace(/^Kernel panic - not syncing:\s*/, '')
    .replace(/, address: .*$/, '')
    .replace(/\b0x[0-9a-f]+\b/gi, 'N')
    .replace(/\b[0-9a-f]{8,}\b/gi, 'N')
    .replace(/\b\d+\b/g, 'N')
    .replace(/\[#N\]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The signature of a crash. `frames` should be the kernel's own call trace from its log when
 * there is one (reliable unwinder, the same whether or not crash(8) could open the dump), else
 * crash's backtrace.
 */
export function crashSignature(panic: string | undefined, backtrace: Frame[], log: string[] = []): CrashSignature {
  const kind = panicKind(panic, log);
  const frames: string[] = [];
  for (const f of backtrace) {
    const name = normalizeFunction(f.function);
    if (isGenericFrame(name) || frames.includes(name)) continue;
    frames.push(f.module ? `${name} [${f.module}]` : name);
    if (frames.length === SIGNATURE_FRAMES) break;
  }
  const hash = crypto.createHash('sha256').update(`${kind}\n${frames.join('\n')}\n`).digest('hex').slice(0, 16);
  return { hash, kind, frames };
}
