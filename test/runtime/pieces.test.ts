import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { piece, SHELLS } from './shell.js';

const PRINT_CONF =
  'parse_config; rc=$?; printf "rc=%s\\npath=%s\\ncollector=%s\\narchive=%s\\nfiles=%s\\nkeep=%s\\nmin=%s\\nfailure=%s\\nfinal=%s\\nstage=%s\\n" ' +
  '"$rc" "$CONF_PATH" "$CONF_CORE_COLLECTOR" "$CONF_ARCHIVE" "$CONF_ARCHIVE_FILES" "$CONF_KEEP" "$CONF_MIN_FREE_MB" "$CONF_FAILURE_ACTION" "$CONF_FINAL_ACTION" "$CONF_ARCHIVE_STAGE"';

function kv(out: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of out.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) o[l.slice(0, i)] = l.slice(i + 1);
  }
  return o;
}

for (const shell of SHELLS) {
  describe(`runtime pieces under ${shell.name}`, () => {
    let t: { dir: string; cleanup: () => void };
    beforeEach(() => {
      t = tempDir('ops-kdump-unit-');
    });
    afterEach(() => t.cleanup());

    const conf = (text: string): string => {
      const f = path.join(t.dir, 'kdump.conf');
      fs.writeFileSync(f, text);
      return f;
    };

    describe('config parsing', () => {
      it('reads every key, ignoring comments, blank lines and surrounding quotes', () => {
        const f = conf(`# kdump.conf
path /var/crash/dumps   # trailing comment

  core_collector "makedumpfile -l --message-level 1 -d 31"
archive tar
archive_files /etc/os-release /etc/build-info
keep 5
min_free_mb 128
failure_action shell
final_action 'poweroff'
archive_stage boot
recompress makedumpfile -c -d 31
dmesg no
`);
        const r = piece(shell.argv, PRINT_CONF, { KDUMP_CONF: f });
        const v = kv(r.stdout);
        expect(v, r.stderr).to.deep.include({
          rc: '0', path: '/var/crash/dumps', collector: 'makedumpfile -l --message-level 1 -d 31', archive: 'tar',
          files: '/etc/os-release /etc/build-info', keep: '5', min: '128', failure: 'shell', final: 'poweroff', stage: 'boot',
        });
      });

      it('uses the documented defaults when the file is missing (lzo in the capture kernel, tar.gz at boot)', () => {
        const r = piece(shell.argv, PRINT_CONF, { KDUMP_CONF: path.join(t.dir, 'absent.conf') });
        expect(kv(r.stdout)).to.deep.include({
          rc: '0', path: '/var/core/kernel-core', collector: 'makedumpfile -l --message-level 1 -d 31', archive: 'tar.gz',
          keep: '3', min: '64', failure: 'reboot', final: 'reboot', stage: 'boot',
        });
      });

      it('rejects an unknown key with file:line, and keeps going to report every error', () => {
        const f = conf('path /var/core\n# ok\ncompress_level 9\narchive zip\nkeep 0\nfinal_action explode\npath relative/dir\nkeep\n');
        const r = piece(shell.argv, PRINT_CONF, { KDUMP_CONF: f });
        expect(kv(r.stdout).rc).to.equal('1');
        expect(r.stderr).to.include(`${f}:3: unknown key 'compress_level'`);
        expect(r.stderr).to.include(`${f}:4: archive must be tar.gz, tar or none (got 'zip')`);
        expect(r.stderr).to.include(`${f}:5: keep must be a whole number >= 1 (got '0')`);
        expect(r.stderr).to.include(`${f}:6: final_action must be one of reboot, halt, poweroff, shell, none (got 'explode')`);
        expect(r.stderr).to.include(`${f}:7: path must be absolute`);
        expect(r.stderr).to.include(`${f}:8: key 'keep' has no value`);
      });

      it('reads a last line without a newline', () => {
        const r = piece(shell.argv, PRINT_CONF, { KDUMP_CONF: conf('keep 7') });
        expect(kv(r.stdout).keep).to.equal('7');
      });

      it('`ops-kdump save` with a broken config runs the failure action and exits non-zero', () => {
        const f = conf('bogus_key 1\n');
        const r = piece(shell.argv, 'main save', { KDUMP_CONF: f, KDUMP_DRY_ACTIONS: '1' });
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include(`${f}:1: unknown key 'bogus_key'`);
        expect(r.stderr).to.include('running failure action: reboot');
      });
    });

    describe('command dispatch', () => {
      it('names an unknown command and exits 2 with the usage', () => {
        const r = piece(shell.argv, 'main frobnicate');
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include("ops-kdump: unknown command 'frobnicate'");
        expect(r.stderr).to.match(/^usage: ops-kdump COMMAND$/m);
      });
    });

    describe('capture kernel command line', () => {
      it('drops crashkernel/quiet/splash, appends the configured arguments and the capture marker once', () => {
        const r = piece(
          shell.argv,
          'build_cmdline "BOOT_IMAGE=/vmlinuz root=/dev/sda2 ro quiet splash crashkernel=0M-2G:128M,2G-8G:256M console=ttyS0,115200 systemd.unit=ops-kdump-capture.target" ' +
            '"crashkernel quiet splash" "irqpoll nr_cpus=1 reset_devices"',
        );
        expect(r.stdout.trim()).to.equal(
          'BOOT_IMAGE=/vmlinuz root=/dev/sda2 ro console=ttyS0,115200 irqpoll nr_cpus=1 reset_devices systemd.unit=ops-kdump-capture.target',
        );
      });
    });

    describe('dump naming', () => {
      it('names a dump kdump-<UTC date>-<UTC time>-<boot id>, sortable by time', () => {
        fs.mkdirSync(path.join(t.dir, 'sys/kernel/random'), { recursive: true });
        fs.writeFileSync(path.join(t.dir, 'sys/kernel/random/boot_id'), '0b5ea1d2-1111-2222-3333-444455556666\n');
        const r = piece(shell.argv, 'dump_name', { KDUMP_PROC: t.dir });
        expect(r.stdout.trim()).to.match(/^kdump-\d{8}-\d{6}-0b5ea1d2$/);
        const now = new Date().toISOString().replace(/[-:]/g, '').slice(0, 8);
        expect(r.stdout.trim().slice(6, 14)).to.equal(now);
      });
    });

    describe('listing and rotation', () => {
      const names = [
        'kdump-20260101-000000-aaaaaaaa.tar.gz',
        'kdump-20260102-000000-bbbbbbbb.tar.gz',
        'kdump-20260103-000000-cccccccc.incomplete',
        'kdump-20260104-000000-dddddddd',
        'kdump-20260105-000000-eeeeeeee.tar.gz.incomplete',
        'kdump-20260106-000000-ffffffff.tar.gz',
        'lost+found',
        'notes.txt',
      ];
      beforeEach(() => {
        for (const n of names) {
          if (n.endsWith('.incomplete') && !n.includes('.tar') || /-dddddddd$/.test(n) || n === 'lost+found') {
            fs.mkdirSync(path.join(t.dir, n));
          } else {
            fs.writeFileSync(path.join(t.dir, n), 'x');
          }
        }
      });

      it('classifies entries: archives complete, .incomplete incomplete, an unarchived dump pending', () => {
        const r = piece(shell.argv, `parse_config; list_entries "${t.dir}"`, { KDUMP_CONF: '/nonexistent' });
        expect(r.stdout.trim().split('\n')).to.deep.equal([
          'kdump-20260101-000000-aaaaaaaa.tar.gz complete',
          'kdump-20260102-000000-bbbbbbbb.tar.gz complete',
          'kdump-20260103-000000-cccccccc.incomplete incomplete',
          'kdump-20260104-000000-dddddddd pending',
          'kdump-20260105-000000-eeeeeeee.tar.gz.incomplete incomplete',
          'kdump-20260106-000000-ffffffff.tar.gz complete',
        ]);
      });

      it('rotation keeps the newest N saved dumps, oldest go first, never the current one', () => {
        const r = piece(shell.argv, `parse_config; rotation_victims "${t.dir}" 2 kdump-20260106-000000-ffffffff.tar.gz`, { KDUMP_CONF: '/nonexistent' });
        expect(r.stdout.trim().split('\n')).to.deep.equal([
          'kdump-20260102-000000-bbbbbbbb.tar.gz',
          'kdump-20260101-000000-aaaaaaaa.tar.gz',
        ]);
        // keep 1 with the current one older than others: the current one still survives.
        const r2 = piece(shell.argv, `parse_config; rotation_victims "${t.dir}" 1 kdump-20260101-000000-aaaaaaaa.tar.gz`, { KDUMP_CONF: '/nonexistent' });
        expect(r2.stdout).not.to.include('aaaaaaaa');
        expect(r2.stdout.trim().split('\n')).to.have.length(3);
      });

      it('only incomplete leftovers older than the new dump are stale', () => {
        const r = piece(shell.argv, `parse_config; stale_incomplete "${t.dir}" kdump-20260104-120000-99999999`, { KDUMP_CONF: '/nonexistent' });
        expect(r.stdout.trim().split('\n')).to.deep.equal(['kdump-20260103-000000-cccccccc.incomplete']);
      });

      it('`list -m` prints name, state, bytes, time, upload state and recorded SHA-256', () => {
        const f = path.join(t.dir, 'k.conf');
        fs.writeFileSync(f, `path ${t.dir}\n`);
        const r = piece(shell.argv, 'main list -m', { KDUMP_CONF: f });
        const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
        // No upload target and no checksum recorded (the archive was not made by ops-kdump).
        expect(rows[0]).to.deep.equal(['kdump-20260101-000000-aaaaaaaa.tar.gz', 'complete', rows[0][2], '2026-01-01T00:00:00Z', '-', '']);
        expect(Number(rows[0][2])).to.be.greaterThan(0);
        expect(rows.map((x) => x[1])).to.deep.equal(['complete', 'complete', 'incomplete', 'pending', 'incomplete', 'complete']);
      });
    });

    describe('space and compressor checks', () => {
      it('reports free MiB of the filesystem holding a path', () => {
        const r = piece(shell.argv, `free_mb "${t.dir}"`);
        const df = spawnSync('df', ['-Pk', t.dir], { encoding: 'utf8' }).stdout.split('\n')[1].split(/\s+/)[3];
        // Other writers may change the figure between the two calls: allow a little slack.
        expect(Number(r.stdout.trim())).to.be.closeTo(Math.floor(Number(df) / 1024), 16);
      });

      it('finds the mount holding a path (longest mount point wins)', () => {
        const proc = path.join(t.dir, 'proc');
        fs.mkdirSync(proc);
        fs.writeFileSync(path.join(proc, 'mounts'), 'rootfs / rootfs rw 0 0\n/dev/vda1 /var ext4 rw 0 0\n/dev/vda2 /var/core ext4 rw 0 0\ntmpfs /var/core-tmp tmpfs rw 0 0\n');
        const r = piece(shell.argv, 'mount_of /var/core/kernel-core; mount_of /var/core-tmp/x; mount_of /etc', { KDUMP_PROC: proc });
        expect(r.stdout.trim().split('\n')).to.deep.equal(['/var/core /dev/vda2 ext4', '/var/core-tmp tmpfs tmpfs', '/ rootfs rootfs']);
      });

      it('refuses a dump path on a RAM filesystem (the dump would vanish on reboot)', () => {
        const proc = path.join(t.dir, 'proc');
        fs.mkdirSync(proc);
        fs.writeFileSync(path.join(proc, 'mounts'), 'rootfs / rootfs rw 0 0\n');
        fs.writeFileSync(path.join(proc, 'vmcore'), 'x');
        const f = path.join(t.dir, 'k.conf');
        fs.writeFileSync(f, `path ${t.dir}/core\n`);
        const r = piece(shell.argv, `parse_config; preflight "${proc}/vmcore"; echo "rc=$? $PF_REASON"`, { KDUMP_PROC: proc, KDUMP_CONF: f });
        expect(r.stdout).to.match(/rc=1 .* is not on a mounted disk \(filesystem 'rootfs'/);
      });

      it('knows which compressors this makedumpfile has (Debian: zlib and lzo, no snappy or zstd)', () => {
        const ok = piece(shell.argv, 'check_compressor "makedumpfile -c -d 31" && check_compressor "makedumpfile -l --message-level 1 -d 31" && echo OK');
        expect(ok.stdout.trim()).to.equal('OK');
        const z = piece(shell.argv, 'check_compressor "makedumpfile -z -d 31"; echo "rc=$?"');
        expect(z.stdout.trim()).to.equal('rc=1');
        expect(z.stderr).to.match(/asks for zstd compression, but 'makedumpfile' was built without it \(zstd\s+disabled\)/);
        const p = piece(shell.argv, 'check_compressor "makedumpfile -p -d 31"; echo "rc=$?"');
        expect(p.stdout.trim()).to.equal('rc=1');
      });

      it('reads the dump size estimate recorded at load, and only warns when free space is below it', () => {
        const core = path.join(t.dir, 'core');
        fs.mkdirSync(core);
        fs.writeFileSync(path.join(core, '.ops-kdump-estimate'), 'kern_data_bytes=1099511627776\nmeasured=2026-01-01T00:00:00Z\n');
        const proc = path.join(t.dir, 'proc');
        fs.mkdirSync(proc);
        fs.writeFileSync(path.join(proc, 'mounts'), `/dev/sda1 / ext4 rw 0 0\n`);
        fs.writeFileSync(path.join(proc, 'vmcore'), 'x');
        const f = path.join(t.dir, 'k.conf');
        fs.writeFileSync(f, `path ${core}\nmin_free_mb 1\n`);
        const r = piece(shell.argv, `parse_config; estimate_mb; preflight "${proc}/vmcore"; echo "rc=$?"`, { KDUMP_PROC: proc, KDUMP_CONF: f });
        expect(r.stdout.trim().split('\n')).to.deep.equal(['1048576', 'rc=0']);
        expect(r.stderr).to.match(/warning: \d+ MiB free on .*; an uncompressed dump was estimated at up to 1048576 MiB/);
      });

      it('derives dump format and level from the collector line', () => {
        const r = piece(shell.argv, 'for c in "makedumpfile -E -f --message-level 1 -d 31" "makedumpfile -c --message-level 1 -d 31" "makedumpfile -l -d 17" "makedumpfile -d 1"; do echo "$(dump_format "$c") $(dump_level "$c")"; done');
        expect(r.stdout.trim().split('\n')).to.deep.equal(['elf 31', 'kdump-zlib 31', 'kdump-lzo 17', 'kdump-uncompressed 1']);
      });
    });

    describe('load checks', () => {
      const sysWith = (size: string, loaded = '0'): string => {
        const sys = path.join(t.dir, 'sys');
        fs.mkdirSync(path.join(sys, 'kernel'), { recursive: true });
        fs.writeFileSync(path.join(sys, 'kernel/kexec_crash_size'), `${size}\n`);
        fs.writeFileSync(path.join(sys, 'kernel/kexec_crash_loaded'), `${loaded}\n`);
        return sys;
      };
      const procWith = (cmdline: string): string => {
        const proc = path.join(t.dir, 'proc');
        fs.mkdirSync(proc, { recursive: true });
        fs.writeFileSync(path.join(proc, 'cmdline'), `${cmdline}\n`);
        return proc;
      };

      it('refuses to load without crashkernel= on the command line', () => {
        const r = piece(shell.argv, 'main load', { KDUMP_PROC: procWith('root=/dev/sda2 quiet'), KDUMP_SYS: sysWith('0'), KDUMP_CONF: '/nonexistent', KDUMP_SYSCONFIG: '/nonexistent' });
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include('no crashkernel= on the kernel command line');
      });

      it('refuses to load when crashkernel= is set but no memory was reserved', () => {
        const r = piece(shell.argv, 'main load', { KDUMP_PROC: procWith('root=/dev/sda2 crashkernel=128M'), KDUMP_SYS: sysWith('0'), KDUMP_CONF: '/nonexistent', KDUMP_SYSCONFIG: '/nonexistent' });
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include('kexec_crash_size is 0');
      });

      it('names the missing capture kernel image', () => {
        const sc = path.join(t.dir, 'sysconfig');
        fs.writeFileSync(sc, `KDUMP_IMG="bzImage"\nKDUMP_BOOTDIR="${t.dir}/boot"\nKDUMP_KERNELVER="6.1.0-test"\n`);
        const r = piece(shell.argv, 'main load', { KDUMP_PROC: procWith('crashkernel=128M'), KDUMP_SYS: sysWith('134217728'), KDUMP_CONF: '/nonexistent', KDUMP_SYSCONFIG: sc });
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include(`capture kernel image not found: KDUMP_IMG=bzImage in ${t.dir}/boot (kernel 6.1.0-test)`);
      });

      it('finds <KDUMP_IMG>-<release> before <KDUMP_IMG>', () => {
        fs.mkdirSync(path.join(t.dir, 'boot'));
        fs.writeFileSync(path.join(t.dir, 'boot/bzImage'), '');
        fs.writeFileSync(path.join(t.dir, 'boot/bzImage-6.1.0-test'), '');
        const r = piece(shell.argv, `KDUMP_IMG=bzImage; KDUMP_BOOTDIR="${t.dir}/boot"; KDUMP_KERNELVER=6.1.0-test; find_image; KDUMP_KERNELVER=other; find_image`);
        expect(r.stdout.trim().split('\n')).to.deep.equal([`${t.dir}/boot/bzImage-6.1.0-test`, `${t.dir}/boot/bzImage`]);
      });

      it('`test` checks the whole setup and names each failing check', () => {
        fs.mkdirSync(path.join(t.dir, 'boot'));
        fs.writeFileSync(path.join(t.dir, 'boot/bzImage-6.1.0-test'), '');
        const sc = path.join(t.dir, 'sysconfig');
        fs.writeFileSync(sc, `KDUMP_BOOTDIR="${t.dir}/boot"\nKDUMP_KERNELVER="6.1.0-test"\n`);
        const f = path.join(t.dir, 'k.conf');
        fs.writeFileSync(f, `path ${t.dir}/core\nmin_free_mb 1\ncore_collector makedumpfile -l -d 31\n`);
        const good = piece(shell.argv, 'main test', { KDUMP_SYS: sysWith('134217728', '1'), KDUMP_CONF: f, KDUMP_SYSCONFIG: sc });
        expect(good.code, good.stdout + good.stderr).to.equal(0);
        const lines = good.stdout.trim().split('\n');
        expect(lines).to.have.length(7);
        for (const l of lines) expect(l).to.match(/^PASS  /);
        fs.writeFileSync(f, `path ${t.dir}/core\nmin_free_mb 99999999\ncore_collector makedumpfile -z -d 31\n`);
        const bad = piece(shell.argv, 'main test', { KDUMP_SYS: sysWith('134217728', '0'), KDUMP_CONF: f, KDUMP_SYSCONFIG: sc });
        expect(bad.code).to.equal(1);
        expect(bad.stdout).to.match(/^FAIL  capture kernel loaded$/m);
        expect(bad.stdout).to.match(/^FAIL  free space \d+ MiB >= min_free_mb 99999999$/m);
        expect(bad.stdout).to.match(/^FAIL  core collector 'makedumpfile -z -d 31' available with its compressor$/m);
        expect(bad.stdout).to.match(/^PASS  memory reserved for the capture kernel \(128 MiB\)$/m);
      });

      it('status -m reports loaded, reserved size and the last dump; exit 3 when not loaded', () => {
        const f = path.join(t.dir, 'k.conf');
        fs.mkdirSync(path.join(t.dir, 'core'));
        fs.writeFileSync(path.join(t.dir, 'core/kdump-20260101-000000-aaaaaaaa.tar.gz'), 'x');
        fs.writeFileSync(f, `path ${t.dir}/core\n`);
        const r = piece(shell.argv, 'main status -m', { KDUMP_SYS: sysWith('134217728', '0'), KDUMP_CONF: f });
        expect(r.code).to.equal(3);
        expect(kv(r.stdout)).to.deep.equal({
          loaded: '0', reserved_bytes: '134217728', path: `${t.dir}/core`,
          last_dump: 'kdump-20260101-000000-aaaaaaaa.tar.gz', last_dump_state: 'complete',
          upload_target: 'none', upload_pending: '0', upload_failed: '0', upload_uploaded: '0',
        });
      });
    });
  });
}
