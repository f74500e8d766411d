import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CHECK_FAILED, EXIT_OK, UserError } from '../errors.js';
import { fsyncPath } from '../layer/write-atomic.js';
import { checkDestination, LISTING_SEPARATOR, parseListing, shQuote, type DeviceArchive } from './plan.js';

interface Ssh {
  /** Runs a remote command; resolves with its output. */
  run(command: string): { code: number; stdout: string; stderr: string };
  /**
   * Streams a remote command's stdout into `parts` one after the other, each taking its
   * `bytes` (the last one also takes any excess), hashing each on the way.
   */
  copyMany(command: string, parts: { file: string; bytes: number }[]): Promise<{ code: number; stderr: string; got: { bytes: number; sha256: string }[] }>;
  close(): void;
}

/** One multiplexed OpenSSH connection to the device (ControlMaster), closed by close(). */
function openSsh(target: string, opts: { port?: number; identity?: string; knownHosts?: string; connectTimeout: number }): Ssh {
  const ctlDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-pull-'));
  const base = [
    '-T', '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${opts.connectTimeout}`,
    '-o', 'ControlMaster=auto', '-o', `ControlPath=${path.join(ctlDir, 'c')}`, '-o', 'ControlPersist=60',
    '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3',
    ...(opts.port ? ['-p', String(opts.port)] : []),
    ...(opts.identity ? ['-i', opts.identity, '-o', 'IdentitiesOnly=yes'] : []),
    ...(opts.knownHosts ? ['-o', `UserKnownHostsFile=${opts.knownHosts}`, '-o', 'StrictHostKeyChecking=yes'] : []),
  ];
  return {
    run(command) {
      const r = spawnSync('ssh', [...base, target, command], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      if (r.error) throw new UserError(`cannot run ssh: ${r.error.message}`, { hint: 'install the OpenSSH client' });
      return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
    },
    copyMany(command, parts) {
      return new Promise((resolve, reject) => {
        const got = parts.map(() => ({ bytes: 0, hash: crypto.createHash('sha256') }));
        const fds: (number | undefined)[] = parts.map(() => undefined);
        let i = 0;
        let stderr = '';
        let failure: Error | undefined;
        const child = spawn('ssh', [...base, target, command], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.on('data', (chunk: Buffer) => {
          if (failure) return;
          try {
            let off = 0;
            while (off < chunk.length) {
              const last = i === parts.length - 1;
              const take = last ? chunk.length - off : Math.min(parts[i].bytes - got[i].bytes, chunk.length - off);
              if (take > 0) {
                const slice = chunk.subarray(off, off + take);
                fds[i] ??= fs.openSync(parts[i].file, 'wx', 0o600);
                fs.writeSync(fds[i]!, slice);
                got[i].hash.update(slice);
                got[i].bytes += take;
                off += take;
              }
              if (!last && got[i].bytes >= parts[i].bytes) i++;
            }
          } catch (err) {
            failure = err as Error;
            child.kill();
          }
        });
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (c) => {
          for (const fd of fds) if (fd !== undefined) fs.closeSync(fd);
          if (failure) reject(failure);
          else resolve({ code: c ?? 255, stderr, got: got.map((g) => ({ bytes: g.bytes, sha256: g.hash.digest('hex') })) });
        });
      });
    },
    close() {
      spawnSync('ssh', [...base, '-O', 'exit', target], { stdio: 'ignore' });
      fs.rmSync(ctlDir, { recursive: true, force: true });
    },
  };
}

function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find((l) => l) ?? '';
}

function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}



/**
 * Deletes the given archives (verified here) and their records on the device in one remote
 * command; reports which ones are gone and, for the others, what rm said.
 */
function removeVerified(ssh: Ssh, devicePath: string, archives: DeviceArchive[]): { removed: Set<string>; why: (name: string) => string } {
  const removed = new Set<string>();
  if (!archives.length) return { removed, why: () => '' };
  const r = ssh.run(
    `cd ${shQuote(devicePath)} || exit 1; for a in ${archives.map((a) => shQuote(a.name)).join(' ')}; do ` +
      `rm -f -- "$a" ".ops-kdump-state/$a" && echo "removed $a"; done`,
  );
  for (const line of r.stdout.split('\n')) if (line.startsWith('removed ')) removed.add(line.slice(8));
  const errors = r.stderr.split('\n').filter((l) => l.trim());
  return {
    removed,
    why: (name) => errors.find((l) => l.includes(name)) ?? (errors[0] || `ssh exited with status ${r.code}`),
  };
}

type PullResult = { kind: 'copied'; sha256: string } | { kind: 'present' } | { kind: 'failed'; why: string };

/**
 * Copies the archives not here yet: all of them in one `cat` over one ssh session, split by
 * their listed sizes, each to a temporary name, verified (size and SHA-256), then renamed.
 * Archives whose batch copy did not verify (e.g. one rotated away meanwhile shifts the rest)
 * are tried once more alone.
 */
async function pullAll(ssh: Ssh, archives: DeviceArchive[], devicePath: string, dest: string, durable: boolean): Promise<Map<string, PullResult>> {
  const results = new Map<string, PullResult>();
  const expected = new Map<string, string>();
  const missingSums = archives.filter((a) => !a.sha256);
  if (missingSums.length) {
    // Made before checksums were recorded: ask the device.
    const r = ssh.run(`cd ${shQuote(devicePath)} && sha256sum -- ${missingSums.map((a) => shQuote(a.name)).join(' ')}`);
    for (const line of r.stdout.split('\n')) {
      const m = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line);
      if (m) expected.set(m[2], m[1]);
    }
    for (const a of missingSums) {
      if (!expected.has(a.name)) results.set(a.name, { kind: 'failed', why: `no checksum recorded and sha256sum on the device failed: ${firstLine(r.stderr)}` });
    }
  }
  for (const a of archives) if (a.sha256) expected.set(a.name, a.sha256);

  const todo: DeviceArchive[] = [];
  for (const a of archives) {
    if (results.has(a.name)) continue;
    const final = path.join(dest, a.name);
    if (fs.existsSync(final)) {
      const st = fs.statSync(final);
      if (st.size === a.bytes && sha256File(final) === expected.get(a.name)) results.set(a.name, { kind: 'present' });
      else results.set(a.name, { kind: 'failed', why: `${final} exists with other content; not overwritten (move it away to pull this archive)` });
    } else todo.push(a);
  }

  const copy = async (batch: DeviceArchive[]) => {
    const parts = batch.map((a) => ({ file: path.join(dest, `.${a.name}.part-${process.pid}`), bytes: a.bytes }));
    try {
      const c = await ssh.copyMany(`cat -- ${batch.map((a) => shQuote(`${devicePath}/${a.name}`)).join(' ')}`, parts);
      batch.forEach((a, k) => {
        const g = c.got[k];
        let why: string | undefined;
        if (g.bytes !== a.bytes) why = c.code !== 0 ? `copy failed: ${firstLine(c.stderr) || `ssh exited with status ${c.code}`}` : `copied ${g.bytes} bytes, the device lists ${a.bytes}`;
        else if (g.sha256 !== expected.get(a.name)) why = `SHA-256 of the copy ${g.sha256} differs from the device's ${expected.get(a.name)}`;
        if (why) {
          results.set(a.name, { kind: 'failed', why });
          return;
        }
        // On disk before the device's copy may go (--remove); otherwise the device still has it.
        if (durable) fsyncPath(parts[k].file);
        fs.linkSync(parts[k].file, path.join(dest, a.name));
        results.set(a.name, { kind: 'copied', sha256: g.sha256 });
      });
    } catch (err) {
      for (const a of batch) if (!results.has(a.name)) results.set(a.name, { kind: 'failed', why: (err as Error).message });
    } finally {
      for (const p of parts) fs.rmSync(p.file, { force: true });
    }
  };
  if (todo.length) await copy(todo);
  if (todo.length > 1) {
    for (const a of todo) {
      if (results.get(a.name)?.kind !== 'failed') continue;
      results.delete(a.name);
      await copy([a]);
    }
  }
  return results;
}

/** `kdump-layer pull`: the command's work, loaded only when it runs (src/commands/pull.ts). */
export async function runPull(args: Record<string, unknown>): Promise<number> {
  const device = String(args.device);
  const bad = checkDestination(device);
  if (bad) throw new UserError(bad, { hint: 'e.g. `kdump-layer pull root@switch1`' });
  const port = args.port as number | undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new UserError(`--port ${String(args.port)} is not a port number`, { hint: 'use 1 to 65535' });
  }
  const timeout = args.connectTimeout as number;
  if (!Number.isInteger(timeout) || timeout < 1) throw new UserError(`--connect-timeout ${String(args.connectTimeout)} is not a whole number of seconds`);
  for (const opt of ['identity', 'known-hosts'] as const) {
    const f = args[opt] as string | undefined;
    if (f !== undefined && !fs.existsSync(f)) throw new UserError(`--${opt} file not found`, { where: f });
  }
  const dest = String(args.dest);
  if (fs.existsSync(dest) && !fs.statSync(dest).isDirectory()) throw new UserError('--dest is not a directory', { where: dest });
  // Made for the owner only when pull makes it: the archives hold kernel memory (each is 0600 too).
  fs.mkdirSync(dest, { recursive: true, mode: 0o700 });

  const ssh = openSsh(device, { port, identity: args.identity as string | undefined, knownHosts: args.knownHosts as string | undefined, connectTimeout: timeout });
  try {
    const listed = ssh.run(`ops-kdump status -m; echo ${shQuote(LISTING_SEPARATOR)}; ops-kdump list -m`);
    if (listed.code !== 0) {
      throw new UserError(`could not list the dumps on ${device}: ${firstLine(listed.stderr) || `ssh exited with status ${listed.code}`}`, {
        exitCode: EXIT_CHECK_FAILED,
        hint: 'check that `ssh` to the device works with the same --port, --identity and --known-hosts, and that the device runs ops-kdump',
      });
    }
    let listing;
    try {
      listing = parseListing(listed.stdout);
    } catch (err) {
      throw new UserError(`${device}: ${(err as Error).message}`, { exitCode: EXIT_CHECK_FAILED });
    }
    for (const s of listing.skipped) process.stdout.write(`skip      ${s.name} (${s.why})\n`);

    let copied = 0;
    let present = 0;
    let removed = 0;
    let failed = 0;
    let copiedBytes = 0;
    const t0 = process.hrtime.bigint();
    const results = await pullAll(ssh, listing.archives, listing.path, dest, Boolean(args.remove));
    // Every verified archive goes in one remote command (not one ssh session each).
    const removal = args.remove ? removeVerified(ssh, listing.path, listing.archives.filter((a) => results.get(a.name)!.kind !== 'failed')) : undefined;
    for (const a of listing.archives) {
      const result = results.get(a.name)!;
      if (result.kind === 'failed') {
        failed++;
        process.stderr.write(`kdump-layer: ${a.name}: ${result.why}\n`);
        continue;
      }
      if (result.kind === 'copied') {
        copied++;
        copiedBytes += a.bytes;
        process.stdout.write(`copied    ${a.name} (${a.bytes} bytes, SHA-256 ${result.sha256.slice(0, 16)}… verified)\n`);
      } else {
        present++;
        process.stdout.write(`present   ${a.name} (already here, verified)\n`);
      }
      if (removal) {
        if (!removal.removed.has(a.name)) {
          failed++;
          process.stderr.write(`kdump-layer: ${a.name}: verified here, but could not be removed on the device: ${removal.why(a.name)}\n`);
        } else {
          removed++;
          process.stdout.write(`removed   ${a.name} on ${device}\n`);
        }
      }
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    process.stdout.write(
      `${device}: ${copied} copied (${(copiedBytes / 1048576).toFixed(1)} MiB in ${secs.toFixed(1)} s), ${present} already here` +
        `${args.remove ? `, ${removed} removed on the device` : ''}${failed ? `, ${failed} FAILED` : ''}; in ${dest}\n`,
    );
    return failed ? EXIT_CHECK_FAILED : EXIT_OK;
  } finally {
    ssh.close();
  }
}
