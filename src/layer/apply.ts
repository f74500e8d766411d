// The only writer of the layer directory. A run changes the layer as one transaction:
//   1. lock the directory (lock.ts), finish or drop what an interrupted run left (recover);
//   2. plan (reads only): compare the planned files with the directory and the manifest;
//      every path is checked with lstat, symlinks are refused, conflicts refuse the run;
//   3. stage: write every new file and the new manifest below .kdump-layer-txn/files/ —
//      nothing the layer's users see has changed yet, and any error here drops the staging;
//   4. commit: write .kdump-layer-txn/journal.json (atomically, by rename);
//   5. roll forward: rename the staged files into place, remove the files no longer generated,
//      move the manifest in last, drop .kdump-layer-txn.
// A kill before 4 leaves the old layer (the next run drops the staging); a kill after 4 leaves a
// journal the next run (of generate, with any configuration) completes first. `--check` reports
// such leftovers as drift. Files the manifest does not list are never touched.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { unifiedDiff } from './diff.js';
import type { PlannedFile } from './plan.js';
import { acquireLock, hasDeadLock, sleepSync, waitForUnlocked } from './lock.js';
import { LOCK_NAME, TXN_NAME, checkNameLengths, ensureDirs, inspect, isPlainRelPath, isReserved, readNoFollow, readNoFollowWithMode, symlinkError, under } from './safepath.js';
import { fsyncPath } from './write-atomic.js';

/** Where generate records what it wrote, so it can tell its files from the user's. */
export const MANIFEST = '.kdump-layer-manifest.json';

export interface Manifest {
  generator: 'kdump-layer';
  regenerate: string;
  /** Layer-relative path -> SHA-256 of the content generate wrote. */
  files: Record<string, string>;
}

export type Action =
  | { kind: 'create' | 'update' | 'unchanged'; file: PlannedFile }
  | { kind: 'mode'; file: PlannedFile; from: number }
  | { kind: 'remove'; path: string };

export interface Conflict {
  path: string;
  why: string;
}

export interface ApplyPlan {
  outDir: string;
  actions: Action[];
  conflicts: Conflict[];
  manifest: PlannedFile;
  /** Whether the manifest on disk differs from the new one. */
  manifestChanged: boolean;
  /** What an interrupted run left (lock, staging, old temporary files): layer-relative paths. */
  leftovers: string[];
}

interface Journal {
  version: 1;
  /** Staged files to move into place, in order. */
  writes: string[];
  /** Files whose mode alone changes. */
  modes: { path: string; mode: number }[];
  /** Files generated before and no longer. */
  removes: string[];
}

const JOURNAL = 'journal.json';
const STAGED = 'files';
const sha256 = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest('hex');

// ---------------------------------------------------------------------------------------------
// Test hook: KDUMP_LAYER_TEST_KILL_AT=N makes the process kill itself (SIGKILL) at the Nth step
// of a write (staging, commit, each rename and removal); KDUMP_LAYER_TEST_STEP_MS pauses at every
// step; KDUMP_LAYER_TEST_TRACE=1 names each step on stderr. The kill -9 tests use them to stop
// generate at every point of a run.
const killAt = Number(process.env.KDUMP_LAYER_TEST_KILL_AT ?? 0);
const stepMs = Number(process.env.KDUMP_LAYER_TEST_STEP_MS ?? 0);
const trace = Boolean(process.env.KDUMP_LAYER_TEST_TRACE);
let steps = 0;
function step(name: string): void {
  steps++;
  if (trace) process.stderr.write(`kdump-layer: step ${steps} ${name}\n`);
  if (stepMs > 0) sleepSync(stepMs);
  if (killAt > 0 && steps === killAt) process.kill(process.pid, 'SIGKILL');
}

export function manifestFile(files: PlannedFile[], regenerate: string): PlannedFile {
  const m: Manifest = {
    generator: 'kdump-layer',
    regenerate,
    files: Object.fromEntries(files.map((f) => [f.path, sha256(f.content)])),
  };
  return { path: MANIFEST, content: `${JSON.stringify(m, null, 2)}\n`, mode: 0o644 };
}

function damaged(outDir: string, why: string): UserError {
  return new UserError(`the layer manifest ${why}, so generated and hand-written files cannot be told apart`, {
    where: path.join(outDir, MANIFEST),
    hint: 'restore it from version control (or remove it: every generated file then counts as hand-written and needs --force)',
  });
}

function readManifest(outDir: string): { manifest: Manifest | null; raw: Buffer | null } {
  const raw = readNoFollow(outDir, MANIFEST);
  if (raw === null) return { manifest: null, raw };
  let m: Manifest;
  try {
    m = JSON.parse(raw.toString('utf8')) as Manifest;
  } catch {
    throw damaged(outDir, 'is not valid JSON');
  }
  if (m === null || typeof m !== 'object' || m.generator !== 'kdump-layer' || typeof m.files !== 'object' || m.files === null || Array.isArray(m.files)) {
    throw damaged(outDir, 'is not a kdump-layer manifest');
  }
  for (const [p, hash] of Object.entries(m.files)) {
    // An entry that leaves the layer (absolute, '..') or names generate's own files is refused, not skipped.
    if (!isPlainRelPath(p) || isReserved(p) || p === MANIFEST) throw damaged(outDir, `lists a path outside the layer's generated files (${JSON.stringify(p)})`);
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw damaged(outDir, `has no valid checksum for ${p}`);
  }
  return { manifest: m, raw };
}

/** Old temporary files (`.NAME.PID.tmp`, from versions that wrote in place) beside generated files. */
function oldTempFiles(outDir: string, rels: string[]): string[] {
  const found: string[] = [];
  const byDir = new Map<string, Set<string>>();
  for (const r of rels) {
    const d = path.posix.dirname(r);
    if (!byDir.has(d)) byDir.set(d, new Set());
    byDir.get(d)!.add(path.posix.basename(r));
  }
  for (const [d, names] of byDir) {
    let entries: fs.Dirent[];
    try {
      if (d !== '.' && inspectDir(outDir, d) !== 'dir') continue;
      entries = fs.readdirSync(path.join(outDir, d), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const m = /^\.(.+)\.\d+\.tmp$/.exec(e.name);
      if (m && names.has(m[1]) && e.isFile()) found.push(d === '.' ? e.name : `${d}/${e.name}`);
    }
  }
  return found.sort();
}

/** Is outDir/relDir a real directory (no link on the way)? */
function inspectDir(outDir: string, relDir: string): 'dir' | 'missing' {
  let cur = outDir;
  for (const part of relDir.split('/')) {
    cur = path.join(cur, part);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(cur, { throwIfNoEntry: false });
    } catch {
      return 'missing';
    }
    if (!st?.isDirectory()) return 'missing';
  }
  return 'dir';
}

/** What an interrupted run left in outDir: a dead holder's lock, the staging area, old temporary files. */
function findLeftovers(outDir: string, rels: string[]): string[] {
  const found: string[] = [];
  if (hasDeadLock(outDir)) found.push(LOCK_NAME);
  try {
    const st = fs.lstatSync(path.join(outDir, TXN_NAME), { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) throw symlinkError(outDir, TXN_NAME);
    if (st) found.push(fs.existsSync(path.join(outDir, TXN_NAME, JOURNAL)) ? `${TXN_NAME} (a committed update not yet complete)` : `${TXN_NAME} (an update that never committed)`);
  } catch (err) {
    if (err instanceof UserError) throw err;
  }
  return [...found, ...oldTempFiles(outDir, rels)];
}

/**
 * Compares the plan with the directory: what to create, update, leave or remove, and which
 * files the user changed (conflicts). Reads only; writes nothing. `outDir` comes from
 * resolveOutDir (symlinks in the spelled --out already resolved).
 */
export function planApply(outDir: string, files: PlannedFile[], regenerate: string): ApplyPlan {
  for (const f of files) {
    if (!isPlainRelPath(f.path) || isReserved(f.path) || f.path === MANIFEST) throw new Error(`planned path is not a plain layer path: ${f.path}`);
    checkNameLengths(outDir, f.path);
  }
  const { manifest: previous, raw: previousRaw } = readManifest(outDir);
  const actions: Action[] = [];
  const conflicts: Conflict[] = [];
  for (const file of files) {
    const found = readNoFollowWithMode(outDir, file.path);
    if (found === null) {
      actions.push({ kind: 'create', file });
      continue;
    }
    const { data: current, mode } = found;
    if (current.equals(Buffer.from(file.content))) {
      actions.push(mode === file.mode ? { kind: 'unchanged', file } : { kind: 'mode', file, from: mode });
      continue;
    }
    const recorded = previous?.files[file.path];
    if (recorded === undefined) conflicts.push({ path: file.path, why: 'exists and was not generated by kdump-layer' });
    else if (recorded !== sha256(current)) conflicts.push({ path: file.path, why: 'was edited since it was generated' });
    actions.push({ kind: 'update', file });
  }
  const planned = new Set(files.map((f) => f.path));
  for (const [p, recorded] of Object.entries(previous?.files ?? {}).sort()) {
    if (planned.has(p)) continue;
    const current = readNoFollow(outDir, p);
    if (current === null) continue;
    if (recorded !== sha256(current)) conflicts.push({ path: p, why: 'is no longer generated, but was edited since' });
    actions.push({ kind: 'remove', path: p });
  }
  const manifest = manifestFile(files, regenerate);
  const manifestChanged = previousRaw === null || !previousRaw.equals(Buffer.from(manifest.content));
  const leftovers = findLeftovers(outDir, [...planned, ...Object.keys(previous?.files ?? {}), MANIFEST]);
  return { outDir, actions, conflicts, manifest, manifestChanged, leftovers };
}

/** Writes a new file (never through a link), with its mode, flushed to disk. */
function writeNew(abs: string, content: string, mode: number): void {
  const fd = fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
  try {
    fs.writeFileSync(fd, content);
    fs.fchmodSync(fd, mode); // the open's mode is filtered by the umask
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}


function removeEmptyParents(outDir: string, rel: string): void {
  let dir = path.posix.dirname(rel);
  while (dir !== '.' && dir !== '') {
    if (inspectDir(outDir, dir) !== 'dir') return;
    const abs = path.join(outDir, dir);
    if (fs.readdirSync(abs).length > 0) return;
    fs.rmdirSync(abs);
    dir = path.posix.dirname(dir);
  }
}

/** Removes the staging area (never following a link: rmSync does not follow the links inside). */
function dropStaging(outDir: string): void {
  const txn = path.join(outDir, TXN_NAME);
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(txn, { throwIfNoEntry: false });
  } catch {
    return;
  }
  if (!st) return;
  if (st.isSymbolicLink()) throw symlinkError(outDir, TXN_NAME);
  fs.rmSync(txn, { recursive: true, force: true });
}

/** Steps 5: moves a committed transaction's files into place. Idempotent: a re-run skips what is done. */
function rollForward(outDir: string, journal: Journal): void {
  const staged = path.join(outDir, TXN_NAME, STAGED);
  const stagedDirs = stagingDirs(outDir, journal);
  const checked = new Set<string>(); // the layer's directories made or checked by this run
  for (const rel of journal.writes) {
    const src = under(staged, rel);
    if (!fs.existsSync(src)) continue; // moved already, before an interruption
    ensureDirs(outDir, path.posix.dirname(rel), checked);
    inspect(outDir, rel, checked); // no link or directory in the way, right before the rename
    fs.renameSync(src, under(outDir, rel)); // rename replaces a file; it never follows a link at the target
    step(`moved ${rel}`);
  }
  for (const { path: rel, mode } of journal.modes) {
    if (inspect(outDir, rel) === 'missing') continue;
    const fd = fs.openSync(under(outDir, rel), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      fs.fchmodSync(fd, mode);
    } finally {
      fs.closeSync(fd);
    }
    step(`chmod ${rel}`);
  }
  for (const rel of journal.removes) {
    if (inspect(outDir, rel) === 'file') {
      fs.unlinkSync(under(outDir, rel)); // unlink removes a name; it never follows a link
      step(`removed ${rel}`);
    }
    removeEmptyParents(outDir, rel);
  }
  const manifest = path.join(staged, MANIFEST);
  if (fs.existsSync(manifest)) {
    inspect(outDir, MANIFEST);
    fs.renameSync(manifest, path.join(outDir, MANIFEST));
    step('moved the manifest');
  }
  removeStaging(outDir, stagedDirs);
}

/**
 * The staging area's directories a journal's files lie in (layer-relative, every parent listed,
 * parents first), each checked with lstat to be a real directory (or absent): the roll-forward
 * moves files out of them and removes them, and a link among them would lead both elsewhere.
 */
function stagingDirs(outDir: string, journal: Journal): string[] {
  const dirs = new Set<string>();
  for (const rel of journal.writes) {
    for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  }
  // A directory's path is longer than its parent's: shortest first lists each after its parent,
  // so a file in the way is named as such.
  const list = [...dirs].sort((a, b) => a.length - b.length);
  const staged = path.join(outDir, TXN_NAME, STAGED);
  for (const d of ['', ...list]) {
    const st = fs.lstatSync(d ? under(staged, d) : staged, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) {
      throw new UserError(`the staging area of an interrupted generate is damaged: ${TXN_NAME}/${STAGED}${d ? `/${d}` : ''} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`, {
        where: outDir,
        hint: `remove ${TXN_NAME} and check the layer with \`kdump-layer generate --check\``,
      });
    }
  }
  return list;
}

/**
 * The end of step 5: the staging area now holds its journal and emptied directories, removed one
 * by one, deepest first (removing it as a tree, with rmSync, cost a first generate about 8 ms of
 * CPU). Anything else in it (an interrupted removal, a file that should not be there) leaves the
 * removal to dropStaging.
 */
function removeStaging(outDir: string, stagedDirs: string[]): void {
  const txn = path.join(outDir, TXN_NAME);
  const staged = path.join(txn, STAGED);
  try {
    for (const d of [...stagedDirs].reverse()) fs.rmdirSync(under(staged, d));
    fs.rmdirSync(staged);
    fs.unlinkSync(path.join(txn, JOURNAL));
    fs.rmdirSync(txn);
  } catch {
    dropStaging(outDir);
  }
}

function readJournal(outDir: string): Journal | null {
  let raw: string;
  try {
    raw = fs.readFileSync(path.join(outDir, TXN_NAME, JOURNAL), 'utf8');
  } catch {
    return null;
  }
  let j: Journal | undefined;
  try {
    j = JSON.parse(raw) as Journal;
  } catch {
    j = undefined;
  }
  const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : [null]);
  const all = j ? [...list(j.writes), ...list(j.modes).map((m) => (m as { path?: unknown } | null)?.path), ...list(j.removes)] : [null];
  if (!j || j.version !== 1 || !all.every((p) => typeof p === 'string' && ((isPlainRelPath(p) && !isReserved(p)) || p === MANIFEST))) {
    throw new UserError('the journal of an interrupted generate is damaged', {
      where: path.join(outDir, TXN_NAME, JOURNAL),
      hint: `remove ${TXN_NAME} and check the layer with \`kdump-layer generate --check\``,
    });
  }
  return j;
}

/** Step 1: completes a committed transaction an interrupted run left, or drops an uncommitted one. */
function recover(outDir: string): void {
  const journal = readJournal(outDir);
  if (journal) rollForward(outDir, journal);
  else dropStaging(outDir);
}

/** Removes old-style temporary files next to generated files (their names were planned). */
function dropOldTempFiles(outDir: string, leftovers: string[]): void {
  for (const rel of leftovers) if (isPlainRelPath(rel) && rel.endsWith('.tmp')) fs.rmSync(path.join(outDir, rel), { force: true });
}

/** Steps 3 to 5 for a plan made under the lock. Refuses (writing nothing) when there are conflicts and no force. */
export function executeApply(plan: ApplyPlan, force: boolean): void {
  const { outDir } = plan;
  if (plan.conflicts.length > 0 && !force) {
    const list = plan.conflicts.map((c) => `  ${c.path} ${c.why}`).join('\n');
    throw new UserError(`refusing to overwrite files in ${outDir}; nothing was written:\n${list}`, {
      hint: 'keep your changes in the configuration (kernel.extra_config, …) instead, or run again with --force to overwrite',
    });
  }
  dropOldTempFiles(outDir, plan.leftovers);
  const writes = plan.actions.flatMap((a) => (a.kind === 'create' || a.kind === 'update' ? [a.file] : []));
  const journal: Journal = {
    version: 1,
    writes: writes.map((f) => f.path),
    modes: plan.actions.flatMap((a) => (a.kind === 'mode' ? [{ path: a.file.path, mode: a.file.mode }] : [])),
    removes: plan.actions.flatMap((a) => (a.kind === 'remove' ? [a.path] : [])),
  };
  if (!plan.manifestChanged && journal.writes.length + journal.modes.length + journal.removes.length === 0) return;

  // Step 3: stage. Any error here leaves the layer as it was.
  const txn = path.join(outDir, TXN_NAME);
  const staged = path.join(txn, STAGED);
  try {
    fs.mkdirSync(txn, 0o700);
    fs.mkdirSync(staged);
    step('staging created');
    const made = new Set<string>();
    for (const f of [...writes, ...(plan.manifestChanged ? [plan.manifest] : [])]) {
      const dest = under(staged, f.path);
      const dir = path.dirname(dest);
      if (!made.has(dir)) fs.mkdirSync(dir, { recursive: true });
      made.add(dir);
      writeNew(dest, f.content, f.mode);
      step(`staged ${f.path}`);
    }
    // Step 4: commit.
    const tmp = path.join(txn, `${JOURNAL}.tmp`);
    writeNew(tmp, `${JSON.stringify(journal)}\n`, 0o600);
    fsyncPath(staged);
    fs.renameSync(tmp, path.join(txn, JOURNAL));
    fsyncPath(txn);
    step('committed');
  } catch (err) {
    try {
      dropStaging(outDir);
    } catch {
      /* report the first error */
    }
    const e = err as NodeJS.ErrnoException;
    if (err instanceof UserError || typeof e.code !== 'string') throw err;
    throw new UserError(`cannot write the new layer (${e.code}: ${e.message}); nothing was changed`, { where: outDir, hint: 'fix the cause and run again' });
  }
  // Step 5: roll forward. An error from here on is completed by the next run.
  try {
    rollForward(outDir, journal);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const what = err instanceof UserError ? err.message : `${e.code ?? ''} ${e.message}`.trim();
    throw new UserError(`the update of the layer stopped half-way (${what})`, {
      where: outDir,
      hint: 'fix the cause and run generate again: it completes the update (the staged files are kept in .kdump-layer-txn)',
    });
  }
}

/**
 * Runs `fn` holding the lock of outDir (created when missing), after finishing what an
 * interrupted run left. Directories created for the lock are removed again when `fn` fails
 * and they stayed empty, so a refused run leaves nothing behind.
 */
export function withLayerLock<T>(outDir: string, fn: () => T): T {
  const created = fs.mkdirSync(outDir, { recursive: true });
  const release = acquireLock(outDir);
  let ok = false;
  try {
    if (process.env.KDUMP_LAYER_TEST_HOLD_MS) sleepSync(Number(process.env.KDUMP_LAYER_TEST_HOLD_MS));
    recover(outDir);
    const result = fn();
    ok = true;
    return result;
  } finally {
    release();
    if (!ok && created) {
      // Remove what mkdir created, innermost first, while empty.
      for (let d = outDir; d.length >= created.length; d = path.dirname(d)) {
        try {
          fs.rmdirSync(d);
        } catch {
          break;
        }
      }
    }
  }
}

/** For --check and --dry-run: waits while a live generate holds the lock; writes nothing. */
export function waitForLayer(outDir: string): void {
  if (fs.existsSync(outDir)) waitForUnlocked(outDir);
}

/** `--check`: leftovers of an interrupted run, then the unified diff between the directory and the plan ('' when in sync). */
export function driftDiff(plan: ApplyPlan): string {
  const out: string[] = plan.leftovers.map((l) => `leftover of an interrupted generate: ${l} (run generate to complete or clean it)\n`);
  const show = (rel: string, want: string | null) => {
    const raw = readNoFollow(plan.outDir, rel);
    const have = raw === null ? null : raw.toString('utf8');
    out.push(unifiedDiff(have, want, `a/${rel}`, `b/${rel}`));
  };
  for (const a of plan.actions) {
    if (a.kind === 'remove') show(a.path, null);
    else if (a.kind === 'mode') out.push(`mode of ${a.file.path}: ${a.from.toString(8)}, generated ${a.file.mode.toString(8)}\n`);
    else if (a.kind !== 'unchanged') show(a.file.path, a.file.content);
  }
  if (plan.manifestChanged) show(plan.manifest.path, plan.manifest.content);
  return out.join('');
}
