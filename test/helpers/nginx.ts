/** A real nginx (Debian's, with its dav module) accepting HTTP PUT on 127.0.0.1, started by the tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './sshd.js';

export interface Nginx {
  port: number;
  /** Its configuration, logs (access.log) and store. */
  dir: string;
  /** Directory the PUT requests under /kdump/ land in. */
  store: string;
  url: string;
  start(): Promise<void>;
  stop(): void;
  workerPids(): number[];
}

/** The password of user kdump under /kdump/private/. */
export const PRIVATE_PASSWORD = 'dev-s3cret';

export async function createNginx(dir: string): Promise<Nginx> {
  const port = await freePort();
  const www = path.join(dir, 'www');
  const store = path.join(www, 'kdump');
  for (const d of [store, path.join(dir, 'body'), path.join(dir, 'tmp')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(dir, 'htpasswd'), `kdump:{PLAIN}${PRIVATE_PASSWORD}\n`);
  const conf = path.join(dir, 'nginx.conf');
  const tmp = path.join(dir, 'tmp');
  fs.writeFileSync(conf, `
user root;
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    client_max_body_size 0;
    location /kdump/ {
      dav_methods PUT;
      dav_access user:rw;
    }
    # A collector that wants a password (user kdump, password in PRIVATE_PASSWORD).
    location /kdump/private/ {
      auth_basic "kdump";
      auth_basic_user_file ${dir}/htpasswd;
      dav_methods PUT;
      dav_access user:rw;
    }
  }
}
`);
  let child: ChildProcess | undefined;
  const n: Nginx = {
    port, dir, store, url: `http://127.0.0.1:${port}/kdump`,
    async start() {
      child = spawn('nginx', ['-c', conf, '-p', dir, '-e', path.join(dir, 'error.log')], { stdio: 'ignore' });
      const until = Date.now() + 10000;
      for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => (s.destroy(), resolve(false)));
        });
        if (ok) return;
        if (Date.now() > until) throw new Error(`nginx did not listen on 127.0.0.1:${port}: ${fs.readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop() {
      if (!child || child.exitCode !== null) return;
      const pid = child.pid!;
      // QUIT: graceful; TERM: fast. A stopped (SIGSTOP) worker gets SIGKILL first.
      for (const w of n.workerPids()) {
        try {
          process.kill(w, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      child.kill('SIGTERM');
      spawnSync('sh', ['-c', `while kill -0 ${pid} 2>/dev/null; do sleep 0.05; done`], { timeout: 5000 });
      child = undefined;
    },
    workerPids() {
      if (!child?.pid) return [];
      const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' });
      return r.stdout.split('\n').map((l) => Number(l.trim())).filter(Boolean);
    },
  };
  return n;
}
