/** Runs pieces of the shipped runtime (templates/runtime/ops-kdump) under real shells. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../helpers/cli.js';

export const OPS_KDUMP = path.join(repoRoot, 'templates/runtime/ops-kdump');

/** The shells the runtime must run under unchanged. */
export const SHELLS: { name: string; argv: string[] }[] = [
  { name: 'busybox sh', argv: ['busybox', 'sh'] },
  { name: 'dash', argv: ['dash'] },
];

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Sources ops-kdump's functions (OPS_KDUMP_LIB=1) and runs `body` in `shell`. */
export function piece(shell: string[], body: string, env: NodeJS.ProcessEnv = {}): ShResult {
  const r = spawnSync(shell[0], [...shell.slice(1), '-c', `. "${OPS_KDUMP}"\n${body}`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, OPS_KDUMP_LIB: '1', ...env },
  });
  if (r.error) throw new Error(`${shell.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs ops-kdump itself as a command under `shell`. */
export function opsKdump(shell: string[], args: string[], env: NodeJS.ProcessEnv = {}): ShResult {
  const r = spawnSync(shell[0], [...shell.slice(1), OPS_KDUMP, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${shell.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
