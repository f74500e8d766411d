/**
 * Command-line rules yargs does not enforce by itself: a single-value option given twice, a
 * boolean option given a value other than true/false, and `-` as an option's value.
 */
import { UserError } from './errors.js';

/** What yargs knows about the options of the command being run (yargs' getOptions()). */
export interface OptionTable {
  array: string[];
  boolean: string[];
  string: string[];
  number: string[];
  alias: Record<string, string[]>;
}

/**
 * yargs reads a lone `-` after an option as a new argument, not as the value, so
 * `init --out -` failed; `--out=-` is read as meant. This joins `-` to the option before it.
 */
export function joinDashValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (args[i + 1] === '-' && /^--?[A-Za-z][\w-]*$/.test(a)) {
      out.push(`${a}=-`);
      i++;
    } else out.push(a);
  }
  return out;
}

const flag = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);

/**
 * Throws a UserError for an option given more than once (yargs would make an array of it,
 * which each command then misread) or a boolean option written `--flag=VALUE` with a value
 * other than true or false (yargs reads every other value as false).
 */
export function checkOptionValues(rawArgs: string[], parsed: Record<string, unknown>, options: OptionTable): void {
  const arrays = new Set(options.array);
  const single = [...options.string, ...options.boolean, ...options.number].filter((n) => !arrays.has(n));
  const seen = new Set<string>();
  for (const name of single) {
    if (seen.has(name)) continue;
    for (const a of options.alias[name] ?? []) seen.add(a);
    if (Array.isArray(parsed[name])) {
      throw new UserError(`${flag(name)} is given more than once`, { hint: `give ${flag(name)} once (options other than lists take one value)` });
    }
  }
  const booleans = new Set(options.boolean);
  const end = rawArgs.indexOf('--');
  for (const a of end >= 0 ? rawArgs.slice(0, end) : rawArgs) {
    const m = /^--?(no-)?([^=]+)=(.*)$/s.exec(a);
    if (!m || !booleans.has(m[2]) || m[3] === 'true' || m[3] === 'false') continue;
    throw new UserError(`${a.length > 60 ? `${a.slice(0, 60)}…` : a}: --${m[2]} is a switch: it takes no value but true or false`, {
      hint: `write --${m[2]} to turn it on and --no-${m[2]} (or --${m[2]}=false) to turn it off`,
    });
  }
}

/**
 * A closed standard output (`kdump-layer … | head`) is not an error: drop what is left to
 * write and end quietly, instead of Node's EPIPE stack trace. Other stream errors are said
 * in one line.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        // Nobody reads any more: stop now, with the status the shell reports for a closed pipe.
        process.exit(process.exitCode ?? 0);
      }
      if (stream !== process.stderr) {
        try {
          process.stderr.write(`kdump-layer: error: cannot write the output (${err.code ?? err.message})\n`);
        } catch { /* nothing more to do */ }
      }
      process.exit(2);
    });
  }
}
