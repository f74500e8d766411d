/**
 * --to-elf: an ELF vmcore for people who open dumps with gdb, made by makedumpfile from a
 * flattened dump (-R restores it). makedumpfile 1.7 refuses -E on kdump-compressed input, so
 * such a dump gets a clear refusal naming the alternatives. Written beside the target and
 * renamed into place, so an interrupted conversion leaves nothing half-written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError, fileExists } from '../errors.js';
import { haveTool } from './crash.js';
import { identify, withInput } from './analyze.js';
import { identifyVmcore } from '../dump/vmcore.js';
import { checkRoom, MAKEDUMPFILE_INSTALL_HINT, restoreFlattened } from './restore.js';
import { isExists, moveIntoPlace } from '../layer/write-atomic.js';

export async function convertToElf(source: string, target: string, force: boolean): Promise<string> {
  if (fs.existsSync(target) && !force) throw fileExists(target, '--to-elf file');
  if (!haveTool('makedumpfile')) throw new UserError('makedumpfile is not installed (needed for --to-elf)', { hint: MAKEDUMPFILE_INSTALL_HINT });
  return withInput(source, async (input) => {
    const id = identify(input);
    if (id.format === 'elf') throw new UserError('the dump is ELF already: open it with gdb as it is', { where: source, hint: `gdb vmlinux-${id.release ?? '<release>'} ${input.kind === 'vmcore' ? source : 'vmcore'}` });
    const cannot = () =>
      new UserError('makedumpfile cannot turn a kdump-compressed dump into ELF (it refuses -E when its input is kdump-compressed)', {
        where: source,
        hint: 'read it with crash(8): `kdump-layer analyze` does; or have the device write ELF (core_collector makedumpfile -E -d 31 in /etc/kdump.conf)',
      });
    if (id.format === 'kdump' || id.payload === 'kdump') throw cannot();
    // Flattened (makedumpfile -F): -R restores what was flattened; that is ELF when the device wrote -E -F.
    const dir = path.dirname(path.resolve(target));
    const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.tmp`);
    checkRoom(input.vmcore, dir, 'choose a --to-elf file on a file system with room for it');
    try {
      restoreFlattened(input.vmcore, tmp);
      if (identifyVmcore(tmp).format !== 'elf') throw cannot();
      try {
        moveIntoPlace(tmp, target, !force);
      } catch (err) {
        if (isExists(err)) throw fileExists(target, '--to-elf file');
        throw err;
      }
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    return `wrote ${target} (ELF); open it with: gdb vmlinux-${id.release ?? '<release>'} ${target}`;
  });
}
