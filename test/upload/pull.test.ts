/**
 * `kdump-layer pull` against a real sshd on 127.0.0.1 whose "device" account runs the real
 * runtime (ops-kdump under busybox sh) on a simulated device's state directory.
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { createSshd, freePort, opensshKey, type Sshd } from '../helpers/sshd.js';
import { OPS_KDUMP, SHELLS } from '../runtime/shell.js';
import { addArchive, listRows, makeDevice, sha256, type Device } from './device.js';

const BUSYBOX = SHELLS.find((s) => s.name === 'busybox sh')!.argv;

describe('kdump-layer pull (real sshd on 127.0.0.1, real runtime on the device) @slow', function () {
  this.timeout(120000);
  let t: { dir: string; cleanup: () => void };
  let sshd: Sshd;
  let dev: Device;
  let key: string;
  let knownHosts: string;
  let common: string[];

  before(async () => {
    t = tempDir('kdump-layer-pull-');
    sshd = await createSshd(path.join(t.dir, 'sshd'));
    dev = makeDevice(path.join(t.dir, 'devices'), 'switch1');
    // The device's PATH holds ops-kdump (the shipped script, run by busybox sh) and its
    // environment points the runtime at the simulated device's files.
    const bin = path.join(t.dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'ops-kdump'), `#!/bin/sh\nexec busybox sh ${OPS_KDUMP} "$@"\n`, { mode: 0o755 });
    const env = { PATH: `${bin}:/usr/bin:/bin`, ...dev.env };
    let pub: string;
    [key, pub] = opensshKey(path.join(t.dir, 'workstation_key'));
    const opts = Object.entries(env).map(([k, v]) => `environment="${k}=${v}"`).join(',');
    fs.writeFileSync(sshd.authorizedKeys, `${opts} ${pub}\n`);
    knownHosts = path.join(t.dir, 'known_hosts');
    fs.writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
    common = ['--port', String(sshd.port), '--identity', key, '--known-hosts', knownHosts];
    await sshd.start();
  });
  after(() => {
    sshd?.stop();
    t?.cleanup();
  });

  it('copies the complete archives, verified, skips the rest; a second run finds them here; --remove deletes on the device after verifying', () => {
    const names = [1, 2, 3].map((i) => addArchive(dev, BUSYBOX, `2026010${i}-000000`, 200000 + i));
    // An archive made by an older runtime, without a record: the device's sha256sum is used.
    const old = 'kdump-20251231-000000-0ddf00d0.tar.gz';
    fs.writeFileSync(path.join(dev.core, old), crypto.randomBytes(150000));
    names.unshift(old);
    fs.mkdirSync(path.join(dev.core, 'kdump-20260109-000000-deadbeef.incomplete'));
    const sums = names.map((n) => sha256(path.join(dev.core, n)));
    const dest = path.join(t.dir, 'dumps');
    const r = runCli(['pull', 'root@127.0.0.1', '--dest', dest, ...common]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('skip      kdump-20260109-000000-deadbeef.incomplete (incomplete)');
    expect(r.stdout).to.match(/4 copied .* 0 already here/);
    expect(fs.readdirSync(dest).sort()).to.deep.equal([...names].sort());
    names.forEach((n, i) => expect(sha256(path.join(dest, n))).to.equal(sums[i]));
    // Kernel memory: the copies and the directory pull made are the owner's alone, under umask 022 too.
    names.forEach((n) => expect(fs.statSync(path.join(dest, n)).mode & 0o777, n).to.equal(0o600));
    expect(fs.statSync(dest).mode & 0o777).to.equal(0o700);
    expect(listRows(dev, BUSYBOX).filter((x) => x.state === 'complete')).to.have.length(4);

    const again = runCli(['pull', 'root@127.0.0.1', '--dest', dest, ...common]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/0 copied .* 4 already here/);

    // A local file that differs is not overwritten, and the device's copy is not removed.
    fs.writeFileSync(path.join(dest, names[0]), 'not the archive');
    const clash = runCli(['pull', 'root@127.0.0.1', '--dest', dest, '--remove', ...common]);
    expect(clash.code).to.equal(1);
    expect(clash.stderr).to.include(`${names[0]}: ${path.join(dest, names[0])} exists with other content; not overwritten`);
    expect(fs.existsSync(path.join(dev.core, names[0]))).to.equal(true);
    expect(fs.existsSync(path.join(dev.core, names[1]))).to.equal(false);
    expect(fs.existsSync(path.join(dev.core, names[2]))).to.equal(false);
    expect(fs.existsSync(path.join(dev.core, names[3]))).to.equal(false);
    expect(clash.stdout).to.match(/3 removed on the device, 1 FAILED/);
    expect(fs.readdirSync(dest).filter((f) => f.startsWith('.'))).to.deep.equal([]);
  });

  it('bad input: exit 2 with a clear message, no stack trace', () => {
    for (const args of [['pull', 'not a host'], ['pull', 'root@h', '--port', '70000'], ['pull', 'root@h', '--identity', path.join(t.dir, 'nope')]]) {
      const r = runCli(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr).to.match(/^kdump-layer: error: /);
      expect(r.stderr).to.not.match(/\n\s+at /);
    }
  });

  it('an unreachable device or an unknown host key: exit 1, says what ssh said', async () => {
    const closed = await freePort();
    const r = runCli(['pull', 'root@127.0.0.1', '--port', String(closed), '--identity', key, '--known-hosts', knownHosts, '--dest', path.join(t.dir, 'x')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/could not list the dumps on root@127\.0\.0\.1: .*Connection refused/);
    const other = path.join(t.dir, 'known_hosts.empty');
    fs.writeFileSync(other, '');
    const r2 = runCli(['pull', 'root@127.0.0.1', '--port', String(sshd.port), '--identity', key, '--known-hosts', other, '--dest', path.join(t.dir, 'x')]);
    expect(r2.code).to.equal(1);
    expect(r2.stderr).to.match(/could not list the dumps .*Host key verification failed|No .* host key is known/);
    expect(r2.stderr).to.not.match(/\n\s+at /);
  });
});
