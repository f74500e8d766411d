/**
 * Benchmark of getting dumps off a device (prints figures side by side; not a test).
 *
 * Against one real sshd on 127.0.0.1 (the test helper's), in one run:
 *   upload: `ops-kdump upload` (dash) of a 100 MiB archive, verified on the far side
 *           vs plain `scp` of the same file to the same server, and vs `scp` with the
 *           ciphers ops-kdump asks for on this CPU (AES-GCM first where it has AES
 *           instructions), which shows what the verification itself costs
 *   pull:   `kdump-layer pull` of 20 archives (verified, one multiplexed connection)
 *           vs one `scp -r` of the same directory
 * Each is run `--rounds` times (default 3); the best (least disturbed) time is reported.
 *
 *   node dist/bench/upload.js [--rounds 3] [--mib 100]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cliPath, tempDir } from '../test/helpers/cli.js';
import { createSshd, opensshKey } from '../test/helpers/sshd.js';
import { OPS_KDUMP } from '../test/runtime/shell.js';
import { addArchive, makeDevice } from '../test/upload/device.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 << 20 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}…: exit ${r.status}: ${r.stderr}`);
  return s;
}

async function main(): Promise<void> {
  const rounds = arg('rounds', 3);
  const mib = arg('mib', 100);
  const t = tempDir('kdump-layer-bench-upload-');
  const sshd = await createSshd(path.join(t.dir, 'sshd'));
  try {
    const [key, pub] = opensshKey(path.join(t.dir, 'key'));
    const bin = path.join(t.dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'ops-kdump'), `#!/bin/sh\nexec dash ${OPS_KDUMP} "$@"\n`, { mode: 0o755 });
    const known = path.join(t.dir, 'known_hosts');
    fs.writeFileSync(known, `${sshd.knownHostsLine}\n`);
    const ssh = ['-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=yes', '-i', key, '-P', String(sshd.port)];

    // Upload: one device with one archive of `mib` MiB (random, so incompressible).
    const dev = makeDevice(path.join(t.dir, 'up'), 'bench1');
    // The simulated device runs on this machine's CPU.
    fs.writeFileSync(path.join(dev.env.KDUMP_PROC!, 'cpuinfo'), fs.readFileSync('/proc/cpuinfo'));
    const picked = spawnSync('dash', ['-c', `. ${OPS_KDUMP}; upload_ssh_ciphers; printf '%s' "$UP_CIPHERS_OPT"`], {
      encoding: 'utf8', env: { PATH: process.env.PATH, OPS_KDUMP_LIB: '1', ...dev.env },
    }).stdout;
    const pullDev = makeDevice(path.join(t.dir, 'pull'), 'bench2');
    // Room for all 20 archives (the default keep is 3).
    pullDev.configure(['keep 25']);
    // sshd runs every ssh command through the account's shell (scp's sftp runs inside sshd and
    // starts none). The account here is this machine's root, whose dotfiles are not a
    // collector's or a device's (bash reads ~/.bashrc for ssh commands): an empty HOME.
    const home = path.join(t.dir, 'home');
    fs.mkdirSync(home);
    const devEnv = Object.entries({ HOME: home, PATH: `${bin}:/usr/bin:/bin`, ...pullDev.env }).map(([k, v]) => `environment="${k}=${v}"`).join(',');
    fs.writeFileSync(sshd.authorizedKeys, `${devEnv} ${pub}\n`);
    await sshd.start();
    const archive = addArchive(dev, ['dash'], '20260101-000000', mib * 1048576);
    const file = path.join(dev.core, archive);
    const bytes = fs.statSync(file).size;
    const upTimes: number[] = [];
    const scpTimes: number[] = [];
    const scpSameTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const coll = path.join(t.dir, `coll${r}`);
      const scpColl = path.join(t.dir, `scp${r}`);
      fs.mkdirSync(coll);
      fs.mkdirSync(scpColl);
      dev.configure([`upload_target ssh://root@127.0.0.1:${sshd.port}${coll}`, `upload_key ${key}`, `upload_known_hosts ${known}`]);
      fs.rmSync(path.join(dev.core, '.ops-kdump-state', archive), { force: true });
      // The archive step's record (size, SHA-256) is made before and is not part of the upload.
      spawnSync('dash', ['-c', `. ${OPS_KDUMP}; parse_config; record_archive "${dev.core}" "${archive}"`], { env: { PATH: process.env.PATH, OPS_KDUMP_LIB: '1', ...dev.env } });
      scpTimes.push(timed('scp', ['-q', ...ssh, file, `root@127.0.0.1:${scpColl}/`]));
      if (picked) scpSameTimes.push(timed('scp', ['-q', picked, ...ssh, file, `root@127.0.0.1:${scpColl}/same`]));
      upTimes.push(timed('dash', [OPS_KDUMP, 'upload'], { PATH: process.env.PATH, ...dev.env }));
      fs.rmSync(coll, { recursive: true });
      fs.rmSync(scpColl, { recursive: true });
    }

    // Pull: 20 archives of 2 MiB on the device.
    for (let i = 0; i < 20; i++) addArchive(pullDev, ['dash'], `20260102-0000${String(i).padStart(2, '0')}`, 2 * 1048576);
    const pullBytes = fs.readdirSync(pullDev.core).filter((f) => f.endsWith('.tar.gz')).reduce((s, f) => s + fs.statSync(path.join(pullDev.core, f)).size, 0);
    const pullTimes: number[] = [];
    const scprTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const dest = path.join(t.dir, `dumps${r}`);
      const scpDest = path.join(t.dir, `scpr${r}`);
      scprTimes.push(timed('scp', ['-q', '-r', ...ssh, `root@127.0.0.1:${pullDev.core}`, scpDest]));
      pullTimes.push(timed(process.execPath, [cliPath, 'pull', 'root@127.0.0.1', '--port', String(sshd.port), '--identity', key, '--known-hosts', known, '--dest', dest]));
      fs.rmSync(dest, { recursive: true });
      fs.rmSync(scpDest, { recursive: true });
    }

    const best = (xs: number[]) => Math.min(...xs);
    const mbs = (b: number, s: number) => (b / 1048576 / s).toFixed(1);
    const row = (label: string, s: number, b: number) => `  ${label.padEnd(46)} ${s.toFixed(2).padStart(7)} s  ${mbs(b, s).padStart(7)} MiB/s`;
    const out = [
      `upload of one ${(bytes / 1048576).toFixed(1)} MiB archive to sshd on 127.0.0.1 (best of ${rounds}):`,
      row('plain scp', best(scpTimes), bytes),
      ...(picked ? [row(`scp ${picked.replace(/,.*/, ',...')}`, best(scpSameTimes), bytes)] : []),
      row('ops-kdump upload (temp name, SHA-256, rename)', best(upTimes), bytes),
      `  ratio: ops-kdump upload reaches ${(best(scpTimes) / best(upTimes)).toFixed(2)}x plain scp's throughput (target >= 0.9x)`,
      picked
        ? `  ratio: ${(best(scpSameTimes) / best(upTimes)).toFixed(2)}x scp's with the same ciphers (the cost of the verification alone)`
        : '  (no AES instructions on this CPU: ops-kdump keeps ssh\'s default ciphers)',
      `pull of 20 archives, ${(pullBytes / 1048576).toFixed(1)} MiB in all (best of ${rounds}):`,
      row('scp -r of the dump directory', best(scprTimes), pullBytes),
      row('kdump-layer pull (listed, verified, renamed)', best(pullTimes), pullBytes),
      `  ratio: kdump-layer pull reaches ${(best(scprTimes) / best(pullTimes)).toFixed(2)}x scp -r's throughput`,
      `all rounds (s): scp ${scpTimes.map((x) => x.toFixed(2)).join(' ')}${picked ? ` | scp same ciphers ${scpSameTimes.map((x) => x.toFixed(2)).join(' ')}` : ''} | upload ${upTimes.map((x) => x.toFixed(2)).join(' ')} | scp -r ${scprTimes.map((x) => x.toFixed(2)).join(' ')} | pull ${pullTimes.map((x) => x.toFixed(2)).join(' ')}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    sshd.stop();
    t.cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`bench/upload: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
