import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { OPS_KDUMP, piece, SHELLS } from './shell.js';

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
          rc: '0', path: '/var/core/kernel-core', collector: 'makedumpfile -l --message-level 7 -d 31', archive: 'tar.gz',
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
        // Not in a capture kernel (no vmcore): nothing is recorded anywhere.
        const r = piece(shell.argv, 'main save', { KDUMP_CONF: f, KDUMP_DRY_ACTIONS: '1', KDUMP_PROC: t.dir });
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include(`${f}:1: unknown key 'bogus_key'`);
        expect(r.stderr).to.include(`save FAILED in step config: ${f} has errors`);
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

    describe('dump naming and order', () => {
      it('names a dump kdump-<sequence>-<UTC date>-<UTC time>-<boot id>', () => {
        fs.mkdirSync(path.join(t.dir, 'sys/kernel/random'), { recursive: true });
        fs.writeFileSync(path.join(t.dir, 'sys/kernel/random/boot_id'), '0b5ea1d2-1111-2222-3333-444455556666\n');
        const r = piece(shell.argv, 'dump_name 42; dump_name 1234567', { KDUMP_PROC: t.dir });
        const [a, b] = r.stdout.trim().split('\n');
        expect(a).to.match(/^kdump-000042-\d{8}-\d{6}-0b5ea1d2$/);
        expect(b).to.match(/^kdump-1234567-\d{8}-\d{6}-0b5ea1d2$/);
        const now = new Date().toISOString().replace(/[-:]/g, '').slice(0, 8);
        expect(a.slice(13, 21)).to.equal(now);
      });

      it('orders crashes by sequence number, not by the date in the name; names without a sequence are oldest', () => {
        const names = [
          'kdump-000010-19700101-000005-aaaaaaaa.tar.gz',
          'kdump-000009-20260301-120000-bbbbbbbb.tar.gz',
          'kdump-20260101-000000-cccccccc.tar.gz',
          'kdump-000100-19700101-000003-dddddddd.failed',
          'kdump-20251231-000000-eeeeeeee',
          'notes.txt',
        ].join('\n');
        const r = piece(shell.argv, `printf '%s\\n' "${names}" | entry_order`);
        expect(r.stdout.trim().split('\n')).to.deep.equal([
          'kdump-20251231-000000-eeeeeeee',
          'kdump-20260101-000000-cccccccc.tar.gz',
          'kdump-000009-20260301-120000-bbbbbbbb.tar.gz',
          'kdump-000010-19700101-000005-aaaaaaaa.tar.gz',
          'kdump-000100-19700101-000003-dddddddd.failed',
        ]);
      });

      it('the next sequence number is above both the counter file and every name on the disk', () => {
        const d = path.join(t.dir, 'core');
        fs.mkdirSync(d);
        const next = (): string => piece(shell.argv, `next_seq "${d}"`).stdout.trim();
        expect(next()).to.equal('1');
        fs.writeFileSync(path.join(d, 'kdump-000007-19700101-000000-aaaaaaaa.tar.gz'), 'x');
        expect(next()).to.equal('8');
        // A counter ahead of the names (their dumps were rotated away) wins.
        expect(piece(shell.argv, `commit_seq "${d}" 41 && cat "${d}/.ops-kdump-seq"`).stdout).to.equal('41\n');
        expect(next()).to.equal('42');
        // A counter behind (rolled back by a power cut) or torn: the names still win.
        fs.writeFileSync(path.join(d, '.ops-kdump-seq'), '3\n');
        expect(next()).to.equal('8');
        fs.writeFileSync(path.join(d, '.ops-kdump-seq'), '');
        expect(next()).to.equal('8');
        fs.writeFileSync(path.join(d, '.ops-kdump-seq'), '\0\0\0');
        expect(next()).to.equal('8');
        // Leading zeros are decimal, not octal.
        fs.writeFileSync(path.join(d, '.ops-kdump-seq'), '0010\n');
        expect(next()).to.equal('11');
        expect(fs.readdirSync(d)).not.to.include('.ops-kdump-seq.tmp');
      });
    });

    describe('the dump directory is root-only', () => {
      const mode = (p: string): number => fs.statSync(p).mode & 0o777;

      it('creates it 0700 (parents 0755) whatever the caller\'s umask', () => {
        const d = path.join(t.dir, 'var/core/kernel-core');
        const r = piece(shell.argv, `umask 000; . "${OPS_KDUMP}"; ensure_dump_dir "${d}" && echo ok`);
        expect(r.stdout.trim(), r.stderr).to.equal('ok');
        expect(mode(d)).to.equal(0o700);
        expect(mode(path.dirname(d))).to.equal(0o755);
      });

      it('repairs a directory left 0755 and dumps left 0644, says so, and does not follow symbolic links', () => {
        const d = path.join(t.dir, 'core');
        fs.mkdirSync(d, { mode: 0o755 });
        fs.chmodSync(d, 0o755);
        fs.writeFileSync(path.join(d, 'kdump-000001-20260101-000000-aaaaaaaa.tar.gz'), 'x', { mode: 0o644 });
        fs.mkdirSync(path.join(d, 'kdump-000002-20260101-000000-bbbbbbbb'), { mode: 0o755 });
        fs.writeFileSync(path.join(d, 'kdump-000002-20260101-000000-bbbbbbbb/vmcore'), 'x', { mode: 0o644 });
        fs.writeFileSync(path.join(d, '.ops-kdump-estimate'), 'x', { mode: 0o644 });
        const outside = path.join(t.dir, 'outside.txt');
        fs.writeFileSync(outside, 'x', { mode: 0o644 });
        fs.symlinkSync(outside, path.join(d, 'kdump-000003-20260101-000000-cccccccc.tar.gz'));
        for (const f of ['kdump-000001-20260101-000000-aaaaaaaa.tar.gz', '.ops-kdump-estimate']) fs.chmodSync(path.join(d, f), 0o644);
        const r = piece(shell.argv, `ensure_dump_dir "${d}"`);
        expect(r.code).to.equal(0);
        expect(r.stderr).to.include(`dump directory ${d} was drwxr-xr-x, readable by other users: made it drwx------`);
        expect(r.stderr).to.match(/made 4 file\(s\) in .* readable by root only/);
        expect(mode(d)).to.equal(0o700);
        expect(mode(path.join(d, 'kdump-000001-20260101-000000-aaaaaaaa.tar.gz'))).to.equal(0o600);
        expect(mode(path.join(d, 'kdump-000002-20260101-000000-bbbbbbbb'))).to.equal(0o700);
        expect(mode(path.join(d, 'kdump-000002-20260101-000000-bbbbbbbb/vmcore'))).to.equal(0o600);
        expect(mode(path.join(d, '.ops-kdump-estimate'))).to.equal(0o600);
        expect(mode(outside), 'the target of a symbolic link is not touched').to.equal(0o644);
        // Already root-only: nothing to say.
        const again = piece(shell.argv, `ensure_dump_dir "${d}"`);
        expect(again.stderr).to.equal('');
      });
    });

    describe('listing and rotation', () => {
      const names = [
        'kdump-20251231-000000-99999999.tar.gz',
        'kdump-000001-20260101-000000-aaaaaaaa.tar.gz',
        'kdump-000002-20260102-000000-bbbbbbbb.tar.gz',
        'kdump-000003-20260103-000000-cccccccc.incomplete',
        'kdump-000004-19700101-000010-dddddddd',
        'kdump-000005-20260105-000000-eeeeeeee.tar.gz.incomplete',
        'kdump-000006-19700101-000007-ffffffff.tar.gz',
        'kdump-000007-20260107-000000-11111111.failed',
        'kdump-000008-20200101-000000-22222222.failed',
        'kdump-000009-20260109-000000-33333333.failed.deleting',
        'lost+found',
        'notes.txt',
      ];
      beforeEach(() => {
        for (const n of names) {
          if (/\.(incomplete|failed|deleting)$/.test(n) && !n.includes('.tar') || /-dddddddd$/.test(n) || n === 'lost+found') {
            fs.mkdirSync(path.join(t.dir, n));
          } else {
            fs.writeFileSync(path.join(t.dir, n), 'x');
          }
        }
        fs.writeFileSync(path.join(t.dir, 'kdump-000007-20260107-000000-11111111.failed/metadata.txt'), 'result=failed\nfailed_step=preflight\nfailed_reason=only 3 MiB free on /var/core, min_free_mb is 64\n');
      });

      it('classifies entries, oldest crash first: archives complete, .incomplete incomplete, .failed failed, an unarchived dump pending; removals in progress are not shown', () => {
        const r = piece(shell.argv, `parse_config; list_entries "${t.dir}"`, { KDUMP_CONF: '/nonexistent' });
        expect(r.stdout.trim().split('\n')).to.deep.equal([
          'kdump-20251231-000000-99999999.tar.gz complete',
          'kdump-000001-20260101-000000-aaaaaaaa.tar.gz complete',
          'kdump-000002-20260102-000000-bbbbbbbb.tar.gz complete',
          'kdump-000003-20260103-000000-cccccccc.incomplete incomplete',
          'kdump-000004-19700101-000010-dddddddd pending',
          'kdump-000005-20260105-000000-eeeeeeee.tar.gz.incomplete incomplete',
          'kdump-000006-19700101-000007-ffffffff.tar.gz complete',
          'kdump-000007-20260107-000000-11111111.failed failed',
          'kdump-000008-20200101-000000-22222222.failed failed',
        ]);
      });

      it('rotation keeps the newest N saved dumps by sequence (not by date), never the current one, and counts failed records apart', () => {
        const r = piece(shell.argv, `parse_config; rotation_victims "${t.dir}" 2 kdump-000006-19700101-000007-ffffffff.tar.gz`, { KDUMP_CONF: '/nonexistent' });
        expect(r.stdout.trim().split('\n')).to.deep.equal([
          'kdump-000002-20260102-000000-bbbbbbbb.tar.gz',
          'kdump-000001-20260101-000000-aaaaaaaa.tar.gz',
          'kdump-20251231-000000-99999999.tar.gz',
        ]);
        // keep 1: only the current dump among saved ones; one failed record.
        const r1 = piece(shell.argv, `parse_config; rotation_victims "${t.dir}" 1 kdump-000006-19700101-000007-ffffffff.tar.gz`, { KDUMP_CONF: '/nonexistent' });
        const v1 = r1.stdout.trim().split('\n');
        expect(v1).to.include.members(['kdump-000004-19700101-000010-dddddddd', 'kdump-000007-20260107-000000-11111111.failed']);
        expect(v1).not.to.include('kdump-000006-19700101-000007-ffffffff.tar.gz');
        expect(v1).not.to.include('kdump-000008-20200101-000000-22222222.failed');
        expect(v1.filter((v) => v.includes('incomplete'))).to.deep.equal([]);
        // A failed record as the current entry takes a failed place, never a saved one.
        const r2 = piece(shell.argv, `parse_config; rotation_victims "${t.dir}" 3 kdump-000008-20200101-000000-22222222.failed`, { KDUMP_CONF: '/nonexistent' });
        expect(r2.stdout.trim().split('\n')).to.deep.equal(['kdump-000001-20260101-000000-aaaaaaaa.tar.gz', 'kdump-20251231-000000-99999999.tar.gz']);
      });

      it('finishes or cleans what an interrupted run left, and keeps every crash on record', () => {
        const d = path.join(t.dir, 'core');
        fs.mkdirSync(d);
        const w = (p: string, c = 'x'): void => {
          fs.mkdirSync(path.dirname(path.join(d, p)), { recursive: true });
          fs.writeFileSync(path.join(d, p), c);
        };
        // Cut during the copy: partial vmcore, log up to "step collect: start".
        w('kdump-000001-19700101-000001-aaaaaaaa.incomplete/metadata.txt', 'name=kdump-000001-19700101-000001-aaaaaaaa\n');
        w('kdump-000001-19700101-000001-aaaaaaaa.incomplete/dmesg.txt', 'the log');
        w('kdump-000001-19700101-000001-aaaaaaaa.incomplete/vmcore.incomplete', 'partial');
        w('kdump-000001-19700101-000001-aaaaaaaa.incomplete/ops-kdump.log', '100 ops-kdump: step dmesg: start\n120 ops-kdump: step dmesg: ok (0.20 s)\n121 ops-kdump: step collect: start\n');
        // Cut after every step, before the final rename.
        w('kdump-000002-19700101-000001-bbbbbbbb.incomplete/metadata.txt', 'result=complete\n');
        w('kdump-000002-19700101-000001-bbbbbbbb.incomplete/vmcore', 'dump');
        // Cut while archiving, after the archive's rename, and during a removal.
        w('kdump-000003-19700101-000001-cccccccc/vmcore', 'dump');
        w('kdump-000003-19700101-000001-cccccccc.tar.gz.incomplete');
        w('kdump-000004-19700101-000001-dddddddd/vmcore', 'dump');
        w('kdump-000004-19700101-000001-dddddddd.tar.gz');
        w('kdump-000005-19700101-000001-eeeeeeee.deleting/vmcore', 'dump');
        const r = piece(shell.argv, `parse_config; recover_leftovers "${d}"; list_entries "${d}"`, { KDUMP_CONF: '/nonexistent' });
        expect(r.stdout.trim().split('\n'), r.stderr).to.deep.equal([
          'kdump-000001-19700101-000001-aaaaaaaa.failed failed',
          'kdump-000002-19700101-000001-bbbbbbbb pending',
          'kdump-000003-19700101-000001-cccccccc pending',
          'kdump-000004-19700101-000001-dddddddd.tar.gz complete',
        ]);
        expect(fs.readdirSync(d).sort()).to.deep.equal([
          'kdump-000001-19700101-000001-aaaaaaaa.failed', 'kdump-000002-19700101-000001-bbbbbbbb',
          'kdump-000003-19700101-000001-cccccccc', 'kdump-000004-19700101-000001-dddddddd.tar.gz',
        ]);
        const failed = path.join(d, 'kdump-000001-19700101-000001-aaaaaaaa.failed');
        expect(fs.readdirSync(failed).sort()).to.deep.equal(['dmesg.txt', 'metadata.txt', 'ops-kdump.log']);
        const meta = fs.readFileSync(path.join(failed, 'metadata.txt'), 'utf8');
        expect(meta).to.match(/^result=failed$/m);
        expect(meta).to.match(/^failed_step=collect$/m);
        expect(meta).to.match(/^failed_reason=the save was interrupted \(power cut, reset or watchdog\) in step collect$/m);
        expect(r.stderr).to.include('finishing kdump-000002-19700101-000001-bbbbbbbb: the dump was complete, only its final rename was missing');
        expect(r.stderr).to.include('removing partial archive kdump-000003-19700101-000001-cccccccc.tar.gz.incomplete (interrupted)');
        expect(r.stderr).to.include('removing kdump-000004-19700101-000001-dddddddd: its archive is complete (interrupted clean-up)');
        expect(r.stderr).to.include('finishing the interrupted removal of kdump-000005-19700101-000001-eeeeeeee');
      });

      it('`list -m` prints name, state, bytes, time, result, reason, upload state and recorded SHA-256', () => {
        const f = path.join(t.dir, 'k.conf');
        fs.writeFileSync(f, `path ${t.dir}\n`);
        const r = piece(shell.argv, 'main list -m', { KDUMP_CONF: f });
        const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
        // No upload target and no checksum recorded (the archives were not made by ops-kdump).
        expect(rows[1]).to.deep.equal(['kdump-000001-20260101-000000-aaaaaaaa.tar.gz', 'complete', rows[1][2], '2026-01-01T00:00:00Z', '', '', '-', '']);
        expect(Number(rows[1][2])).to.be.greaterThan(0);
        expect(rows[0][3]).to.equal('2025-12-31T00:00:00Z');
        expect(rows.map((x) => x[1])).to.deep.equal(['complete', 'complete', 'complete', 'incomplete', 'pending', 'incomplete', 'complete', 'failed', 'failed']);
        expect(rows[7]).to.deep.equal(['kdump-000007-20260107-000000-11111111.failed', 'failed', rows[7][2], '2026-01-07T00:00:00Z', 'failed', 'only 3 MiB free on /var/core, min_free_mb is 64', '-', '']);
        const human = piece(shell.argv, 'main list', { KDUMP_CONF: f }).stdout;
        expect(human).to.match(/^kdump-000007-20260107-000000-11111111\.failed +failed +\d+ +2026-01-07T00:00:00Z +- +failed, because only 3 MiB free on \/var\/core, min_free_mb is 64$/m);
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

      it('warns when the reservation is below the measured need of the capture environment it will boot', () => {
        const sc = path.join(t.dir, 'sysconfig');
        fs.writeFileSync(sc, `KDUMP_BOOTDIR="${t.dir}/boot"\nKDUMP_CAPTURE_NEED_MB_SYSTEMD="0M-3G:150,3G-:200"\nKDUMP_CAPTURE_NEED_MB_SYSVINIT="100"\n`);
        const proc = procWith('crashkernel=128M');
        const run = (ram: string, systemd: boolean): string => {
          fs.writeFileSync(path.join(proc, 'meminfo'), `MemTotal:       ${ram} kB\n`);
          const runDir = path.join(t.dir, systemd ? 'run-sd' : 'run-sysv');
          fs.mkdirSync(path.join(runDir, systemd ? 'systemd/system' : '.'), { recursive: true });
          const r = piece(shell.argv, 'main load', { KDUMP_PROC: proc, KDUMP_SYS: sysWith('134217728'), KDUMP_CONF: '/nonexistent', KDUMP_SYSCONFIG: sc, KDUMP_RUN: runDir });
          expect(r.code).to.equal(1); // then stops: no kernel image in this test
          return r.stderr;
        };
        expect(run('1000000', true)).to.include('warning: 128 MiB reserved for the capture kernel, below the 150 MiB its systemd capture environment was measured to need');
        expect(run('4000000', true)).to.include('below the 200 MiB its systemd');
        expect(run('4000000', false)).not.to.include('warning');
        fs.writeFileSync(sc, `KDUMP_BOOTDIR="${t.dir}/boot"\nKDUMP_CAPTURE_NEED_MB_SYSVINIT="129"\n`);
        expect(run('4000000', false)).to.include('below the 129 MiB its sysvinit capture environment');
        expect(run('4000000', true)).not.to.include('warning');
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
        expect(lines).to.have.length(8);
        expect(lines).to.include(`PASS  dump path ${t.dir}/core readable by root only`);
        for (const l of lines) expect(l).to.match(/^PASS  /);
        fs.writeFileSync(f, `path ${t.dir}/core\nmin_free_mb 99999999\ncore_collector makedumpfile -z -d 31\n`);
        const bad = piece(shell.argv, 'main test', { KDUMP_SYS: sysWith('134217728', '0'), KDUMP_CONF: f, KDUMP_SYSCONFIG: sc });
        expect(bad.code).to.equal(1);
        expect(bad.stdout).to.match(/^FAIL  capture kernel loaded$/m);
        expect(bad.stdout).to.match(/^FAIL  free space \d+ MiB >= min_free_mb 99999999$/m);
        expect(bad.stdout).to.match(/^FAIL  core collector 'makedumpfile -z -d 31' available with its compressor$/m);
        expect(bad.stdout).to.match(/^PASS  memory reserved for the capture kernel \(128 MiB\)$/m);
        // A path on a RAM filesystem is writable, but save refuses it: test must fail too.
        const proc = path.join(t.dir, 'proc');
        fs.mkdirSync(proc);
        fs.writeFileSync(path.join(proc, 'mounts'), `rootfs / rootfs rw 0 0\ntmpfs ${t.dir} tmpfs rw 0 0\n`);
        fs.writeFileSync(f, `path ${t.dir}/core\nmin_free_mb 1\ncore_collector makedumpfile -l -d 31\n`);
        const ram = piece(shell.argv, 'main test', { KDUMP_SYS: sysWith('134217728', '1'), KDUMP_CONF: f, KDUMP_SYSCONFIG: sc, KDUMP_PROC: proc });
        expect(ram.code, ram.stdout).to.equal(1);
        expect(ram.stdout).to.match(new RegExp(`^FAIL  dump path ${t.dir}/core on a disk and writable: ${t.dir}/core is not on a mounted disk \\(filesystem 'tmpfs'`, 'm'));
        const saved = piece(shell.argv, `parse_config; printf x >"${proc}/vmcore"; preflight "${proc}/vmcore"; echo "rc=$?"`, { KDUMP_PROC: proc, KDUMP_CONF: f });
        expect(saved.stdout.trim(), 'save refuses the same path').to.equal('rc=1');
      });

      it('`test` checks the upload client and the key or credentials it reads: present, root only', function () {
        fs.mkdirSync(path.join(t.dir, 'boot'));
        fs.writeFileSync(path.join(t.dir, 'boot/bzImage-6.1.0-test'), '');
        const sc = path.join(t.dir, 'sysconfig');
        fs.writeFileSync(sc, `KDUMP_BOOTDIR="${t.dir}/boot"\nKDUMP_KERNELVER="6.1.0-test"\n`);
        const f = path.join(t.dir, 'k.conf');
        const key = path.join(t.dir, 'upload_key');
        const pinned = path.join(t.dir, 'known_hosts');
        const creds = path.join(t.dir, 'curl.conf');
        const ca = path.join(t.dir, 'ca.pem');
        const run = (upload: string) => {
          fs.writeFileSync(f, `path ${t.dir}/core\nmin_free_mb 1\ncore_collector makedumpfile -l -d 31\n${upload}`);
          const r = piece(shell.argv, 'main test', { KDUMP_SYS: sysWith('134217728', '1'), KDUMP_CONF: f, KDUMP_SYSCONFIG: sc });
          return { code: r.code, upload: r.stdout.trim().split('\n').slice(8), out: r.stdout + r.stderr };
        };
        const ssh = `upload_target ssh://kdump@127.0.0.1/srv/kdump\nupload_key ${key}\nupload_known_hosts ${pinned}\n`;
        const missing = run(ssh);
        expect(missing.code).to.equal(1);
        expect(missing.upload).to.deep.equal([
          'PASS  upload client ssh found',
          `FAIL  upload key ${key} readable by root only: missing or unreadable`,
          `FAIL  collector's host keys pinned in ${pinned}`,
        ]);
        fs.writeFileSync(key, 'key\n', { mode: 0o644 });
        fs.chmodSync(key, 0o644);
        fs.writeFileSync(pinned, '127.0.0.1 ssh-ed25519 AAAA\n');
        expect(run(ssh).upload[1]).to.equal(`FAIL  upload key ${key} readable by root only: open to group or others (-rw-r--r--): chmod 600 ${key}`);
        fs.chmodSync(key, 0o600);
        const good = run(ssh);
        expect(good.code, good.out).to.equal(0);
        expect(good.upload).to.deep.equal(['PASS  upload client ssh found', `PASS  upload key ${key} readable by root only`, `PASS  collector's host keys pinned in ${pinned}`]);
        expect(run(`${ssh}upload_client dropbear\n`).upload[0]).to.equal('PASS  upload client dbclient found');

        const http = `upload_target https://collector.example/dumps/\nupload_http_config ${creds}\n`;
        const none = run(http);
        expect(none.code, none.out).to.equal(0);
        expect(none.upload).to.deep.equal(['PASS  upload client curl found', `NOTE  no upload credentials: ${creds} absent, uploads are sent without`]);
        fs.writeFileSync(creds, 'user = "dev:secret"\n');
        fs.chmodSync(creds, 0o640);
        const open = run(http);
        expect(open.code).to.equal(1);
        expect(open.upload[1]).to.equal(`FAIL  upload credentials ${creds} readable by root only: open to group or others (-rw-r-----): chmod 600 ${creds}`);
        fs.chmodSync(creds, 0o600);
        expect(run(http).upload).to.deep.equal(['PASS  upload client curl found', `PASS  upload credentials ${creds} readable by root only`]);
        expect(run(`${http}upload_ca ${ca}\n`).upload[1]).to.equal(`FAIL  CA file ${ca} readable`);
        // The secret itself is never printed.
        expect(open.out).not.to.include('secret');

        // Owned by another user: that user can read it, whatever the mode.
        if (process.getuid?.() !== 0) return this.skip();
        fs.chownSync(creds, 12345, 12345);
        expect(run(http).upload[1]).to.equal(`FAIL  upload credentials ${creds} readable by root only: owned by uid 12345, not 0: chown 0 ${creds}`);
      });

      it('status -m reports loaded, reserved size, the last crash and the last dump; exit 3 when not loaded', () => {
        const f = path.join(t.dir, 'k.conf');
        const core = path.join(t.dir, 'core');
        fs.mkdirSync(core);
        fs.writeFileSync(path.join(core, 'kdump-000001-20260101-000000-aaaaaaaa.tar.gz'), 'x');
        fs.writeFileSync(f, `path ${core}\n`);
        const r = piece(shell.argv, 'main status -m', { KDUMP_SYS: sysWith('134217728', '0'), KDUMP_CONF: f });
        expect(r.code).to.equal(3);
        expect(kv(r.stdout)).to.deep.equal({
          loaded: '0', reserved_bytes: '134217728', path: core,
          last_crash: 'kdump-000001-20260101-000000-aaaaaaaa.tar.gz', last_crash_state: 'complete', last_crash_result: '', last_crash_reason: '',
          last_dump: 'kdump-000001-20260101-000000-aaaaaaaa.tar.gz', last_dump_state: 'complete', last_dump_result: '',
          upload_target: 'none', upload_pending: '0', upload_failed: '0', upload_uploaded: '0',
        });
        // A later crash whose save failed: the last crash is that one, the last dump stays.
        fs.mkdirSync(path.join(core, 'kdump-000002-19700101-000004-bbbbbbbb.failed'));
        fs.writeFileSync(path.join(core, 'kdump-000002-19700101-000004-bbbbbbbb.failed/metadata.txt'), 'seq=2\nresult=failed\nfailed_step=preflight\nfailed_reason=core collector \'makedumpfile\' not found\n');
        const r2 = piece(shell.argv, 'main status -m; main status', { KDUMP_SYS: sysWith('134217728', '1'), KDUMP_CONF: f });
        expect(kv(r2.stdout)).to.deep.include({
          loaded: '1', last_crash: 'kdump-000002-19700101-000004-bbbbbbbb.failed', last_crash_state: 'failed', last_crash_result: 'failed',
          last_crash_reason: "core collector 'makedumpfile' not found", last_dump: 'kdump-000001-20260101-000000-aaaaaaaa.tar.gz',
        });
        expect(r2.stdout).to.include("last crash: kdump-000002-19700101-000004-bbbbbbbb.failed: dump failed, because core collector 'makedumpfile' not found\n");
        expect(r2.stdout).to.include('last dump: kdump-000001-20260101-000000-aaaaaaaa.tar.gz (complete)\n');
      });
    });
  });
}
