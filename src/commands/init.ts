import fs from 'node:fs';
import type { Command } from './types.js';
import { EXIT_OK, fileExists } from '../errors.js';

export const init: Command = {
  command: 'init',
  describe: 'Write a commented starter configuration file for a machine',
  builder: (y) =>
    y
      .option('machine', { alias: 'm', type: 'string', demandOption: true, describe: 'Built-in machine profile to start from' })
      .option('out', { alias: 'o', type: 'string', default: 'kdump-layer.yml', describe: 'File to write (- for standard output)' })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing file' })
      .example('$0 init --machine as5712', 'write kdump-layer.yml to edit'),
  run: async (args) => {
    // Loaded here, not at CLI start-up, so other commands do not pay for them.
    const [{ starterConfig }, { isExists, writeAtomic }] = await Promise.all([import('../config/starter.js'), import('../layer/write-atomic.js')]);
    const text = starterConfig(args.machine as string);
    const out = args.out as string;
    if (out === '-') {
      process.stdout.write(text);
      return EXIT_OK;
    }
    if (fs.existsSync(out) && !args.force) throw fileExists(out, '--out');
    try {
      writeAtomic(out, text, 0o644, { noClobber: !args.force });
    } catch (err) {
      if (isExists(err)) throw fileExists(out, '--out');
      throw err;
    }
    process.stdout.write(`wrote ${out}; generate with: kdump-layer generate --config ${out}\n`);
    return EXIT_OK;
  },
};
