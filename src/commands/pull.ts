import type { Command } from './types.js';

export const pull: Command = {
  command: 'pull <device>',
  describe: 'Copy a device\'s complete dump archives over ssh, verified by size and SHA-256',
  builder: (y) =>
    y
      .positional('device', { type: 'string', describe: '[user@]host of the device (ssh)' })
      .option('dest', { alias: 'd', type: 'string', default: 'dumps', describe: 'Directory the archives are copied to' })
      .option('remove', { type: 'boolean', default: false, describe: 'Delete each archive on the device once its copy here is verified' })
      .option('port', { alias: 'p', type: 'number', describe: 'ssh port of the device [default: ssh\'s]' })
      .option('identity', { alias: 'i', type: 'string', describe: 'ssh private key file' })
      .option('known-hosts', { type: 'string', describe: 'known_hosts file holding the device\'s host key (strict checking) [default: ssh\'s]' })
      .option('connect-timeout', { type: 'number', default: 15, describe: 'Seconds to wait for the device to answer' })
      .example('$0 pull root@switch1', 'copy switch1\'s archives to ./dumps')
      .example('$0 pull root@switch1 --dest dumps/switch1 --remove', 'move them off the device'),
  // The work (ssh, hashing) is loaded only when the command runs.
  run: async (args) => (await import('../pull/run.js')).runPull(args),
};
