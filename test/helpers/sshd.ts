/**
 * A real OpenSSH sshd on 127.0.0.1, started and stopped by the tests: its own host key, its
 * own config file, key authentication only, a free high port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > until) reject(new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`));
        else setTimeout(tryOnce, 50);
      });
    };
    tryOnce();
  });
}

export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

export interface Sshd {
  port: number;
  dir: string;
  hostPub: string;
  /** A known_hosts line pinning this server's host key. */
  knownHostsLine: string;
  authorizedKeys: string;
  start(): Promise<void>;
  stop(): void;
  /** Process ids of the per-connection sshd processes and what they run (not the listener). */
  sessionPids(): number[];
}

/** Creates (does not start) an sshd whose state lives in `dir`. */
export async function createSshd(dir: string): Promise<Sshd> {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const authorizedKeys = path.join(dir, 'authorized_keys');
  fs.writeFileSync(authorizedKeys, '', { mode: 0o600 });
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(config, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    // The test directory lives under /tmp (world-writable): StrictModes would refuse it.
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitUserEnvironment yes',
    // scp (sftp protocol since OpenSSH 9) for the benchmark's comparison.
    'Subsystem sftp internal-sftp',
    // The fleet test opens 50 connections at once.
    'MaxStartups 200',
    'LogLevel ERROR',
    '',
  ].join('\n'));
  fs.mkdirSync('/run/sshd', { recursive: true });
  const hostPub = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  let child: ChildProcess | undefined;
  const s: Sshd = {
    port, dir, hostPub, authorizedKeys,
    knownHostsLine: `[127.0.0.1]:${port} ${hostPub}`,
    async start() {
      // -D: stays in the foreground as our child; -e: log to stderr (kept in a file).
      const log = fs.openSync(path.join(dir, 'sshd.log'), 'a');
      child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', log, log] });
      fs.closeSync(log);
      await waitForPort(port, 10000);
    },
    stop() {
      if (!child || child.exitCode !== null) return;
      for (const p of s.sessionPids()) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      child.kill('SIGTERM');
      spawnSync('sh', ['-c', `while kill -0 ${child.pid} 2>/dev/null; do sleep 0.05; done`], { timeout: 5000 });
      child = undefined;
    },
    sessionPids() {
      if (!child?.pid) return [];
      const out: number[] = [];
      const walk = (pid: number) => {
        const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
        for (const l of r.stdout.split('\n')) {
          const c = Number(l.trim());
          if (c) {
            out.push(c);
            walk(c);
          }
        }
      };
      walk(child.pid);
      return out;
    },
  };
  return s;
}

/** An ed25519 key pair in OpenSSH format: returns [private key file, public key line]. */
export function opensshKey(file: string): [string, string] {
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  return [file, fs.readFileSync(`${file}.pub`, 'utf8').trim()];
}

/** An ed25519 key pair in dropbear's format (dbclient reads no OpenSSH keys). */
export function dropbearKey(file: string): [string, string] {
  sh('dropbearkey', ['-t', 'ed25519', '-f', file]);
  const pub = sh('dropbearkey', ['-y', '-f', file]).split('\n').find((l) => l.startsWith('ssh-'));
  if (!pub) throw new Error('dropbearkey -y printed no public key');
  return [file, pub.trim()];
}
