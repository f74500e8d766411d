/**
 * makedumpfile -R: a flattened dump (makedumpfile -F, as streamed over ssh) back to the file
 * makedumpfile would have written. --to-elf keeps the result; analyze restores a flattened ELF
 * dump for crash(8), which cannot read that form itself (crash 8.0: "cannot realloc resized
 * ELF header buffer"), and removes it afterwards.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { UserError } from '../errors.js';
import { mib } from './report/shared.js';

/**
 * Refuses, before makedumpfile starts, to restore a flattened dump into a directory whose file
 * system has less room than the dump's size (what the restored file takes, within a little).
 */
export function checkRoom(flat: string, dir: string, hint: string): void {
  const need = fs.statSync(flat).size;
  const st = fs.statfsSync(dir);
  const free = st.bavail * st.bsize;
  if (free < need) {
    throw new UserError(`${dir} has ${mib(free)} free, but restoring the flattened dump needs about ${mib(need)}`, { where: flat, hint });
  }
}

export const MAKEDUMPFILE_INSTALL_HINT = 'install makedumpfile: `apt-get install makedumpfile` (Debian/Ubuntu), `dnf install makedumpfile` (Fedora/RHEL)';

/**
 * Restores the flattened dump `flat` into `target`, created readable by its owner only
 * whatever the umask: it is all of the crashed kernel's memory (keys, passwords).
 */
export function restoreFlattened(flat: string, target: string): void {
  const fd = fs.openSync(flat, 'r');
  const umask = process.umask(0o077);
  try {
    const r = spawnSync('makedumpfile', ['-R', target], { encoding: 'utf8', stdio: [fd, 'pipe', 'pipe'] });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError('makedumpfile is not installed (needed to read a flattened dump)', { hint: MAKEDUMPFILE_INSTALL_HINT });
    }
    if (r.status !== 0) {
      const msg = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-6).join('\n  ');
      throw new UserError(`makedumpfile -R ${target} failed (exit ${r.status}):\n  ${msg}`, {
        hint: 'a flattened dump cut short cannot be restored: copy it again from the device',
      });
    }
  } finally {
    process.umask(umask);
    fs.closeSync(fd);
  }
}
