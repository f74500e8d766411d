import type { Argv } from 'yargs';

/** One CLI command: yargs metadata plus a handler that returns the exit code. */
export interface Command {
  command: string;
  describe: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  builder: (y: Argv<any>) => Argv<any>;
  run: (args: Record<string, unknown>) => Promise<number>;
}
