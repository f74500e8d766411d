import type { Argv } from 'yargs';

/** One CLI command: yargs metadata plus a handler that returns the exit code. */
export interface Command {
  command: string;
  describe: string;
  // yargs' builder types change with every option added; commands only need the chain.
  builder: (y: Argv<any>) => Argv<any>;
  run: (args: Record<string, unknown>) => Promise<number>;
}
