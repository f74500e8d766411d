/**
 * Remembered compiler probes for the kernel's Kconfig.
 *
 * Each conf run evaluates the Kconfig files' $(shell,...) calls: some 60 compiler runs
 * (cc-option, as-instr, cc-version.sh, ...) whose answers depend on the toolchain alone, and
 * which take most of a warm `validate --kernel-source` run. conf (and `make <defconfig>`) are
 * given a small sh wrapper as $(CC): it runs the real compiler and keeps the exit code and
 * output of each probe that leaves nothing behind, keyed by its arguments, its standard input
 * and the locale; the next run with the same toolchain replays them. Only probes whose output
 * goes nowhere (/dev/null), to standard output, or into the directory cc-option's own shell
 * removes right after are kept; any other compiler run goes straight to the real compiler.
 *
 * The answers live beside the built conf, in one directory per toolchain identity: the
 * compiler command, every file of it (driver, cc1, as, ld, ...) with its size and time, the
 * compiler's search directories and version, and the environment the compiler reads. A new
 * compiler or binutils, another $CC or $PATH: another directory, asked afresh.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeAtomic } from '../layer/write-atomic.js';

/** The wrapper conf runs as $(CC). POSIX sh; runs under dash and busybox sh. */
export const PROBE_CC_SCRIPT = `#!/bin/sh
# kdump-layer: runs the C compiler for a Kconfig probe and remembers the answers of probes
# that leave nothing behind, so that the next conf run with the same toolchain need not ask.
#   KDUMP_LAYER_PROBE_CC   the compiler command, split into words as Kconfig's $(CC) is
#   KDUMP_LAYER_PROBE_DIR  where the answers are kept (one directory per toolchain identity)
cc=$KDUMP_LAYER_PROBE_CC
dir=$KDUMP_LAYER_PROBE_DIR
keep=yes stdin=no out=no prev=''
for a in "$@"; do
  if [ "$prev" = -o ]; then
    # The output: nothing, standard output, or the file cc-option writes in the directory
    # its own shell removes right after (.tmp_$$/tmp.o).
    case $a in
      /dev/null | -) ;;
      .tmp_*/tmp.o) case \${a%/tmp.o} in .tmp_ | .tmp_*[!0-9]*) keep=no ;; esac ;;
      *) keep=no ;;
    esac
    out=yes
  elif [ "$prev" = --param ]; then
    :
  else
    case $a in
      -) stdin=yes ;;
      -E | --version | -dumpversion | -dumpfullversion | -dumpmachine | -print-*) out=yes ;;
      @*) keep=no ;;
      -*) ;;
      # An input other than /dev/null and standard input would have to be read to be keyed.
      /dev/null | c | assembler | assembler-with-cpp | c-header | none) ;;
      *) keep=no ;;
    esac
  fi
  prev=$a
done
[ "$out" = yes ] || keep=no
if [ "$keep" = no ] || [ -z "$dir" ] || [ ! -d "$dir" ] || [ ! -w "$dir" ]; then
  # shellcheck disable=SC2086 # a command and its words, as Kconfig splits $(CC)
  exec $cc "$@"
fi
nl='
'
input='' line=''
if [ "$stdin" = yes ]; then
  while IFS= read -r line; do input=$input$line$nl; done
  input=$input$line
fi
key=''
for a in "$@"; do
  case $a in .tmp_*/tmp.o) a=.tmp_N/tmp.o ;; esac
  key="$key\${#a}:$a$nl"
done
key=$(printf '%s\\nLC_ALL=%s LC_MESSAGES=%s LANG=%s LANGUAGE=%s\\n%s' "$key" "\${LC_ALL-}" "\${LC_MESSAGES-}" "\${LANG-}" "\${LANGUAGE-}" "$input" | sha256sum)
key=$dir/\${key%% *}
rc=''
if [ ! -f "$key.r" ] && (set -C; : > "$key.w") 2> /dev/null; then
  # This run asks (the .w file, made only if absent, says so): the answer goes in place,
  # the exit code last, so whoever finds the exit code finds the output complete.
  # shellcheck disable=SC2086
  printf '%s' "$input" | $cc "$@" >| "$key.o" 2>| "$key.e"
  rc=$?
  # A compiler killed by a signal (an exit status above 128) gave no answer: not kept.
  if [ "$rc" -lt 128 ]; then echo "$rc" >| "$key.r"; fi
elif [ -f "$key.r" ]; then
  read -r rc < "$key.r"
fi
case $rc in
  '' | *[!0-9]*)
    # Being asked by another run right now, or an answer that could not be kept (a full
    # disk, a run killed halfway): ask the compiler itself.
    # shellcheck disable=SC2086
    printf '%s' "$input" | $cc "$@"
    exit
    ;;
esac
if [ -s "$key.o" ]; then cat "$key.o"; fi
if [ -s "$key.e" ]; then cat "$key.e" >&2; fi
exit "$rc"
`;

/** Bumped when the wrapper's keying changes, so older answers are not looked up under new keys. */
const FORMAT = 1;

/** Environment variables GCC and Clang read that change what a probe answers. */
const COMPILER_ENV = ['PATH', 'GCC_EXEC_PREFIX', 'COMPILER_PATH', 'LIBRARY_PATH', 'CPATH', 'C_INCLUDE_PATH', 'GCC_COMPARE_DEBUG', 'CCC_OVERRIDE_OPTIONS', 'LD_LIBRARY_PATH', 'LD_PRELOAD'];

/** Programs the compiler driver runs for a probe (found in its search directories or on PATH). */
const PROGRAMS = ['cc1', 'cc1plus', 'as', 'ld', 'collect2', 'lto-wrapper', 'ld.bfd', 'ld.gold', 'ld.lld'];

function onPath(name: string, dirs: string[]): string | undefined {
  if (name.includes('/')) return fs.existsSync(name) ? path.resolve(name) : undefined;
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      if (fs.statSync(p).isFile()) return p;
    } catch { /* not here */ }
  }
  return undefined;
}

function fileIdentity(p: string): string {
  try {
    const real = fs.realpathSync(p);
    const st = fs.statSync(real);
    return `${p} -> ${real} ${st.dev}:${st.ino} ${st.size} ${st.mtimeMs} ${st.ctimeMs}`;
  } catch {
    return `${p} (unreadable)`;
  }
}

/**
 * What a probe's answer depends on besides its arguments, input and locale: the compiler
 * command, the files it runs, its search directories and version, and the environment it reads.
 */
export function toolchainIdentity(cc: string, versionText: string, env: NodeJS.ProcessEnv = process.env): string {
  const pathDirs = (env.PATH ?? '').split(':').filter(Boolean);
  const words = cc.split(/\s+/).filter(Boolean);
  const lines = [`format ${FORMAT}`, `CC=${cc}`, `version ${versionText}`];
  for (const w of words.filter((x) => !x.startsWith('-'))) {
    const p = onPath(w, pathDirs);
    if (p) lines.push(`word ${fileIdentity(p)}`);
  }
  const dirs = spawnSync(words[0] ?? 'gcc', [...words.slice(1), '-print-search-dirs'], { encoding: 'utf8', env: { ...env, LC_ALL: 'C' } });
  const searchText = dirs.stdout ?? '';
  lines.push(`search-dirs ${dirs.status} ${searchText}`);
  const programDirs = (/^programs: =(.*)$/m.exec(searchText)?.[1] ?? '').split(':').filter(Boolean);
  for (const prog of PROGRAMS) {
    const p = onPath(prog, [...programDirs, ...pathDirs]);
    lines.push(`program ${prog} ${p ? fileIdentity(p) : 'none'}`);
  }
  for (const v of COMPILER_ENV) lines.push(`env ${v}=${env[v] ?? ''}`);
  return lines.join('\n');
}

/** How long a claim (.w) without an answer (.r) is taken for a run still asking. */
const STALE_CLAIM_MS = 10 * 60 * 1000;

/**
 * A run killed while it asked leaves a claim (.w) and no answer: every later run then asks the
 * compiler itself. A claim that old is removed, so that the next run asks and keeps the answer.
 */
export function removeStaleClaims(dir: string, now = Date.now()): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  const have = new Set(names);
  for (const n of names) {
    if (!n.endsWith('.w') || have.has(`${n.slice(0, -2)}.r`)) continue;
    try {
      const claim = path.join(dir, n);
      if (now - fs.statSync(claim).mtimeMs > STALE_CLAIM_MS) fs.rmSync(claim, { force: true });
    } catch { /* gone meanwhile */ }
  }
}

export interface ProbeCache {
  /** $(CC) for conf and make: the wrapper. */
  cc: string;
  /** What the wrapper needs in its environment. */
  env: NodeJS.ProcessEnv;
  /** Where the answers are kept. */
  dir: string;
}

/**
 * The wrapper (written once into `objDir`) and the directory of answers for this toolchain.
 * Answers are shared by conf runs of one tree and arch only: objDir is per tree and arch.
 */
export function probeCache(objDir: string, cc: string, versionText: string): ProbeCache {
  const key = crypto.createHash('sha256').update(toolchainIdentity(cc, versionText)).digest('hex').slice(0, 16);
  const dir = path.join(objDir, 'probes', key);
  fs.mkdirSync(dir, { recursive: true });
  removeStaleClaims(dir);
  const script = path.join(objDir, 'probe-cc');
  let current: string | undefined;
  try {
    current = fs.readFileSync(script, 'utf8');
  } catch { /* not written yet */ }
  if (current !== PROBE_CC_SCRIPT) writeAtomic(script, PROBE_CC_SCRIPT, 0o755);
  return { cc: script, dir, env: { KDUMP_LAYER_PROBE_CC: cc, KDUMP_LAYER_PROBE_DIR: dir } };
}
