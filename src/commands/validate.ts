import type { Command } from './types.js';
import { KERNEL_ARCHES } from '../kernel/arch.js';
import { findMachine } from '../machines/index.js';
import { REPORT_FORMATS, type ReportFormat } from '../report/types.js';

export const validateCommand: Command = {
  command: 'validate [files..]',
  describe: 'Check kernel config fragments and/or a .config for kdump on the target arch and kernel version',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'fragments (.cfg) and/or a full .config (the kernel build\'s final one is the ground truth)' })
      .option('machine', { type: 'string', describe: 'target: a built-in machine profile (gives arch and kernel version)' })
      .option('arch', { type: 'string', choices: [...KERNEL_ARCHES], describe: 'target kernel arch' })
      .option('kernel-version', { type: 'string', describe: 'target kernel version, kernel style (6.6, 6.6.52, 3.9.11, 6.1.0-56-amd64)' })
      .option('config', { type: 'string', describe: 'the full .config: the final one to judge, or with --kernel-source the base to merge into' })
      .option('kernel-source', { type: 'string', describe: 'a Linux source tree: resolve the fragments with its own Kconfig (olddefconfig outside the tree)' })
      .option('write-config', { type: 'string', describe: 'with --kernel-source: also write the resolved .config (what make olddefconfig writes) to this file' })
      .option('format', { type: 'string', choices: [...REPORT_FORMATS], default: 'text', describe: 'report format' })
      .option('output', { alias: 'o', type: 'string', describe: 'write the report to this file (atomically) instead of stdout' })
      .option('werror', { type: 'boolean', default: false, describe: 'warnings fail the run too (exit 1)' })
      .example('$0 validate kdump.cfg --machine as5712', 'check a fragment for a built-in machine')
      .example('$0 validate kdump.cfg --arch x86_64 --kernel-version 6.6 --config build/.config', 'check what reached the final config')
      .example('$0 validate kdump.cfg --arch x86_64 --kernel-source linux-6.1 --format junit -o kdump.xml', 'resolve with the kernel\'s own Kconfig'),
  async run(args) {
    const machineName = args.machine as string | undefined;
    const machine = machineName ? findMachine(machineName) : undefined;
    // Loaded here, not at CLI start-up, so other commands do not pay for the validator.
    const { runValidate } = await import('../kernel/validate.js');
    const report = await runValidate({
      files: ((args.files as string[] | undefined) ?? []).map(String),
      machine: machine ? { name: machine.name, arch: machine.defaults.arch, kernelVersion: machine.defaults.kernel.version } : undefined,
      arch: args.arch as string | undefined,
      kernelVersion: args.kernelVersion as string | undefined,
      config: args.config as string | undefined,
      kernelSource: args.kernelSource as string | undefined,
      writeConfig: args.writeConfig as string | undefined,
      werror: Boolean(args.werror),
    });
    const format = args.format as ReportFormat;
    const output = args.output as string | undefined;
    // Node's own terminal detection (NO_COLOR, FORCE_COLOR, NODE_DISABLE_COLORS, TERM=dumb), on a terminal only.
    const color = !output && format === 'text' && process.stdout.isTTY === true && process.stdout.hasColors() && !process.env.NO_COLOR;
    const text =
      format === 'json' ? (await import('../report/json.js')).renderJson(report)
        : format === 'junit' ? (await import('../report/junit.js')).renderJunit(report)
          : format === 'github' ? (await import('../report/github.js')).renderGithub(report)
            : (await import('../report/text.js')).renderText(report, { color });
    // Atomically: a CI job killed mid-write keeps the last whole report, never half of one.
    if (output) (await import('../layer/write-atomic.js')).writeAtomic(output, text, 0o644);
    else process.stdout.write(text);
    return report.summary.exitCode;
  },
};
