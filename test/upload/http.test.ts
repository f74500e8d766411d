/** The runtime's HTTP PUT upload (curl) against a real nginx on 127.0.0.1, under busybox sh and dash. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { createNginx, PRIVATE_PASSWORD, type Nginx } from '../helpers/nginx.js';
import { freePort, sh } from '../helpers/sshd.js';
import { OPS_KDUMP, SHELLS } from '../runtime/shell.js';
import { addArchive, listRows, makeDevice, origin, run, runAsync, sha256, type Device } from './device.js';

const INIT_SCRIPT = path.join(path.dirname(OPS_KDUMP), 'sysvinit/ops-kdump');

const DASH = SHELLS.find((s) => s.name === 'dash')!.argv;

/**
 * `ops-kdump upload` succeeds; the collector's store holds archive `a` alone, whole, under the
 * device's fleet-unique name; list shows it uploaded. Returns the remote name and the run's log.
 */
function uploadLandsWhole(dev: Device, shell: string[], store: string, a: string): { remote: string; stderr: string } {
  const r = run(dev, shell, ['upload']);
  expect(r.code, r.stderr).to.equal(0);
  const remote = `${origin(dev)}-${a}`;
  expect(fs.readdirSync(store)).to.deep.equal([remote]);
  expect(sha256(path.join(store, remote))).to.equal(sha256(path.join(dev.core, a)));
  expect(listRows(dev, shell)[0].upload).to.equal('uploaded');
  return { remote, stderr: r.stderr };
}

/**
 * Puts a curl first on the device's PATH that notes its arguments (what ps shows every user)
 * and then is the real curl; returns a function that reads the argument lines noted so far.
 */
function logCurlArgs(dev: Device): () => string[] {
  const bin = path.join(dev.dir, 'bin');
  const argvLog = path.join(dev.dir, 'curl-argv');
  const realCurl = sh('sh', ['-c', 'command -v curl']).trim();
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${realCurl}' "$@"\n`, { mode: 0o755 });
  dev.env.PATH = `${bin}:${process.env.PATH}`;
  return () => fs.readFileSync(argvLog, 'utf8').trim().split('\n');
}

describe('ops-kdump upload over HTTP PUT (real nginx on 127.0.0.1) @slow', function () {
  this.timeout(120000);
  let t: { dir: string; cleanup: () => void };
  let nginx: Nginx;
  let n = 0;

  before(async () => {
    t = tempDir('ops-kdump-upload-http-');
    nginx = await createNginx(path.join(t.dir, 'nginx'));
    await nginx.start();
  });
  after(() => {
    nginx?.stop();
    t?.cleanup();
  });

  function setup(extra: string[] = [], url = `${nginx.url}/c${n + 1}`): { dev: Device; store: string } {
    n++;
    const store = path.join(nginx.store, `c${n}`);
    fs.mkdirSync(store);
    const dev = makeDevice(path.join(t.dir, `devices${n}`), `switch${n}`);
    dev.configure([`upload_target ${url}`, 'upload_connect_timeout 5', 'upload_idle_timeout 3', ...extra]);
    return { dev, store };
  }

  for (const shell of SHELLS) {
    for (const verify of ['get', 'head']) {
      it(`${shell.name}, verify ${verify}: PUT lands the archive whole under a fleet-unique name; then uploaded`, () => {
        const { dev, store } = setup([`upload_http_verify ${verify}`]);
        const a = addArchive(dev, shell.argv, '20260101-000000', 300000);
        expect(listRows(dev, shell.argv)[0].upload).to.equal('pending');
        uploadLandsWhole(dev, shell.argv, store, a);
      });
    }
  }

  for (const shell of SHELLS) {
    it(`${shell.name}: {name} in a URL with a query string (a token): the name goes there, the token reaches the collector on PUT, HEAD and GET, and no log, record, listing or process argument shows it`, () => {
      const token = 'sv=2024-01-01&sig=s3cr3t%2Bsig';
      const { dev, store } = setup([], `${nginx.url}/c${n + 1}/{name}?${token}`);
      const a = addArchive(dev, shell.argv, '20260106-000000', 200000);
      const curlArgs = logCurlArgs(dev);
      const { remote, stderr } = uploadLandsWhole(dev, shell.argv, store, a);
      const argv = curlArgs();
      expect(argv, 'PUT, HEAD and GET').to.have.length(3);
      for (const l of argv) expect(l).to.not.include('s3cr3t').and.not.include(remote);
      // nginx's access log: each request carried the query string, on the archive's own URL.
      const requests = fs.readFileSync(path.join(nginx.dir, 'access.log'), 'utf8').split('\n').filter((l) => l.includes(remote));
      for (const method of ['PUT', 'HEAD', 'GET']) {
        expect(requests.some((l) => l.includes(`"${method} /kdump/c${n}/${remote}?${token} HTTP/1.1" 20`)), method).to.equal(true);
      }
      expect(stderr).to.include(`to ${nginx.url}/c${n}/${remote}?...`).and.not.include('s3cr3t');
      const record = fs.readFileSync(path.join(dev.core, '.ops-kdump-state', a), 'utf8');
      expect(record).to.include(`upload_remote=${nginx.url}/c${n}/${remote}?...`).and.not.include('s3cr3t');
      for (const cmd of [['list'], ['status']]) expect(run(dev, shell.argv, cmd).stdout).to.not.include('s3cr3t');
    });
  }

  for (const shell of SHELLS) {
    it(`${shell.name}: a collector that wants a password gets it from the device's own upload_http_config file, not from kdump.conf or a process argument`, () => {
      const creds = path.join(t.dir, `curl-${shell.name}.conf`);
      const { dev } = setup([`upload_http_config ${creds}`], `${nginx.url}/private/c${n + 1}`);
      const store = path.join(nginx.store, 'private', `c${n}`);
      fs.mkdirSync(store, { recursive: true });
      const a = addArchive(dev, shell.argv, '20260107-000000', 150000);
      // Not provisioned yet: the collector refuses, the archive stays pending with the reason.
      run(dev, shell.argv, ['upload']);
      expect(listRows(dev, shell.argv)[0].upload).to.match(/^failed:HTTP PUT failed: .*\b401\b/);
      expect(fs.readdirSync(store)).to.deep.equal([]);
      // Provisioned on the device (root only), as its ssh key would be.
      fs.writeFileSync(creds, `user = "kdump:${PRIVATE_PASSWORD}"\n`, { mode: 0o600 });
      const curlArgs = logCurlArgs(dev);
      const { remote, stderr } = uploadLandsWhole(dev, shell.argv, store, a);
      const argv = curlArgs();
      expect(argv, 'PUT, HEAD and GET').to.have.length(3);
      for (const l of argv) expect(l).to.not.include(PRIVATE_PASSWORD);
      const requests = fs.readFileSync(path.join(nginx.dir, 'access.log'), 'utf8').split('\n').filter((l) => l.includes(remote));
      for (const method of ['PUT', 'HEAD', 'GET']) {
        expect(requests.some((l) => l.includes(` - kdump [`) && l.includes(`"${method} /kdump/private/c${n}/${remote} HTTP/1.1" 20`)), method).to.equal(true);
      }
      expect(stderr).to.not.include(PRIVATE_PASSWORD);
      expect(fs.readFileSync(dev.conf, 'utf8')).to.not.include(PRIVATE_PASSWORD);
    });
  }

  it('server down: failed with the reason, uploaded on the next run', async () => {
    const closed = await freePort();
    const { dev, store } = setup([], `http://127.0.0.1:${closed}/kdump/c${n + 1}`);
    const a = addArchive(dev, DASH, '20260102-000000', 100000);
    const r = run(dev, DASH, ['upload']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/FAILED: HTTP PUT failed: .*(Failed to connect|Connection refused|Couldn't connect)/);
    expect(listRows(dev, DASH)[0].upload).to.match(/^failed:HTTP PUT failed/);
    fs.writeFileSync(dev.conf, fs.readFileSync(dev.conf, 'utf8').replace(`:${closed}/`, `:${nginx.port}/`));
    expect(run(dev, DASH, ['upload']).code).to.equal(0);
    expect(fs.readdirSync(store)).to.deep.equal([`${origin(dev)}-${a}`]);
  });

  it('rotation never removes an archive the collector does not hold yet; once uploaded, the oldest goes', async () => {
    const closed = await freePort();
    const { dev, store } = setup(['keep 1'], `http://127.0.0.1:${closed}/kdump/c${n + 1}`);
    const a1 = addArchive(dev, DASH, '20260102-100000', 100000);
    const a2 = addArchive(dev, DASH, '20260102-110000', 100000);
    expect(run(dev, DASH, ['upload']).code, 'collector down').to.equal(1);
    const held = run(dev, DASH, ['archive']);
    expect(held.code, held.stderr).to.equal(0);
    expect(held.stderr).to.include(`rotation: keeping ${a1} beyond keep 1: it is not uploaded yet`);
    expect(listRows(dev, DASH).map((r) => r.name)).to.deep.equal([a1, a2]);
    fs.writeFileSync(dev.conf, fs.readFileSync(dev.conf, 'utf8').replace(`:${closed}/`, `:${nginx.port}/`));
    expect(run(dev, DASH, ['upload']).code).to.equal(0);
    expect(fs.readdirSync(store).sort()).to.deep.equal([`${origin(dev)}-${a1}`, `${origin(dev)}-${a2}`]);
    const rotated = run(dev, DASH, ['archive']);
    expect(rotated.stderr).to.include(`rotation: removing ${a1} (keep 1)`);
    expect(listRows(dev, DASH).map((r) => [r.name, r.upload])).to.deep.equal([[a2, 'uploaded']]);
  });

  for (const shell of SHELLS) {
    it(`${shell.name}: the SysV init script's start archives and uploads in the background after load; the dump arrives whole and is marked uploaded`, async () => {
      const { dev, store } = setup();
      // A dump the capture kernel left for the next boot (archive_stage boot).
      const name = 'kdump-000001-20260107-000000-0a0b0c0d';
      fs.mkdirSync(path.join(dev.core, name));
      fs.writeFileSync(path.join(dev.core, name, 'metadata.txt'), `name=${name}\nresult=complete\n`);
      fs.writeFileSync(path.join(dev.core, name, 'vmcore'), 'x'.repeat(200000));
      // The init script runs ops-kdump by path: a wrapper that runs it under this shell.
      const wrapper = path.join(dev.dir, 'ops-kdump');
      fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${shell.argv.join(' ')} ${OPS_KDUMP} "$@"\n`, { mode: 0o755 });
      const init = spawnSync(shell.argv[0], [...shell.argv.slice(1), INIT_SCRIPT, 'start'], {
        env: { PATH: process.env.PATH, ...dev.env, OPS_KDUMP: wrapper }, encoding: 'utf8', timeout: 60_000,
      });
      // No crashkernel= here: load refuses and the script says so by its exit code.
      expect(init.status, init.stderr).to.equal(1);
      expect(init.stderr).to.match(/no crashkernel= on the kernel command line/);
      const remote = `${origin(dev)}-${name}.tar.gz`;
      const until = Date.now() + 60_000;
      while (!fs.existsSync(path.join(store, remote)) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      while (listRows(dev, shell.argv)[0]?.upload !== 'uploaded' && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      expect(listRows(dev, shell.argv).map((r) => [r.name, r.state, r.upload])).to.deep.equal([[`${name}.tar.gz`, 'complete', 'uploaded']]);
      expect(sha256(path.join(store, remote))).to.equal(sha256(path.join(dev.core, `${name}.tar.gz`)));
    });
  }

  it('a collector that refuses the PUT (HTTP 405): failed, says so', () => {
    const { dev } = setup([], `http://127.0.0.1:${nginx.port}/elsewhere`);
    addArchive(dev, DASH, '20260103-000000', 100000);
    const r = run(dev, DASH, ['upload']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/FAILED: HTTP PUT failed: .*405/);
    expect(listRows(dev, DASH)[0].upload).to.match(/^failed:/);
  });

  it('collector disk full: not marked uploaded, no object under the final name', () => {
    const { dev, store } = setup();
    sh('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', store]);
    try {
      const a = addArchive(dev, DASH, '20260104-000000', 3 * 1048576);
      const r = run(dev, DASH, ['upload']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/FAILED: HTTP PUT failed: .*50\d/);
      expect(listRows(dev, DASH)[0].upload).to.match(/^failed:/);
      // nginx copies the body from its temporary directory (another filesystem here) to a
      // temporary name beside the target and leaves that partial copy when the disk is full:
      // never under the final name.
      expect(fs.readdirSync(store)).to.not.include(`${origin(dev)}-${a}`);
    } finally {
      spawnSync('umount', [store]);
    }
  });

  it('server stops mid-upload and its worker is killed: not marked uploaded, no partial object; the next run completes it', async () => {
    const { dev, store } = setup();
    const a = addArchive(dev, DASH, '20260105-000000', 16 * 1048576);
    const workers = nginx.workerPids();
    for (const w of workers) process.kill(w, 'SIGSTOP');
    const r = await runAsync(dev, DASH, ['upload']);
    for (const w of workers) process.kill(w, 'SIGKILL');
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/FAILED: HTTP PUT failed/);
    expect(listRows(dev, DASH)[0].upload).to.match(/^failed:/);
    expect(fs.readdirSync(store)).to.deep.equal([]);
    // nginx's master starts a new worker.
    const until = Date.now() + 10000;
    while (nginx.workerPids().length === 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    const r2 = run(dev, DASH, ['upload']);
    expect(r2.code, r2.stderr).to.equal(0);
    expect(listRows(dev, DASH)[0].upload).to.equal('uploaded');
    expect(sha256(path.join(store, `${origin(dev)}-${a}`))).to.equal(sha256(path.join(dev.core, a)));
  });
});
