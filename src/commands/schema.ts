import type { Command } from './types.js';
import { readSchema } from '../config/schema.js';
import { EXIT_OK } from '../errors.js';

export const schema: Command = {
  command: 'schema',
  describe: 'Print the JSON Schema of the configuration file',
  builder: (y) =>
    y
      .option('machine-profile', { type: 'boolean', default: false, describe: 'Print the machine profile schema instead' })
      .example('$0 schema > kdump-layer.schema.json', 'for editor completion and checks'),
  run: async (args) => {
    process.stdout.write(`${JSON.stringify(readSchema(args['machine-profile'] ? 'machine' : 'config'), null, 2)}\n`);
    return EXIT_OK;
  },
};
