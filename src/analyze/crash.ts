/**
 * Runs crash(8) once, in batch mode, with a fixed command script; the only part of analyze
 * that starts crash. Each command's output is fenced by a marker line printed through
 * crash's embedded gdb (`gdb echo`), so the parser can split the output without guessing.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SECTION_MARK = '==kdump-layer-section==';

/**
 * The commands, in order, and the section name each one's output is filed under.
 * `ps` is not used: crash 8.0.2 on 6.1 dumps lists only the idle and panicking tasks, so the
 * task table comes from walking init_task's list; with -S (members read from the dump) rather
 * than -s (one gdb evaluation per member), which took most of a run's time.
 */
export const CRASH_COMMANDS: readonly { section: string; command: string }[] = [
  { section: 'sys', command: 'sys' },
  { section: 'taint', command: 'p/x tainted_mask' },
  { section: 'bt', command: 'bt -l' },
  { section: 'log', command: 'log' },
  { section: 'mod', command: 'mod' },
  { section: 'modtaint', command: 'mod -t' },
  { section: 'kmem', command: 'kmem -i' },
  { section: 'tasks', command: 'list task_struct.tasks -S task_struct.pid,comm,recent_used_cpu -h init_task' },
];

/** The script file's text: every command fenced by a marker naming its section. */
export function crashScript(): string {
  const lines: string[] = [];
  for (const c of CRASH_COMMANDS) {
    lines.push(`gdb echo ${SECTION_MARK} ${c.section}\\n`);
    lines.push(c.command);
  }
  lines.push(`gdb echo ${SECTION_MARK} end\\n`);
  lines.push('exit');
  return `${lines.join('\n')}\n`;
}

/** crash's argv for a dump: silent, batch (-i script), no pager; used by analyze and by the benchmark. */
export function crashArgs(vmlinux: string, vmcore: string, scriptFile: string): string[] {
  return ['-s', '--no_scroll', '-i', scriptFile, vmlinux, vmcore];
}

export interface CrashRun {
  stdout: string;
  stderr: string;
  status: number | null;
  /** "8.0.2", from `crash --version`. */
  version?: string;
}

export class ToolMissingError extends Error {}

/** Is a program on PATH? */
export function haveTool(name: string): boolean {
  return spawnSync('/bin/sh', ['-c', `command -v "$1"`, 'sh', name], { stdio: 'ignore' }).status === 0;
}

export const CRASH_INSTALL_HINT = 'install crash(8): `apt-get install crash` (Debian/Ubuntu), `dnf install crash` (Fedora/RHEL); or put it on PATH, or name it with KDUMP_LAYER_CRASH';

export function crashProgram(): string {
  return process.env.KDUMP_LAYER_CRASH || 'crash';
}

/** Runs crash once over the dump with the fixed script; resolves with everything it printed. */
export async function runCrash(vmlinux: string, vmcore: string, timeoutMs = 15 * 60_000): Promise<CrashRun> {
  const program = crashProgram();
  if (!haveTool(program)) throw new ToolMissingError(`crash(8) is not installed (looked for \`${program}\` on PATH)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-crash-'));
  const script = path.join(dir, 'commands.crash');
  fs.writeFileSync(script, crashScript());
  try {
    return await new Promise<CrashRun>((resolve, reject) => {
      const child = spawn(program, crashArgs(vmlinux, vmcore, script), {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TERM: 'dumb', PAGER: 'cat', CRASHPAGER: 'cat' },
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (status) => {
        clearTimeout(timer);
        const v = spawnSync(program, ['--version'], { encoding: 'utf8', timeout: 30_000 });
        const version = /^crash (\S+)/m.exec(v.stdout ?? '')?.[1];
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status, ...(version ? { version } : {}) });
      });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
