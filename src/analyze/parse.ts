/**
 * crash(8)'s batch output → facts. Pure: text in, plain object out; tested on saved real
 * outputs. The output is split at the section markers crash.ts puts between commands; a
 * section that is missing or holds only crash's error lines is reported as a failure rather
 * than guessed at.
 */
import { SECTION_MARK } from './crash.js';
import { decodeTaint, TAINT_FLAGS } from './taint.js';
import type { CrashFacts, Frame, ModuleInfo, TaskInfo } from './types.js';

/** How many lines of the kernel log the report keeps. */
export const LOG_TAIL_LINES = 50;

export function splitSections(output: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  const preamble: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const i = line.indexOf(SECTION_MARK);
    if (i >= 0) {
      const name = line.slice(i + SECTION_MARK.length).trim();
      current = [];
      if (name !== 'end') sections.set(name, current);
      else current = undefined;
      continue;
    }
    (current ?? preamble).push(line);
  }
  sections.set('preamble', preamble);
  return sections;
}

/** crash prints "<cmd>: <message>" or "crash: <message>" when a command fails. */
function errorLines(lines: string[]): string[] {
  return lines.filter((l) => /^(crash|bt|log|mod|kmem|sys|list|p|gdb): /.test(l) || /^(invalid|cannot|no such)/i.test(l));
}

export function parseSys(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const m = /^\s*([A-Z][A-Z ]*[A-Z]): (.*)$/.exec(l);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

export function parseBacktrace(lines: string[]): { task?: TaskInfo; frames: Frame[] } {
  let task: TaskInfo | undefined;
  const frames: Frame[] = [];
  for (const l of lines) {
    const t = /^PID:\s*(\d+)\s+TASK:\s*\S+\s+CPU:\s*(\d+)\s+COMMAND:\s*"(.*)"/.exec(l);
    if (t) {
      if (task) break; // one task only: the crashing one
      task = { pid: Number(t[1]), cpu: Number(t[2]), command: t[3] };
      continue;
    }
    const f = /^\s*#(\d+)\s+\[[0-9a-f]+\]\s+(\S+)\s+at\s+[0-9a-f]+(?:\s+\[(\S+)\])?/.exec(l);
    if (f) {
      frames.push({ level: Number(f[1]), function: f[2], ...(f[3] ? { module: f[3] } : {}) });
      continue;
    }
    const x = /\[exception RIP: ([^\]+\s]+)(\+\d+)?\]/.exec(l);
    if (x) {
      const prev = frames[frames.length - 1];
      frames.push({ level: prev ? prev.level : 0, function: x[1], ...(x[2] ? { offset: x[2] } : {}), exception: true });
      continue;
    }
    const src = /^\s{4,}(\S+\.[chS]): (\d+)\s*$/.exec(l);
    if (src && frames.length > 0) {
      const last = frames[frames.length - 1];
      if (!last.file) {
        last.file = src[1];
        last.line = Number(src[2]);
      }
    }
  }
  return { task, frames };
}

/** Fills in the module of exception frames from the oops' own "RIP: 0010:fn+0x4/0x10 [mod]" line. */
function moduleFromLog(frames: Frame[], log: string[]): void {
  for (const f of frames) {
    if (!f.exception || f.module) continue;
    const re = new RegExp(`RIP: [0-9a-f]+:${f.function.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\+0x[0-9a-f]+/0x[0-9a-f]+ \\[(\\S+)\\]`);
    for (const l of log) {
      const m = re.exec(l);
      if (m) {
        f.module = m[1];
        break;
      }
    }
  }
}

export function parseModules(mod: string[], modTaint: string[]): ModuleInfo[] {
  const taints = new Map<string, string>();
  for (const l of modTaint) {
    const m = /^\s*(\S+)\s+([A-Z]+)\s*$/.exec(l);
    if (m && m[1] !== 'NAME') taints.set(m[1], m[2]);
  }
  const out: ModuleInfo[] = [];
  for (const l of mod) {
    const m = /^\s*[0-9a-f]{8,}\s+(\S+)\s+[0-9a-f]{8,}\s+(\d+)\s/.exec(l);
    if (!m) continue;
    const t = taints.get(m[1]) ?? '';
    out.push({ name: m[1], size: Number(m[2]), taints: t, outOfTree: t.includes('O'), unsigned: t.includes('E'), proprietary: t.includes('P') });
  }
  for (const [name, t] of taints) {
    if (!out.some((m) => m.name === name)) out.push({ name, taints: t, outOfTree: t.includes('O'), unsigned: t.includes('E'), proprietary: t.includes('P') });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function parseKmem(lines: string[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const m = /^\s*([A-Z][A-Z ]*[A-Z])\s+(\d+)\s+(\S+ [KMGT]?B)\s+(.*?)\s*$/.exec(l);
    if (m) out[m[1].toLowerCase()] = m[4] === '----' ? m[3] : `${m[3]} (${m[4]})`;
  }
  return Object.keys(out).length ? out : undefined;
}

export function parseTasks(lines: string[]): TaskInfo[] | undefined {
  const out: TaskInfo[] = [];
  let cur: Partial<TaskInfo> | undefined;
  for (const l of lines) {
    if (/^[0-9a-f]{8,}$/.test(l.trim())) {
      if (cur?.pid !== undefined) out.push(cur as TaskInfo);
      cur = {};
      continue;
    }
    if (!cur) continue;
    const p = /^\s*pid = (\d+),?$/.exec(l);
    if (p) cur.pid = Number(p[1]);
    const c = /^\s*comm = "(.*)",?$/.exec(l);
    if (c) cur.command = c[1].replace(/\\000.*$/, '');
    const u = /^\s*recent_used_cpu = (-?\d+),?/.exec(l);
    if (u) cur.cpu = Number(u[1]);
  }
  if (cur?.pid !== undefined) out.push(cur as TaskInfo);
  return out.length ? out.map((t) => ({ pid: t.pid, command: t.command ?? '', ...(t.cpu !== undefined ? { cpu: t.cpu } : {}) })) : undefined;
}

const LOG_PREFIX = /^\[\s*\d+\.\d+\]\s?/;

/**
 * The kernel's own call trace of the last oops or panic in the log: the faulting RIP (for an
 * oops) and the reliable frames after "Call Trace:" ("? " guesses skipped), up to </TASK>.
 */
export function parseLogTrace(log: string[]): Frame[] {
  const lines = log.map((l) => l.replace(LOG_PREFIX, ''));
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^(BUG: |Oops: |Kernel panic - not syncing|general protection fault|kernel BUG at|Unable to handle kernel|Internal error: )/.test(lines[i])) {
      start = i;
      // Oops and panic both print: keep going back to the first of the group (BUG: before Oops:).
      if (/^(BUG: |general protection fault|kernel BUG at|Unable to handle kernel)/.test(lines[i])) break;
    } else if (start >= 0 && start - i > 8) break;
  }
  if (start < 0) return [];
  const frames: Frame[] = [];
  let inTrace = false;
  for (const l of lines.slice(start)) {
    const rip = !inTrace && /^(?:RIP: [0-9a-f]{4}:|pc : )([\w.]+)\+(0x[0-9a-f]+)\/0x[0-9a-f]+(?: \[(\w+)\])?/.exec(l);
    if (rip) {
      frames.push({ level: 0, function: rip[1], offset: `+${parseInt(rip[2], 16)}`, ...(rip[3] ? { module: rip[3] } : {}), exception: true });
      continue;
    }
    if (/^Call [Tt]race:/.test(l)) {
      if (inTrace) break;
      inTrace = true;
      continue;
    }
    if (!inTrace) continue;
    if (/^\s*<\/TASK>|^\s*RIP: 0033|^---\[ end/.test(l)) break;
    const f = /^\s+(\? )?([\w.]+)\+(0x[0-9a-f]+)\/0x[0-9a-f]+(?: \[(\w+)\])?/.exec(l);
    if (f && !f[1]) frames.push({ level: frames.length, function: f[2], offset: `+${parseInt(f[3], 16)}`, ...(f[4] ? { module: f[4] } : {}) });
  }
  return frames;
}

/**
 * Facts from the kernel log alone (the archive's dmesg.txt), for a dump crash(8) cannot open:
 * panic line, task, taint and the kernel's own call trace.
 */
export function factsFromLog(log: string[]): CrashFacts {
  const lines = parseLog(log);
  const plain = lines.map((l) => l.replace(LOG_PREFIX, ''));
  const facts: CrashFacts = { backtrace: parseLogTrace(lines), log: lines.slice(-LOG_TAIL_LINES), modules: [], failures: [] };
  const panic = [...plain].reverse().find((l) => /^Kernel panic - not syncing/.test(l)) ?? [...plain].reverse().find((l) => /^(Oops: |BUG: )/.test(l));
  if (panic) facts.panic = panic.trim();
  const who = [...plain].reverse().map((l) => /^CPU: (\d+) PID: (\d+) Comm: (\S+)/.exec(l)).find(Boolean);
  if (who) facts.task = { pid: Number(who[2]), command: who[3], cpu: Number(who[1]) };
  const t = [...plain].reverse().map((l) => /Tainted: ([A-Z ]+?)\s+\d/.exec(l)).find(Boolean);
  if (t) {
    const mask = TAINT_FLAGS.filter((f) => t[1].includes(f.letter)).reduce((a, f) => a + 2 ** f.bit, 0);
    facts.taint = { mask, flags: decodeTaint(mask) };
  } else if (plain.some((l) => / Not tainted /.test(l))) facts.taint = { mask: 0, flags: [] };
  const logTrace = facts.backtrace;
  if (logTrace.length) facts.logTrace = logTrace;
  return facts;
}

export function parseLog(lines: string[]): string[] {
  // Drop the empty lines crash leaves at the end; keep the kernel's own lines unchanged.
  const out = [...lines];
  while (out.length && out[out.length - 1].trim() === '') out.pop();
  return out;
}

/** The whole parse: crash's stdout (and stderr, for the version and error lines) → facts. */
export function parseCrashOutput(stdout: string, stderr = ''): CrashFacts {
  const s = splitSections(stdout);
  const get = (name: string) => s.get(name) ?? [];
  const failures: string[] = [];
  const check = (name: string, command: string, usable: boolean) => {
    if (usable) return;
    const errs = errorLines(get(name));
    failures.push(`${command}: ${errs.length ? errs.join(' / ') : s.has(name) ? 'no usable output' : 'not run (crash stopped before it)'}`);
  };

  const sys = parseSys(get('sys'));
  check('sys', 'sys', Object.keys(sys).length > 0);
  const bt = parseBacktrace(get('bt'));
  check('bt', 'bt', bt.frames.length > 0);
  const logErrors = new Set(errorLines(get('log')));
  const fullLog = parseLog(get('log').filter((l) => !logErrors.has(l)));
  check('log', 'log', fullLog.length > 0);
  moduleFromLog(bt.frames, fullLog);
  const taintLine = get('taint').map((l) => /^\$\d+ = (0x[0-9a-f]+|\d+)/.exec(l)).find(Boolean);
  const modules = parseModules(get('mod'), get('modtaint'));
  const memory = parseKmem(get('kmem'));
  const tasks = parseTasks(get('tasks'));
  check('taint', 'p tainted_mask', Boolean(taintLine));
  // No modules loaded is a valid answer: only a missing section or crash's error counts.
  check('mod', 'mod', s.has('mod') && errorLines(get('mod')).length === 0);
  check('kmem', 'kmem -i', Boolean(memory));
  check('tasks', 'task list', Boolean(tasks));

  const facts: CrashFacts = { backtrace: bt.frames, log: fullLog.slice(-LOG_TAIL_LINES), modules, failures };
  const logTrace = parseLogTrace(fullLog);
  if (logTrace.length) facts.logTrace = logTrace;
  const version = /crash (\d+\.\d+\.\d+\S*)/.exec(`${stderr}\n${get('preamble').join('\n')}`);
  if (version) facts.crashVersion = version[1];
  if (sys.DATE) facts.date = sys.DATE;
  if (sys.UPTIME) facts.uptime = sys.UPTIME;
  // PANIC: "Oops: 0000 [#1] PREEMPT SMP NOPTI" (check log for details)
  if (sys.PANIC) facts.panic = (/^"(.*)"/.exec(sys.PANIC)?.[1] ?? sys.PANIC).replace(/\\n$/, '').trim();
  if (bt.task) facts.task = bt.task;
  if (taintLine) {
    const mask = Number(taintLine[1]);
    facts.taint = { mask, flags: decodeTaint(mask) };
  } else {
    // Older kernels and stripped symbol sets: the log's "Tainted: G   OE" line says the same.
    const t = [...fullLog].reverse().map((l) => /Tainted: ([A-Z ]+?)\s+\d/.exec(l)).find(Boolean);
    if (t) {
      const mask = TAINT_FLAGS.filter((f) => t[1].includes(f.letter)).reduce((a, f) => a + 2 ** f.bit, 0);
      facts.taint = { mask, flags: decodeTaint(mask) };
    }
  }
  if (memory) facts.memory = memory;
  if (tasks) facts.tasks = tasks;
  return facts;
}
