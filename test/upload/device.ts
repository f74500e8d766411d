/** Simulated devices for the upload tests: a state directory each, run with the real runtime. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { OPS_KDUMP, opsKdump, type ShResult } from '../runtime/shell.js';

export interface Device {
  host: string;
  dir: string;
  core: string;
  conf: string;
  env: NodeJS.ProcessEnv;
  /** Rewrites kdump.conf: path plus these lines. */
  configure(lines: string[]): void;
}

export function makeDevice(root: string, host: string): Device {
  const dir = path.join(root, host);
  const core = path.join(dir, 'core');
  fs.mkdirSync(path.join(dir, 'proc/sys/kernel'), { recursive: true });
  fs.mkdirSync(core, { recursive: true });
  fs.writeFileSync(path.join(dir, 'proc/sys/kernel/hostname'), `${host}\n`);
  fs.writeFileSync(path.join(dir, 'machine-id'), `${crypto.createHash('md5').update(host).digest('hex')}\n`);
  const conf = path.join(dir, 'kdump.conf');
  const env = {
    KDUMP_CONF: conf, KDUMP_PROC: path.join(dir, 'proc'), KDUMP_SYS: path.join(dir, 'nosys'),
    KDUMP_MACHINE_ID: path.join(dir, 'machine-id'), KDUMP_SYSCONFIG: '/nonexistent',
  };
  const dev: Device = {
    host, dir, core, conf, env,
    configure(lines) {
      fs.writeFileSync(conf, [`path ${core}`, ...lines, ''].join('\n'));
    },
  };
  dev.configure([]);
  return dev;
}

/** Remote name prefix the runtime gives a device's uploads: host name and machine id. */
export function origin(dev: Device): string {
  return `${dev.host}-${fs.readFileSync(dev.env.KDUMP_MACHINE_ID!, 'utf8').slice(0, 8)}`;
}

/**
 * A complete dump left for the next boot (archive_stage boot), turned into its archive by the
 * runtime's own `ops-kdump archive` (which records size and SHA-256). Returns the archive name.
 */
export function addArchive(dev: Device, shell: string[], stamp: string, bytes: number): string {
  const name = `kdump-${stamp}-${crypto.randomBytes(4).toString('hex')}`;
  const d = path.join(dev.core, name);
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'metadata.txt'), `name=${name}\nresult=complete\n`);
  fs.writeFileSync(path.join(d, 'vmcore'), crypto.randomBytes(bytes));
  const r = opsKdump(shell, ['archive'], dev.env);
  if (r.code !== 0) throw new Error(`ops-kdump archive failed: ${r.stderr}`);
  return `${name}.tar.gz`;
}

export function run(dev: Device, shell: string[], args: string[]): ShResult {
  return opsKdump(shell, args, dev.env);
}

/** Runs ops-kdump without blocking the event loop (for concurrent runs). */
export function runAsync(dev: Device, shell: string[], args: string[]): Promise<ShResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell[0], [...shell.slice(1), OPS_KDUMP, ...args], { env: { PATH: process.env.PATH, ...dev.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `ops-kdump list -m` rows as objects. */
export function listRows(dev: Device, shell: string[]): { name: string; state: string; bytes: number; upload: string; sha256: string }[] {
  const r = run(dev, shell, ['list', '-m']);
  if (r.code !== 0) throw new Error(`list -m failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => {
    const c = l.split('\t');
    // name, state, bytes, time, result, why, upload state, SHA-256
    return { name: c[0], state: c[1], bytes: Number(c[2]), upload: c[6], sha256: c[7] };
  });
}

export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
