#!/usr/bin/env node
// yargs wiring only: every command lives in src/commands/<name>.ts.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError, EXIT_USAGE } from './errors.js';
import { commands } from './commands/index.js';
import { checkOptionValues, joinDashValues, quietOnClosedPipe, type OptionTable } from './cli-args.js';
import { packageVersion } from './paths.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const args = joinDashValues(argv);
  const parser = yargs(args)
    .scriptName('kdump-layer')
    .usage('$0 <command> [options]')
    .strict()
    .strictCommands()
    .demandCommand(1, 'Name a command: generate, validate, machines, init, schema, analyze, pull.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .wrap(Math.min(100, process.stdout.columns || 100))
    // Options given twice, and switches given a value, are errors (see cli-args.ts).
    .middleware(((parsed: Record<string, unknown>, y: unknown) => checkOptionValues(args, parsed, (y as { getOptions: () => OptionTable }).getOptions())) as never, true)
    .fail((msg, err) => {
      // yargs calls this for usage errors (msg) and for errors thrown by a handler (err).
      throw err ?? new UserError(msg, { hint: 'run `kdump-layer --help` for usage' });
    });
  // yargs renders (and caches) the whole help text after every command handler, in case the
  // handler asks for help later; ours never do, and the rendering was a tenth of a run's time.
  const internals = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internals?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
  for (const command of commands) {
    parser.command({
      ...command,
      handler: async (args: Record<string, unknown>) => {
        exitCode = await command.run(args);
      },
    });
  }
  try {
    await parser.parseAsync();
    return exitCode;
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`kdump-layer: error: ${err.format()}\n`);
      return err.exitCode;
    }
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      // An operating-system error (unreadable file, permission denied): say what, not where in our code.
      process.stderr.write(`kdump-layer: error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(
      `kdump-layer: internal error: ${e?.message ?? String(err)}\n` +
        '  this is a bug in kdump-layer; set KDUMP_LAYER_DEBUG=1 for details\n',
    );
    if (process.env.KDUMP_LAYER_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    return 70;
  }
}

quietOnClosedPipe();
main(hideBin(process.argv)).then((code) => {
  process.exitCode = code;
});
