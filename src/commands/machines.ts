import type { Command } from './types.js';
import { MACHINES } from '../machines/index.js';
import { EXIT_OK } from '../errors.js';

/** Aligned text table: the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => rows.reduce((w, r) => Math.max(w, r[i].length), 0));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

export const machines: Command = {
  command: 'machines',
  describe: 'List the built-in machine profiles',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'Print the profiles as JSON' }).example('$0 machines', ''),
  run: async (args) => {
    if (args.json) {
      process.stdout.write(`${JSON.stringify(MACHINES, null, 2)}\n`);
      return EXIT_OK;
    }
    const rows = [['MACHINE', 'ARCH', 'KERNEL', 'STYLE', 'IMAGE', 'BOOT', 'CRASHKERNEL', 'DESCRIPTION']];
    for (const m of MACHINES) {
      const d = m.defaults;
      rows.push([m.name, d.arch, `${d.kernel.recipe} ${d.kernel.version}`, d.kernel.style, d.kernel.image, d.bootloader, d.crashkernel ?? '', m.description]);
    }
    process.stdout.write(table(rows));
    return EXIT_OK;
  },
};
