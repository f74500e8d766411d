/**
 * The runtime's upload against a real OpenSSH sshd on 127.0.0.1, run under busybox sh and
 * dash, with OpenSSH's ssh and dropbear's dbclient as clients; faults made for real (server
 * stopped, wrong host key, refused key, full disk, connection killed mid-transfer).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { createSshd, dropbearKey, freePort, opensshKey, sh, type Sshd } from '../helpers/sshd.js';
import { SHELLS } from '../runtime/shell.js';
import { addArchive, listRows, makeDevice, origin, run, runAsync, sha256, type Device } from './device.js';

const DASH = SHELLS.find((s) => s.name === 'dash')!.argv;

describe('ops-kdump upload over ssh (real sshd on 127.0.0.1) @slow', function () {
  this.timeout(120000);
  let t: { dir: string; cleanup: () => void };
  let sshd: Sshd;
  let key: string;
  let dbKey: string;
  let refusedKey: string;
  let knownHosts: string;
  let wrongKnownHosts: string;
  let noOpensslKey: string;
  let n = 0;

  before(async () => {
    t = tempDir('ops-kdump-upload-ssh-');
    sshd = await createSshd(path.join(t.dir, 'sshd'));
    const [k, pub] = opensshKey(path.join(t.dir, 'device_key'));
    const [dk, dpub] = dropbearKey(path.join(t.dir, 'device_key.dropbear'));
    [refusedKey] = opensshKey(path.join(t.dir, 'stranger_key'));
    key = k;
    dbKey = dk;
    // A collector account whose PATH has the tools the upload needs but no openssl.
    const collectorBin = path.join(t.dir, 'collector-bin');
    fs.mkdirSync(collectorBin);
    for (const tool of ['cat', 'tee', 'sha256sum', 'wc', 'ln', 'mv', 'mkdir', 'sync', 'rm']) {
      fs.symlinkSync(sh('sh', ['-c', `command -v ${tool}`]).trim(), path.join(collectorBin, tool));
    }
    let noOpensslPub: string;
    [noOpensslKey, noOpensslPub] = opensshKey(path.join(t.dir, 'device_key.no-openssl'));
    fs.writeFileSync(sshd.authorizedKeys, `${pub}\n${dpub}\nenvironment="PATH=${collectorBin}" ${noOpensslPub}\n`);
    knownHosts = path.join(t.dir, 'known_hosts');
    fs.writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
    const [, impostor] = opensshKey(path.join(t.dir, 'impostor_host_key'));
    wrongKnownHosts = path.join(t.dir, 'known_hosts.wrong');
    fs.writeFileSync(wrongKnownHosts, `[127.0.0.1]:${sshd.port} ${impostor.split(' ').slice(0, 2).join(' ')}\n`);
    await sshd.start();
  });

  after(() => {
    sshd?.stop();
    t?.cleanup();
  });

  /** A fresh device and a fresh collector directory for one test. */
  function setup(extra: string[] = [], opts: { port?: number; key?: string; known?: string } = {}): { dev: Device; coll: string } {
    n++;
    const coll = path.join(t.dir, `collector${n}`);
    fs.mkdirSync(coll);
    const dev = makeDevice(path.join(t.dir, `devices${n}`), `switch${n}`);
    dev.configure([
      `upload_target ssh://root@127.0.0.1:${opts.port ?? sshd.port}${coll}`,
      `upload_key ${opts.key ?? key}`,
      `upload_known_hosts ${opts.known ?? knownHosts}`,
      'upload_connect_timeout 5',
      'upload_idle_timeout 10',
      ...extra,
    ]);
    return { dev, coll };
  }

  const collected = (coll: string) => fs.readdirSync(coll).sort();

  for (const shell of SHELLS) {
    for (const client of ['openssh', 'dropbear'] as const) {
      it(`${shell.name}, ${client}: the archive's SHA-256 is recorded when made; upload lands it whole under a fleet-unique name; then uploaded`, () => {
        const { dev, coll } = setup(client === 'dropbear' ? ['upload_client dropbear'] : [], client === 'dropbear' ? { key: dbKey } : {});
        const a = addArchive(dev, shell.argv, '20260101-000000', 300000);
        const before = listRows(dev, shell.argv);
        expect(before).to.have.length(1);
        expect(before[0].upload).to.equal('pending');
        expect(before[0].sha256).to.equal(sha256(path.join(dev.core, a)));
        expect(before[0].bytes).to.equal(fs.statSync(path.join(dev.core, a)).size);
        expect(run(dev, shell.argv, ['status']).stdout).to.include('upload: 1 pending, 0 failed, 0 uploaded');

        const r = run(dev, shell.argv, ['upload']);
        expect(r.code, r.stderr).to.equal(0);
        const remote = `${origin(dev)}-${a}`;
        expect(collected(coll)).to.deep.equal([remote]);
        expect(sha256(path.join(coll, remote))).to.equal(before[0].sha256);
        expect(listRows(dev, shell.argv)[0].upload).to.equal('uploaded');
        expect(run(dev, shell.argv, ['list']).stdout).to.match(/uploaded\s*$/m);
        const st = run(dev, shell.argv, ['status', '-m']).stdout;
        expect(st).to.include('upload_uploaded=1').and.include('upload_pending=0');
        // Nothing is sent again.
        const again = run(dev, shell.argv, ['upload']);
        expect(again.code).to.equal(0);
        expect(again.stderr).to.include('nothing to upload');
        expect(collected(coll)).to.deep.equal([remote]);
      });
    }
  }

  it('server down: the archive is not marked uploaded and says why; the next run uploads it', async () => {
    const closed = await freePort();
    const { dev, coll } = setup([], { port: closed });
    const a = addArchive(dev, DASH, '20260102-000000', 100000);
    const r = run(dev, DASH, ['upload']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/upload of kdump-.* FAILED: .*Connection refused/);
    const row = listRows(dev, DASH)[0];
    expect(row.upload).to.match(/^failed:.*Connection refused/);
    expect(run(dev, DASH, ['status']).stdout).to.include('upload: 0 pending, 1 failed, 0 uploaded');
    // The server is back (the configured port now points at it): the next boot's run uploads.
    fs.writeFileSync(dev.conf, fs.readFileSync(dev.conf, 'utf8').replace(`:${closed}/`, `:${sshd.port}/`));
    const r2 = run(dev, DASH, ['upload']);
    expect(r2.code, r2.stderr).to.equal(0);
    expect(listRows(dev, DASH)[0].upload).to.equal('uploaded');
    expect(collected(coll)).to.deep.equal([`${origin(dev)}-${a}`]);
  });

  for (const client of ['openssh', 'dropbear'] as const) {
    it(`wrong host key (${client}): refused with a clear log line, nothing reaches the collector`, () => {
      const { dev, coll } = setup(client === 'dropbear' ? ['upload_client dropbear'] : [], { known: wrongKnownHosts, key: client === 'dropbear' ? dbKey : key });
      addArchive(dev, DASH, '20260103-000000', 100000);
      const r = run(dev, DASH, ['upload']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(client === 'openssh' ? /FAILED: .*Host key for \[127\.0\.0\.1\]:\d+ has changed/ : /FAILED: .*host key mismatch for 127\.0\.0\.1/);
      expect(listRows(dev, DASH)[0].upload).to.match(/^failed:/);
      expect(fs.readdirSync(coll)).to.deep.equal([]);
    });
  }

  it('an unknown host (no pinned key) is never accepted, with either client', () => {
    const empty = path.join(t.dir, 'known_hosts.other');
    fs.writeFileSync(empty, `otherhost ${sshd.hostPub}\n`);
    for (const client of ['openssh', 'dropbear'] as const) {
      const { dev, coll } = setup(client === 'dropbear' ? ['upload_client dropbear'] : [], { known: empty, key: client === 'dropbear' ? dbKey : key });
      addArchive(dev, DASH, '20260103-000000', 100000);
      const r = run(dev, DASH, ['upload']);
      expect(r.code, `${client}: ${r.stderr}`).to.equal(1);
      expect(r.stderr, client).to.match(client === 'openssh' ? /Host key verification failed|No .* host key is known/ : /Didn't validate host key|not in the trusted hosts/);
      expect(fs.readdirSync(coll), client).to.deep.equal([]);
    }
  });

  it('a key the server refuses: failed with the server\'s answer', () => {
    const { dev, coll } = setup([], { key: refusedKey });
    addArchive(dev, DASH, '20260104-000000', 100000);
    const r = run(dev, DASH, ['upload']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/FAILED: .*Permission denied \(publickey\)/);
    expect(listRows(dev, DASH)[0].upload).to.match(/^failed:.*Permission denied/);
    expect(fs.readdirSync(coll)).to.deep.equal([]);
  });

  it('collector disk full mid-upload: not marked uploaded, no file under the final name, no leftover', () => {
    const { dev, coll } = setup();
    sh('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', coll]);
    try {
      addArchive(dev, DASH, '20260105-000000', 3 * 1048576);
      const r = run(dev, DASH, ['upload']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/FAILED: collector stored \d+ of \d+ bytes/);
      expect(listRows(dev, DASH)[0].upload).to.match(/^failed:collector stored/);
      expect(fs.readdirSync(coll)).to.deep.equal([]);
    } finally {
      spawnSync('umount', [coll]);
    }
  });

  it('connection cut mid-upload: not marked uploaded, nothing under the final name; the next run completes it', async () => {
    const { dev, coll } = setup();
    const a = addArchive(dev, DASH, '20260106-000000', 48 * 1048576);
    const up = runAsync(dev, DASH, ['upload']);
    // Wait for the temporary file to grow on the collector, then kill the server's side of
    // the connection (its per-connection processes, not the listener).
    const until = Date.now() + 60000;
    let cut = false;
    while (Date.now() < until) {
      const part = fs.readdirSync(coll).find((f) => f.endsWith(`.part.${''}`) || f.includes('.part.'));
      if (part && fs.statSync(path.join(coll, part)).size > 0) {
        const pids = sshd.sessionPids();
        for (const p of pids) process.kill(p, 'SIGSTOP');
        for (const p of pids) process.kill(p, 'SIGKILL');
        cut = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(cut, 'the upload never started').to.equal(true);
    const r = await up;
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/upload of .* FAILED/);
    expect(listRows(dev, DASH)[0].upload).to.match(/^failed:/);
    expect(fs.readdirSync(coll).filter((f) => !f.startsWith('.'))).to.deep.equal([]);
    const r2 = run(dev, DASH, ['upload']);
    expect(r2.code, r2.stderr).to.equal(0);
    expect(fs.readdirSync(coll).filter((f) => !f.startsWith('.'))).to.deep.equal([`${origin(dev)}-${a}`]);
    expect(sha256(path.join(coll, `${origin(dev)}-${a}`))).to.equal(sha256(path.join(dev.core, a)));
  });

  it('OpenSSH prefers AES-GCM on a CPU with AES instructions (x86 flags, ARM Features), ssh\'s default without; a collector that refuses AES-GCM still gets the upload', async () => {
    const cpus = { x86: 'flags\t\t: fpu vme sse2 aes avx\n', arm64: 'Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n', none: 'flags\t\t: fpu vme sse2 avx\n' };
    // Two more real sshd: one logging the negotiated cipher, one that accepts chacha20-poly1305 only.
    const logging = await createSshd(path.join(t.dir, 'sshd-debug'));
    const chachaOnly = await createSshd(path.join(t.dir, 'sshd-chacha'));
    const config = (d: typeof logging, edit: (c: string) => string) => fs.writeFileSync(path.join(d.dir, 'sshd_config'), edit(fs.readFileSync(path.join(d.dir, 'sshd_config'), 'utf8')));
    config(logging, (c) => c.replace('LogLevel ERROR', 'LogLevel DEBUG1'));
    config(chachaOnly, (c) => `${c}Ciphers chacha20-poly1305@openssh.com\n`);
    const known = path.join(t.dir, 'known_hosts.more');
    fs.writeFileSync(known, `${logging.knownHostsLine}\n${chachaOnly.knownHostsLine}\n`);
    for (const d of [logging, chachaOnly]) {
      fs.copyFileSync(sshd.authorizedKeys, d.authorizedKeys);
      await d.start();
    }
    try {
      for (const [cpu, flags] of Object.entries(cpus)) {
        for (const d of [logging, chachaOnly]) {
          const { dev, coll } = setup([], { port: d.port, known });
          fs.writeFileSync(path.join(dev.env.KDUMP_PROC!, 'cpuinfo'), flags);
          const a = addArchive(dev, DASH, '20260108-000000', 100000);
          const before = fs.existsSync(path.join(logging.dir, 'sshd.log')) ? fs.readFileSync(path.join(logging.dir, 'sshd.log'), 'utf8').length : 0;
          const r = run(dev, DASH, ['upload']);
          expect(r.code, `${cpu}: ${r.stderr}`).to.equal(0);
          expect(collected(coll), cpu).to.deep.equal([`${origin(dev)}-${a}`]);
          if (d === logging) {
            const log = fs.readFileSync(path.join(logging.dir, 'sshd.log'), 'utf8').slice(before);
            const cipher = /kex: client->server cipher: (\S+)/.exec(log)?.[1];
            expect(cipher, cpu).to.equal(cpu === 'none' ? 'chacha20-poly1305@openssh.com' : 'aes128-gcm@openssh.com');
          }
        }
      }
    } finally {
      logging.stop();
      chachaOnly.stop();
    }
  });

  for (const shell of SHELLS) {
    it(`${shell.name}: a collector without openssl hashes with sha256sum on the way; the archive lands whole, then uploaded`, () => {
      const { dev, coll } = setup([], { key: noOpensslKey });
      const a = addArchive(dev, shell.argv, '20260109-000000', 2 * 1048576);
      const r = run(dev, shell.argv, ['upload']);
      expect(r.code, r.stderr).to.equal(0);
      expect(collected(coll)).to.deep.equal([`${origin(dev)}-${a}`]);
      expect(sha256(path.join(coll, `${origin(dev)}-${a}`))).to.equal(sha256(path.join(dev.core, a)));
      expect(listRows(dev, shell.argv)[0].upload).to.equal('uploaded');
    });
  }

  it('upload_keep_local no: the local archive goes only after the verified upload', () => {
    const down = setup(['upload_keep_local no'], { key: refusedKey });
    const a = addArchive(down.dev, DASH, '20260107-000000', 100000);
    expect(run(down.dev, DASH, ['upload']).code).to.equal(1);
    expect(fs.existsSync(path.join(down.dev.core, a)), 'kept after a failed upload').to.equal(true);
    const { dev, coll } = setup(['upload_keep_local no']);
    const b = addArchive(dev, DASH, '20260107-000000', 100000);
    const sum = sha256(path.join(dev.core, b));
    expect(run(dev, DASH, ['upload']).code).to.equal(0);
    expect(fs.existsSync(path.join(dev.core, b))).to.equal(false);
    expect(sha256(path.join(coll, `${origin(dev)}-${b}`))).to.equal(sum);
  });

  it('fleet: 50 devices upload to one collector at once; every archive arrives once, whole, under a distinct name', async () => {
    n++;
    const coll = path.join(t.dir, 'fleet-collector');
    fs.mkdirSync(coll);
    const devices: Device[] = [];
    const sums = new Map<string, string>();
    for (let i = 0; i < 50; i++) {
      const dev = makeDevice(path.join(t.dir, 'fleet'), `sw${String(i).padStart(2, '0')}`);
      dev.configure([`upload_target ssh://root@127.0.0.1:${sshd.port}${coll}`, `upload_key ${key}`, `upload_known_hosts ${knownHosts}`, 'upload_connect_timeout 60']);
      // Every device crashed in the same second: only the origin tells the archives apart.
      const a = addArchive(dev, DASH, '20260108-000000', 65536);
      sums.set(`${origin(dev)}-${a}`, sha256(path.join(dev.core, a)));
      devices.push(dev);
    }
    const results = await Promise.all(devices.map((d, i) => runAsync(d, SHELLS[i % 2].argv, ['upload'])));
    results.forEach((r, i) => expect(r.code, `${devices[i].host}: ${r.stderr}`).to.equal(0));
    const files = collected(coll);
    expect(files).to.deep.equal([...sums.keys()].sort());
    for (const f of files) expect(sha256(path.join(coll, f)), f).to.equal(sums.get(f));
    for (const d of devices) expect(listRows(d, DASH)[0].upload).to.equal('uploaded');
  });
});
