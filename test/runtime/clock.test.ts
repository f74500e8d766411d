/**
 * Boards without a real-time clock: the capture kernel starts at 1970, or the clock jumps
 * between crashes. Names must stay unique and rotation must remove the oldest crash, not
 * the one with the oldest date.
 *
 * The clock is moved with libfaketime (Debian's `faketime`) where it reaches `date`: under
 * dash, and under a dynamically linked busybox. A statically linked busybox (Debian's
 * busybox-static, what the test set-up installs) runs its own `date` applet, which
 * LD_PRELOAD cannot reach; there `date` is replaced by a shell function that calls the real
 * applet with `-d @<seconds>`. Every run checks that the clock it asked for is the one the
 * dump's name and metadata carry.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sh } from '../e2e/harness.js';
import { OPS_KDUMP, SHELLS, type ShResult } from './shell.js';
import { EARLIER, expectCompleteMeansComplete, expectRootOnly, listRows, newEntries, statusOf, type Target, targetHooks } from './target.js';

/** Whether libfaketime moves the clock `date` reads under this shell. */
function faketimeReaches(shell: string[]): boolean {
  const r = spawnSync('faketime', ['1970-01-01 00:00:05', ...shell, '-c', 'date -u +%Y'], { encoding: 'utf8' });
  if (r.error) throw new Error(`faketime could not run (${r.error.message}): run scripts/install-test-deps.sh`);
  return r.stdout.trim() === '1970';
}

/** Runs `ops-kdump save` under `shell` with the clock starting at `at` (UTC, "YYYY-MM-DD hh:mm:ss"). */
function saveAt(shell: string[], viaFaketime: boolean, at: string, env: NodeJS.ProcessEnv): ShResult {
  const epoch = String(Date.parse(`${at.replace(' ', 'T')}Z`) / 1000);
  const argv = viaFaketime
    ? ['faketime', at, ...shell, OPS_KDUMP, 'save']
    : [...shell, '-c', `date() { command date -d "@${epoch}" "$@"; }; . "$0"`, OPS_KDUMP, 'save'];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH, TZ: 'UTC', ...env } });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('ops-kdump without a real-time clock @slow', function () {
  this.timeout(10 * 60_000);
  const targets = targetHooks();
  let t: Target | undefined;

  for (const shell of SHELLS) {
    it(`under ${shell.name}: crashes at 2026, then twice at 1970 (same second, same boot id): unique names, rotation keeps the newest crashes`, function () {
      const viaFaketime = faketimeReaches(shell.argv);
      this.test!.title += viaFaketime ? ' (libfaketime)' : ' (busybox date applet: date function)';
      // One boot id for every capture boot: only the sequence number can tell the crashes apart.
      t = targets.make(200, 'core_collector makedumpfile -l --message-level 7 -d 31\narchive tar\narchive_stage capture\nkeep 2\nmin_free_mb 1', {
        bootId: '0b5ea1d2-1111-2222-3333-444455556666',
      });
      const clocks = ['2026-06-01 12:00:00', '1970-01-01 00:00:05', '1970-01-01 00:00:05'];
      const names: string[] = [];
      for (const [i, at] of clocks.entries()) {
        const r = saveAt(shell.argv, viaFaketime, at, t.env);
        expect(r.code, r.stderr).to.equal(0);
        const name = /ops-kdump: dump saved: (\S+)/.exec(r.stderr)![1];
        names.push(name);
        // The clock asked for is the one the dump carries.
        const day = at.slice(0, 10).replace(/-/g, '');
        expect(name).to.match(new RegExp(`^kdump-00000${i + 1}-${day}-\\d{6}-0b5ea1d2$`));
        const meta = sh('tar', ['-xOf', path.join(t.core, `${name}.tar`), `${name}/metadata.txt`]);
        expect(meta).to.match(new RegExp(`^crash_time=${at.slice(0, 4)}-`, 'm'));
        expect(meta).to.match(new RegExp(`^seq=${i + 1}$`, 'm'));
      }
      expect(new Set(names).size, names.join(' ')).to.equal(3);
      // The two 1970 crashes are the newest: they stay; the 2026 one and the earlier archives go.
      expect(newEntries(t)).to.deep.equal([`${names[1]}.tar`, `${names[2]}.tar`]);
      for (const e of EARLIER) expect(fs.existsSync(path.join(t.core, e)), e).to.equal(false);
      const rows = listRows(t, shell.argv);
      expect(rows.map((r) => `${r[0]} ${r[1]}`)).to.deep.equal([`${names[1]}.tar complete`, `${names[2]}.tar complete`]);
      // The time shown is what the clock said (faketime's clock runs on from 00:00:05).
      for (const r of rows) expect(r[3]).to.match(/^1970-01-01T00:00:\d\dZ$/);
      expect(statusOf(t, shell.argv)).to.deep.include({ last_crash: `${names[2]}.tar`, last_dump: `${names[2]}.tar` });
      expectCompleteMeansComplete(t);
      expectRootOnly(t);
    });
  }
});
